"""The ``cryptography`` backend's symmetric implementations: AES-256-GCM (NIST SP 800-38D) and
ChaCha20-Poly1305 (RFC 8439), HMAC (RFC 2104) and HKDF (RFC 5869) over SHA-2 and SHA-3 (FIPS 180-4,
FIPS 202), and the hashes themselves. Sizes in bytes. :func:`symmetric_implementations` gives them by
catalogue name (HKDF over SHA-3 is named as this package names it, ``HKDF-SHA3-256`` …).
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pqc.backends.base import AeadAlgorithm, HashAlgorithm, KdfAlgorithm, MacAlgorithm
from pqc.errors import AuthenticationError, InvalidKeyError, PqcError

NAME = "cryptography"

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

    return AeadAlgorithm(name, NAME, 32, 12, 16, factory, raw_factory=cls, tag_error=InvalidTag)


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


def symmetric_implementations() -> dict[str, AeadAlgorithm | MacAlgorithm | KdfAlgorithm | HashAlgorithm]:
    """Catalogue name → implementation: the two AEADs, and per hash the hash, its HMAC and its HKDF."""
    table: dict[str, AeadAlgorithm | MacAlgorithm | KdfAlgorithm | HashAlgorithm] = {
        "AES-256-GCM": _aead("AES-256-GCM", AESGCM),
        "ChaCha20-Poly1305": _aead("ChaCha20-Poly1305", ChaCha20Poly1305),
    }
    for hash_name, hash_cls in _HASHES.items():
        table[hash_name] = _hash_algorithm(hash_name, hash_cls)
        mac_name = _catalogue_hmac_name(hash_name)
        table[mac_name] = _hmac_algorithm(mac_name, hash_cls)
        kdf_name = _catalogue_hkdf_name(hash_name)
        table[kdf_name] = _hkdf_algorithm(kdf_name, hash_name, hash_cls)
    return table
