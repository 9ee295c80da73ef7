"""The fast (SWAR) FIPS 203 §7.2 modulus check against a plain per-coefficient reference."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pqc.errors import InvalidKeyError
from pqc.mlkem import Q, check_encapsulation_key


def _encode(coefficients: list[int]) -> bytes:
    """ByteEncode12 (FIPS 203 Alg. 5) of 12-bit values."""
    out = bytearray()
    for a, b in zip(coefficients[0::2], coefficients[1::2], strict=True):
        out += bytes([a & 0xFF, (a >> 8) | ((b & 0x0F) << 4), b >> 4])
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([2, 3, 4]), st.integers(0, 2**32), st.integers(0, 1023),
       st.one_of(st.integers(Q - 3, Q + 3), st.integers(0, 4095)))
def test_fast_check_agrees_with_the_reference_on_one_planted_coefficient(k: int, seed: int, where: int,
                                                                          value: int) -> None:
    rng = random.Random(seed)
    coefficients = [rng.randrange(Q) for _ in range(256 * k)]
    index = where % (256 * k)
    coefficients[index] = value
    ek = _encode(coefficients) + bytes(32)
    if value < Q:
        check_encapsulation_key(ek, k, "ML-KEM")
    else:
        with pytest.raises(InvalidKeyError, match=f"coefficient {index % 256} of polynomial {index // 256} is {value}"):
            check_encapsulation_key(ek, k, "ML-KEM")


def test_every_lane_at_q_minus_one_passes_and_each_lane_at_q_fails() -> None:
    for k in (2, 3, 4):
        check_encapsulation_key(_encode([Q - 1] * 256 * k) + bytes(32), k, "ML-KEM")
        for index in (0, 1, 2, 255, 256, 256 * k - 2, 256 * k - 1):
            coefficients = [0] * 256 * k
            coefficients[index] = Q
            with pytest.raises(InvalidKeyError, match=f"is {Q} >= q"):
                check_encapsulation_key(_encode(coefficients) + bytes(32), k, "ML-KEM")
