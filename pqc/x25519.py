"""X25519 key agreement (RFC 7748 §5) with the pyca verbs: ``generate``, ``from_private_bytes``,
``public_key``, ``exchange``, ``public_bytes_raw``. Keys and shared secrets are 32 bytes.

``exchange`` refuses the all-zero output of a low-order peer point (RFC 7748 §6.1 "check") with
:class:`~pqc.errors.InvalidKeyError`; X-Wing, which must accept it, uses ``cryptography`` directly.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519 as _x

from pqc.errors import InvalidKeyError

ALGORITHM = "X25519"
KEY_SIZE = 32


class X25519PublicKey:
    algorithm = ALGORITHM
    public_key_size = KEY_SIZE
    __slots__ = ("_key",)

    def __init__(self, key: _x.X25519PublicKey) -> None:
        self._key = key

    @classmethod
    def from_public_bytes(cls, data: bytes) -> X25519PublicKey:
        if len(data) != KEY_SIZE:
            raise InvalidKeyError(f"X25519 public key: {len(data)} bytes, expected {KEY_SIZE}")
        return cls(_x.X25519PublicKey.from_public_bytes(bytes(data)))

    def public_bytes_raw(self) -> bytes:
        return self._key.public_bytes_raw()

    def public_bytes(self, encoding: serialization.Encoding, format: serialization.PublicFormat) -> bytes:
        """SubjectPublicKeyInfo (RFC 8410) PEM/DER, or raw."""
        return self._key.public_bytes(encoding, format)

    @property
    def backend_key(self) -> Any:
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519PublicKey) and self.public_bytes_raw() == other.public_bytes_raw()

    def __hash__(self) -> int:
        return hash((ALGORITHM, self.public_bytes_raw()))

    def __repr__(self) -> str:
        return "<X25519 public key>"


class X25519PrivateKey:
    algorithm = ALGORITHM
    __slots__ = ("_key",)

    def __init__(self, key: _x.X25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> X25519PrivateKey:
        return cls(_x.X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> X25519PrivateKey:
        if len(data) != KEY_SIZE:
            raise InvalidKeyError(f"X25519 private key: {len(data)} bytes, expected {KEY_SIZE}")
        return cls(_x.X25519PrivateKey.from_private_bytes(bytes(data)))

    def public_key(self) -> X25519PublicKey:
        return X25519PublicKey(self._key.public_key())

    def exchange(self, peer: X25519PublicKey) -> bytes:
        """32-byte shared secret; :class:`InvalidKeyError` for a low-order peer key (all-zero output)."""
        try:
            return self._key.exchange(peer.backend_key)
        except ValueError:
            raise InvalidKeyError("X25519 peer public key is a low-order point (all-zero shared secret)") from None

    def private_bytes_raw(self) -> bytes:
        return self._key.private_bytes_raw()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        """PKCS#8 (RFC 8410) PEM/DER, or raw."""
        return self._key.private_bytes(encoding, format, encryption_algorithm)

    @property
    def backend_key(self) -> Any:
        return self._key

    def __repr__(self) -> str:
        return "<X25519 private key>"
