"""Keys of odd length (every other emulated block) get the same two-halves later passes as even ones."""

from __future__ import annotations

import numpy as np
import pytest

from qkd.postprocess.cascade import VARIANTS, plan, reconcile_local


@pytest.mark.parametrize("n", [100_001, 100_000])
def test_later_passes_of_an_odd_length_key_are_two_halves_and_are_rarely_laid_out(n: int) -> None:
    rng = np.random.default_rng(n)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    b = a ^ (rng.random(n) < 0.02).astype(np.uint8)
    sizes = plan(VARIANTS["option7"], 0.02, n)
    assert all(2 * k >= n for k in sizes[2:])          # two blocks, no one-bit third block
    corrected, rep = reconcile_local(a, b, 0.02, "option7", seed=3)
    assert np.array_equal(corrected, a)
    # a laid-out pass costs a full permutation of the key; the halves passes need one only when bisected
    assert rep.passes_laid_out <= 4 < rep.passes
