"""X-Wing: the hybrid KEM of draft-connolly-cfrg-xwing-kem (ML-KEM-768 + X25519, SHA3-256 combiner).

Construction (draft §5, names as in the draft):

* ``sk`` is a 32-byte seed. ``expandDecapsulationKey(sk)``: ``expanded = SHAKE256(sk, 96 bytes)``;
  ``(pk_M, sk_M) = ML-KEM-768.KeyGen_internal(expanded[0:32], expanded[32:64])`` (FIPS 203 d, z);
  ``sk_X = expanded[64:96]``; ``pk_X = X25519(sk_X, 9)``. ``pk = pk_M ‖ pk_X`` (1184 + 32 = 1216 bytes).
* ``Combiner(ss_M, ss_X, ct_X, pk_X) = SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel)`` with
  ``XWingLabel = "\\.//^\\"`` (6 bytes, 5c 2e 2f 2f 5e 5c).
* ``Encaps(pk)``: ephemeral ``ek_X`` (32 random bytes), ``ct_X = X25519(ek_X, 9)``,
  ``ss_X = X25519(ek_X, pk_X)``, ``(ss_M, ct_M) = ML-KEM-768.Encaps(pk_M)``; ``ct = ct_M ‖ ct_X``
  (1088 + 32 = 1120 bytes), ``ss`` = Combiner (32 bytes).
* ``Decaps(sk, ct)`` recomputes ``ss_M`` with ML-KEM decapsulation (implicit rejection) and ``ss_X``.

The derandomised encapsulation of the draft takes ``eseed`` (64 bytes: ML-KEM's ``m``, then ``ek_X``).
``cryptography`` does not accept ``m``, so :func:`encapsulate_derandomized` takes the ML-KEM step as a
callable (tests pass an implementation that accepts ``m``) and does the X25519 and combiner parts itself.

An X25519 result of all zeros (low-order ``ct_X``) is *not* an error in X-Wing: the draft feeds the
RFC 7748 output into the combiner as is, so decapsulation never fails on a well-sized ciphertext.

Built on the family interfaces :mod:`pqc.mlkem` and :mod:`pqc.x25519` (whatever backend implements them);
sizes in bytes come from the catalogue rows of X-Wing and its parts.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import ClassVar, Self

from pqc.errors import InvalidCiphertextError, InvalidKeyError
from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface
from pqc.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey, MLKEMPrivateKey, MLKEMPublicKey
from pqc.x25519 import X25519PrivateKey, X25519PublicKey

ALGORITHM = "X-Wing"
XWING_LABEL = b"\\.//^\\"
_MLKEM_PK = MLKEM768PublicKey.public_key_size
_MLKEM_CT = MLKEM768PublicKey.ciphertext_size
_MLKEM_SEED = MLKEM768PrivateKey.private_key_size  # d ‖ z
_EXPANDED = _MLKEM_SEED + X25519PrivateKey.private_key_size  # expandDecapsulationKey: SHAKE256(sk, 96)


def combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytearray:
    """X-Wing combiner: SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel) (draft §5.3), in an erasable
    ``bytearray`` that the caller may overwrite once the secret is used."""
    return bytearray(hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest())


class XWingPublicKey(PublicKeyInterface, algorithm=ALGORITHM):
    """An X-Wing encapsulation key ``pk_M ‖ pk_X`` (1216 bytes)."""

    ciphertext_size: ClassVar[int]
    __slots__ = ("_mlkem", "_pk_x", "_x_public", "_raw")

    def __init__(self, mlkem_public: MLKEMPublicKey, pk_x: bytes, raw: bytes | None = None) -> None:
        self._mlkem = mlkem_public
        self._pk_x = pk_x
        self._x_public = X25519PublicKey.from_public_bytes(pk_x)  # parsed once, used per encaps
        self._raw = raw if raw is not None else mlkem_public.public_bytes_raw() + pk_x

    @classmethod
    def from_public_bytes(cls, data: bytes) -> Self:
        """Parse and validate (ML-KEM modulus check on ``pk_M``)."""
        data = bytes(data)
        cls.check_public_bytes(data)
        mlkem_public = MLKEM768PublicKey.from_public_bytes(data[:_MLKEM_PK])
        return cls(mlkem_public, data[_MLKEM_PK:], data)

    def encapsulate(self) -> tuple[bytearray, bytes]:
        """Return ``(shared_secret, ciphertext)``: 32-byte secret, 1120-byte ciphertext."""
        return self._encapsulate(X25519PrivateKey.generate(), self._mlkem.encapsulate)

    def _encapsulate(self, ephemeral: X25519PrivateKey,
                     mlkem_encaps: Callable[[], tuple[bytes, bytes]]) -> tuple[bytearray, bytes]:
        """Encaps (draft §5.4) with the ephemeral X25519 key ``ek_X`` and the ML-KEM step given."""
        ct_x = ephemeral.public_key().public_bytes_raw()
        ss_x = ephemeral.exchange(self._x_public, allow_zero=True)
        ss_m, ct_m = mlkem_encaps()
        return combiner(ss_m, ss_x, ct_x, self._pk_x), ct_m + ct_x

    def public_bytes_raw(self) -> bytes:
        return self._raw

    @property
    def mlkem_public_key(self) -> MLKEMPublicKey:
        return self._mlkem


class XWingPrivateKey(PrivateKeyInterface, algorithm=ALGORITHM):
    """An X-Wing decapsulation key: the 32-byte seed, expanded once at construction."""

    ciphertext_size: ClassVar[int]
    __slots__ = ("_seed", "_mlkem", "_x25519", "_public")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != self.private_key_size:
            raise InvalidKeyError(f"X-Wing private key (seed): {len(seed)} bytes, expected {self.private_key_size}")
        self._seed = bytearray(seed)   # erasable: see wipe()
        expanded = hashlib.shake_256(self._seed).digest(_EXPANDED)
        self._mlkem: MLKEMPrivateKey = MLKEM768PrivateKey.from_seed_bytes(expanded[:_MLKEM_SEED])
        self._x25519: X25519PrivateKey = X25519PrivateKey.from_private_bytes(expanded[_MLKEM_SEED:])
        pk_x = self._x25519.public_key().public_bytes_raw()
        self._public = XWingPublicKey(self._mlkem.public_key(), pk_x)

    @classmethod
    def generate(cls) -> Self:
        return cls(secrets.token_bytes(cls.private_key_size))

    @classmethod
    def from_seed_bytes(cls, seed: bytes) -> Self:
        return cls(seed)

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Self:
        return cls(data)

    def public_key(self) -> XWingPublicKey:
        return self._public

    def decapsulate(self, ciphertext: bytes) -> bytearray:
        """Shared secret (32 bytes) for a 1120-byte ciphertext ``ct_M ‖ ct_X`` (draft §5.5)."""
        if len(ciphertext) != self.ciphertext_size:
            raise InvalidCiphertextError(
                f"X-Wing ciphertext: {len(ciphertext)} bytes, expected {self.ciphertext_size}"
            )
        ct_m = ciphertext[:_MLKEM_CT]
        ct_x = bytes(ciphertext[_MLKEM_CT:])
        ss_m = self._mlkem.decapsulate(ct_m)
        ss_x = self._x25519.exchange(X25519PublicKey.from_public_bytes(ct_x), allow_zero=True)
        return combiner(ss_m, ss_x, ct_x, self._public._pk_x)

    def private_bytes_raw(self) -> bytes:
        """The 32-byte seed (the draft's private key format)."""
        return bytes(self._seed)

    def wipe(self) -> None:
        """Overwrite the seed with zeros (an ephemeral key, once used). The expanded keys inside the
        backend's objects are freed, not zeroed, when this object is collected."""
        self._seed[:] = bytes(len(self._seed))


PUBLIC_KEY_SIZE = XWingPublicKey.public_key_size
CIPHERTEXT_SIZE = XWingPublicKey.ciphertext_size
SEED_SIZE = XWingPrivateKey.private_key_size


def encapsulate_derandomized(
    public_key: XWingPublicKey,
    eseed: bytes,
    mlkem_encaps_internal: Callable[[bytes, bytes], tuple[bytes, bytes]],
) -> tuple[bytearray, bytes]:
    """X-Wing Encaps with explicit randomness ``eseed`` (64 bytes, draft §5.4 ``EncapsulateDerand``).

    ``mlkem_encaps_internal(pk_M, m) -> (ss_M, ct_M)`` is FIPS 203 Alg. 17 with given ``m``; our
    default backend cannot take ``m``, so the caller supplies it. Returns ``(shared_secret, ciphertext)``.
    """
    if len(eseed) != 64:
        raise InvalidKeyError(f"X-Wing eseed: {len(eseed)} bytes, expected 64")
    pk_m = public_key.mlkem_public_key.public_bytes_raw()
    return public_key._encapsulate(X25519PrivateKey.from_private_bytes(bytes(eseed[32:64])),
                                   lambda: mlkem_encaps_internal(pk_m, bytes(eseed[:32])))
