"""X25519MLKEM768: the TLS 1.3 hybrid group (code point 0x11EC), as a KEM.

Per draft-ietf-tls-ecdhe-mlkem §3 (the order is ML-KEM first for this group, unlike the SecP* groups):

* client share (our public key)  = ML-KEM-768 encapsulation key (1184) ‖ X25519 public key (32) = 1216 bytes
* server share (our ciphertext)  = ML-KEM-768 ciphertext (1088) ‖ X25519 ephemeral public key (32) = 1120 bytes
* shared secret                  = ML-KEM-768 shared secret (32) ‖ X25519 shared secret (32) = 64 bytes

The TLS key schedule then feeds the 64-byte concatenation to HKDF; used outside TLS, pass it through
:mod:`pqc.combiner`. An all-zero X25519 output is refused (RFC 8446 §7.4.2), unlike X-Wing.

Raw private key format (this package's, documented in :mod:`pqc.keys`): ML-KEM seed d‖z (64) ‖ X25519
private scalar (32) = 96 bytes.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.asymmetric import x25519

from pqc.errors import InvalidCiphertextError, InvalidKeyError
from pqc.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey

ALGORITHM = "X25519MLKEM768"
PRIVATE_KEY_SIZE = 96
PUBLIC_KEY_SIZE = 1216
CIPHERTEXT_SIZE = 1120
SHARED_SECRET_SIZE = 64
_MLKEM_PK = 1184
_MLKEM_CT = 1088


def _exchange(private: x25519.X25519PrivateKey, peer: bytes, what: str) -> bytes:
    try:
        return private.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
    except ValueError:
        raise InvalidCiphertextError(f"X25519MLKEM768 {what}: X25519 share gives the all-zero secret") from None


class X25519MLKEM768PublicKey:
    """Client key share ``ek_M ‖ pk_X`` (1216 bytes)."""

    algorithm = ALGORITHM
    __slots__ = ("_mlkem", "_pk_x")

    def __init__(self, mlkem_public: MLKEM768PublicKey, pk_x: bytes) -> None:
        self._mlkem = mlkem_public
        self._pk_x = pk_x

    @classmethod
    def from_public_bytes(cls, data: bytes) -> X25519MLKEM768PublicKey:
        data = bytes(data)
        if len(data) != PUBLIC_KEY_SIZE:
            raise InvalidKeyError(f"X25519MLKEM768 public key: {len(data)} bytes, expected {PUBLIC_KEY_SIZE}")
        return cls(MLKEM768PublicKey.from_public_bytes(data[:_MLKEM_PK]), data[_MLKEM_PK:])

    def encapsulate(self) -> tuple[bytes, bytes]:
        """Return ``(shared_secret (64 B), ciphertext (1120 B))`` = the server's side of the exchange."""
        ss_m, ct_m = self._mlkem.encapsulate()
        ephemeral = x25519.X25519PrivateKey.generate()
        ss_x = _exchange(ephemeral, self._pk_x, "public key")
        return ss_m + ss_x, ct_m + ephemeral.public_key().public_bytes_raw()

    def public_bytes_raw(self) -> bytes:
        return self._mlkem.public_bytes_raw() + self._pk_x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519MLKEM768PublicKey) and self.public_bytes_raw() == other.public_bytes_raw()

    def __hash__(self) -> int:
        return hash((ALGORITHM, self.public_bytes_raw()))

    def __repr__(self) -> str:
        return "<X25519MLKEM768 public key>"


class X25519MLKEM768PrivateKey:
    """Client private state: ML-KEM-768 key and X25519 key."""

    algorithm = ALGORITHM
    __slots__ = ("_mlkem", "_x25519")

    def __init__(self, mlkem_private: MLKEM768PrivateKey, x25519_private: x25519.X25519PrivateKey) -> None:
        self._mlkem = mlkem_private
        self._x25519 = x25519_private

    @classmethod
    def generate(cls) -> X25519MLKEM768PrivateKey:
        return cls.from_private_bytes(secrets.token_bytes(PRIVATE_KEY_SIZE))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> X25519MLKEM768PrivateKey:
        """96 bytes: ML-KEM seed d‖z (64) then the X25519 scalar (32)."""
        if len(data) != PRIVATE_KEY_SIZE:
            raise InvalidKeyError(f"X25519MLKEM768 private key: {len(data)} bytes, expected {PRIVATE_KEY_SIZE}")
        mlkem_private = MLKEM768PrivateKey.from_seed_bytes(bytes(data[:64]))
        return cls(mlkem_private, x25519.X25519PrivateKey.from_private_bytes(bytes(data[64:])))  # type: ignore[arg-type]

    def public_key(self) -> X25519MLKEM768PublicKey:
        return X25519MLKEM768PublicKey(
            self._mlkem.public_key(),
            self._x25519.public_key().public_bytes_raw(),
        )

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """64-byte ``ss_M ‖ ss_X`` for the server share ``ct_M ‖ pk_X_eph``."""
        if len(ciphertext) != CIPHERTEXT_SIZE:
            raise InvalidCiphertextError(
                f"X25519MLKEM768 ciphertext: {len(ciphertext)} bytes, expected {CIPHERTEXT_SIZE}"
            )
        ss_m = self._mlkem.decapsulate(ciphertext[:_MLKEM_CT])
        return ss_m + _exchange(self._x25519, bytes(ciphertext[_MLKEM_CT:]), "ciphertext")

    def private_bytes_raw(self) -> bytes:
        return self._mlkem.private_bytes_raw() + self._x25519.private_bytes_raw()

    def __repr__(self) -> str:
        return "<X25519MLKEM768 private key>"
