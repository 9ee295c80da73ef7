"""What a backend offers, primitive by primitive, with the same verbs whichever backend implements it.

* :class:`KeyAlgorithm` — KEMs, signatures and key agreement: ``generate()``,
  ``private_key_from_bytes(raw)``, ``public_key_from_bytes(raw)``; the key objects then carry the pyca
  verbs (``encapsulate``/``decapsulate``, ``sign``/``verify``, ``exchange``, ``*_bytes_raw``).
* :class:`AeadAlgorithm` — ``new(key)`` → an object with ``encrypt(nonce, data, aad)`` and
  ``decrypt(nonce, data, aad)`` (raising :class:`~pqc.errors.AuthenticationError`).
* :class:`MacAlgorithm` — ``compute(key, data)`` and constant-time ``verify(key, data, tag)``.
* :class:`KdfAlgorithm` — ``derive(ikm, length, salt=…, info=…)`` (RFC 5869 HKDF).
* :class:`HashAlgorithm` — ``digest(data)``.

Every object names its catalogue entry (``algorithm``) and its ``backend``. Sizes are in bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pqc.errors import AuthenticationError


@dataclass(frozen=True)
class KeyAlgorithm:
    """A KEM, signature or key-agreement algorithm as one backend implements it."""

    algorithm: str
    primitive: str  # catalogue vocabulary: "kem", "signature", "key-agree"
    backend: str
    private_cls: Any = field(repr=False)
    public_cls: Any = field(repr=False)

    def generate(self) -> Any:
        """A fresh private key (OS randomness)."""
        return self.private_cls.generate()

    def private_key_from_bytes(self, raw: bytes) -> Any:
        """Private key from its raw form (ML-KEM d‖z, ML-DSA ξ, X25519/Ed25519 32 bytes, liboqs secret key)."""
        return self.private_cls.from_private_bytes(raw)

    def public_key_from_bytes(self, raw: bytes) -> Any:
        """Public key from its raw form, validated (ML-KEM: the FIPS 203 §7.2 modulus check)."""
        return self.public_cls.from_public_bytes(raw)


@dataclass(frozen=True)
class _Offered:
    """A catalogue algorithm (``algorithm``) as the backend named ``backend`` offers it."""

    algorithm: str
    backend: str


@dataclass(frozen=True)
class AeadAlgorithm(_Offered):
    """An AEAD: ``new(key)`` → a cipher with ``encrypt``/``decrypt``; sizes in bytes.

    ``raw(key)``, when a backend offers it, is the backend's own cipher object for per-record paths (the
    framing of :mod:`pqc.aead`): the same ``encrypt(nonce, data, aad)``/``decrypt`` without our checks, whose
    failed tag raises ``tag_error``; otherwise ``raw`` is ``new`` and ``tag_error`` our
    :class:`~pqc.errors.AuthenticationError`."""

    key_size: int
    nonce_size: int
    tag_size: int
    factory: Callable[[bytes | bytearray], Any] = field(repr=False)
    primitive: str = "ae"
    raw_factory: Callable[[bytes | bytearray], Any] | None = field(default=None, repr=False)
    tag_error: type[Exception] = AuthenticationError

    def new(self, key: bytes | bytearray) -> Any:
        """A cipher object keyed with ``key`` (``key_size`` bytes)."""
        return self.factory(key)

    def raw(self, key: bytes | bytearray) -> Any:
        """The backend's cipher keyed with ``key`` (see the class docstring), or :meth:`new`'s."""
        return (self.raw_factory or self.factory)(key)


@dataclass(frozen=True)
class MacAlgorithm(_Offered):
    """A MAC: ``compute(key, data)`` → tag of ``digest_size`` bytes; ``verify`` compares in constant time."""

    digest_size: int
    compute: Callable[[bytes, bytes], bytes] = field(repr=False)
    verify: Callable[[bytes, bytes, bytes], None] = field(repr=False)
    primitive: str = "mac"


@dataclass(frozen=True)
class KdfAlgorithm(_Offered):
    """A KDF over the hash ``hash_name``: ``derive(ikm, length, salt=…, info=…)`` (length in bytes)."""

    hash_name: str
    derive: Callable[..., bytes] = field(repr=False)
    primitive: str = "kdf"


@dataclass(frozen=True)
class HashAlgorithm(_Offered):
    """A hash: ``digest(data)`` → ``digest_size`` bytes."""

    digest_size: int
    digest: Callable[[bytes], bytes] = field(repr=False)
    primitive: str = "hash"


Implementation = KeyAlgorithm | AeadAlgorithm | MacAlgorithm | KdfAlgorithm | HashAlgorithm


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend can run here and, when not, why (for ``doctor`` and ``qshift pqc algorithms``)."""

    name: str
    available: bool
    reason: str
    algorithms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "available": self.available, "reason": self.reason,
                "algorithms": list(self.algorithms)}


class Backend(Protocol):
    """A provider of implementations, keyed by catalogue canonical name."""

    name: str

    def status(self) -> BackendStatus:
        """Availability and reason; must never import an optional dependency that is not usable."""
        ...

    def implementations(self) -> dict[str, Implementation]:
        """Canonical catalogue name → implementation (empty when unavailable)."""
        ...
