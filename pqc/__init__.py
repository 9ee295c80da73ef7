"""Crypto agility: the algorithm catalogue, KEM / signature / AEAD backends, hybrid KEMs, combiner.

``pqc`` imports nothing else of qshift. Other packages import only what this module re-exports.
"""

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
    "all_algorithms",
    "by_ike_group",
    "by_oid",
    "by_ssh_name",
    "by_tls_cipher_suite",
    "by_tls_group",
    "by_tls_signature_scheme",
    "find",
    "locate_liboqs",
    "lookup",
    "lookup_sized",
]
