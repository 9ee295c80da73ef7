"""Cascade's pass permutations: always a permutation, uniform on small n, seeded by (seed, pass) only."""

from __future__ import annotations

from collections import Counter
from itertools import permutations

import numpy as np
import pytest

from qkd._native.cascade import shuffle_into


@pytest.mark.parametrize("n", [1, 2, 1000, 65_536, 100_000, 262_144, 262_145, 400_000])
def test_every_size_gets_a_permutation_fixed_by_seed_and_pass(n: int) -> None:
    p = np.empty(n, dtype=np.uint32)
    shuffle_into(p, 12345, 1)
    assert np.array_equal(np.sort(p), np.arange(n, dtype=np.uint32))
    q = np.empty(n, dtype=np.uint32)
    shuffle_into(q, 12345, 1)
    assert np.array_equal(p, q)
    if n >= 1000:
        shuffle_into(q, 12345, 2)
        assert not np.array_equal(p, q)


def test_all_permutations_of_four_are_about_equally_likely() -> None:
    counts: Counter[tuple[int, ...]] = Counter()
    p = np.empty(4, dtype=np.uint32)
    runs = 24_000
    for seed in range(runs):
        shuffle_into(p, seed, 1)
        counts[tuple(int(v) for v in p)] += 1
    assert set(counts) == set(permutations(range(4)))
    expected = runs / 24
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 49.7   # chi-square, 23 degrees of freedom, p = 0.001
