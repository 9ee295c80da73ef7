"""Two stations' time tags (qkd.events.pairs) and coincidence finding without a shared clock
(qkd.events.coincidence): the clock is recovered from the tags alone, the pairs found are the emulator's
true pairs, the statistics agree with the closed form, and streaming gives what the whole run gives."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from qkd.events.coincidence import ClockSyncError, match, match_reference, match_stream, synchronise
from qkd.events.pairs import NO_PAIR, PairRun, PairStation, emulate_pairs
from qkd.events.record import TimeTags
from qkd.physics.detector import Detector
from qkd.physics.entangled import (
    EntangledSourceError,
    SpdcSource,
    StationDetection,
    bbm92_figures,
)

WINDOW_PS = 1000.0


def _run(offset_ps: float, drift_ppm: float, seed: int, duration_s: float = 0.5,
         pair_rate: float = 2e6) -> tuple[SpdcSource, PairStation, PairStation, PairRun]:
    source = SpdcSource.continuous_wave(pair_rate, WINDOW_PS, visibility=0.97)
    alice = PairStation("alice", 0.1)
    bob = PairStation("bob", 0.2, clock_offset_ps=offset_ps, clock_drift_ppm=drift_ppm)
    return source, alice, bob, emulate_pairs(source, alice, bob, duration_s, seed=seed)


@pytest.mark.parametrize(("offset_ps", "drift_ppm"), [(123_456_789.0, 3.7), (-4.2e8, -11.0), (5_000.0, 0.0),
                                                      (9.0e8, 19.0)])
def test_the_clock_is_found_from_the_tags_alone(offset_ps: float, drift_ppm: float) -> None:
    _, _, _, run = _run(offset_ps, drift_ppm, seed=int(abs(offset_ps)) % 1000)
    model = synchronise(run.alice, run.bob)
    assert model.offset_ps == pytest.approx(offset_ps, abs=20.0)
    assert model.drift_ppm == pytest.approx(drift_ppm, abs=1e-4)
    # the true pairs' residuals spread by the two detectors' jitter (50 ps each: √2 · 50 ≈ 71 ps)
    assert 50.0 < model.residual_std_ps < 100.0


def test_matched_pairs_are_the_true_pairs_and_accidentals_are_as_predicted() -> None:
    source, alice, bob, run = _run(2.5e7, 2.0, seed=3)
    found = match(run.alice, run.bob, synchronise(run.alice, run.bob), WINDOW_PS)
    truth_a = run.truth.alice_pair[found.alice_index]
    truth_b = run.truth.bob_pair[found.bob_index]
    true_pairs = int(np.count_nonzero((truth_a == truth_b) & (truth_a != NO_PAIR)))
    assert true_pairs >= 0.999 * run.truth.true_coincidences()
    assert np.unique(found.bob_index).size == len(found)          # no Bob tag used twice
    assert np.all(np.abs(found.dt_ps) <= WINDOW_PS / 2)
    # accidentals: singles rate A × singles rate B × window
    duration = 0.5
    expected_acc = (len(run.alice) / duration) * (len(run.bob) / duration) * WINDOW_PS * 1e-12 * duration
    accidental = len(found) - true_pairs
    assert abs(accidental - expected_acc) < 5 * np.sqrt(expected_acc) + 3


def test_coincidence_statistics_agree_with_the_closed_form() -> None:
    source, alice, bob, run = _run(7e6, -1.5, seed=5, duration_s=1.0, pair_rate=3e6)
    found = match(run.alice, run.bob, synchronise(run.alice, run.bob), WINDOW_PS)
    basis_a, basis_b = found.alice_channel >> 1, found.bob_channel >> 1
    same = basis_a == basis_b
    qber = float(np.mean((found.alice_channel[same] & 1) != (found.bob_channel[same] & 1)))
    dark = alice.detector.dark_count_rate_hz * WINDOW_PS * 1e-12
    figures = bbm92_figures(source, StationDetection(alice.efficiency, dark), StationDetection(bob.efficiency, dark))
    windows = source.window_rate_hz * 1.0
    # the closed form counts per window; continuous time adds the neighbours' accidentals (≈ 2× the
    # multi-pair term at these brightnesses): agree to 10 % in rate, to half a percent point in QBER
    assert len(found) == pytest.approx(figures.gain * windows, rel=0.10)
    assert qber == pytest.approx(figures.qber, abs=0.005)
    assert qber == pytest.approx(source.misalignment_error, abs=0.01)
    assert np.mean(same) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("chunk", [997, 20_000])
def test_streaming_in_chunks_gives_the_whole_run_s_pairs(chunk: int) -> None:
    _, _, _, run = _run(-3.3e6, 5.0, seed=8, duration_s=0.3)
    model = synchronise(run.alice, run.bob)
    whole = match(run.alice, run.bob, model, WINDOW_PS)

    def chunks() -> Iterator[tuple[TimeTags | None, TimeTags | None]]:
        a, b = run.alice, run.bob
        for i in range(0, max(len(a), len(b)), chunk):
            yield (TimeTags(a.t_ps[i:i + chunk], a.channel[i:i + chunk]) if i < len(a) else None,
                   TimeTags(b.t_ps[i:i + chunk], b.channel[i:i + chunk]) if i < len(b) else None)

    parts = list(match_stream(chunks(), model, WINDOW_PS))
    a_idx = np.concatenate([p.alice_index for p in parts])
    b_idx = np.concatenate([p.bob_index for p in parts])
    assert np.unique(b_idx).size == b_idx.size
    streamed = set(zip(a_idx.tolist(), b_idx.tolist(), strict=True))
    batch = set(zip(whole.alice_index.tolist(), whole.bob_index.tolist(), strict=True))
    # identical but for a Bob tag claimed across a chunk boundary (earlier claim wins): rare
    assert len(streamed ^ batch) <= 2 + len(batch) // 10_000


def test_two_stations_that_share_no_light_are_refused_not_guessed() -> None:
    _, _, _, one = _run(1e6, 0.0, seed=11, duration_s=0.2)
    _, _, _, other = _run(1e6, 0.0, seed=12, duration_s=0.2)
    with pytest.raises(ClockSyncError, match="no correlation peak"):
        synchronise(one.alice, other.bob)


def test_emulator_models_its_stations_and_refuses_a_single_mode_source() -> None:
    with pytest.raises(EntangledSourceError, match="CW"):
        emulate_pairs(SpdcSource(statistics="thermal"), PairStation("a", 0.1), PairStation("b", 0.1), 0.1, seed=1)
    dead = Detector(name="slow", efficiency=0.8, dark_count_rate_hz=100.0, dead_time_ns=10_000.0, gated=False)
    source = SpdcSource.continuous_wave(5e6, WINDOW_PS)
    run = emulate_pairs(source, PairStation("a", 0.5, detector=dead), PairStation("b", 0.5), 0.1, seed=2)
    assert run.truth.lost_to_dead_time[0] > 0 and run.truth.lost_to_dead_time[1] > 0
    for tags in (run.alice, run.bob):
        assert tags.t_ps.dtype == np.int64 and np.all(np.diff(tags.t_ps) >= 0)
        assert set(np.unique(tags.channel).tolist()) <= {0, 1, 2, 3}
        assert tags.meta["seed"] == 2
    # a 10 µs dead time caps each detector at 100 kcps
    per_detector = np.bincount(run.alice.channel, minlength=4) / 0.1
    assert per_detector.max() <= 1.0e5 + 1


@pytest.mark.parametrize("window_ps", [300.0, WINDOW_PS, 2e5])
def test_the_compiled_pass_equals_the_numpy_reference_pair_for_pair(window_ps: float) -> None:
    # a 200 ns window makes claims on one Bob tag common: the conflict rule must agree too
    _, _, _, run = _run(6.1e6, -7.0, seed=21, duration_s=0.2, pair_rate=4e6)
    model = synchronise(run.alice, run.bob)
    fast, ref = match(run.alice, run.bob, model, window_ps), match_reference(run.alice, run.bob, model, window_ps)
    assert len(fast) > 1000
    assert np.array_equal(fast.alice_index, ref.alice_index) and np.array_equal(fast.bob_index, ref.bob_index)
    assert np.array_equal(fast.dt_ps, ref.dt_ps)
    empty = TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
    assert len(match(empty, run.bob, model, window_ps)) == 0 and len(match(run.alice, empty, model, window_ps)) == 0
