"""Clock recovery between two stations' streams at high rates (qkd.events.coincidence): the failure of the
full-size bench (10⁸ tags per station at 10 MHz singles, 30 % pairs, 4.7 ppm: "no correlation peak
(2.6 σ < 8 σ)") reproduced at the same rate and drift over a short span; weak correlations that need the
drift hypotheses; files read in bounded memory give what the in-memory path gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qkd.events.coincidence import (
    ClockSyncError,
    match,
    match_files,
    match_stream,
    sync_plan,
    synchronise,
    synchronise_files,
)
from qkd.events.formats import write_native
from qkd.events.record import TimeTags

WINDOW_PS = 1000.0


def _stations(n_per_station: int, duration_ps: float, offset_ps: float, drift: float, *, pair_fraction: float = 0.3,
              seed: int = 15, bob_channels: bool = False) -> tuple[TimeTags, TimeTags]:
    """The bench's streams (bench/qkd_physics.py ``_two_stations``) over ``duration_ps``: ``pair_fraction`` of
    each station's tags are pairs (70 ps jitter each), the rest uniform singles; Bob's clock reads
    t (1 + drift) + offset — both taggers start at true time 0, so Bob's stream begins ``offset`` into his
    clock (the searched range holds shifts with no Bob tags at all)."""
    rng = np.random.default_rng(seed)
    n_pairs = int(pair_fraction * n_per_station)
    pairs = rng.random(n_pairs) * duration_ps
    t_a = np.concatenate([pairs + rng.normal(0, 70, n_pairs), rng.random(n_per_station - n_pairs) * duration_ps])
    t_b = np.concatenate([pairs + rng.normal(0, 70, n_pairs), rng.random(n_per_station - n_pairs) * duration_ps])
    order_a, order_b = np.argsort(t_a), np.argsort(t_b)
    t_a = np.rint(t_a[order_a]).astype(np.int64)
    t_b = np.rint(t_b[order_b] * (1.0 + drift) + offset_ps).astype(np.int64)
    # channel 1 marks a pair's tag (ground truth for the checks), 0 a single
    c_a = (order_a < n_pairs).astype(np.uint8)
    c_b = (order_b < n_pairs).astype(np.uint8)
    return TimeTags(t_a, c_a), TimeTags(t_b, c_b)


def test_the_bench_s_rate_and_drift_are_recovered_over_a_short_span() -> None:
    # 10 MHz singles per station as in the full bench, over 0.2 s: the old fixed 20 ms segment with ±20 ppm
    # bins of 800 ns (8 accidental tags per bin, a background that is not flat at the head) gave 2.6 σ here
    alice, bob = _stations(2_000_000, 2e11, 3.2e8, 4.7e-6)
    model = synchronise(alice, bob)
    assert model.offset_ps == pytest.approx(3.2e8, abs=20.0)
    assert model.drift_ppm == pytest.approx(4.7, abs=1e-3)
    assert model.significance >= 8.0
    assert 70.0 < model.residual_std_ps < 130.0        # √2 · 70 ps ≈ 99 ps
    plan = sync_plan(1, len(bob) / 2e11, 2e11, 20e-6, 2000.0)
    assert plan.bin_ps * len(bob) / 2e11 == pytest.approx(0.5, rel=0.01)   # half an accidental tag per bin


def test_a_weak_correlation_needs_the_drift_hypotheses() -> None:
    # 4 % of the tags are pairs, −19 ppm: one hypothesis (±20 ppm in one bin) leaves the peak in the noise,
    # eight find it
    alice, bob = _stations(1_000_000, 5e11, -6.0e8, -19e-6, pair_fraction=0.04, seed=3)
    with pytest.raises(ClockSyncError, match="no correlation peak"):
        synchronise(alice, bob, hypotheses=(1,))
    model = synchronise(alice, bob)
    assert model.offset_ps == pytest.approx(-6.0e8, abs=20.0)
    assert model.drift_ppm == pytest.approx(-19.0, abs=1e-3)


def test_busy_streams_that_share_no_light_are_refused_under_every_hypothesis() -> None:
    alice, _ = _stations(2_000_000, 2e11, 3.2e8, 4.7e-6, seed=1)
    _, bob = _stations(2_000_000, 2e11, 3.2e8, 4.7e-6, seed=2)
    with pytest.raises(ClockSyncError, match="no correlation peak"):
        synchronise(alice, bob)


def test_files_give_what_memory_gives_reading_only_what_the_searches_need(tmp_path: Path) -> None:
    alice, bob = _stations(1_000_000, 1e11, -2.5e8, 11e-6, seed=7)
    path_a, path_b = tmp_path / "alice.qtt", tmp_path / "bob.qtt"
    # small blocks: the files are read in 40 000-tag chunks
    write_native(path_a, alice, block_records=40_000)
    write_native(path_b, bob, block_records=40_000)
    in_memory = synchronise(alice, bob)
    # refinement on 100 000 of Alice's tags: what is kept in memory is a small part of each file
    streamed = synchronise_files(path_a, path_b, refine_tags=100_000)
    assert streamed.offset_ps == pytest.approx(-2.5e8, abs=20.0)
    assert streamed.drift_ppm == pytest.approx(11.0, abs=2e-3)
    assert streamed.offset_ps == pytest.approx(in_memory.offset_ps, abs=20.0)

    whole = match(alice, bob, streamed, WINDOW_PS)
    parts = list(match_files(path_a, path_b, streamed, WINDOW_PS))
    assert len(parts) > 5                                  # pairs come out as the files are read
    a_idx = np.concatenate([p.alice_index for p in parts])
    b_idx = np.concatenate([p.bob_index for p in parts])
    assert np.unique(b_idx).size == b_idx.size and np.all(np.diff(a_idx) > 0)
    streamed_pairs = set(zip(a_idx.tolist(), b_idx.tolist(), strict=True))
    batch = set(zip(whole.alice_index.tolist(), whole.bob_index.tolist(), strict=True))
    assert len(streamed_pairs ^ batch) <= 2 + len(batch) // 10_000
    # the true pairs are found: 300 000 pairs, all but those lost to a chance closer accidental
    true = np.count_nonzero((alice.channel[a_idx] == 1) & (bob.channel[b_idx] == 1))
    assert true >= 0.995 * 300_000


def test_files_of_stations_that_share_no_light_are_refused(tmp_path: Path) -> None:
    alice, _ = _stations(200_000, 1e11, 1e6, 0.0, seed=4)
    _, bob = _stations(200_000, 1e11, 1e6, 0.0, seed=5)
    write_native(tmp_path / "a.qtt", alice)
    write_native(tmp_path / "b.qtt", bob)
    with pytest.raises(ClockSyncError, match="no correlation peak"):
        synchronise_files(tmp_path / "a.qtt", tmp_path / "b.qtt")
    write_native(tmp_path / "empty.qtt", TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8)))
    with pytest.raises(ClockSyncError, match="no tags"):
        synchronise_files(tmp_path / "a.qtt", tmp_path / "empty.qtt")


def test_streams_fed_unevenly_give_the_whole_run_s_pairs() -> None:
    # Bob's chunks four times longer than Alice's: his stream runs far ahead of hers (a Bob tag must not be
    # dropped while an Alice tag not yet fed can still claim it)
    alice, bob = _stations(300_000, 3e10, 4.4e7, -6e-6, seed=9)
    model = synchronise(alice, bob)
    whole = match(alice, bob, model, WINDOW_PS)

    def chunks() -> Iterator[tuple[TimeTags | None, TimeTags | None]]:
        for k in range(0, 300_000, 7_000):
            j = 4 * k
            yield (TimeTags(alice.t_ps[k:k + 7_000], alice.channel[k:k + 7_000]),
                   TimeTags(bob.t_ps[j:j + 28_000], bob.channel[j:j + 28_000]) if j < len(bob) else None)

    parts = list(match_stream(chunks(), model, WINDOW_PS))
    streamed = set(zip(np.concatenate([p.alice_index for p in parts]).tolist(),
                       np.concatenate([p.bob_index for p in parts]).tolist(), strict=True))
    batch = set(zip(whole.alice_index.tolist(), whole.bob_index.tolist(), strict=True))
    assert len(batch) > 80_000 and len(streamed ^ batch) <= 2 + len(batch) // 10_000
