"""Clock recovery finds an injected receiver offset and drift from the data alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qkd.events.emulate import emulate
from qkd.events.record import TimeTags
from qkd.physics.presets import link_preset
from qkd.postprocess.sift import SiftError, sift


def _link(**kw):
    base = link_preset("gys", 25.0)
    det = replace(base.detector, jitter_ps=20.0, gate_width_ps=200.0)
    return replace(base, detector=det, window_ps=400.0, **kw)


def test_offset_and_drift_are_recovered_and_sifted_qber_equals_the_qber_without_them() -> None:
    n = 200_000_000
    clean = emulate(_link(), n, seed=5)
    skewed = emulate(_link(clock_offset_ps=3700.0, clock_drift_ppm=2.0), n, seed=5)
    k0 = sift(clean.tags, clean.tx, window_ps=400.0, seed=9)
    k1 = sift(skewed.tags, skewed.tx, window_ps=400.0, seed=9)
    assert k1.clock.offset_ps == pytest.approx(3700.0, abs=1.0)
    assert k1.clock.drift_ppm == pytest.approx(2.0, abs=1e-3)
    assert k1.clock.slot_shift == 4   # 3.7 ns = 3 whole slots + 0.7 → nearest slot shift 4 at 1 GHz
    assert k0.clock.offset_ps == pytest.approx(0.0, abs=1.0)
    assert k1.n_key == k0.n_key > 50_000
    assert (k1.errors == k0.errors).all() and (k1.sifted == k0.sifted).all()
    assert k1.qber(0) == k0.qber(0) and k1.qber(1) == k0.qber(1)
    assert np.array_equal(k1.alice_bits, k0.alice_bits) and np.array_equal(k1.bob_bits, k0.bob_bits)


def test_a_larger_negative_offset_of_many_slots_is_found() -> None:
    run = emulate(_link(clock_offset_ps=-250_300.0, clock_drift_ppm=-7.5), 50_000_000, seed=6)
    key = sift(run.tags, run.tx, window_ps=400.0)
    assert key.clock.offset_ps == pytest.approx(-250_300.0, abs=1.0)
    assert key.clock.drift_ppm == pytest.approx(-7.5, abs=1e-2)
    assert key.qber(0) < 0.06


def test_tags_uncorrelated_with_the_transmitter_are_refused() -> None:
    run = emulate(_link(), 50_000_000, seed=7)
    other = emulate(_link(), 50_000_000, seed=8)   # Bob's tags of another run
    with pytest.raises(SiftError, match="no slot shift stands out"):
        sift(other.tags, run.tx, window_ps=400.0)


def test_too_few_tags_is_a_sift_error() -> None:
    run = emulate(_link(), 1_000_000, seed=1)
    tags = TimeTags(run.tags.t_ps[:10], run.tags.channel[:10])
    with pytest.raises(SiftError, match="needs ≥ 64 time tags"):
        sift(tags, run.tx, window_ps=400.0)


def test_stored_record_and_philox_record_sift_to_the_same_key() -> None:
    from qkd.events.record import ArrayTransmitterRecord

    run = emulate(_link(clock_offset_ps=1234.0, clock_drift_ppm=0.5), 30_000_000, seed=11)
    b, v, i = run.tx.at(np.arange(run.tx.n_slots))
    stored = ArrayTransmitterRecord(b, v, i, run.tx.period_ps, run.tx.intensities, run.tx.intensity_probabilities,
                                    run.tx.p_z)
    k_philox = sift(run.tags, run.tx, window_ps=400.0, seed=2)
    k_stored = sift(run.tags, stored, window_ps=400.0, seed=2)
    assert k_philox.n_multi_click == k_stored.n_multi_click > 0   # multi-photon double clicks
    assert np.array_equal(k_philox.alice_bits, k_stored.alice_bits)
    assert np.array_equal(k_philox.bob_bits, k_stored.bob_bits)
    assert np.array_equal(k_philox.key_slots, k_stored.key_slots)
    for name in ("sifted", "disclosed", "errors", "detected"):
        assert np.array_equal(getattr(k_philox, name), getattr(k_stored, name)), name
    # every Z-sifted detection is disclosed or a key bit: estimation counts key bits from these counts
    for key in (k_philox, k_stored):
        n_int = len(key.intensities)
        assert np.array_equal(np.bincount(key.key_intensity, minlength=n_int), key.sifted[0] - key.disclosed[0])
