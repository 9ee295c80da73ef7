"""The link runtime: the one supervised driver of a QKD link's two ends (see :mod:`qkd.runtime.runtime`).

Block sources (:mod:`~qkd.runtime.sources`: decoy-BB84 emulator, entangled-pair (BBM92) emulator,
time-tag files, recorded blocks), heartbeats
(:mod:`~qkd.runtime.liveness`), sub-channels of the blocks in flight (:mod:`~qkd.runtime.mux`), a plain TCP
transport (:mod:`~qkd.runtime.tcp`), truthful link state and metrics (:mod:`~qkd.runtime.state`), and the
supervised sessions with deadlines, agreement and restarts (:mod:`~qkd.runtime.runtime`). The CLI
(``qshift qkd run``), the KME's link ends, the demo and the fallback scenarios all run it.
"""

from qkd.runtime.liveness import LivenessTransport, PeerClosed, PeerSilent
from qkd.runtime.mux import ChannelMux, MuxError
from qkd.runtime.runtime import (
    BlockCounter,
    LinkEndRuntime,
    LinkPairRuntime,
    LinkRun,
    LinkRuntimeError,
    MemoryCounter,
    RuntimeConfig,
    StreamSink,
    failure_cause,
    resync_action,
    run_link,
)
from qkd.runtime.sources import (
    Block,
    BlockSource,
    EmulatedSource,
    EntangledSource,
    IterableSource,
    LinkFaults,
    NoDetections,
    SharedEmulation,
    SourceExhausted,
    TimetagFileSource,
    emulated_blocks,
    recorded_blocks,
    with_eavesdropper,
)
from qkd.runtime.state import LINK_STATES, LinkStatus, metrics_text
from qkd.runtime.tcp import StreamTransport, connect_tcp

__all__ = [
    "LINK_STATES", "Block", "BlockCounter", "BlockSource", "ChannelMux", "EmulatedSource", "EntangledSource",
    "IterableSource", "LinkEndRuntime", "LinkFaults", "LinkPairRuntime", "LinkRun", "LinkRuntimeError", "LinkStatus",
    "LivenessTransport", "MemoryCounter", "MuxError", "NoDetections", "PeerClosed", "PeerSilent", "RuntimeConfig",
    "SharedEmulation", "SourceExhausted", "StreamSink", "StreamTransport", "TimetagFileSource", "connect_tcp",
    "emulated_blocks", "failure_cause", "metrics_text", "recorded_blocks", "resync_action", "run_link",
    "with_eavesdropper",
]
