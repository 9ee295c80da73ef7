"""The interface every asymmetric key family shares, in pyca's shape: the family modules
(:mod:`pqc.mlkem`, :mod:`pqc.signatures`, :mod:`pqc.x25519`, :mod:`pqc.xwing`, :mod:`pqc.hybrid`) declare
abstract key classes with the pyca verbs on top of these; backends implement them.

* Sizes come from the algorithm's catalogue row (:mod:`pqc.catalogue`, in bytes): a class declared with
  ``algorithm="ML-KEM-768"`` gets ``public_key_size``, ``ciphertext_size``, ``signature_size`` and
  ``shared_secret_size`` from it, and ``private_key_size`` too unless the family declares its own raw
  private form (ML-KEM and ML-DSA keep their FIPS 203 / FIPS 204 seeds, not the catalogue's expanded keys;
  the hybrids and the composite concatenate their parts' raw forms).
* ``generate()``, ``from_private_bytes(raw)`` and ``from_public_bytes(raw)`` on an interface class ask
  the backend registry (:data:`pqc.backends.by_name.key_algorithm`) for the algorithm's implementation
  and return its key objects, which subclass the interface (as pyca's ``MLKEM768PrivateKey.generate()``
  returns the Rust backend's object). An implementation overrides the three class methods.
* Input checks that the standard asks for live here and in the family modules (lengths; the FIPS 203
  modulus check; the FIPS 204 context length), so that every backend gets them.
* Public keys compare and hash by algorithm and raw encoding; no ``repr`` shows key material.
"""

from __future__ import annotations

import abc
import types
from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar

from pqc.backends.by_name import key_algorithm
from pqc.catalogue import lookup
from pqc.errors import InvalidKeyError

#: catalogue size field → the class variable it sets (sizes in bytes)
_CATALOGUE_SIZES = (
    ("public_key_bytes", "public_key_size"),
    ("ciphertext_bytes", "ciphertext_size"),
    ("signature_bytes", "signature_size"),
    ("shared_secret_bytes", "shared_secret_size"),
)


class _KeyInterface(abc.ABC):
    """What public and private key classes share: the algorithm name and the sizes of its catalogue row."""

    algorithm: ClassVar[str]
    public_key_size: ClassVar[int]
    __slots__ = ()

    def __init_subclass__(cls, algorithm: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if algorithm is None:
            return
        entry = lookup(algorithm)
        cls.algorithm = entry.name
        for field, attribute in _CATALOGUE_SIZES:
            size = getattr(entry, field)
            if size is not None:
                setattr(cls, attribute, size)


class PublicKeyInterface(_KeyInterface):
    """A public key: ``from_public_bytes`` (validated), ``public_bytes_raw``."""

    __slots__ = ()

    @classmethod
    def check_public_bytes(cls, data: bytes) -> None:
        """Raise :class:`InvalidKeyError` unless ``data`` is a well-formed raw public key (default: its length)."""
        if len(data) != cls.public_key_size:
            raise InvalidKeyError(f"{cls.algorithm} public key: {len(data)} bytes, expected {cls.public_key_size}")

    @classmethod
    def from_public_bytes(cls, data: bytes) -> Self:
        """The public key encoded as ``data``, from the first backend implementing the algorithm."""
        return key_algorithm(cls.algorithm).public_key_from_bytes(data)

    @abc.abstractmethod
    def public_bytes_raw(self) -> bytes:
        """The raw encoding (``public_key_size`` bytes)."""

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, PublicKeyInterface) and other.algorithm == self.algorithm
                and other.public_bytes_raw() == self.public_bytes_raw())

    def __hash__(self) -> int:
        return hash((self.algorithm, self.public_bytes_raw()))

    def __repr__(self) -> str:
        return f"<{self.algorithm} public key>"


class PrivateKeyInterface(_KeyInterface):
    """A private key: ``generate``, ``from_private_bytes``, ``public_key``, ``private_bytes_raw``."""

    private_key_size: ClassVar[int]
    #: what the raw private bytes are called in error messages ("private key", "seed" …)
    private_form: ClassVar[str] = "private key"
    __slots__ = ()

    def __init_subclass__(cls, algorithm: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(algorithm=algorithm, **kwargs)
        if algorithm is not None and not hasattr(cls, "private_key_size"):
            size = lookup(algorithm).private_key_bytes
            if size is None:
                raise TypeError(f"{cls.__name__}: the catalogue gives no private key size for {algorithm}")
            cls.private_key_size = size

    @classmethod
    def check_private_bytes(cls, data: bytes) -> None:
        """Raise :class:`InvalidKeyError` unless ``data`` has the length of the raw private form."""
        if len(data) != cls.private_key_size:
            raise InvalidKeyError(
                f"{cls.algorithm} {cls.private_form}: {len(data)} bytes, expected {cls.private_key_size}"
            )

    @classmethod
    def generate(cls) -> Self:
        """A fresh key from the operating system's randomness, by the first backend implementing it."""
        return key_algorithm(cls.algorithm).generate()

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Self:
        """The private key whose raw form is ``data``, from the first backend implementing the algorithm."""
        return key_algorithm(cls.algorithm).private_key_from_bytes(data)

    @abc.abstractmethod
    def public_key(self) -> Any:
        """The matching public key."""

    @abc.abstractmethod
    def private_bytes_raw(self) -> bytes:
        """The raw private form (``private_key_size`` bytes)."""

    def __repr__(self) -> str:
        return f"<{self.algorithm} private key>"


PublicT = TypeVar("PublicT", bound=PublicKeyInterface)
PrivateT = TypeVar("PrivateT", bound=PrivateKeyInterface)


def _declare(base: Any, name: str, module: str, **keywords: Any) -> Any:
    def body(namespace: dict[str, Any]) -> None:
        namespace.update(__slots__=(), __module__=module, __qualname__=name)

    return types.new_class(name, (base,), keywords, body)


def parameter_set(family: tuple[Callable[..., PublicT], Callable[..., PrivateT]], algorithm: str,
                  module: str) -> tuple[type[PublicT], type[PrivateT]]:
    """The interface classes of one parameter set of a family, e.g. ``MLKEM768PublicKey`` and
    ``MLKEM768PrivateKey`` for ``"ML-KEM-768"``: subclasses of the family's (abstract) public and private
    bases carrying the catalogue row's name and sizes, named and placed in ``module`` as if declared there."""
    # The bases are abstract classes, typed as their constructors: mypy refuses an abstract class where
    # ``type[...]`` is expected, though subclassing it is what happens here.
    public_base, private_base = family
    stem = algorithm.replace("-", "")
    public: type[PublicT] = _declare(public_base, f"{stem}PublicKey", module, algorithm=algorithm)
    private: type[PrivateT] = _declare(private_base, f"{stem}PrivateKey", module, algorithm=algorithm)
    return public, private
