"""Signature families: ML-DSA-44/65/87 (FIPS 204) and Ed25519 (RFC 8032) as interfaces with the pyca
verbs (backends implement them, see :mod:`pqc.key_interface`), and the composite ML-DSA-65 + Ed25519
used by the gateway, built on those interfaces.

``verify`` returns ``None`` or raises :class:`~pqc.errors.InvalidSignatureError` (never a backend's
exception). Sizes in bytes come from the catalogue rows (FIPS 204 Table 2: public key 1312 / 1952 / 2592,
signature 2420 / 3309 / 4627); the ML-DSA private key is its 32-byte seed ξ.

Composite ``MLDSA65-Ed25519`` (this package's construction, in the spirit of
draft-ietf-lamps-pq-composite-sigs but *not* its wire format): both component algorithms sign the same
message ``M' = "qshift-composite-v1" ‖ u8(len(context)) ‖ context ‖ M``; the signature is
``sig_ML-DSA-65 (3309) ‖ sig_Ed25519 (64)`` = 3373 bytes, and it verifies only if *both* components
verify. Public key ``pk_ML-DSA (1952) ‖ pk_Ed25519 (32)``; private key ``ξ (32) ‖ Ed25519 seed (32)``.
The prefix keeps a composite signature from being split into component signatures that verify over M.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Self

from pqc.composite_keys import PairPrivateKey, PairPublicKey
from pqc.errors import InvalidSignatureError
from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface, parameter_set

MAX_CONTEXT = 255  # FIPS 204 §5.2: ctx is at most 255 bytes
MLDSA_SEED_SIZE = 32  # FIPS 204 §6.1: the private key's seed form ξ (not a catalogue size)


def _check_context(context: bytes, algorithm: str) -> None:
    if len(context) > MAX_CONTEXT:
        raise InvalidSignatureError(f"{algorithm} context: {len(context)} bytes, at most {MAX_CONTEXT}")


def _check_signature_size(signature: bytes, key: PublicKeyInterface, expected: int) -> None:
    if len(signature) != expected:
        raise InvalidSignatureError(f"{key.algorithm} signature: {len(signature)} bytes, expected {expected}")


class MLDSAPublicKey(PublicKeyInterface):
    """An ML-DSA verification key."""

    signature_size: ClassVar[int]
    __slots__ = ()

    def verify(self, signature: bytes, data: bytes, context: bytes = b"") -> None:
        """Verify an ML-DSA signature (FIPS 204 Alg. 3, pure mode, optional context ≤ 255 bytes)."""
        _check_context(context, self.algorithm)
        _check_signature_size(signature, self, self.signature_size)
        self._verify(signature, data, context)

    @abc.abstractmethod
    def _verify(self, signature: bytes, data: bytes, context: bytes) -> None:
        """The backend's FIPS 204 Alg. 3 on checked inputs; :class:`InvalidSignatureError` when it fails."""


class MLDSAPrivateKey(PrivateKeyInterface):
    """An ML-DSA signing key, held as its seed ξ."""

    private_key_size = MLDSA_SEED_SIZE
    private_form = "seed"
    __slots__ = ()

    @classmethod
    def from_seed_bytes(cls, seed: bytes) -> Self:
        """Key pair from the 32-byte seed ξ (FIPS 204 Alg. 6 ML-DSA.KeyGen_internal)."""
        return cls.from_private_bytes(seed)

    def sign(self, data: bytes, context: bytes = b"") -> bytes:
        """Hedged ML-DSA signature (FIPS 204 Alg. 2) over ``data`` with optional ``context``."""
        _check_context(context, self.algorithm)
        return self._sign(data, context)

    @abc.abstractmethod
    def public_key(self) -> MLDSAPublicKey:
        """The verification key."""

    @abc.abstractmethod
    def _sign(self, data: bytes, context: bytes) -> bytes:
        """The backend's FIPS 204 Alg. 2 on a checked context."""


