"""Signature key objects: ML-DSA-44/65/87 (FIPS 204), Ed25519 (RFC 8032) and the composite
ML-DSA-65 + Ed25519 used by the gateway, all with the pyca verbs.

``verify`` returns ``None`` or raises :class:`~pqc.errors.InvalidSignatureError` (never a bare
``cryptography`` exception). Sizes in bytes (FIPS 204 Table 2): public key 1312 / 1952 / 2592,
signature 2420 / 3309 / 4627, private seed ξ 32.

Composite ``MLDSA65-Ed25519`` (this package's construction, in the spirit of
draft-ietf-lamps-pq-composite-sigs but *not* its wire format): both component algorithms sign the same
message ``M' = "qshift-composite-v1" ‖ u8(len(context)) ‖ context ‖ M``; the signature is
``sig_ML-DSA-65 (3309) ‖ sig_Ed25519 (64)`` = 3373 bytes, and it verifies only if *both* components
verify. Public key ``pk_ML-DSA (1952) ‖ pk_Ed25519 (32)``; private key ``ξ (32) ‖ Ed25519 seed (32)``.
The prefix keeps a composite signature from being split into component signatures that verify over M.
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519 as _ed
from cryptography.hazmat.primitives.asymmetric import mldsa as _md

from pqc.backend_keys import BackendPrivateKey, BackendPublicKey
from pqc.errors import InvalidKeyError, InvalidSignatureError

_MAX_CONTEXT = 255  # FIPS 204 §5.2: ctx is at most 255 bytes


def _check_context(context: bytes, algorithm: str) -> None:
    if len(context) > _MAX_CONTEXT:
        raise InvalidSignatureError(f"{algorithm} context: {len(context)} bytes, at most {_MAX_CONTEXT}")


class MLDSAPublicKey(BackendPublicKey):
    signature_size: ClassVar[int]
    __slots__ = ()

    def verify(self, signature: bytes, data: bytes, context: bytes = b"") -> None:
        """Verify an ML-DSA signature (FIPS 204 Alg. 3, pure mode, optional context ≤ 255 bytes)."""
        _check_context(context, self.algorithm)
        if len(signature) != self.signature_size:
            raise InvalidSignatureError(
                f"{self.algorithm} signature: {len(signature)} bytes, expected {self.signature_size}"
            )
        try:
            self._key.verify(signature, data, context or None)
        except InvalidSignature:
            raise InvalidSignatureError(f"{self.algorithm} signature does not verify") from None


class MLDSAPrivateKey(BackendPrivateKey):
    private_key_size = 32
    private_form = "seed"
    _impl_loader = "from_seed_bytes"
    __slots__ = ()

    @classmethod
    def from_seed_bytes(cls, seed: bytes) -> Any:
        """Key pair from the 32-byte seed ξ (FIPS 204 Alg. 6 ML-DSA.KeyGen_internal)."""
        return cls.from_private_bytes(seed)

    def sign(self, data: bytes, context: bytes = b"") -> bytes:
        """Hedged ML-DSA signature (FIPS 204 Alg. 2) over ``data`` with optional ``context``."""
        _check_context(context, self.algorithm)
        return self._key.sign(data, context or None)


class MLDSA44PublicKey(MLDSAPublicKey):
    algorithm = "ML-DSA-44"
    public_key_size = 1312
    signature_size = 2420
    _impl = _md.MLDSA44PublicKey
    __slots__ = ()


class MLDSA65PublicKey(MLDSAPublicKey):
    algorithm = "ML-DSA-65"
    public_key_size = 1952
    signature_size = 3309
    _impl = _md.MLDSA65PublicKey
    __slots__ = ()


class MLDSA87PublicKey(MLDSAPublicKey):
    algorithm = "ML-DSA-87"
    public_key_size = 2592
    signature_size = 4627
    _impl = _md.MLDSA87PublicKey
    __slots__ = ()


class MLDSA44PrivateKey(MLDSAPrivateKey):
    algorithm = "ML-DSA-44"
    _impl = _md.MLDSA44PrivateKey
    _public_cls = MLDSA44PublicKey
    __slots__ = ()


class MLDSA65PrivateKey(MLDSAPrivateKey):
    algorithm = "ML-DSA-65"
    _impl = _md.MLDSA65PrivateKey
    _public_cls = MLDSA65PublicKey
    __slots__ = ()


class MLDSA87PrivateKey(MLDSAPrivateKey):
    algorithm = "ML-DSA-87"
    _impl = _md.MLDSA87PrivateKey
    _public_cls = MLDSA87PublicKey
    __slots__ = ()


class Ed25519PublicKey(BackendPublicKey):
    algorithm = "Ed25519"
    public_key_size = 32
    signature_size = 64
    _impl = _ed.Ed25519PublicKey
    __slots__ = ()

    def verify(self, signature: bytes, data: bytes) -> None:
        """Verify a PureEdDSA Ed25519 signature (RFC 8032 §5.1.7)."""
        if len(signature) != self.signature_size:
            raise InvalidSignatureError(f"Ed25519 signature: {len(signature)} bytes, expected 64")
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            raise InvalidSignatureError("Ed25519 signature does not verify") from None


class Ed25519PrivateKey(BackendPrivateKey):
    algorithm = "Ed25519"
    private_key_size = 32
    _impl = _ed.Ed25519PrivateKey
    _public_cls = Ed25519PublicKey
    __slots__ = ()

    @classmethod
    def from_seed_bytes(cls, seed: bytes) -> Any:
        """The RFC 8032 private key is its 32-byte seed."""
        return cls.from_private_bytes(seed)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


# ---- composite ML-DSA-65 + Ed25519 ----------------------------------------------------------------

COMPOSITE_ALGORITHM = "MLDSA65-Ed25519"
_COMPOSITE_PREFIX = b"qshift-composite-v1"


def _composite_message(data: bytes, context: bytes) -> bytes:
    if len(context) > _MAX_CONTEXT:
        raise InvalidSignatureError(f"{COMPOSITE_ALGORITHM} context: {len(context)} bytes, at most {_MAX_CONTEXT}")
    return _COMPOSITE_PREFIX + bytes([len(context)]) + context + data


class CompositeMLDSA65Ed25519PublicKey:
    """Composite public key: ML-DSA-65 (1952) ‖ Ed25519 (32)."""

    algorithm = COMPOSITE_ALGORITHM
    public_key_size = 1952 + 32
    signature_size = 3309 + 64
    __slots__ = ("mldsa", "ed25519")

    def __init__(self, mldsa: MLDSA65PublicKey, ed25519: Ed25519PublicKey) -> None:
        self.mldsa = mldsa
        self.ed25519 = ed25519

    @classmethod
    def from_public_bytes(cls, data: bytes) -> CompositeMLDSA65Ed25519PublicKey:
        if len(data) != cls.public_key_size:
            raise InvalidKeyError(
                f"{COMPOSITE_ALGORITHM} public key: {len(data)} bytes, expected {cls.public_key_size}"
            )
        return cls(MLDSA65PublicKey.from_public_bytes(data[:1952]), Ed25519PublicKey.from_public_bytes(data[1952:]))

    def verify(self, signature: bytes, data: bytes, context: bytes = b"") -> None:
        """Both component signatures must verify over the same prefixed message."""
        if len(signature) != self.signature_size:
            raise InvalidSignatureError(
                f"{COMPOSITE_ALGORITHM} signature: {len(signature)} bytes, expected {self.signature_size}"
            )
        message = _composite_message(data, context)
        failed = []
        try:
            self.mldsa.verify(signature[:3309], message)
        except InvalidSignatureError:
            failed.append("ML-DSA-65")
        try:
            self.ed25519.verify(signature[3309:], message)
        except InvalidSignatureError:
            failed.append("Ed25519")
        if failed:
            raise InvalidSignatureError(f"{COMPOSITE_ALGORITHM} signature: component {' and '.join(failed)} fails")

    def public_bytes_raw(self) -> bytes:
        return self.mldsa.public_bytes_raw() + self.ed25519.public_bytes_raw()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompositeMLDSA65Ed25519PublicKey):
            return False
        return self.public_bytes_raw() == other.public_bytes_raw()

    def __hash__(self) -> int:
        return hash((COMPOSITE_ALGORITHM, self.public_bytes_raw()))

    def __repr__(self) -> str:
        return f"<{COMPOSITE_ALGORITHM} public key>"


class CompositeMLDSA65Ed25519PrivateKey:
    """Composite private key: ML-DSA-65 seed ξ (32) ‖ Ed25519 private key (32)."""

    algorithm = COMPOSITE_ALGORITHM
    private_key_size = 64
    __slots__ = ("mldsa", "ed25519")

    def __init__(self, mldsa: MLDSA65PrivateKey, ed25519: Ed25519PrivateKey) -> None:
        self.mldsa = mldsa
        self.ed25519 = ed25519

    @classmethod
    def generate(cls) -> CompositeMLDSA65Ed25519PrivateKey:
        return cls.from_private_bytes(secrets.token_bytes(64))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> CompositeMLDSA65Ed25519PrivateKey:
        if len(data) != cls.private_key_size:
            raise InvalidKeyError(f"{COMPOSITE_ALGORITHM} private key: {len(data)} bytes, expected 64")
        return cls(MLDSA65PrivateKey.from_seed_bytes(data[:32]), Ed25519PrivateKey.from_private_bytes(data[32:]))

    def sign(self, data: bytes, context: bytes = b"") -> bytes:
        message = _composite_message(data, context)
        return self.mldsa.sign(message) + self.ed25519.sign(message)

    def public_key(self) -> CompositeMLDSA65Ed25519PublicKey:
        return CompositeMLDSA65Ed25519PublicKey(self.mldsa.public_key(), self.ed25519.public_key())

    def private_bytes_raw(self) -> bytes:
        return self.mldsa.private_bytes_raw() + self.ed25519.private_bytes_raw()

    def __repr__(self) -> str:
        return f"<{COMPOSITE_ALGORITHM} private key>"
