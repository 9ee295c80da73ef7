"""The ``cryptography`` backend's key objects: each implements a family interface of ``pqc`` (ML-KEM,
ML-DSA, Ed25519, X25519; :mod:`pqc.key_interface`) over a pyca key object.

One place for what every wrapped key does the same way: import from raw bytes after the interface's
input checks (length; the FIPS 203 modulus check), a backend refusal turned into a typed
:class:`~pqc.errors.InvalidKeyError`, a failed verification into :class:`~pqc.errors.InvalidSignatureError`,
and the pyca serialisation verbs (``public_bytes``/``private_bytes``: SPKI/PKCS#8 PEM/DER or raw). Each
family adds its verbs in a small mixin; the classes of every parameter set are built from one table,
:data:`_IMPLEMENTED` (family interface ↔ pyca class ↔ mixin).
"""

from __future__ import annotations

import types
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519 as _ed
from cryptography.hazmat.primitives.asymmetric import mldsa as _md
from cryptography.hazmat.primitives.asymmetric import mlkem as _mk
from cryptography.hazmat.primitives.asymmetric import x25519 as _x

from pqc import mlkem, signatures, x25519
from pqc.errors import InvalidKeyError, InvalidSignatureError
from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface


class CryptographyPublicKey(PublicKeyInterface):
    """A public key held as a ``cryptography`` key object of class ``_impl``."""

    _impl: ClassVar[Any]
    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def _wrap_imported(cls, key: Any, data: bytes) -> Any:
        """The wrapper of a key just imported from ``data`` (a subclass may keep ``data``)."""
        return cls(key)

    @classmethod
    def from_public_bytes(cls, data: bytes) -> Any:
        """Import the raw public key ``data``, checked first by the interface's ``check_public_bytes``."""
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

    def _backend_verify(self, signature: bytes, data: bytes, *context: bytes | None) -> None:
        """pyca's ``verify``, its ``InvalidSignature`` turned into ours."""
        try:
            self._key.verify(signature, data, *context)
        except InvalidSignature:
            raise InvalidSignatureError(f"{self.algorithm} signature does not verify") from None

    @property
    def backend_key(self) -> Any:
        """The underlying ``cryptography`` key object."""
        return self._key


class CryptographyPrivateKey(PrivateKeyInterface):
    """A private key held as a ``cryptography`` key object; its raw form is ``private_key_size`` bytes
    (a seed for ML-KEM and ML-DSA), imported with ``_impl``'s ``_impl_loader`` class method."""

    _impl: ClassVar[Any]
    _impl_loader: ClassVar[str] = "from_private_bytes"
    _public_cls: ClassVar[type[CryptographyPublicKey]]
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
        cls.check_private_bytes(data)
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


# ---- each family's verbs --------------------------------------------------------------------------


class _MLKEMPublic(CryptographyPublicKey):
    __slots__ = ("_raw",)

    def __init__(self, key: Any, raw: bytes | None = None) -> None:
        super().__init__(key)
        self._raw = raw  # the encoded key, kept when known (saves a re-encoding per use)

    @classmethod
    def _wrap_imported(cls, key: Any, data: bytes) -> Any:
        return cls(key, data)

    def encapsulate(self) -> tuple[bytes, bytes]:
        """``(shared_secret, ciphertext)``: FIPS 203 Alg. 17 in OpenSSL."""
        return self._key.encapsulate()

    def public_bytes_raw(self) -> bytes:
        if self._raw is None:
            self._raw = super().public_bytes_raw()
        return self._raw


class _MLKEMPrivate(CryptographyPrivateKey):
    _impl_loader = "from_seed_bytes"
    __slots__ = ()

    def _decapsulate(self, ciphertext: bytes) -> bytes:
        return self._key.decapsulate(ciphertext)


class _MLDSAPublic(CryptographyPublicKey):
    __slots__ = ()

    def _verify(self, signature: bytes, data: bytes, context: bytes) -> None:
        self._backend_verify(signature, data, context or None)


class _MLDSAPrivate(CryptographyPrivateKey):
    _impl_loader = "from_seed_bytes"
    __slots__ = ()

    def _sign(self, data: bytes, context: bytes) -> bytes:
        return self._key.sign(data, context or None)


class _Ed25519Public(CryptographyPublicKey):
    __slots__ = ()

    def _verify(self, signature: bytes, data: bytes) -> None:
        self._backend_verify(signature, data)


class _Ed25519Private(CryptographyPrivateKey):
    __slots__ = ()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


