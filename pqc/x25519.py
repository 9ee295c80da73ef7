"""X25519 key agreement (RFC 7748 §5): the family's interface with the pyca verbs — ``generate``,
``from_private_bytes``, ``public_key``, ``exchange``, ``public_bytes_raw``; backends implement it (see
:mod:`pqc.key_interface`). Key and shared-secret sizes (32 bytes) come from the catalogue row.

``exchange`` refuses the all-zero output of a low-order peer point (RFC 7748 §6.1 "check") with
:class:`~pqc.errors.InvalidKeyError`; ``exchange(peer, allow_zero=True)`` returns it as is, for X-Wing,
whose draft feeds the RFC 7748 output to its combiner unchecked.
"""

from __future__ import annotations

import abc

from pqc.errors import InvalidKeyError
from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface

ALGORITHM = "X25519"


class X25519PublicKey(PublicKeyInterface, algorithm=ALGORITHM):
    """An X25519 public key (the u-coordinate, RFC 7748 §5); SubjectPublicKeyInfo per RFC 8410."""

    __slots__ = ()


class X25519PrivateKey(PrivateKeyInterface, algorithm=ALGORITHM):
    """An X25519 private key (the scalar, RFC 7748 §5); PKCS#8 per RFC 8410."""

    __slots__ = ()

    def exchange(self, peer: X25519PublicKey, *, allow_zero: bool = False) -> bytes:
        """The shared secret X25519(k, u) (RFC 7748 §5); :class:`InvalidKeyError` for the all-zero output
        of a low-order peer key unless ``allow_zero``."""
        shared = self._exchange(peer)
        if not allow_zero and not any(shared):
            raise InvalidKeyError("X25519 peer public key is a low-order point (all-zero shared secret)")
        return shared

    @abc.abstractmethod
    def public_key(self) -> X25519PublicKey:
        """The public key X25519(k, 9)."""

    @abc.abstractmethod
    def _exchange(self, peer: X25519PublicKey) -> bytes:
        """The backend's X25519 function, all-zero output included."""
