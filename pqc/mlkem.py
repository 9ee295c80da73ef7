"""ML-KEM (FIPS 203): the family's interface, with pyca's verbs; backends implement it.

``MLKEM768PrivateKey`` / ``MLKEM1024PrivateKey``: ``generate``, ``from_seed_bytes`` (the 64-byte seed d‖z
of FIPS 203 §7.1 ML-KEM.KeyGen_internal), ``public_key``, ``decapsulate``, ``private_bytes_raw`` (the
seed); ``MLKEM768PublicKey`` / ``MLKEM1024PublicKey``: ``from_public_bytes``, ``encapsulate`` →
``(shared_secret, ciphertext)``, ``public_bytes_raw``. The class methods return the key objects of the
first backend that implements the parameter set (``cryptography``'s OpenSSL by default; see
:mod:`pqc.key_interface`). Sizes in bytes come from the catalogue rows (FIPS 203 Table 3: ek 1184 / 1568,
ct 1088 / 1568, shared secret 32).

Encapsulation keys are validated on import with the *modulus check* of FIPS 203 §7.2 (input check 2):
ByteEncode12(ByteDecode12(ek)) == ek, i.e. every 12-bit coefficient of t̂ is < q = 3329. ``cryptography``
rejects such keys too but with a misleading "wrong length" message; we check first and raise a typed
:class:`~pqc.errors.InvalidKeyError` naming the polynomial and coefficient.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Self

from pqc.errors import InvalidCiphertextError, InvalidKeyError
from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface, parameter_set

Q = 3329  # FIPS 203 §2.4: the ML-KEM prime modulus
SEED_SIZE = 64  # FIPS 203 §7.1: the private key's seed form d ‖ z, 32 + 32 bytes (not a catalogue size)


def _lane_constants(k: int) -> tuple[int, int, int]:
    """Masks for the SWAR modulus check on 256·k twelve-bit lanes taken two at a time (see below)."""
    pairs = 128 * k
    low_lanes = sum(0xFFF << (24 * i) for i in range(pairs))
    plus = sum((4096 - Q) << (24 * i) for i in range(pairs))
    carry = sum(1 << (24 * i + 12) for i in range(pairs))
    return low_lanes, plus, carry


_LANES = {k: _lane_constants(k) for k in (2, 3, 4)}


def _first_bad_coefficient(packed: bytes) -> tuple[int, int]:
    """(index, value) of the first coefficient >= q (slow path, only to name the fault)."""
    for index in range(len(packed) * 2 // 3):
        offset = index * 3 // 2
        if index % 2 == 0:
            value = packed[offset] | ((packed[offset + 1] & 0x0F) << 8)
        else:
            value = (packed[offset] >> 4) | (packed[offset + 1] << 4)
        if value >= Q:
            return index, value
    raise AssertionError("no coefficient >= q")  # pragma: no cover - called only after the fast check failed


def check_encapsulation_key(ek: bytes, k: int, algorithm: str) -> None:
    """FIPS 203 §7.2 input checks on an encapsulation key: length 384·k + 32 and every coefficient < q.

    ByteDecode12 (FIPS 203 Alg. 6) reads coefficient i from bits 12i .. 12i+11 of ek read as a
    little-endian integer. The check runs on that integer as SWAR over pairs of lanes: even lanes are
    masked out (12 zero bits between them), 4096 − q is added to every lane, and a lane overflows into
    its 13th bit exactly when it held a value >= q; the same for the odd lanes shifted down by 12 bits.
    Raises :class:`InvalidKeyError` naming the first offending polynomial / coefficient.
    """
    expected = 384 * k + 32
    if len(ek) != expected:
        raise InvalidKeyError(f"{algorithm} encapsulation key: {len(ek)} bytes, expected {expected}")
    lanes, plus, carry = _LANES[k]
    value = int.from_bytes(ek[: 384 * k], "little")
    if ((((value & lanes) + plus) | (((value >> 12) & lanes) + plus)) & carry) == 0:
        return
    index, bad = _first_bad_coefficient(bytes(ek[: 384 * k]))
    raise InvalidKeyError(
        f"{algorithm} encapsulation key: coefficient {index % 256} of polynomial {index // 256} is "
        f"{bad} >= q={Q} (FIPS 203 §7.2 modulus check, byte offset {index * 3 // 2})"
    )


class MLKEMPublicKey(PublicKeyInterface):
    """An ML-KEM encapsulation key, validated on import by the FIPS 203 §7.2 checks."""

    k: ClassVar[int]
    ciphertext_size: ClassVar[int]
    shared_secret_size: ClassVar[int]
    __slots__ = ()

    def __init_subclass__(cls, algorithm: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(algorithm=algorithm, **kwargs)
        if algorithm is not None:
            cls.k = (cls.public_key_size - 32) // 384  # FIPS 203: |ek| = 384·k + 32

    @classmethod
    def check_public_bytes(cls, data: bytes) -> None:
        """FIPS 203 §7.2 input checks (length and modulus) of :func:`check_encapsulation_key`."""
        check_encapsulation_key(data, cls.k, cls.algorithm)

    @abc.abstractmethod
    def encapsulate(self) -> tuple[bytes, bytes]:
        """Return ``(shared_secret, ciphertext)`` (FIPS 203 Alg. 17 ML-KEM.Encaps, OS randomness)."""


class MLKEMPrivateKey(PrivateKeyInterface):
    """An ML-KEM decapsulation key, held as its 64-byte seed d‖z."""

    private_key_size = SEED_SIZE
    private_form = "d‖z seed"
    ciphertext_size: ClassVar[int]
    __slots__ = ()

    @classmethod
    def from_seed_bytes(cls, seed: bytes) -> Self:
        """Derive the key pair from d‖z (FIPS 203 Alg. 16 ML-KEM.KeyGen_internal)."""
        return cls.from_private_bytes(seed)

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """Shared secret for ``ciphertext`` (FIPS 203 Alg. 18; implicit rejection on a forged ciphertext)."""
        if len(ciphertext) != self.ciphertext_size:
            raise InvalidCiphertextError(
                f"{self.algorithm} ciphertext: {len(ciphertext)} bytes, expected {self.ciphertext_size}"
            )
        return self._decapsulate(ciphertext)

    @abc.abstractmethod
    def public_key(self) -> MLKEMPublicKey:
        """The encapsulation key."""

    @abc.abstractmethod
    def _decapsulate(self, ciphertext: bytes) -> bytes:
        """The backend's FIPS 203 Alg. 18 on a ciphertext of the right length."""


_FAMILY = (MLKEMPublicKey, MLKEMPrivateKey)
MLKEM768PublicKey, MLKEM768PrivateKey = parameter_set(_FAMILY, "ML-KEM-768", __name__)
MLKEM1024PublicKey, MLKEM1024PrivateKey = parameter_set(_FAMILY, "ML-KEM-1024", __name__)
