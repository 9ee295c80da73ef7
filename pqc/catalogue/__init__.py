"""The algorithm catalogue: one table of every algorithm qshift recognises or implements.

>>> from pqc.catalogue import lookup, by_tls_group
>>> lookup("sha256WithRSAEncryption").quantum_status.value
'broken-by-shor'
>>> by_tls_group(0x11EC).components
('ML-KEM-768', 'X25519')

Lookups are O(1) dict hits on indices built once at import (:mod:`pqc.catalogue.index`); the rows
live in :mod:`pqc.catalogue.table`; the security rules in :mod:`pqc.catalogue.security`.
"""

from __future__ import annotations

from pqc.catalogue.errors import (
    CatalogueError,
    DuplicateCatalogueEntryError,
    InvalidCatalogueEntryError,
    UnknownAlgorithmError,
)
from pqc.catalogue.index import CatalogueIndex
from pqc.catalogue.keys import CertificateAlgorithms
from pqc.catalogue.keys import algorithm_for_key as _algorithm_for_key
from pqc.catalogue.keys import certificate_algorithms as _certificate_algorithms
from pqc.catalogue.model import Algorithm, Primitive, QuantumStatus
from pqc.catalogue.oid import MalformedOidError, decode_oid
from pqc.catalogue.table import ALGORITHMS, SIZED

CATALOGUE = CatalogueIndex(ALGORITHMS, SIZED)


# The look-ups are the one index's bound methods (their docstrings say what each takes and returns).
lookup = CATALOGUE.lookup
find = CATALOGUE.find
lookup_sized = CATALOGUE.lookup_sized
by_oid = CATALOGUE.by_oid
by_tls_group = CATALOGUE.by_tls_group
by_tls_cipher_suite = CATALOGUE.by_tls_cipher_suite
by_tls_signature_scheme = CATALOGUE.by_tls_signature_scheme
by_ssh_name = CATALOGUE.by_ssh_name
by_ike_group = CATALOGUE.by_ike_group
all_algorithms = CATALOGUE.all
select = CATALOGUE.select


def algorithm_for_key(key: object, *, key_agreement: bool = False) -> Algorithm:
    """Entry of a ``cryptography`` key object (RSA by size, EC by curve, Ed25519, ML-KEM, ML-DSA …)."""
    return _algorithm_for_key(CATALOGUE, key, key_agreement=key_agreement)


def certificate_algorithms(cert: object) -> CertificateAlgorithms:
    """(subject key entry, signature entry or None, signature OID) of an ``x509.Certificate``."""
    return _certificate_algorithms(CATALOGUE, cert)  # type: ignore[arg-type]


__all__ = [
    "ALGORITHMS",
    "CATALOGUE",
    "Algorithm",
    "CatalogueError",
    "CatalogueIndex",
    "CertificateAlgorithms",
    "DuplicateCatalogueEntryError",
    "InvalidCatalogueEntryError",
    "MalformedOidError",
    "Primitive",
    "QuantumStatus",
    "UnknownAlgorithmError",
    "algorithm_for_key",
    "all_algorithms",
    "by_ike_group",
    "by_oid",
    "by_ssh_name",
    "by_tls_cipher_suite",
    "by_tls_group",
    "by_tls_signature_scheme",
    "certificate_algorithms",
    "decode_oid",
    "find",
    "lookup",
    "lookup_sized",
    "select",
]
