"""X25519 key agreement (RFC 7748 §5) with the pyca verbs: ``generate``, ``from_private_bytes``,
``public_key``, ``exchange``, ``public_bytes_raw``. Keys and shared secrets are 32 bytes.

``exchange`` refuses the all-zero output of a low-order peer point (RFC 7748 §6.1 "check") with
:class:`~pqc.errors.InvalidKeyError`; X-Wing, which must accept it, uses ``cryptography`` directly.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import x25519 as _x

from pqc.backend_keys import BackendPrivateKey, BackendPublicKey
from pqc.errors import InvalidKeyError

ALGORITHM = "X25519"
KEY_SIZE = 32


class X25519PublicKey(BackendPublicKey):
    """An X25519 public key (32 bytes, RFC 7748 §5); SubjectPublicKeyInfo per RFC 8410."""

    algorithm = ALGORITHM
    public_key_size = KEY_SIZE
    _impl = _x.X25519PublicKey
    __slots__ = ()


class X25519PrivateKey(BackendPrivateKey):
    """An X25519 private key (32 bytes, RFC 7748 §5); PKCS#8 per RFC 8410."""

    algorithm = ALGORITHM
    private_key_size = KEY_SIZE
    _impl = _x.X25519PrivateKey
    _public_cls = X25519PublicKey
    __slots__ = ()

    def exchange(self, peer: X25519PublicKey) -> bytes:
        """32-byte shared secret; :class:`InvalidKeyError` for a low-order peer key (all-zero output)."""
        try:
            return self._key.exchange(peer.backend_key)
        except ValueError:
            raise InvalidKeyError("X25519 peer public key is a low-order point (all-zero shared secret)") from None
