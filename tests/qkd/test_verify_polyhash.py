"""GF(2^128) arithmetic and the verification hash agree with a pure-Python reference; a wrong key is caught."""

from __future__ import annotations

import asyncio
import secrets

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qkd._native import gf2
from qkd.postprocess.channel import in_process_pair
from qkd.postprocess.verify import PolyHash128, collision_bound, verify_receiver, verify_sender
from tests.qkd.gf2n_reference import GF128_LOW, gf2n_mul_reference


def ref_mul(a: int, b: int) -> int:
    """a·b in GF(2^128) mod x^128 + x^7 + x^2 + x + 1, bit by bit."""
    return gf2n_mul_reference(a, b, 128, GF128_LOW)


def words(x: int) -> np.ndarray:
    return np.array([x & (2**64 - 1), x >> 64], dtype=np.uint64)


def ref_polyhash(key: int, data: bytes) -> int:
    h = 0
    padded = data + b"\0" * ((-len(data)) % 16)
    for i in range(0, len(padded), 16):
        h = ref_mul(h ^ int.from_bytes(padded[i:i + 16], "little"), key)
    return ref_mul(h ^ (8 * len(data)), key)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**128 - 1), st.integers(0, 2**128 - 1))
def test_gf128_mul_matches_reference(a: int, b: int) -> None:
    out = gf2.gf128_mul(words(a), words(b))
    assert int(out[0]) | (int(out[1]) << 64) == ref_mul(a, b)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 2**128 - 1))
def test_polyhash_matches_reference(data: bytes, key: int) -> None:
    tag = PolyHash128(key.to_bytes(16, "little")).digest(data)
    assert int.from_bytes(tag, "little") == ref_polyhash(key, data)


def test_messages_differing_only_in_trailing_zero_bytes_hash_differently() -> None:
    h = PolyHash128(secrets.token_bytes(16))
    assert h.digest(b"abc") != h.digest(b"abc\0")


def test_collision_bound_is_below_2_to_minus_64_for_large_keys() -> None:
    assert collision_bound(10**8) < 2.0**-64
    assert collision_bound(128) == 2 / 2.0**128


def test_single_bit_difference_fails_verification_and_equal_keys_pass() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2, 100_000, dtype=np.uint8)
    b = a.copy()
    b[77_777] ^= 1

    async def both(x: np.ndarray, y: np.ndarray) -> tuple[bool, bool, int]:
        ca, cb = in_process_pair()
        ra, rb = await asyncio.gather(verify_sender(ca, x), verify_receiver(cb, y))
        return ra.ok, rb.ok, ca.ledger.disclosed_bits

    assert asyncio.run(both(a, a)) == (True, True, 128)
    assert asyncio.run(both(a, b))[:2] == (False, False)
