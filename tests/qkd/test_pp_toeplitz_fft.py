"""The additive-FFT Toeplitz hash and GF(2)[x] product (qkd._native.gf2, gf2_clmul.h) equal the direct GF(2)
matrix-vector product and the Karatsuba product bit for bit: random sizes (not multiples of 64), every input
piece count, the method and transform-size thresholds, and every hardware level (portable code, PCLMULQDQ,
VPCLMULQDQ/AVX2) on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qkd._native import gf2
from qkd._native.bitops import pack_bits as pack
from qkd._native.bitops import unpack_bits as unpack
from qkd.postprocess.amplify import (
    FFT_MIN_BITS,
    _toeplitz_by_karatsuba,
    toeplitz_hash,
    toeplitz_hash_words,
    toeplitz_method,
    toeplitz_reference,
)
from tests.qkd.gf2n_reference import GF64_LOW, gf2n_mul_reference

LEVELS = [0, 1, 2]   # capped to what the CPU has: the portable code always runs


@pytest.fixture
def hardware_level() -> Iterator[None]:
    yield
    gf2.use_hardware_clmul(2)


def gf64_mul_reference(a: int, b: int) -> int:
    """Carry-less product of Python ints reduced mod t^64 + t^4 + t^3 + t + 1, bit by bit."""
    return gf2n_mul_reference(a, b, 64, GF64_LOW)


def random_words(rng: np.random.Generator, n_bits: int) -> np.ndarray:
    return pack(rng.integers(0, 2, n_bits, dtype=np.uint8))


@pytest.mark.parametrize("level", LEVELS)
def test_gf64_field_product_matches_a_bitwise_reference(level: int, hardware_level: None) -> None:
    gf2.use_hardware_clmul(level)
    rng = np.random.default_rng(level)
    for a, b in rng.integers(0, 2**64, (50, 2), dtype=np.uint64):
        assert gf2.gf64_mul(int(a), int(b)) == gf64_mul_reference(int(a), int(b))
    assert gf2.gf64_mul(1 << 63, 2) == 0b11011


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2500), st.data())
def test_fft_toeplitz_equals_direct_product_on_random_sizes_and_piece_counts(n: int, data: st.DataObject) -> None:
    ell = data.draw(st.integers(1, n))
    pieces = data.draw(st.sampled_from([0, 1, 2, 3, 7, 64]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    got = unpack(gf2.toeplitz_fft(pack(x), n, pack(s), ell, pieces), ell)
    assert np.array_equal(got, toeplitz_reference(x, s, ell))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("n,ell", [(1, 1), (31, 5), (33, 33), (64, 1), (65, 64), (127, 60), (1001, 250), (1001, 251),
                                   (2047, 2047), (4099, 1000)])
def test_fft_toeplitz_is_exact_at_every_hardware_level(n: int, ell: int, level: int, hardware_level: None) -> None:
    gf2.use_hardware_clmul(level)
    rng = np.random.default_rng(n + 10 * ell + level)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    assert np.array_equal(unpack(gf2.toeplitz_fft(pack(x), n, pack(s), ell), ell), toeplitz_reference(x, s, ell))


@pytest.mark.parametrize("n,ell", [(2001, 1), (2001, 7), (2001, 64), (2001, 667), (2000, 1000), (2001, 1000),
                                   (2001, 1001), (777, 777)])
def test_karatsuba_block_path_equals_the_direct_product(n: int, ell: int) -> None:
    rng = np.random.default_rng(n * 31 + ell)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    nx, ns = (n + 63) // 64, (n + ell - 1 + 63) // 64
    got = _toeplitz_by_karatsuba(pack(x)[:nx], n, pack(s)[:ns], ell)
    assert np.array_equal(unpack(got, ell), toeplitz_reference(x, s, ell))


@pytest.mark.parametrize("n,ell", [(4000, 999), (4000, 1000), (4000, 1001), (4001, 1000)])
def test_method_threshold_at_l_equal_n_over_4_is_exact_on_both_sides(n: int, ell: int) -> None:
    rng = np.random.default_rng(n ^ ell)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    assert toeplitz_method(n, ell) == ("fft" if 4 * ell <= n else "karatsuba")
    assert np.array_equal(toeplitz_hash(x, s, ell), toeplitz_reference(x, s, ell))


@pytest.mark.parametrize("n", [FFT_MIN_BITS - 1, FFT_MIN_BITS, FFT_MIN_BITS + 63])
def test_method_threshold_in_n_gives_the_same_bits_by_both_methods(n: int) -> None:
    ell = n // 2 + 3
    rng = np.random.default_rng(n)
    xw, sw = random_words(rng, n), random_words(rng, n + ell - 1)
    by_fft = gf2.toeplitz_fft(xw, n, sw, ell)
    by_karatsuba = _toeplitz_by_karatsuba(xw, n, sw, ell)
    assert np.array_equal(by_fft, by_karatsuba)
    assert np.array_equal(toeplitz_hash_words(xw, n, sw, ell), by_fft)
    # and a few rows straight from the definition T[i, j] = s[i - j + n - 1]
    xb, sb = unpack(xw, n), unpack(sw, n + ell - 1)
    out = unpack(by_fft, ell)
    for i in rng.integers(0, ell, 8):
        assert out[i] == int(np.count_nonzero(sb[i:i + n][::-1] & xb)) & 1


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1500), st.integers(1, 1500), st.integers(0, 2**32))
def test_fft_product_equals_karatsuba_on_random_word_counts(na: int, nb: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, na, dtype=np.uint64)
    b = rng.integers(0, 2**64, nb, dtype=np.uint64)
    assert np.array_equal(gf2.clmul_poly_fft(a, b), gf2.clmul_poly_karatsuba(a, b))


# word counts around the transform sizes: 2(na + nb) - 1 pieces of 32 bits just below / above 2^k, with k on
# both sides of the direct conversion limit (2^12) and of the Taylor split at K0 = 16 (k = 17)
@pytest.mark.parametrize("na,nb", [(1024, 1024), (1024, 1025), (2048, 2048), (2048, 2049), (1, 4095),
                                   (32768, 32768), (32768, 32769), (1023, 1), (1025, 1024)])
def test_fft_product_at_transform_size_edges_equals_karatsuba(na: int, nb: int) -> None:
    rng = np.random.default_rng(na * 7 + nb)
    a = rng.integers(0, 2**64, na, dtype=np.uint64)
    b = rng.integers(0, 2**64, nb, dtype=np.uint64)
    assert np.array_equal(gf2.clmul_poly_fft(a, b), gf2.clmul_poly_karatsuba(a, b))


@pytest.mark.parametrize("words", [1023, 1024, 1025])
def test_clmul_poly_around_its_fft_threshold_equals_schoolbook(words: int) -> None:
    assert gf2.fft_threshold() == 1024
    rng = np.random.default_rng(words)
    a = rng.integers(0, 2**64, words, dtype=np.uint64)
    b = rng.integers(0, 2**64, words, dtype=np.uint64)
    assert np.array_equal(gf2.clmul_poly(a, b), gf2.clmul_poly_schoolbook(a, b))


def test_portable_fft_product_equals_hardware_product(hardware_level: None) -> None:
    rng = np.random.default_rng(9)
    a = rng.integers(0, 2**64, 3000, dtype=np.uint64)
    b = rng.integers(0, 2**64, 2500, dtype=np.uint64)
    want = gf2.clmul_poly_karatsuba(a, b)
    for level in LEVELS:
        gf2.use_hardware_clmul(level)
        assert np.array_equal(gf2.clmul_poly_fft(a, b), want), level


def test_fft_toeplitz_refuses_bad_sizes() -> None:
    with pytest.raises(ValueError, match="too few"):
        gf2.toeplitz_fft(np.zeros(1, np.uint64), 100, np.zeros(3, np.uint64), 10)
    with pytest.raises(ValueError, match="n > 0"):
        gf2.toeplitz_fft(np.zeros(1, np.uint64), 0, np.zeros(3, np.uint64), 1)


@pytest.mark.slow
@pytest.mark.parametrize("n,ell", [(1 << 22, 1 << 21), ((1 << 22) + 12345, 1_000_003)])
def test_fft_toeplitz_matches_float_fft_convolution_at_millions_of_bits(n: int, ell: int) -> None:
    # independent method: the integer convolution of the 0/1 vectors by float64 FFT, exact here since the
    # coefficients are integers <= n < 2^23 and the rounding error (~ eps log2(N) sqrt(n (n + l)) ~ 1e-8) is far
    # below 1/2; checked below as max |c - round(c)| < 0.25
    rng = np.random.default_rng(n)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    size = 1 << (2 * n + ell - 2).bit_length()
    conv = np.fft.irfft(np.fft.rfft(x.astype(np.float64), size) * np.fft.rfft(s.astype(np.float64), size), size)
    window = conv[n - 1:n - 1 + ell]
    rounded = np.rint(window)
    assert float(np.max(np.abs(window - rounded))) < 0.25
    want = (rounded.astype(np.int64) & 1).astype(np.uint8)
    assert np.array_equal(unpack(toeplitz_hash_words(pack(x), n, pack(s), ell), ell), want)
