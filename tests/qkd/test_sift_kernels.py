"""The compiled sifting kernels agree with their plain-numpy twins and handle multi-clicks as specified."""

from __future__ import annotations

import numpy as np

from qkd._native.sift_kernels import assign_slots, sift_count, sift_fused_array, sift_fused_philox
from qkd.events.record import PhiloxTransmitterRecord, _thresholds
from qkd.postprocess.sift import channel_codes
from qkd.postprocess.sift_reference import assign_slots_numpy, sift_count_numpy, sift_fused_numpy


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


def test_sift_count_equals_numpy_at_any_sample_fraction() -> None:
    # the numpy twin draws the same SplitMix64 stream for the QBER sample: exactly equal, not only in law
    rng = np.random.default_rng(6)
    n = 100_000
    a_basis = (rng.random(n) > 0.7).astype(np.uint8)
    a_bit = rng.integers(0, 2, n).astype(np.uint8)
    a_int = rng.choice(4, n, p=[0.6, 0.2, 0.1, 0.1]).astype(np.uint8)   # class 3 is not valid with n_int 3
    b_code = rng.integers(0, 4, n).astype(np.uint8)
    for frac in (0.05, 0.5, 0.999):
        for seed in (0, 12345, 2**64 - 1):
            a = sift_count(a_basis, a_bit, a_int, b_code, 3, frac, seed)
            b = sift_count_numpy(a_basis, a_bit, a_int, b_code, 3, frac, seed)
            assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)), (frac, seed)


