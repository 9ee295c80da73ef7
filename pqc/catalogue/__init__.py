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
from pqc.catalogue.table import ALGORITHMS, SIZED

CATALOGUE = CatalogueIndex(ALGORITHMS, SIZED)


def lookup(name_or_alias: str) -> Algorithm:
    """Entry for a name or alias (case-insensitive); raises :class:`UnknownAlgorithmError`."""
    return CATALOGUE.lookup(name_or_alias)


def find(name_or_alias: str) -> Algorithm | None:
    """Entry for a name or alias (case-insensitive), or ``None``."""
    return CATALOGUE.find(name_or_alias)


def lookup_sized(family: str, bits: int) -> Algorithm:
    """Entry for a family at a size, e.g. ``lookup_sized("RSA", 2048)`` → RSA-2048."""
    return CATALOGUE.lookup_sized(family, bits)


def by_oid(oid: str) -> Algorithm | None:
    """Entry for a dotted OID (key, signature, hash, cipher or KDF identifier), or ``None``."""
    return CATALOGUE.by_oid(oid)


def by_tls_group(code_point: int) -> Algorithm | None:
    """Entry for a TLS supported-group code point (e.g. 0x11EC), or ``None``."""
    return CATALOGUE.by_tls_group(code_point)


def by_tls_cipher_suite(code_point: int) -> Algorithm | None:
    """Entry for a TLS cipher-suite code point (e.g. 0x1301), or ``None``."""
    return CATALOGUE.by_tls_cipher_suite(code_point)


def by_tls_signature_scheme(code_point: int) -> Algorithm | None:
    """Entry for a TLS SignatureScheme code point (e.g. 0x0905), or ``None``."""
    return CATALOGUE.by_tls_signature_scheme(code_point)


def by_ssh_name(name: str) -> Algorithm | None:
    """Entry for an SSH algorithm name (kex, host key, cipher, MAC), or ``None``."""
    return CATALOGUE.by_ssh_name(name)


def by_ike_group(group: int) -> Algorithm | None:
    """Entry for an IKEv2 transform-type-4 (key exchange) ID, or ``None``."""
    return CATALOGUE.by_ike_group(group)


def algorithm_for_key(key: object, *, key_agreement: bool = False) -> Algorithm:
    """Entry of a ``cryptography`` key object (RSA by size, EC by curve, Ed25519, ML-KEM, ML-DSA …)."""
    return _algorithm_for_key(CATALOGUE, key, key_agreement=key_agreement)


def certificate_algorithms(cert: object) -> CertificateAlgorithms:
    """(subject key entry, signature entry or None, signature OID) of an ``x509.Certificate``."""
    return _certificate_algorithms(CATALOGUE, cert)  # type: ignore[arg-type]


def all_algorithms() -> tuple[Algorithm, ...]:
    """Every entry, in table order."""
    return CATALOGUE.all()


def select(
    family: str | None = None, status: QuantumStatus | str | None = None, primitive: Primitive | str | None = None
) -> list[Algorithm]:
    """Entries matching all given filters."""
    return CATALOGUE.select(family, status, primitive)


__all__ = [
    "ALGORITHMS",
    "CATALOGUE",
    "Algorithm",
    "CatalogueError",
    "CatalogueIndex",
    "CertificateAlgorithms",
    "DuplicateCatalogueEntryError",
    "InvalidCatalogueEntryError",
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
    "find",
    "lookup",
    "lookup_sized",
    "select",
]
