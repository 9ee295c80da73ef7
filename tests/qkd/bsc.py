"""A binary symmetric channel with exactly ``round(qber·n)`` flipped bits: the reconciliation tests' input."""

from __future__ import annotations

import numpy as np


def bsc_pair(n: int, qber: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Alice's ``n`` random bits and Bob's copy with exactly ``round(qber·n)`` errors (seeded)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    flips = np.zeros(n, np.uint8)
    flips[rng.choice(n, int(round(qber * n)), replace=False)] = 1
    return a, a ^ flips
