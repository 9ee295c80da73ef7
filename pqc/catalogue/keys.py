"""Map ``cryptography`` key objects and X.509 certificates to catalogue entries.

The inventory classifies keys and certificates it finds with these; the tests use them to check
the table against real objects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, mldsa, mlkem, rsa, x448, x25519
from cryptography.utils import CryptographyDeprecationWarning

from pqc.catalogue.errors import UnknownAlgorithmError
from pqc.catalogue.index import CatalogueIndex
from pqc.catalogue.model import Algorithm

if TYPE_CHECKING:  # cryptography.x509 costs ~50 ms to import; only certificate_algorithms needs it
    from cryptography import x509

_FIXED_TYPES: tuple[tuple[tuple[type, ...], str], ...] = (
    ((ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey), "Ed25519"),
    ((ed448.Ed448PublicKey, ed448.Ed448PrivateKey), "Ed448"),
    ((x25519.X25519PublicKey, x25519.X25519PrivateKey), "X25519"),
    ((x448.X448PublicKey, x448.X448PrivateKey), "X448"),
    ((mlkem.MLKEM768PublicKey, mlkem.MLKEM768PrivateKey), "ML-KEM-768"),
    ((mlkem.MLKEM1024PublicKey, mlkem.MLKEM1024PrivateKey), "ML-KEM-1024"),
    ((mldsa.MLDSA44PublicKey, mldsa.MLDSA44PrivateKey), "ML-DSA-44"),
    ((mldsa.MLDSA65PublicKey, mldsa.MLDSA65PrivateKey), "ML-DSA-65"),
    ((mldsa.MLDSA87PublicKey, mldsa.MLDSA87PrivateKey), "ML-DSA-87"),
)


def algorithm_for_key(index: CatalogueIndex, key: object, *, key_agreement: bool = False) -> Algorithm:
    """Catalogue entry of a ``cryptography`` public or private key.

    RSA/DSA resolve by size (:meth:`CatalogueIndex.lookup_sized`), DH to a computed ``DH-<bits>``
    entry (:meth:`CatalogueIndex.generic_size`); EC keys by curve name to
    ``ECDSA-<curve>``, or ``ECDH-<curve>`` when ``key_agreement`` is true.
    """
    for types, name in _FIXED_TYPES:
        if isinstance(key, types):
            return index.lookup(name)
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return index.lookup_sized("RSA", key.key_size)
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return index.lookup_sized("DSA", key.key_size)
    if _is_ffdh_key(key):
        # the group of a DH key is not known from its size: never claim ffdhe/MODP
        return index.generic_size("DH", key.key_size)  # type: ignore[attr-defined]
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        signing = index.find(key.curve.name)
        if signing is None or signing.parameter_set is None:
            raise UnknownAlgorithmError(key.curve.name, "curve")
        if not key_agreement:
            return signing
        return index.lookup(f"ECDH-{signing.parameter_set.replace('-', '')}")
    raise UnknownAlgorithmError(type(key).__name__, "key type")


def _is_ffdh_key(key: object) -> bool:
    # cryptography deprecates FFDH and warns on access to the dh module's classes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric import dh

        return isinstance(key, dh.DHPublicKey | dh.DHPrivateKey)


@dataclass(frozen=True)
class CertificateAlgorithms:
    """What a certificate uses: its subject key's algorithm and the issuer's signature algorithm.

    ``signature`` is ``None`` when the signature OID is not in the catalogue;
    ``signature_oid`` is always the dotted OID from the certificate.
    """

    public_key: Algorithm
    signature: Algorithm | None
    signature_oid: str


def certificate_algorithms(index: CatalogueIndex, cert: x509.Certificate) -> CertificateAlgorithms:
    """Classify a certificate's subject public key and signature algorithm."""
    oid = cert.signature_algorithm_oid.dotted_string
    public = cert.public_key()
    return CertificateAlgorithms(algorithm_for_key(index, public), index.by_oid(oid), oid)
