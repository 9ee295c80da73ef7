"""The compiled kernels' outputs are pinned bit for bit: refactoring a kernel (or the SplitMix64 and bit-packing
code they share) must not change a single draw, order, question or tag. Digests (SHA-256, first 16 hex digits)
of outputs on fixed inputs, recorded from the build before the Cascade kernels were split into modules."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from qkd._native import cascade, sift_kernels
from qkd.postprocess.amplify import toeplitz_hash
from qkd.postprocess.verify import PolyHash128


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(("n", "seed", "pass_index", "want"), [
    (1000, 1, 1, "2917c971563f1c23"),                                   # Fisher–Yates
    ((1 << 18) + 1, 2**63 + 5, 7, "49a9a452dfeecb80"),                 # Rao–Sandelius from here on
    (10**6, 1, 1, "537407a978caa351"),
])
def test_pass_shuffles_are_the_same_permutations(n: int, seed: int, pass_index: int, want: str) -> None:
    order = np.empty(n, np.uint32)
    cascade.shuffle_into(order, seed, pass_index)
    assert _digest(order) == want


@pytest.mark.parametrize(("n", "seed", "pass_index", "want"), [
    (1000, 1, 1, "70c2a24fc10c3550"),
    (10**6, 2**63 + 5, 7, "115f9d4dcc6b6e27"),
])
def test_halves_masks_are_the_same_subsets(n: int, seed: int, pass_index: int, want: str) -> None:
    assert _digest(cascade.halves_mask(n, seed, pass_index)) == want


@pytest.mark.parametrize(("reuse", "want"), [(True, "04720580ab3fa577"), (False, "f2ce3fa8e41e3bcd")])
def test_cascade_ends_exchange_the_same_questions_and_answers(reuse: bool, want: str) -> None:
    rng = np.random.default_rng(17)
    n = 30_000
    a = rng.integers(0, 2, n, dtype=np.uint8)
    b = a ^ (rng.random(n) < 0.04).astype(np.uint8)
    alice, bob = cascade.AliceOracle(a, 99), cascade.BobSearches(b, 99, reuse)
    transcript = []
    for j, k in enumerate([18, 36, 72, 144, 3000, 20_000, 30_000]):   # shuffled, long-range and HALVES passes
        bob.open_pass(j, k, alice.open_pass(j, k))
        while body := bob.ask():
            answer = alice.answer_wire(body)
            transcript.append(body + answer)
            bob.take_answers(answer)
    assert np.array_equal(bob.bits, a)
    assert _digest(bob.bits, b"".join(transcript), bob.corrections, bob.passes_laid_out) == want


def test_sifting_kernels_draw_the_same_samples_and_multi_click_choices() -> None:
    rng = np.random.default_rng(23)
    t = np.sort(rng.integers(0, 10**9, 200_000)).astype(np.int64)
    ch = rng.integers(0, 4, t.size).astype(np.uint8)
    codes = np.full(256, 255, np.uint8)
    codes[:4] = [0, 1, 2, 3]
    slots, code, *counts = sift_kernels.assign_slots(t, ch, codes, 0.0, 1000.0, 400.0, 77)
    assert _digest(slots, code, counts) == "dfebd18b84d738e1"
    m = slots.size
    basis, bit, cls = (rng.integers(0, k, m).astype(np.uint8) for k in (2, 2, 3))
    assert _digest(*sift_kernels.sift_count(basis, bit, cls, code, 3, 0.1, 4242)) == "2dbc18cc3118b9af"
    record = rng.integers(0, 12, 10**6 + 10).astype(np.uint8)
    fused = [sift_kernels.sift_fused_array(t, ch, codes, 0.0, 1000.0, 400.0, record, 3, 0.1, 4242, 100, simd)
             for simd in (True, False)]
    assert _digest(*fused[0]) == _digest(*fused[1]) == "ed69dbee9ba90d57"
    philox = sift_kernels.sift_fused_philox(t, ch, codes, 0.0, 1000.0, 400.0, 10**6, 11, 22, 0, 2**31,
                                            np.array([2**31, 3 * 2**30], np.uint32), 0.1, 4242, 100)
    assert _digest(*philox) == "4af95fddb4c06795"


def test_verification_and_amplification_hash_the_same_packed_bits() -> None:
    rng = np.random.default_rng(29)
    bits = rng.integers(0, 2, 100_001, dtype=np.uint8)
    hash128 = PolyHash128(bytes(range(16)))
    assert hash128.digest_bits(bits).hex()[:16] == "c1b9cd6dd8c88ce2"
    assert hash128.digest_bits(bits[:64 * 3 + 5]).hex()[:16] == "03716e09f6103f42"      # an odd number of words
    seed_bits = rng.integers(0, 2, 100_001 + 40_000 - 1, dtype=np.uint8)
    assert _digest(toeplitz_hash(bits, seed_bits, 40_000)) == "c461b47b12d0f339"
