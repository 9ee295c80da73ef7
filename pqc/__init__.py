"""Crypto agility: the algorithm catalogue, KEM / signature / AEAD backends, hybrid KEMs, combiner.

Modules: ``catalogue`` (one table of every algorithm), ``backends`` (implementations asked for by
catalogue name: ``kem("ML-KEM-768")``, ``signature("ML-DSA-65")``, ``aead("AES-256-GCM")`` …; the
``cryptography`` backend always, ``liboqs`` only when its library is installed), one module per family
with the pyca verbs (``mlkem``, ``x25519``, ``signatures`` incl. the MLDSA65-Ed25519 composite, ``xwing``,
``hybrid`` = X25519MLKEM768), ``combiner`` (CatKDF-shaped session keys), ``aead`` (record framing),
``keys`` (PEM/DER/qshift key files), ``speed`` (``qshift pqc bench``), ``cli``.

``pqc`` imports nothing else of qshift. Other packages import only what this module re-exports (gateway
also imports the family modules named above).
"""

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
from pqc.catalogue import (
    Algorithm,
    Primitive,
    QuantumStatus,
    UnknownAlgorithmError,
    all_algorithms,
    by_ike_group,
    by_oid,
    by_ssh_name,
    by_tls_cipher_suite,
    by_tls_group,
    by_tls_signature_scheme,
    find,
    lookup,
    lookup_sized,
)
from pqc.errors import PqcError
from pqc.oqs_library import LiboqsLocation, locate_liboqs

__all__ = [
    "Algorithm",
    "LiboqsLocation",
    "PqcError",
    "Primitive",
    "QuantumStatus",
    "UnknownAlgorithmError",
    "aead",
    "all_algorithms",
    "available_algorithms",
    "available_for",
    "backend_statuses",
    "by_ike_group",
    "by_oid",
    "by_ssh_name",
    "by_tls_cipher_suite",
    "by_tls_group",
    "by_tls_signature_scheme",
    "find",
    "hash_algorithm",
    "kdf",
    "kem",
    "key_agreement",
    "locate_liboqs",
    "lookup",
    "lookup_sized",
    "mac",
    "signature",
]
