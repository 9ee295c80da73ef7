"""Toeplitz hashing through carry-less Karatsuba equals the direct GF(2) matrix-vector product bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qkd._native import gf2
from qkd._native.bitops import pack_bits as pack
from qkd.postprocess.amplify import AmplificationError, toeplitz_hash, toeplitz_hash_words, toeplitz_reference


@pytest.mark.parametrize("n,ell", [(1, 1), (2, 1), (63, 17), (64, 64), (65, 1), (128, 100), (1000, 999),
                                   (4097, 2048), (6000, 3000)])
def test_toeplitz_equals_direct_product_on_fixed_sizes(n: int, ell: int) -> None:
    rng = np.random.default_rng(n * 7919 + ell)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    assert np.array_equal(toeplitz_hash(x, s, ell), toeplitz_reference(x, s, ell))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_toeplitz_equals_direct_product_on_random_sizes(n: int, data: st.DataObject) -> None:
    ell = data.draw(st.integers(1, n))
    seed = data.draw(st.integers(0, 2**32))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    assert np.array_equal(toeplitz_hash(x, s, ell), toeplitz_reference(x, s, ell))


@pytest.mark.parametrize("words", [1, 5, 24, 25, 48, 49, 97, 300, 1025])
def test_karatsuba_product_equals_schoolbook(words: int) -> None:
    rng = np.random.default_rng(words)
    a = rng.integers(0, 2**63, words, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, words, dtype=np.uint64)
    b = rng.integers(0, 2**63, words, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, words, dtype=np.uint64)
    assert np.array_equal(gf2.clmul_poly(a, b), gf2.clmul_poly_schoolbook(a, b))


def test_large_toeplitz_is_linear_and_exact_at_2_to_the_20() -> None:
    # T(x ^ y) = T x ^ T y holds exactly only if no rounding happens anywhere
    n, ell = 1 << 20, 1 << 19
    rng = np.random.default_rng(5)
    x = pack(rng.integers(0, 2, n, dtype=np.uint8))
    y = pack(rng.integers(0, 2, n, dtype=np.uint8))
    s = pack(rng.integers(0, 2, n + ell - 1, dtype=np.uint8))
    tx, ty = toeplitz_hash_words(x, n, s, ell), toeplitz_hash_words(y, n, s, ell)
    assert np.array_equal(toeplitz_hash_words(x ^ y, n, s, ell), tx ^ ty)
    # spot-check 64 output bits against the direct row products
    bits_x = np.unpackbits(x.view(np.uint8), bitorder="little")[:n].astype(np.int64)
    bits_s = np.unpackbits(s.view(np.uint8), bitorder="little")[: n + ell - 1].astype(np.int64)
    out = np.unpackbits(tx.view(np.uint8), bitorder="little")[:ell]
    for i in rng.integers(0, ell, 64):
        row = bits_s[i: i + n][::-1]   # T[i, j] = s[i - j + n - 1]
        assert out[i] == int(row @ bits_x) % 2


def test_output_longer_than_input_is_refused() -> None:
    with pytest.raises(AmplificationError, match="exceeds input length"):
        toeplitz_hash(np.zeros(10, np.uint8), np.zeros(20, np.uint8), 11)
