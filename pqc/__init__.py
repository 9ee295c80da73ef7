"""Crypto agility: the algorithm catalogue, KEM / signature / AEAD backends, hybrid KEMs, combiner.

Shaped like pyca ``cryptography``: one module per family declares the key interfaces with the pyca verbs
(``mlkem``, ``x25519``, ``signatures`` incl. the MLDSA65-Ed25519 composite, ``xwing``, ``hybrid`` =
X25519MLKEM768; shared base in ``key_interface``), and ``generate``/``from_*_bytes`` on them return the
key objects of the backend that implements the algorithm. ``backends`` holds the implementations, asked
for by catalogue name (``kem("ML-KEM-768")``, ``signature("ML-DSA-65")``, ``aead("AES-256-GCM")`` …;
``cryptography`` always, ``liboqs`` only when its library is installed). ``catalogue`` is the one table
of algorithms and their sizes (its code-point look-ups: :mod:`pqc.catalogue`); ``combiner`` derives
session keys (CatKDF shape); ``aead`` is the record framing (``Sealer``/``Opener``, replay window,
per-direction ``SessionKeys``); ``keys`` reads and writes key files; ``speed`` measures (``qshift pqc bench``).

``pqc`` imports nothing else of qshift. Other packages import what this module exports, the family
modules and ``pqc.catalogue``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pqc.errors import (
    AeadError,
    AuthenticationError,
    BackendUnavailableError,
    InvalidCiphertextError,
    InvalidKeyError,
    InvalidSignatureError,
    KeyFileError,
    OutOfOrderError,
    PqcError,
    ReplayError,
    UnknownAlgorithmError,
)

if TYPE_CHECKING:
    from pqc.aead import AES_256_GCM, CHACHA20_POLY1305, AeadSession, Opener, ReplayWindow, Sealer, SessionKeys
    from pqc.backends import (
        aead,
        available_algorithms,
        available_for,
        hash_algorithm,
        kdf,
        kem,
        key_agreement,
        mac,
        signature,
    )
    from pqc.backends import statuses as backend_statuses
    from pqc.catalogue import Algorithm, Primitive, QuantumStatus, all_algorithms, find, lookup
    from pqc.combiner import derive_session_keys
    from pqc.keys import read_private_key, read_public_key, write_keypair
    from pqc.oqs_library import LiboqsLocation, locate_liboqs
    from pqc.signatures import CompositeMLDSA65Ed25519PrivateKey, CompositeMLDSA65Ed25519PublicKey
    from pqc.xwing import XWingPrivateKey, XWingPublicKey

#: what this package exports from its modules, imported on first use (PEP 562): ``import pqc.errors`` (all the
#: CLI needs to print a pqc error) does not load the backends, the catalogue and the key formats. name ->
#: (module, attribute)
_LAZY: dict[str, tuple[str, str]] = {
    **{name: ("pqc.aead", name) for name in ("AES_256_GCM", "CHACHA20_POLY1305", "AeadSession", "Opener",
                                              "ReplayWindow", "Sealer", "SessionKeys")},
    **{name: ("pqc.backends", name) for name in ("aead", "available_algorithms", "available_for",
                                                  "hash_algorithm", "kdf", "kem", "key_agreement", "mac",
                                                  "signature")},
    "backend_statuses": ("pqc.backends", "statuses"),
    **{name: ("pqc.catalogue", name) for name in ("Algorithm", "Primitive", "QuantumStatus", "all_algorithms",
                                                   "find", "lookup")},
    "derive_session_keys": ("pqc.combiner", "derive_session_keys"),
    **{name: ("pqc.keys", name) for name in ("read_private_key", "read_public_key", "write_keypair")},
    **{name: ("pqc.oqs_library", name) for name in ("LiboqsLocation", "locate_liboqs")},
    **{name: ("pqc.signatures", name) for name in ("CompositeMLDSA65Ed25519PrivateKey",
                                                    "CompositeMLDSA65Ed25519PublicKey")},
    **{name: ("pqc.xwing", name) for name in ("XWingPrivateKey", "XWingPublicKey")},
}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'pqc' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

__all__ = [
    "AES_256_GCM",
    "CHACHA20_POLY1305",
    "AeadError",
    "AeadSession",
    "Algorithm",
    "AuthenticationError",
    "BackendUnavailableError",
    "CompositeMLDSA65Ed25519PrivateKey",
    "CompositeMLDSA65Ed25519PublicKey",
    "InvalidCiphertextError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "KeyFileError",
    "LiboqsLocation",
    "Opener",
    "OutOfOrderError",
    "PqcError",
    "Primitive",
    "QuantumStatus",
    "ReplayError",
    "ReplayWindow",
    "Sealer",
    "SessionKeys",
    "UnknownAlgorithmError",
    "XWingPrivateKey",
    "XWingPublicKey",
    "aead",
    "all_algorithms",
    "available_algorithms",
    "available_for",
    "backend_statuses",
    "derive_session_keys",
    "find",
    "hash_algorithm",
    "kdf",
    "kem",
    "key_agreement",
    "locate_liboqs",
    "lookup",
    "mac",
    "read_private_key",
    "read_public_key",
    "signature",
    "write_keypair",
]