def _messy_tags(seed: int, n: int, n_slots: int, mean_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Tags with jitter beyond the window, ignored channels, slots before 0 and after the record, double and
    triple clicks, and times near ±2^51 ps (the SIMD path's exact-conversion limit)."""
    rng = np.random.default_rng(seed)
    slots = np.sort(rng.integers(-50, n_slots + 50, n)) if mean_gap == 0 else \
        np.cumsum(rng.integers(1, 2 * mean_gap, n)) - 30
    t = slots * 1000 + 250 + rng.normal(0, 170, slots.size).round().astype(np.int64)
    extra = [t[:: int(rng.integers(3, 9))] + 2, t[:: int(rng.integers(11, 19))] + 4]
    t = np.sort(np.concatenate([t, *extra]))
    ch = rng.choice(6, t.size, p=[0.23, 0.23, 0.23, 0.23, 0.04, 0.04]).astype(np.uint8)
    return t, ch


def _lookup(packed: np.ndarray):
    def at(slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rec = packed[slots]
        return rec & 1, (rec >> 1) & 1, rec >> 2
    return at


def test_fused_kernels_equal_the_numpy_pass_on_messy_input() -> None:
    """Property test of the fused passes (stored and Philox record, SIMD and scalar paths): on random inputs
    with every edge case the kernels handle, all outputs equal the plain-numpy composition
    (assignment → lookup → sifting with the same draws), for sample fractions 0 < f < 1, 0 and 1 and with a
    sync sample."""
    codes = channel_codes({0: (0, 0), 1: (0, 1), 2: (1, 0), 3: (1, 1), 5: (0, 1)})   # channel 4 ignored
    for trial in range(6):
        rng = np.random.default_rng(100 + trial)
        n_slots = int(rng.integers(10_000, 400_000))
        t, ch = _messy_tags(trial, int(rng.integers(500, 20_000)), n_slots, int(rng.choice([0, 3, 40])))
        if trial == 5:                       # offsets that put the times near and beyond 2^51 ps
            t = t + (2**51 - 1000 * (n_slots // 2))
        offset = float(t[0] // 1000 * 1000) if trial == 5 else float(rng.uniform(-300, 300))
        packed = rng.integers(0, 16, n_slots).astype(np.uint8)   # classes 0..3: class 3 invalid for n_int 3
        tx = PhiloxTransmitterRecord(seed=trial, n_slots=n_slots, period_ps=1000.0, intensities=(0.5, 0.1, 0.0),
                                     intensity_probabilities=(0.7, 0.2, 0.1), p_z=0.8)
        z, cum = _thresholds(tx.p_z, tx.intensity_probabilities)
        frac = float(rng.choice([0.0, 0.05, 0.6, 1.0]))
        seed = int(rng.integers(0, 2**63))
        n_sync = int(rng.choice([0, 7, 300]))
        args = (t, ch, codes, offset, 1000.0, 300.0)
        ref = sift_fused_numpy(*args, n_slots, _lookup(packed), 3, frac, seed, n_sync)
        ref_ph = sift_fused_numpy(*args, n_slots, tx.at, 3, frac, seed, n_sync)
        for simd in (True, False):
            got = sift_fused_array(*args, packed, 3, frac, seed, n_sync, simd)
            got_ph = sift_fused_philox(*args, n_slots, *tx.key, tx.stream, z, cum, frac, seed, n_sync, simd)
            for name, a, b in (("stored", got, ref), ("philox", got_ph, ref_ph)):
                for j, (x, y) in enumerate(zip(a, b, strict=True)):
                    assert np.array_equal(x, y), (trial, simd, name, j)
        assert ref[8] > 0 and ref[10] > 0 and ref[9] > 0   # tags outside, ignored tags and multi-clicks occurred


def test_the_stored_and_the_philox_pass_agree() -> None:
    tx = PhiloxTransmitterRecord(seed=4, n_slots=300_000, period_ps=1000.0, intensities=(0.5, 0.1, 0.0),
                                 intensity_probabilities=(0.7, 0.2, 0.1), p_z=0.9)
    b, v, i = tx.at(np.arange(tx.n_slots))
    packed = (b | (v << 1) | (i << 2)).astype(np.uint8)
    t, ch = _messy_tags(9, 30_000, tx.n_slots, 5)
    z, cum = _thresholds(tx.p_z, tx.intensity_probabilities)
    args = (t, ch, channel_codes(), 0.0, 1000.0, 300.0)
    a = sift_fused_array(*args, packed, 3, 0.05, 3, 10)
    p = sift_fused_philox(*args, tx.n_slots, *tx.key, tx.stream, z, cum, 0.05, 3, 10)
    assert all(np.array_equal(x, y) for x, y in zip(a, p, strict=True)) and a[0].size > 1000


def test_many_intensity_classes_in_a_stored_record() -> None:
    # more than 16 classes take another path for the key bits' classes
    rng = np.random.default_rng(8)
    n_slots = 200_000
    packed = rng.integers(0, 256, n_slots).astype(np.uint8)   # classes 0..63
    t, ch = _messy_tags(3, 20_000, n_slots, 6)
    args = (t, ch, channel_codes(), 0.0, 1000.0, 300.0)
    for n_int in (17, 40, 64):
        got = sift_fused_array(*args, packed, n_int, 0.3, 5, 0)
        ref = sift_fused_numpy(*args, n_slots, _lookup(packed), n_int, 0.3, 5, 0)
        assert all(np.array_equal(x, y) for x, y in zip(got, ref, strict=True)), n_int
        assert got[3].max() >= 16


def test_clock_fit_on_an_even_subsample_recovers_drift_offset_and_the_same_key(monkeypatch) -> None:
    """Long acquisitions fit the clock on FIT_MAX_TAGS tags spread over the whole run: the recovered drift
    and offset stay at the truth, the sync sample (first in-window tags) is the one the full fit picks,
    and sifting with it agrees with sifting with the clock fitted on every tag up to the few tags at the
    window's edges (here 4 of ~97,000 move in or out; any in- or outside change moves the QBER sample)."""
    from dataclasses import replace

    from qkd.events.emulate import emulate
    from qkd.physics.presets import link_preset
    from qkd.postprocess import sift as sift_module

    link = replace(link_preset("ingaas-fiber", 10), clock_offset_ps=123_456.0, clock_drift_ppm=3.0)
    run = emulate(link, 5_000_000, 11)
    assert len(run.tags) > 50_000
    full = sift_module.sift(run.tags, run.tx, window_ps=link.window_ps, seed=2)
    monkeypatch.setattr(sift_module, "FIT_MAX_TAGS", 4096)
    sub = sift_module.sift(run.tags, run.tx, window_ps=link.window_ps, seed=2)
    assert sub.clock.n_tags_fitted < 4096 < full.clock.n_tags_fitted
    assert abs(sub.clock.drift_ppm - 3.0) < 0.01 and abs(sub.clock.offset_ps - 123_456.0) < 5.0
    assert sub.clock.slot_shift == full.clock.slot_shift
    assert abs(sub.n_outside_window - full.n_outside_window) <= 1e-3 * len(run.tags)
    assert abs(int(sub.detected.sum()) - int(full.detected.sum())) <= 1e-3 * len(run.tags)
    assert abs(sub.qber(0) - full.qber(0)) < 0.003 and abs(sub.qber(1) - full.qber(1)) < 0.003
