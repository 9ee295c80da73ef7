"""Compiled bit kernels against numpy on the same arrays: throughput in Mbit/s.

Run: ``python bench/qkd_native.py [--quick]``; writes ``bench/results/qkd_native.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BenchResult, median_seconds, write_results  # noqa: E402

from qkd._native import bitops  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI smoke runs")
    args = parser.parse_args()
    n_bits = 1_000_000 if args.quick else 20_000_000
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, n_bits, dtype=np.uint8)
    b = a ^ (rng.random(n_bits) < 0.03).astype(np.uint8)
    t_native = median_seconds(lambda: bitops.count_bit_differences(a, b))
    t_numpy = median_seconds(lambda: int(np.count_nonzero(a != b)))
    write_results(
        "qkd_native",
        [
            BenchResult(
                "count_bit_differences throughput",
                n_bits / t_native / 1e6,
                "Mbit/s",
                "numpy count_nonzero(a != b)",
                n_bits / t_numpy / 1e6,
                {"n_bits": n_bits, "median_of": 7},
            )
        ],
    )


if __name__ == "__main__":
    main()
