"""The default backend: pyca ``cryptography`` and its bundled OpenSSL (always present).

Implements, by catalogue name: ML-KEM-768/1024 (FIPS 203), ML-DSA-44/65/87 (FIPS 204), X25519
(RFC 7748), Ed25519 (RFC 8032), AES-256-GCM (SP 800-38D), ChaCha20-Poly1305 (RFC 8439), HMAC (RFC 2104)
and HKDF (RFC 5869) over SHA-2 and SHA-3 (FIPS 180-4, FIPS 202), and the hashes themselves; plus the
constructions of this package built from those primitives: X-Wing, X25519MLKEM768 and the
``MLDSA65-Ed25519`` composite signature.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pqc import hybrid, signatures, xwing
from pqc.backends.base import (
    AeadAlgorithm,
    BackendStatus,
    HashAlgorithm,
    Implementation,
    KdfAlgorithm,
    KeyAlgorithm,
    MacAlgorithm,
)
from pqc.backends.cryptography_keys import KEY_CLASSES
from pqc.catalogue import lookup
from pqc.errors import AuthenticationError, InvalidKeyError, PqcError

NAME = "cryptography"

#: name → (private class, public class): pyca's keys (:mod:`pqc.backends.cryptography_keys`), then this
#: package's constructions over the family interfaces, which any backend's keys serve.
_KEY_CLASSES: dict[str, tuple[Any, Any]] = {
    **KEY_CLASSES,
    xwing.ALGORITHM: (xwing.XWingPrivateKey, xwing.XWingPublicKey),
    hybrid.ALGORITHM: (hybrid.X25519MLKEM768PrivateKey, hybrid.X25519MLKEM768PublicKey),
    signatures.COMPOSITE_ALGORITHM: (signatures.CompositeMLDSA65Ed25519PrivateKey,
                                     signatures.CompositeMLDSA65Ed25519PublicKey),
}

# catalogue hash name -> cryptography hash class
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
    "SHA3-256": hashes.SHA3_256,
    "SHA3-384": hashes.SHA3_384,
    "SHA3-512": hashes.SHA3_512,
}


class AeadCipher:
    """One AEAD key: ``encrypt``/``decrypt`` (12-byte nonce, 16-byte tag appended); a failed
    authentication raises :class:`AuthenticationError` (never a bare ``InvalidTag``)."""

    __slots__ = ("algorithm", "_cipher")

    def __init__(self, algorithm: str, cipher: Any) -> None:
        self.algorithm = algorithm
        self._cipher = cipher

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes | None = None) -> bytes:
        if len(nonce) != 12:
            raise PqcError(f"{self.algorithm} nonce: {len(nonce)} bytes, expected 12")
        return self._cipher.encrypt(nonce, data, aad)

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None = None) -> bytes:
        if len(nonce) != 12:
            raise PqcError(f"{self.algorithm} nonce: {len(nonce)} bytes, expected 12")
        try:
            return self._cipher.decrypt(nonce, data, aad)
        except InvalidTag:
            raise AuthenticationError(f"{self.algorithm}: authentication failed ({len(data)} bytes)") from None

    def __repr__(self) -> str:
        return f"<{self.algorithm} cipher>"


def _aead(name: str, cls: Any) -> AeadAlgorithm:
    def factory(key: bytes | bytearray) -> AeadCipher:
        if len(key) != 32:
            raise InvalidKeyError(f"{name} key: {len(key)} bytes, expected 32")
        return AeadCipher(name, cls(bytes(key)))

    return AeadAlgorithm(name, NAME, 32, 12, 16, factory)


def _hmac_algorithm(name: str, hash_cls: type[hashes.HashAlgorithm]) -> MacAlgorithm:
    def compute(key: bytes, data: bytes) -> bytes:
        mac = _hmac.HMAC(key, hash_cls())
        mac.update(data)
        return mac.finalize()

    def verify(key: bytes, data: bytes, tag: bytes) -> None:
        mac = _hmac.HMAC(key, hash_cls())
        mac.update(data)
        try:
            mac.verify(tag)  # constant-time comparison
        except InvalidSignature:
            raise AuthenticationError(f"{name}: tag does not verify") from None

    return MacAlgorithm(name, NAME, hash_cls().digest_size, compute, verify)


def _hkdf_algorithm(name: str, hash_name: str, hash_cls: type[hashes.HashAlgorithm]) -> KdfAlgorithm:
    limit = 255 * hash_cls().digest_size

    def derive(ikm: bytes, length: int, *, salt: bytes | None = None, info: bytes = b"") -> bytes:
        """RFC 5869 HKDF-Extract-then-Expand; ``length`` bytes, at most 255·HashLen."""
        if not 1 <= length <= limit:
            raise PqcError(f"{name} length: {length} bytes, expected 1..{limit}")
        return HKDF(algorithm=hash_cls(), length=length, salt=salt, info=info).derive(ikm)

    return KdfAlgorithm(name, NAME, hash_name, derive)


def _hash_algorithm(name: str, hash_cls: type[hashes.HashAlgorithm]) -> HashAlgorithm:
    def digest(data: bytes) -> bytes:
        h = hashes.Hash(hash_cls())
        h.update(data)
        return h.finalize()

    return HashAlgorithm(name, NAME, hash_cls().digest_size, digest)


def _catalogue_hmac_name(hash_name: str) -> str:
    return "HMAC-" + hash_name.replace("SHA-", "SHA")  # catalogue: HMAC-SHA256, HMAC-SHA3-256


def _catalogue_hkdf_name(hash_name: str) -> str:
    return "HKDF-" + hash_name.replace("SHA-", "SHA")  # catalogue: HKDF-SHA256; HKDF-SHA3-256 is ours


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
            table["AES-256-GCM"] = _aead("AES-256-GCM", AESGCM)
            table["ChaCha20-Poly1305"] = _aead("ChaCha20-Poly1305", ChaCha20Poly1305)
            for hash_name, hash_cls in _HASHES.items():
                table[hash_name] = _hash_algorithm(hash_name, hash_cls)
                mac_name = _catalogue_hmac_name(hash_name)
                table[mac_name] = _hmac_algorithm(mac_name, hash_cls)
                kdf_name = _catalogue_hkdf_name(hash_name)
                table[kdf_name] = _hkdf_algorithm(kdf_name, hash_name, hash_cls)
            self._implementations = table
        return self._implementations
