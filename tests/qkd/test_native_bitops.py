"""The compiled bit kernels agree with numpy on random inputs and reject mismatched lengths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qkd._native import bitops


def test_module_is_compiled_not_pure_python() -> None:
    assert Path(bitops.__file__).suffix == ".so"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), max_size=2000))
def test_count_bit_differences_matches_numpy(pairs: list[tuple[int, int]]) -> None:
    a = np.array([p[0] for p in pairs], dtype=np.uint8)
    b = np.array([p[1] for p in pairs], dtype=np.uint8)
    assert bitops.count_bit_differences(a, b) == int(np.count_nonzero(a != b))
    assert bitops.parity(a) == int(a.sum() % 2)


def test_length_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="differ in length: 3 and 2 bits"):
        bitops.count_bit_differences(np.zeros(3, np.uint8), np.zeros(2, np.uint8))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1), max_size=1000))
def test_pack_bits_puts_bit_i_in_bit_i_mod_64_of_word_i_div_64_and_unpacks_back(values: list[int]) -> None:
    bits = np.array(values, dtype=np.uint8)
    words = bitops.pack_bits(bits)
    assert words.dtype == np.uint64 and words.size == (bits.size + 63) // 64
    for i, v in enumerate(values):
        assert (int(words[i // 64]) >> (i % 64)) & 1 == v
    assert all(int(w) >> (bits.size - 64 * k) == 0 for k, w in enumerate(words) if bits.size - 64 * k < 64)
    assert np.array_equal(bitops.unpack_bits(words, bits.size), bits)
