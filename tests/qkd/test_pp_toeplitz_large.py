"""Toeplitz hashing at large n against an independent method: integer convolution by float64 FFT, exact at
this size (|rounding error| ≪ ½: coefficients ≤ n ≤ 2^18, error bound ~ ε log2(N) ‖x‖‖s‖ ≈ 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

from qkd._native.bitops import pack_bits as pack
from qkd._native.bitops import unpack_bits as unpack
from qkd.postprocess.amplify import toeplitz_hash_words


def fft_toeplitz(x_bits: np.ndarray, s_bits: np.ndarray, ell: int) -> np.ndarray:
    n = x_bits.size
    size = 1 << (n + s_bits.size - 1).bit_length()
    conv = np.fft.irfft(np.fft.rfft(x_bits.astype(np.float64), size) * np.fft.rfft(s_bits.astype(np.float64), size),
                        size)
    window = conv[n - 1:n - 1 + ell]
    assert float(np.max(np.abs(window - np.rint(window)))) < 0.01   # the FFT result is unambiguous
    return (np.rint(window).astype(np.int64) & 1).astype(np.uint8)


@pytest.mark.parametrize("n,ell", [(1 << 18, 1 << 17), (200_003, 77_777)])
def test_toeplitz_matches_an_exact_integer_convolution_at_large_n(n: int, ell: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    got = unpack(toeplitz_hash_words(pack(x), n, pack(s), ell), ell)
    assert np.array_equal(got, fft_toeplitz(x, s, ell))


@pytest.mark.parametrize("n,ell", [(2001, 1), (2001, 7), (2001, 64), (2001, 667), (2000, 1000), (2001, 1000),
                                   (2001, 1001)])
def test_square_block_decomposition_equals_the_direct_product(n: int, ell: int) -> None:
    # ℓ ≤ n/4 takes the additive-FFT path (input pieces summed in the transform domain), n/4 < ℓ ≤ n/2 the
    # sum-of-ℓ×ℓ-blocks Karatsuba path (x padded to a multiple of ℓ), ℓ > n/2 the full Karatsuba product
    from qkd.postprocess.amplify import toeplitz_hash, toeplitz_reference

    rng = np.random.default_rng(n * 7919 + ell)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + ell - 1, dtype=np.uint8)
    assert np.array_equal(toeplitz_hash(x, s, ell), toeplitz_reference(x, s, ell))
