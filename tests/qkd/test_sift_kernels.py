"""The compiled sifting kernels agree with their plain-numpy twins and handle multi-clicks as specified."""

from __future__ import annotations

import numpy as np
from qkd._native.sift_kernels import assign_slots, sift_count

from qkd.postprocess.sift import channel_codes
from qkd.postprocess.sift_reference import assign_slots_numpy, sift_count_numpy


def _tags(n: int, seed: int, double: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    slots = np.sort(rng.choice(10 * n, n, replace=False)).astype(np.int64)
    t = slots * 1000 + 250 + rng.normal(0, 60, n).round().astype(np.int64)
    ch = rng.integers(0, 5, n).astype(np.uint8)   # channel 4 is not in the map
    if double:
        t = np.sort(np.concatenate([t, t[::10] + 3]))
        ch = rng.integers(0, 4, t.size).astype(np.uint8)
    return t, ch


def test_assign_slots_equals_numpy_without_multi_clicks() -> None:
    t, ch = _tags(100_000, 1, double=False)
    codes = channel_codes()
    a = assign_slots(t, ch, codes, 250.0, 1000.0, 300.0, 7)
    b = assign_slots_numpy(t, ch, codes, 250.0, 1000.0, 300.0, 7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2:] == b[2:]
    assert a[4] > 0 and a[2] > 0    # some ignored channels and some tags outside the window


def test_multi_clicks_keep_one_tag_per_slot_chosen_at_random() -> None:
    t, ch = _tags(50_000, 2, double=True)
    codes = channel_codes()
    slots, code, _, n_multi, _ = assign_slots(t, ch, codes, 250.0, 1000.0, 300.0, 3)
    ref = assign_slots_numpy(t, ch, codes, 250.0, 1000.0, 300.0, 3)
    assert np.array_equal(slots, ref[0]) and n_multi == ref[3] > 4000
    assert np.array_equal(code, ref[1])                   # the keyed pick is the same draw in numpy
    assert np.all(np.diff(slots) > 0)
    # of a double click, the first and the second tag are each kept half of the time
    k = np.floor((t - 250.0) / 1000.0 + 0.5).astype(np.int64)
    inside = np.abs((t - 250.0) / 1000.0 - k) <= 0.15
    k, c = k[inside], codes[ch[inside]]
    dup = np.flatnonzero(k[1:] == k[:-1])                 # index of the first tag of each double click
    first, second = c[dup], c[dup + 1]
    differ = first != second
    chosen = code[np.searchsorted(slots, k[dup])]
    share_first = float((chosen[differ] == first[differ]).mean())
    n = int(differ.sum())
    assert abs(share_first - 0.5) < 5 * 0.5 / np.sqrt(n), (share_first, n)


def test_the_multi_click_choice_does_not_depend_on_the_order_of_the_tags() -> None:
    t, ch = _tags(50_000, 2, double=True)
    codes = channel_codes()
    a = assign_slots(t, ch, codes, 250.0, 1000.0, 300.0, 3)
    # reverse the order of the two detectors within every double click (tag times unchanged)
    x = (t - 250.0) / 1000.0
    k = np.floor(x + 0.5).astype(np.int64)
    inside = np.abs(x - k) <= 0.15
    dup = np.flatnonzero((k[1:] == k[:-1]) & inside[1:] & inside[:-1])
    ch2 = ch.copy()
    ch2[dup], ch2[dup + 1] = ch[dup + 1], ch[dup]
    b = assign_slots(t, ch2, codes, 250.0, 1000.0, 300.0, 3)
    assert dup.size > 4000 and np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_sift_count_equals_numpy_when_the_sample_is_all_or_nothing() -> None:
    rng = np.random.default_rng(4)
    n = 200_000
    a_basis = (rng.random(n) > 0.8).astype(np.uint8)
    a_bit = rng.integers(0, 2, n).astype(np.uint8)
    a_int = rng.choice(3, n, p=[0.7, 0.2, 0.1]).astype(np.uint8)
    b_code = (((rng.random(n) > 0.8).astype(np.uint8) << 1) | (a_bit ^ (rng.random(n) < 0.03))).astype(np.uint8)
    for frac in (0.0, 1.0):
        a = sift_count(a_basis, a_bit, a_int, b_code, 3, frac, 1)
        b = sift_count_numpy(a_basis, a_bit, a_int, b_code, 3, frac, 1)
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y)
    key, sifted, disclosed, errors, detected = sift_count(a_basis, a_bit, a_int, b_code, 3, 0.1, 5)
    z_sifted = sifted[0].sum()
    assert abs(disclosed[0].sum() / z_sifted - 0.1) < 5 * np.sqrt(0.09 / z_sifted)
    assert key.sum() + disclosed[0].sum() == z_sifted
    assert (disclosed[1] == sifted[1]).all() and detected.sum() == n
