"""X25519MLKEM768: the TLS 1.3 hybrid group (code point 0x11EC), as a KEM.

Per draft-ietf-tls-ecdhe-mlkem §3 (the order is ML-KEM first for this group, unlike the SecP* groups):

* client share (our public key)  = ML-KEM-768 encapsulation key (1184) ‖ X25519 public key (32) = 1216 bytes
* server share (our ciphertext)  = ML-KEM-768 ciphertext (1088) ‖ X25519 ephemeral public key (32) = 1120 bytes
* shared secret                  = ML-KEM-768 shared secret (32) ‖ X25519 shared secret (32) = 64 bytes

The TLS key schedule then feeds the 64-byte concatenation to HKDF; used outside TLS, pass it through
:mod:`pqc.combiner`. An all-zero X25519 output is refused (RFC 8446 §7.4.2), unlike X-Wing.

Raw private key format (this package's, documented in :mod:`pqc.keys`): ML-KEM seed d‖z (64) ‖ X25519
private scalar (32) = 96 bytes.

Built on the family interfaces :mod:`pqc.mlkem` and :mod:`pqc.x25519`; sizes in bytes come from the
catalogue rows of the group and its parts.
"""

from __future__ import annotations

from typing import ClassVar

from pqc.composite_keys import PairPrivateKey, PairPublicKey
from pqc.errors import InvalidCiphertextError, InvalidKeyError
from pqc.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from pqc.x25519 import X25519PrivateKey, X25519PublicKey

ALGORITHM = "X25519MLKEM768"
_MLKEM_CT = MLKEM768PublicKey.ciphertext_size


def _exchange(private: X25519PrivateKey, peer: X25519PublicKey, what: str) -> bytes:
    try:
        return private.exchange(peer)
    except InvalidKeyError:
        raise InvalidCiphertextError(f"X25519MLKEM768 {what}: X25519 share gives the all-zero secret") from None


class X25519MLKEM768PublicKey(PairPublicKey, algorithm=ALGORITHM):
    """Client key share ``ek_M ‖ pk_X`` (1216 bytes)."""

    parts = (MLKEM768PublicKey, X25519PublicKey)
    ciphertext_size: ClassVar[int]
    shared_secret_size: ClassVar[int]
    __slots__ = ()

    def encapsulate(self) -> tuple[bytes, bytes]:
        """Return ``(shared_secret (64 B), ciphertext (1120 B))`` = the server's side of the exchange."""
        ss_m, ct_m = self._first.encapsulate()
        ephemeral = X25519PrivateKey.generate()
        ss_x = _exchange(ephemeral, self._second, "public key")
        return ss_m + ss_x, ct_m + ephemeral.public_key().public_bytes_raw()


class X25519MLKEM768PrivateKey(PairPrivateKey, algorithm=ALGORITHM):
    """Client private state: ML-KEM-768 seed d‖z (64) ‖ X25519 scalar (32)."""

    parts = (MLKEM768PrivateKey, X25519PrivateKey)
    ciphertext_size: ClassVar[int]
    __slots__ = ()

    def public_key(self) -> X25519MLKEM768PublicKey:
        return X25519MLKEM768PublicKey(self._first.public_key(), self._second.public_key())

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """64-byte ``ss_M ‖ ss_X`` for the server share ``ct_M ‖ pk_X_eph``."""
        if len(ciphertext) != self.ciphertext_size:
            raise InvalidCiphertextError(
                f"X25519MLKEM768 ciphertext: {len(ciphertext)} bytes, expected {self.ciphertext_size}"
            )
        ss_m: bytes = self._first.decapsulate(ciphertext[:_MLKEM_CT])
        peer = X25519PublicKey.from_public_bytes(bytes(ciphertext[_MLKEM_CT:]))
        return ss_m + _exchange(self._second, peer, "ciphertext")


PRIVATE_KEY_SIZE = X25519MLKEM768PrivateKey.private_key_size
PUBLIC_KEY_SIZE = X25519MLKEM768PublicKey.public_key_size
CIPHERTEXT_SIZE = X25519MLKEM768PublicKey.ciphertext_size
SHARED_SECRET_SIZE = X25519MLKEM768PublicKey.shared_secret_size
