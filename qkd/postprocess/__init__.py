"""QKD post-processing: sifting and estimation (physics), then the authenticated classical channel,
Cascade reconciliation, verification, privacy amplification, finite-key length and the link pipeline.

Stages, one module each (named as the papers name them): ``sift``, ``estimate``, ``channel``,
``cascade``, ``verify``, ``amplify``, ``finite_key``, ``authbudget``, ``link`` (the block protocol;
the runtime that drives it is :mod:`qkd.runtime`). The stage functions ``sift.sift`` and
``estimate.estimate`` are reached through their modules (a package attribute of the same name would hide
the module).
"""

from qkd.postprocess.amplify import AmplificationError, toeplitz_hash, toeplitz_hash_words, toeplitz_reference
from qkd.postprocess.authbudget import AUTH_MODES, AuthBudget, AuthBudgetExceeded, AuthBudgetExhausted
from qkd.postprocess.cascade import (
    VARIANTS,
    CascadeError,
    CascadeReport,
    reconcile_alice,
    reconcile_bob,
    reconcile_local,
)
from qkd.postprocess.channel import (
    AuthenticationError,
    AuthKeyExhausted,
    ChannelError,
    ClassicalChannel,
    LeakageLedger,
    SignatureAuth,
    WegmanCarterAuth,
    accept_websocket,
    connect_websocket,
    in_process_pair,
)
from qkd.postprocess.estimate import EstimationError, ParameterEstimate
from qkd.postprocess.finite_key import KeyLength, asymptotic_length, lim2014_expected_rate, lim2014_length
from qkd.postprocess.link import (
    Alarm,
    AlarmMonitor,
    BlockDesync,
    BlockResult,
    InMemorySink,
    KeySink,
    LinkEnd,
    LinkPolicy,
    PoolDigest,
    PoolMismatch,
)
from qkd.postprocess.sift import (
    ClockFit,
    SiftedEnd,
    SiftedKey,
    SiftError,
    SiftParameters,
    sift_receiver,
    sift_transmitter,
)
from qkd.postprocess.verify import PolyHash128, VerificationResult, collision_bound, verify_receiver, verify_sender

__all__ = [
    "AUTH_MODES", "VARIANTS", "Alarm", "AuthBudget", "AuthBudgetExceeded", "AuthBudgetExhausted", "BlockDesync",
    "PoolDigest", "PoolMismatch", "AlarmMonitor", "AmplificationError", "AuthKeyExhausted", "AuthenticationError",
    "BlockResult", "CascadeError", "CascadeReport", "ChannelError", "ClassicalChannel", "InMemorySink", "KeyLength",
    "KeySink", "LeakageLedger", "LinkEnd", "LinkPolicy", "PolyHash128", "SignatureAuth",
    "WegmanCarterAuth", "accept_websocket", "asymptotic_length", "collision_bound", "connect_websocket",
    "in_process_pair", "lim2014_expected_rate", "lim2014_length", "reconcile_alice",
    "reconcile_bob", "reconcile_local", "toeplitz_hash", "toeplitz_hash_words",
    "toeplitz_reference", "verify_receiver", "verify_sender",
    "ClockFit", "EstimationError", "ParameterEstimate", "SiftError", "SiftParameters", "SiftedEnd", "SiftedKey",
    "VerificationResult", "sift_receiver", "sift_transmitter",
]
