"""Keys made of two component keys whose raw forms are concatenated, first part first: the
X25519MLKEM768 hybrid KEM (:mod:`pqc.hybrid`: ML-KEM-768 ‖ X25519) and the MLDSA65-Ed25519 composite
signature (:mod:`pqc.signatures`: ML-DSA-65 ‖ Ed25519).

A subclass names its two component interfaces in ``parts`` (e.g. ``(MLKEM768PrivateKey,
X25519PrivateKey)``); the raw private key is ``private_bytes_raw()`` of each part (seed forms for the
lattice parts), the raw public key ``public_bytes_raw()`` of each, and an import splits at the first
part's size after checking the whole length against the catalogue row (or the sum of the parts).
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar, Self

from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface


class PairPublicKey(PublicKeyInterface):
    """A public key ``first ‖ second``; ``parts`` are the component public-key interfaces."""

    parts: ClassVar[tuple[type[PublicKeyInterface], type[PublicKeyInterface]]]
    __slots__ = ("_first", "_second")

    def __init__(self, first: Any, second: Any) -> None:
        self._first = first
        self._second = second

    @classmethod
    def from_public_bytes(cls, data: bytes) -> Self:
        """Check the whole length, then import each part (each validates its own, e.g. the ML-KEM modulus check)."""
        data = bytes(data)
        cls.check_public_bytes(data)
        first, second = cls.parts
        split = first.public_key_size
        return cls(first.from_public_bytes(data[:split]), second.from_public_bytes(data[split:]))

    def public_bytes_raw(self) -> bytes:
        raw: bytes = self._first.public_bytes_raw() + self._second.public_bytes_raw()
        return raw


class PairPrivateKey(PrivateKeyInterface):
    """A private key ``first ‖ second``; ``parts`` are the component private-key interfaces, and
    ``private_key_size`` is the sum of theirs."""

    parts: ClassVar[tuple[type[PrivateKeyInterface], type[PrivateKeyInterface]]]
    __slots__ = ("_first", "_second")

    def __init_subclass__(cls, algorithm: str | None = None, **kwargs: Any) -> None:
        if "parts" in cls.__dict__:
            cls.private_key_size = sum(part.private_key_size for part in cls.parts)
        super().__init_subclass__(algorithm=algorithm, **kwargs)

    def __init__(self, first: Any, second: Any) -> None:
        self._first = first
        self._second = second

    @classmethod
    def generate(cls) -> Self:
        """Both parts from fresh OS randomness (their raw forms are uniform seeds or scalars)."""
        return cls.from_private_bytes(secrets.token_bytes(cls.private_key_size))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Self:
        cls.check_private_bytes(data)
        first, second = cls.parts
        split = first.private_key_size
        return cls(first.from_private_bytes(bytes(data[:split])), second.from_private_bytes(bytes(data[split:])))

    def private_bytes_raw(self) -> bytes:
        raw: bytes = self._first.private_bytes_raw() + self._second.private_bytes_raw()
        return raw
