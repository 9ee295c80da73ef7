"""Base classes of the key objects that wrap a ``cryptography`` key (ML-KEM, ML-DSA, X25519, Ed25519).

One place for what every wrapped key does the same way: length-checked import with a typed
:class:`~pqc.errors.InvalidKeyError` naming the algorithm and the sizes, the pyca serialisation verbs,
equality and hashing of public keys by their raw encoding, and a ``repr`` that never shows key
material. Subclasses set the class variables (sizes in bytes) and add their own verbs (``encapsulate``,
``sign``, ``exchange`` …).
"""

from __future__ import annotations

from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization

from pqc.errors import InvalidKeyError


class BackendPublicKey:
    """A public key held as a ``cryptography`` key object ``_impl`` (its class), imported from raw bytes."""

    algorithm: ClassVar[str]
    public_key_size: ClassVar[int]
    _impl: ClassVar[Any]
    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def check_public_bytes(cls, data: bytes) -> None:
        """Raise :class:`InvalidKeyError` unless ``data`` is a well-formed raw public key (default: its length)."""
        if len(data) != cls.public_key_size:
            raise InvalidKeyError(f"{cls.algorithm} public key: {len(data)} bytes, expected {cls.public_key_size}")

    @classmethod
    def _wrap_imported(cls, key: Any, data: bytes) -> Any:
        """The wrapper of a key just imported from ``data`` (a subclass may keep ``data``)."""
        return cls(key)

    @classmethod
    def from_public_bytes(cls, data: bytes) -> Any:
        """Import the raw public key ``data``, checked first by :meth:`check_public_bytes`."""
        data = bytes(data)
        cls.check_public_bytes(data)
        try:
            key = cls._impl.from_public_bytes(data)
        except ValueError as exc:
            raise InvalidKeyError(f"{cls.algorithm} public key rejected by the backend: {exc}") from None
        return cls._wrap_imported(key, data)

    def public_bytes_raw(self) -> bytes:
        return self._key.public_bytes_raw()

    def public_bytes(self, encoding: serialization.Encoding, format: serialization.PublicFormat) -> bytes:
        """SubjectPublicKeyInfo (PEM/DER) or raw, as ``cryptography`` encodes it."""
        return self._key.public_bytes(encoding, format)

    @property
    def backend_key(self) -> Any:
        """The underlying ``cryptography`` key object."""
        return self._key

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.public_bytes_raw() == other.public_bytes_raw()

    def __hash__(self) -> int:
        return hash((self.algorithm, self.public_bytes_raw()))

    def __repr__(self) -> str:
        return f"<{self.algorithm} public key>"


class BackendPrivateKey:
    """A private key held as a ``cryptography`` key object; its raw form is ``private_key_size`` bytes
    (a seed for ML-KEM and ML-DSA), imported with ``_impl``'s ``_impl_loader`` class method."""

    algorithm: ClassVar[str]
    private_key_size: ClassVar[int]
    #: what the raw private bytes are called in error messages ("private key", "seed")
    private_form: ClassVar[str] = "private key"
    _impl: ClassVar[Any]
    _impl_loader: ClassVar[str] = "from_private_bytes"
    _public_cls: ClassVar[type[BackendPublicKey]]
    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> Any:
        """A fresh key pair from the operating system's randomness (through OpenSSL)."""
        return cls(cls._impl.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Any:
        """Import the raw private key (or seed) ``data``; a wrong length is an :class:`InvalidKeyError`."""
        if len(data) != cls.private_key_size:
            raise InvalidKeyError(
                f"{cls.algorithm} {cls.private_form}: {len(data)} bytes, expected {cls.private_key_size}"
            )
        try:
            key = getattr(cls._impl, cls._impl_loader)(bytes(data))
        except ValueError as exc:
            raise InvalidKeyError(f"{cls.algorithm} {cls.private_form} rejected by the backend: {exc}") from None
        return cls(key)

    def public_key(self) -> Any:
        return self._public_cls(self._key.public_key())

    def private_bytes_raw(self) -> bytes:
        """The raw private key (the seed for ML-KEM and ML-DSA)."""
        return self._key.private_bytes_raw()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        """PKCS#8 (PEM/DER; ML-KEM and ML-DSA in their seed forms) or raw, as ``cryptography`` encodes it."""
        return self._key.private_bytes(encoding, format, encryption_algorithm)

    @property
    def backend_key(self) -> Any:
        """The underlying ``cryptography`` key object."""
        return self._key

    def __repr__(self) -> str:
        return f"<{self.algorithm} private key>"
