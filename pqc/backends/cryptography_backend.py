"""The default backend: pyca ``cryptography`` and its bundled OpenSSL (always present).

Implements, by catalogue name: ML-KEM-768/1024 (FIPS 203), ML-DSA-44/65/87 (FIPS 204), X25519
(RFC 7748), Ed25519 (RFC 8032), AES-256-GCM (SP 800-38D), ChaCha20-Poly1305 (RFC 8439), HMAC (RFC 2104)
and HKDF (RFC 5869) over SHA-2 and SHA-3 (FIPS 180-4, FIPS 202), and the hashes themselves; plus the
constructions of this package built from those primitives: X-Wing, X25519MLKEM768 and the
``MLDSA65-Ed25519`` composite signature. Key classes: :mod:`pqc.backends.cryptography_keys`; AEAD, MAC,
KDF and hashes: :mod:`pqc.backends.cryptography_symmetric`.
"""

from __future__ import annotations

from typing import Any

from pqc import hybrid, signatures, xwing
from pqc.backends.base import BackendStatus, Implementation, KeyAlgorithm
from pqc.backends.cryptography_keys import KEY_CLASSES
from pqc.backends.cryptography_symmetric import NAME, symmetric_implementations
from pqc.catalogue import lookup

#: name → (private class, public class): pyca's keys (:mod:`pqc.backends.cryptography_keys`), then this
#: package's constructions over the family interfaces, which any backend's keys serve.
_KEY_CLASSES: dict[str, tuple[Any, Any]] = {
    **KEY_CLASSES,
    xwing.ALGORITHM: (xwing.XWingPrivateKey, xwing.XWingPublicKey),
    hybrid.ALGORITHM: (hybrid.X25519MLKEM768PrivateKey, hybrid.X25519MLKEM768PublicKey),
    signatures.COMPOSITE_ALGORITHM: (signatures.CompositeMLDSA65Ed25519PrivateKey,
                                     signatures.CompositeMLDSA65Ed25519PublicKey),
}


class CryptographyBackend:
    """The default backend (see module docstring). Always available."""

    name = NAME

    def __init__(self) -> None:
        self._implementations: dict[str, Implementation] | None = None

    def status(self) -> BackendStatus:
        import cryptography
        from cryptography.hazmat.backends.openssl import backend

        return BackendStatus(
            NAME, True, f"cryptography {cryptography.__version__}, {backend.openssl_version_text()}",
            tuple(self.implementations()),
        )

    def implementations(self) -> dict[str, Implementation]:
        if self._implementations is None:
            table: dict[str, Implementation] = {}
            for name, (private_cls, public_cls) in _KEY_CLASSES.items():
                table[name] = KeyAlgorithm(name, lookup(name).primitive.value, NAME, private_cls, public_cls)
            table.update(symmetric_implementations())
            self._implementations = table
        return self._implementations