_FAMILY = (MLDSAPublicKey, MLDSAPrivateKey)
MLDSA44PublicKey, MLDSA44PrivateKey = parameter_set(_FAMILY, "ML-DSA-44", __name__)
MLDSA65PublicKey, MLDSA65PrivateKey = parameter_set(_FAMILY, "ML-DSA-65", __name__)
MLDSA87PublicKey, MLDSA87PrivateKey = parameter_set(_FAMILY, "ML-DSA-87", __name__)


class Ed25519PublicKey(PublicKeyInterface, algorithm="Ed25519"):
    """An Ed25519 public key (32 bytes, RFC 8032 §5.1.5); SubjectPublicKeyInfo per RFC 8410."""

    signature_size: ClassVar[int]
    __slots__ = ()

    def verify(self, signature: bytes, data: bytes) -> None:
        """Verify a PureEdDSA Ed25519 signature (RFC 8032 §5.1.7)."""
        _check_signature_size(signature, self, self.signature_size)
        self._verify(signature, data)

    @abc.abstractmethod
    def _verify(self, signature: bytes, data: bytes) -> None:
        """The backend's RFC 8032 §5.1.7 on a signature of the right length."""


class Ed25519PrivateKey(PrivateKeyInterface, algorithm="Ed25519"):
    """An Ed25519 private key: its 32-byte seed (RFC 8032 §5.1.5); PKCS#8 per RFC 8410."""

    __slots__ = ()

    @classmethod
    def from_seed_bytes(cls, seed: bytes) -> Self:
        """The RFC 8032 private key is its 32-byte seed."""
        return cls.from_private_bytes(seed)

    @abc.abstractmethod
    def public_key(self) -> Ed25519PublicKey:
        """The public key A (RFC 8032 §5.1.5)."""

    @abc.abstractmethod
    def sign(self, data: bytes) -> bytes:
        """PureEdDSA signature (RFC 8032 §5.1.6), 64 bytes."""


# ---- composite ML-DSA-65 + Ed25519 ----------------------------------------------------------------

COMPOSITE_ALGORITHM = "MLDSA65-Ed25519"
_COMPOSITE_PREFIX = b"qshift-composite-v1"


def _composite_message(data: bytes, context: bytes) -> bytes:
    _check_context(context, COMPOSITE_ALGORITHM)
    return _COMPOSITE_PREFIX + bytes([len(context)]) + context + data


class CompositeMLDSA65Ed25519PublicKey(PairPublicKey, algorithm=COMPOSITE_ALGORITHM):
    """Composite public key: ML-DSA-65 ‖ Ed25519 (sizes from the catalogue rows)."""

    parts = (MLDSA65PublicKey, Ed25519PublicKey)
    signature_size: ClassVar[int]
    __slots__ = ()

    def verify(self, signature: bytes, data: bytes, context: bytes = b"") -> None:
        """Both component signatures must verify over the same prefixed message."""
        _check_signature_size(signature, self, self.signature_size)
        message = _composite_message(data, context)
        split = MLDSA65PublicKey.signature_size
        failed = []
        try:
            self._first.verify(signature[:split], message)
        except InvalidSignatureError:
            failed.append("ML-DSA-65")
        try:
            self._second.verify(signature[split:], message)
        except InvalidSignatureError:
            failed.append("Ed25519")
        if failed:
            raise InvalidSignatureError(f"{COMPOSITE_ALGORITHM} signature: component {' and '.join(failed)} fails")


class CompositeMLDSA65Ed25519PrivateKey(PairPrivateKey, algorithm=COMPOSITE_ALGORITHM):
    """Composite private key: ML-DSA-65 seed ξ (32) ‖ Ed25519 private key (32)."""

    parts = (MLDSA65PrivateKey, Ed25519PrivateKey)
    __slots__ = ()

    def sign(self, data: bytes, context: bytes = b"") -> bytes:
        message = _composite_message(data, context)
        signature: bytes = self._first.sign(message) + self._second.sign(message)
        return signature

    def public_key(self) -> CompositeMLDSA65Ed25519PublicKey:
        return CompositeMLDSA65Ed25519PublicKey(self._first.public_key(), self._second.public_key())