class _X25519Private(CryptographyPrivateKey):
    __slots__ = ()

    def _exchange(self, peer: x25519.X25519PublicKey) -> bytes:
        other = peer.backend_key if isinstance(peer, CryptographyPublicKey) else \
            _x.X25519PublicKey.from_public_bytes(peer.public_bytes_raw())
        try:
            shared: bytes = self._key.exchange(other)
        except ValueError:  # OpenSSL refuses the all-zero output of a low-order point; the interface decides
            return bytes(32)
        return shared


# ---- the table: each family's mixins, then one row per parameter set ----------------------------------
_FAMILIES: dict[str, tuple[type[CryptographyPublicKey], type[CryptographyPrivateKey]]] = {
    "ML-KEM": (_MLKEMPublic, _MLKEMPrivate),
    "ML-DSA": (_MLDSAPublic, _MLDSAPrivate),
    "Ed25519": (_Ed25519Public, _Ed25519Private),
    "X25519": (CryptographyPublicKey, _X25519Private),
}
#: (family, interface public, interface private, pyca public, pyca private); the interfaces are abstract
#: classes (typed as plain ``type``: mypy refuses abstract classes where ``type[...]`` is expected)
_IMPLEMENTED: list[tuple[str, type, type, Any, Any]] = [
    ("ML-KEM", mlkem.MLKEM768PublicKey, mlkem.MLKEM768PrivateKey, _mk.MLKEM768PublicKey, _mk.MLKEM768PrivateKey),
    ("ML-KEM", mlkem.MLKEM1024PublicKey, mlkem.MLKEM1024PrivateKey, _mk.MLKEM1024PublicKey, _mk.MLKEM1024PrivateKey),
    ("ML-DSA", signatures.MLDSA44PublicKey, signatures.MLDSA44PrivateKey, _md.MLDSA44PublicKey, _md.MLDSA44PrivateKey),
    ("ML-DSA", signatures.MLDSA65PublicKey, signatures.MLDSA65PrivateKey, _md.MLDSA65PublicKey, _md.MLDSA65PrivateKey),
    ("ML-DSA", signatures.MLDSA87PublicKey, signatures.MLDSA87PrivateKey, _md.MLDSA87PublicKey, _md.MLDSA87PrivateKey),
    ("Ed25519", signatures.Ed25519PublicKey, signatures.Ed25519PrivateKey, _ed.Ed25519PublicKey, _ed.Ed25519PrivateKey),
    ("X25519", x25519.X25519PublicKey, x25519.X25519PrivateKey, _x.X25519PublicKey, _x.X25519PrivateKey),
]


def _implement(mixin: type, interface: type, impl: Any, **attributes: Any) -> Any:
    """The concrete class ``Cryptography<interface name>``: ``mixin``'s verbs over pyca's ``impl``."""
    name = "Cryptography" + interface.__name__

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(_impl=impl, __slots__=(), __module__=__name__, __qualname__=name, **attributes)

    return types.new_class(name, (mixin, interface), {}, body)


#: catalogue name → (private class, public class) of this backend
KEY_CLASSES: dict[str, tuple[type[CryptographyPrivateKey], type[CryptographyPublicKey]]] = {}
_BY_PYCA_TYPE: dict[type[Any], type[CryptographyPublicKey] | type[CryptographyPrivateKey]] = {}
for _family, _public_interface, _private_interface, _pyca_public, _pyca_private in _IMPLEMENTED:
    _public_mixin, _private_mixin = _FAMILIES[_family]
    _public = _implement(_public_mixin, _public_interface, _pyca_public)
    _private = _implement(_private_mixin, _private_interface, _pyca_private, _public_cls=_public)
    KEY_CLASSES[_public.algorithm] = (_private, _public)
    _BY_PYCA_TYPE[_pyca_public] = _public
    _BY_PYCA_TYPE[_pyca_private] = _private


def wrap_backend_key(key: Any) -> PublicKeyInterface | PrivateKeyInterface | None:
    """Our key object for a ``cryptography`` key (as its parsers return them), or None for a type we do not
    implement. A public key is imported again from its raw bytes, so the interface's checks run."""
    for pyca_type, ours in _BY_PYCA_TYPE.items():
        if isinstance(key, pyca_type):
            if issubclass(ours, CryptographyPublicKey):
                wrapped: PublicKeyInterface = ours.from_public_bytes(key.public_bytes_raw())
                return wrapped
            return ours(key)
    return None
