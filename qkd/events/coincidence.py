"""Coincidences between two stations' time-tag streams that share no clock.

Clock model: Bob's tagger reads t_B = t_A · (1 + δ) + Δ for the same physical instant (offset Δ ps,
relative drift δ, both unknown; the stations are free-running). Found in three steps:

1. **Coarse offset by FFT cross-correlation.** Over a segment at the head of both streams, histogram the
   tags in coarse bins, zero-pad to twice the searched range (no circular wrap) and take the peak of
   IFFT(FFT(a)* · FFT(b)). The peak bin gives Δ to within a coarse bin. The unknown drift smears the peak
   by δ · segment; to keep that inside half a bin, the drift range is tiled by hypotheses δₖ (Alice's tags
   stretched by 1 + δₖ before binning): one hypothesis first, 8 then 32 when its peak is too weak. The
   segment length and bin are chosen from the streams' rates (:func:`sync_plan`): the longest segment
   whose drift-limited bin holds about half an accidental tag. The accidental background of the
   correlation at each shift is Alice's mean per bin times Bob's tags under her window at that shift (not
   flat when a stream starts inside the searched range); the excess over it of each two adjacent shifts
   (a peak straddles a bin edge as often as not) is scaled by its Poisson standard deviation (at least one
   count), and the peak's significance is its scaled excess in units of the other shifts' spread when that
   is wider. A peak below ``min_significance`` is refused
   rather than guessed.
2. **Drift** from the coarse offsets of two segments far apart in the run: δ = (Δ₂ − Δ₁)/(t₂ − t₁), the
   second searched around the first's prediction under the winning hypothesis.
3. **Refinement.** With the coarse model applied, every Alice tag's nearest Bob tag within a few coarse
   bins gives a residual; the residuals of true pairs form a narrow peak (the two detectors' jitter) on a
   flat accidental floor. A least-squares line through the residuals inside the peak (iterated, the window
   shrinking to a few times their spread) refines Δ and δ to picoseconds and parts in 10⁹.

Then pairs: each Alice tag is matched to the nearest Bob tag (mapped onto Alice's clock) within ± half the
coincidence window, each Bob tag used at most once (the closer claim wins): one compiled pass with a
pointer that only moves forward (``qkd._native.coincidence_match``; :func:`match_reference` is the numpy
reference it is tested against); a stream is processed chunk by chunk (:class:`CoincidenceMatcher`) so
files larger than memory go through in bounded memory: :func:`synchronise_files` reads only the segments
the clock searches need and :func:`match_files` streams both files through the matcher.

Units: ps throughout; drift dimensionless (×1e6 for ppm).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qkd._native.coincidence_match import match_sorted
from qkd.errors import QkdError
from qkd.events.record import TimeTags


class ClockSyncError(QkdError):
    """The two streams show no significant correlation (wrong files, no common light, range too small)."""


@dataclass(frozen=True)
class ClockModel:
    """t_B = t_A · (1 + drift) + offset_ps. ``significance``: the coarse correlation peak in standard
    deviations above the accidental floor; ``residual_std_ps``: spread of true pairs' residuals."""

    offset_ps: float
    drift: float
    significance: float = math.inf
    residual_std_ps: float = 0.0

    def to_alice(self, t_b: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Bob's tag times on Alice's clock (ps)."""
        return (np.asarray(t_b, dtype=np.float64) - self.offset_ps) / (1.0 + self.drift)

    @property
    def drift_ppm(self) -> float:
        return self.drift * 1e6


@dataclass(frozen=True)
class Coincidences:
    """Matched tag pairs: indices into Alice's and Bob's tags (of the chunk or stream matched), their
    channels, and the residual ``dt_ps`` = Bob's time on Alice's clock − Alice's time."""

    alice_index: npt.NDArray[np.int64]
    bob_index: npt.NDArray[np.int64]
    alice_channel: npt.NDArray[np.uint8]
    bob_channel: npt.NDArray[np.uint8]
    dt_ps: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.alice_index.size)

    @staticmethod
    def concatenate(parts: list[Coincidences]) -> Coincidences:
        """The pairs of ``parts`` (e.g. what :func:`match_files` yields) as one."""
        if not parts:
            return _empty()
        return Coincidences(*(np.concatenate([getattr(p, f) for p in parts])
                              for f in ("alice_index", "bob_index", "alice_channel", "bob_channel", "dt_ps")))


def _search(t_ps: npt.NDArray[np.int64], times_ps: float | list[float]) -> npt.NDArray[np.intp]:
    """``np.searchsorted(t_ps, times_ps)`` (side left) for float times on int64 tags: the times are rounded
    up to int64 first — a float query makes numpy cast the whole tag array to float64 (an O(n) copy per
    call, 22 CPU-s of clock sync on 10⁸ tags)."""
    q = np.ceil(np.clip(np.asarray(times_ps, dtype=np.float64), -4e18, 4e18)).astype(np.int64)
    return np.asarray(np.searchsorted(t_ps, q, side="left"))


def _segment(tags: TimeTags, start_ps: float, length_ps: float) -> npt.NDArray[np.float64]:
    lo, hi = _search(tags.t_ps, [start_ps, start_ps + length_ps])
    return tags.t_ps[lo:hi].astype(np.float64)


def coarse_offset(t_a: npt.NDArray[np.float64], t_b: npt.NDArray[np.float64], start_ps: float, length_ps: float,
                  bin_ps: float, max_offset_ps: float, *, drift: float = 0.0,
                  centre_ps: float = 0.0) -> tuple[float, float]:
    """(Δ to within ``bin_ps``, peak significance in σ) from the FFT cross-correlation of Alice's tags in
    [start, start + length) and Bob's in [start + centre − max_offset, start + length + centre + max_offset).

    ``drift``: a drift hypothesis δₖ; Alice's tags are stretched by (1 + δₖ) about the segment's centre
    before binning, so a true drift δ smears the peak by only |δ − δₖ| · length. ``centre_ps``: the offset
    the search is centred on (a prediction); the answer is the offset at the segment's centre (ps)."""
    offset, significance, _ = coarse_search(t_a, t_b, start_ps, length_ps, bin_ps, max_offset_ps, (drift,), centre_ps)
    return offset, significance


def coarse_search(t_a: npt.NDArray[np.float64], t_b: npt.NDArray[np.float64], start_ps: float, length_ps: float,
                  bin_ps: float, max_offset_ps: float, drifts: tuple[float, ...],
                  centre_ps: float = 0.0) -> tuple[float, float, float]:
    """:func:`coarse_offset` under each drift hypothesis of ``drifts`` (Bob's histogram and its FFT shared):
    (offset, significance, hypothesis) of the most significant peak."""
    n_a = int(math.ceil(length_ps / bin_ps))
    n_shift = int(math.ceil(max_offset_ps / bin_ps))
    n_b = n_a + 2 * n_shift
    size = 1 << int(math.ceil(math.log2(n_a + n_b)))
    if size > 1 << 27:
        raise ClockSyncError(f"coarse search of {n_b} bins is too large: widen coarse_bin_ps or narrow max_offset_ps")
    b_idx = ((t_b - centre_ps - (start_ps - n_shift * bin_ps)) // bin_ps).astype(np.int64)
    b_idx = b_idx[(b_idx >= 0) & (b_idx < n_b)]
    b = np.bincount(b_idx, minlength=n_b)[:n_b].astype(np.float64)
    # accidental background per shift: Alice's mean per bin × Bob's tags under her window at that shift. It
    # is not flat when a stream starts or ends inside the searched range (Bob's clock ahead by Δ: no Bob
    # tags at the shifts before his first), which made a raw (peak − mean)/std hide a clear peak
    cum = np.concatenate(([0.0], np.cumsum(b)))
    cover = cum[n_a:n_a + 2 * n_shift + 1] - cum[: 2 * n_shift + 1]
    if cover.size == 0 or cover.max() <= 0 or t_a.size == 0:
        return centre_ps, 0.0, drifts[0]
    # shifts where Bob's tags cover less than a quarter of Alice's window are not searched
    usable = cover >= 0.25 * cover.max()
    fb = np.fft.rfft(b, size)
    mid = start_ps + length_ps / 2
    best = (-math.inf, centre_ps, drifts[0])
    for drift in drifts:
        ta = mid + (t_a - mid) * (1.0 + drift) if drift else t_a
        a_idx = ((ta - start_ps) // bin_ps).astype(np.int64)
        a = np.bincount(a_idx[(a_idx >= 0) & (a_idx < n_a)], minlength=n_a)[:n_a].astype(np.float64)
        corr = np.fft.irfft(np.conj(np.fft.rfft(a, size)) * fb, size)[: 2 * n_shift + 1]
        total = float(a.sum())
        background = total / n_a * cover
        excess = corr - background
        # Bob's bins Poisson: Var c_s = (Σa²/Σa) · background_s; floored at one count² so that a sparse
        # correlation (a fraction of an accidental per shift) needs several pairs in its peak, not one
        var = background * (float(np.dot(a, a)) / total if total else 1.0)
        # two adjacent shifts together: the pairs' peak straddles a bin edge as often as not, and the sum
        # holds all of it whatever the alignment
        ex2, var2 = excess[:-1] + excess[1:], var[:-1] + var[1:]
        z = np.where(usable[:-1] & usable[1:], ex2 / np.sqrt(np.maximum(var2, 1.0)), -np.inf)
        peak = int(np.argmax(z))
        near = np.zeros(z.size, bool)
        near[max(0, peak - 2):peak + 3] = True
        others = z[np.isfinite(z) & ~near]
        # in units of the other shifts' spread when that is wider than the Poisson one (never narrower)
        spread = max(float(others.std()), 1.0) if others.size > 1 else 1.0
        significance = (float(z[peak]) - float(others.mean() if others.size else 0.0)) / spread
        if significance > best[0]:
            # sub-bin: the centroid of the excess in the two peak shifts and their neighbours
            lo, hi = max(0, peak - 1), min(corr.size, peak + 3)
            w = np.clip(excess[lo:hi], 0, None)
            centre = float((np.arange(lo, hi) * w).sum() / w.sum()) if w.sum() > 0 else float(peak)
            best = (significance, centre_ps + (centre - n_shift) * bin_ps, drift)
    return best[1], best[0], best[2]


def _nearest(sorted_ref: npt.NDArray[np.float64], t: npt.NDArray[np.float64]) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest element of ``sorted_ref`` to each of ``t`` and the signed distance ref − t."""
    if sorted_ref.size == 0:
        return np.zeros(t.size, np.int64), np.full(t.size, np.inf)
    right = np.searchsorted(sorted_ref, t)
    left = np.clip(right - 1, 0, sorted_ref.size - 1)
    right = np.clip(right, 0, sorted_ref.size - 1)
    d_left = sorted_ref[left] - t
    d_right = sorted_ref[right] - t
    use_right = np.abs(d_right) < np.abs(d_left)
    idx = np.where(use_right, right, left)
    return idx.astype(np.int64), np.where(use_right, d_right, d_left)


def _slice_peaks(x: npt.NDArray[np.float64], d: npt.NDArray[np.float64], half_ps: float, slices: int,
                 bins: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per time slice of Alice's clock, the position of the residual histogram's peak (centroid of the
    peak bin and its neighbours): a true pair's residual piles up there, accidentals spread flat."""
    edges = np.linspace(float(x[0]), float(x[-1]) + 1.0, slices + 1)
    which = np.searchsorted(edges, x, side="right") - 1
    width = 2 * half_ps / bins
    centres_t, peaks = [], []
    for k in range(slices):
        dk = d[which == k]
        if dk.size < 8:
            continue
        h = np.bincount(np.clip(((dk + half_ps) // width).astype(np.int64), 0, bins - 1), minlength=bins)
        j = int(np.argmax(h))
        floor = float(np.median(h))
        if h[j] < floor + 4 * math.sqrt(floor + 1):   # no clear peak in this slice
            continue
        lo, hi = max(0, j - 1), min(bins, j + 2)
        w = np.clip(h[lo:hi] - floor, 0, None).astype(np.float64)
        centre = (float((np.arange(lo, hi) * w).sum() / w.sum()) + 0.5) * width - half_ps
        centres_t.append(0.5 * (edges[k] + edges[k + 1]))
        peaks.append(centre)
    return np.asarray(centres_t), np.asarray(peaks)


def _subset(t_a: npt.NDArray[np.int64], t_b: npt.NDArray[np.int64], offset: float, drift: float, margin_ps: float,
            max_tags: int, slices: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """At most ``max_tags`` of Alice's tags, in ``slices`` contiguous runs spread over the whole stream (so a
    line through them still spans the run), and the Bob tags that can pair with them under the model
    (± ``margin_ps``); float64. Small streams are taken whole."""
    if t_a.size <= max_tags:
        return t_a.astype(np.float64), t_b.astype(np.float64)
    run = max_tags // slices
    starts = np.linspace(0, t_a.size - run, slices).astype(np.int64)
    parts_a, parts_b = [], []
    for s0 in starts:
        a = t_a[s0:s0 + run]
        lo = offset + (float(a[0]) - margin_ps) * (1.0 + drift)
        hi = offset + (float(a[-1]) + margin_ps) * (1.0 + drift)
        b0, b1 = _search(t_b, [lo, hi])
        parts_a.append(a.astype(np.float64))
        parts_b.append(t_b[b0:b1].astype(np.float64))
    return np.concatenate(parts_a), np.unique(np.concatenate(parts_b))


def refine(alice: TimeTags, bob: TimeTags, model: ClockModel, search_ps: float, *, slices: int = 16,
           bins: int = 400, final_half_ps: float = 2000.0, max_tags: int = 2_000_000) -> ClockModel:
    """Δ and δ to picoseconds (module docstring, step 3): per time slice, the peak of the residual
    histogram (nearest Bob tag to each Alice tag within ±``search_ps``); a line through the slice peaks
    updates the model; the search window shrinks to a few times what is left, down to
    ``final_half_ps``; last, a least-squares line through the residuals of the pairs inside the peak.
    Long streams are refined on ``max_tags`` of Alice's tags spread over the run (:func:`_subset`)."""
    offset, drift = model.offset_ps, model.drift
    half = search_ps
    for _ in range(12):
        t_a, t_b = _subset(alice.t_ps, bob.t_ps, offset, drift, 4 * half, max_tags, slices)
        _, d = _nearest((t_b - offset) / (1.0 + drift), t_a)
        inside = np.abs(d) <= half
        ts, peaks = _slice_peaks(t_a[inside], d[inside], half, slices, bins)
        if ts.size < 2:
            raise ClockSyncError(f"clock refinement: the pairs' residual peak was found in {ts.size} of "
                                 f"{slices} time slices within ±{half:.3g} ps")
        slope, intercept = np.polyfit(ts, peaks, 1)
        # Bob's mapped time runs late by d(t) = intercept + slope·t on Alice's clock: fold it into Δ and δ,
        # t_B = (t_A + d(t_A))(1 + δ) + Δ ⇒ δ' = δ + slope(1 + δ), Δ' = Δ + intercept(1 + δ)
        offset += float(intercept) * (1.0 + drift)
        drift += float(slope) * (1.0 + drift)
        left = float(np.max(np.abs(peaks - (intercept + slope * ts)))) + 2 * half / bins
        new_half = max(final_half_ps, 8.0 * left)
        if new_half >= half and half <= final_half_ps:
            break
        half = min(half, new_half)
    t_a, t_b = _subset(alice.t_ps, bob.t_ps, offset, drift, 4 * half, max_tags, slices)
    _, d = _nearest((t_b - offset) / (1.0 + drift), t_a)
    inside = np.abs(d) <= half
    x, y = t_a[inside], d[inside]
    med = float(np.median(y))
    spread = float(np.median(np.abs(y - med))) * 1.4826
    core = np.abs(y - med) <= max(3 * spread, 1.0)
    if np.count_nonzero(core) > 2:
        x, y = x[core], y[core]
        slope, intercept = np.polyfit(x, y, 1)
        offset += float(intercept) * (1.0 + drift)
        drift += float(slope) * (1.0 + drift)
        spread = float(np.std(y - (intercept + slope * x)))
    return ClockModel(offset, drift, model.significance, spread)


#: drift hypotheses tried in turn (module docstring, step 1): one (cheap) first, more when its peak is too weak;
#: 32 (about 3 CPU-s at 10 MHz) on request for weak correlations (few pairs among many singles)
HYPOTHESES = (1, 8)
#: mean accidental tags per coarse bin that the segment length is chosen for (busier station)
BIN_OCCUPANCY = 0.5
#: at most this many of one station's tags (at its mean rate) in one coarse segment
MAX_SEGMENT_TAGS = 1_000_000


@dataclass(frozen=True)
class SyncPlan:
    """One coarse search: segment ``length_ps``, coarse ``bin_ps`` and the drift hypotheses (dimensionless)
    whose ±``step``/2 ranges tile ±max_drift."""

    length_ps: float
    bin_ps: float
    drifts: tuple[float, ...]
    step: float


def sync_plan(hypotheses: int, rate_per_ps: float, span_ps: float, max_drift: float, min_bin_ps: float,
              segment_ps: float | None = None) -> SyncPlan:
    """Segment length and bin for ``hypotheses`` drift hypotheses (module docstring, step 1).

    Each hypothesis covers a drift range ``step`` = 2·max_drift/hypotheses, so a true drift smears the
    peak by at most step/2 · length: the bin is step · length (that smear is half a bin), at least
    ``min_bin_ps``. The peak's significance is ≈ f · √(length/bin) / √(1 + 2μ) (f: pairs per
    √(singles_A · singles_B), μ = rate · bin accidental tags per bin): once the bin is drift-limited,
    length/bin = 1/step is fixed and only μ is left to choose, so the segment is the longest whose bin holds
    ``BIN_OCCUPANCY`` accidental tags of the busier station (``rate_per_ps``, tags per ps). A longer
    segment would widen the bin and drown the pairs in accidentals — a fixed 20 ms segment at 10 MHz
    singles and ±20 ppm had 8 tags per bin and a 2.6 σ peak. Capped at a quarter of the run,
    ``MAX_SEGMENT_TAGS`` tags and ``segment_ps``."""
    cap = span_ps / 4
    if rate_per_ps > 0:
        cap = min(cap, MAX_SEGMENT_TAGS / rate_per_ps)
    if segment_ps is not None:
        cap = min(cap, segment_ps)
    if max_drift <= 0:
        return SyncPlan(max(1.0, cap), min_bin_ps, (0.0,), 0.0)
    step = 2.0 * max_drift / hypotheses
    want = max(BIN_OCCUPANCY / (rate_per_ps * step) if rate_per_ps > 0 else math.inf, min_bin_ps / step)
    length = max(1.0, min(cap, want))
    drifts = tuple(-max_drift + (k + 0.5) * step for k in range(hypotheses))
    return SyncPlan(length, max(min_bin_ps, step * length), drifts, step)


def _rate(tags: TimeTags) -> float:
    """Mean tag rate (tags per ps) over the stream's span."""
    if len(tags) < 2:
        return 0.0
    return len(tags) / max(1.0, float(tags.t_ps[-1] - tags.t_ps[0]))


def synchronise(alice: TimeTags, bob: TimeTags, *, max_offset_ps: float = 1e9, max_drift_ppm: float = 20.0,
                coarse_bin_ps: float = 2000.0, segment_ps: float | None = None,
                min_significance: float = 8.0, hypotheses: tuple[int, ...] = HYPOTHESES) -> ClockModel:
    """Find Bob's clock against Alice's from the tags alone: offset within ±``max_offset_ps``, relative
    drift within ±``max_drift_ppm``. Segment and bins from the streams' rates (:func:`sync_plan`);
    ``segment_ps`` caps the segment; ``coarse_bin_ps`` is the narrowest coarse bin; ``hypotheses``: the
    numbers of drift hypotheses tried in turn until a peak reaches ``min_significance``."""
    if len(alice) == 0 or len(bob) == 0:
        raise ClockSyncError("clock sync: a station recorded no tags")
    return _synchronise(alice, bob, float(alice.t_ps[0]), float(alice.t_ps[-1]), max(_rate(alice), _rate(bob)),
                        max_offset_ps=max_offset_ps, max_drift=max_drift_ppm * 1e-6, min_bin_ps=coarse_bin_ps,
                        segment_ps=segment_ps, min_significance=min_significance, refine_tags=2_000_000,
                        hypotheses=hypotheses)


@dataclass(frozen=True)
class _FirstPeak:
    """The head segment's coarse result: ``offset`` (ps) at the segment's centre under drift hypothesis
    ``drift``, its ``significance`` (σ) and the :class:`SyncPlan` that found it."""

    offset: float
    significance: float
    drift: float
    plan: SyncPlan


def _bob_window(at: float, length: float, centre: float, reach: float, bin_ps: float) -> tuple[float, float]:
    """Bob's tags a coarse search of Alice's [at, at + length) within ±reach of ``centre`` can use (ps)."""
    return at + centre - reach - bin_ps, at + length + centre + reach + bin_ps


def _first_peak(alice: TimeTags, bob: TimeTags, start: float, end: float, rate: float, *, max_offset_ps: float,
                max_drift: float, min_bin_ps: float, segment_ps: float | None, min_significance: float,
                hypotheses: tuple[int, ...]) -> _FirstPeak:
    """Step 1 of the module docstring on the head of the run (Alice's run is [``start``, ``end``] ps,
    ``rate`` the busier station's tags per ps): plans of more drift hypotheses in turn until a peak is
    significant; none is :class:`ClockSyncError`."""
    best: _FirstPeak | None = None
    for n_hyp in hypotheses if max_drift > 0 else (1,):
        plan = sync_plan(n_hyp, rate, end - start, max_drift, min_bin_ps, segment_ps)
        lo, hi = _bob_window(start, plan.length_ps, 0.0, max_offset_ps, plan.bin_ps)
        off, sig, d = coarse_search(_segment(alice, start, plan.length_ps), _segment(bob, lo, hi - lo), start,
                                    plan.length_ps, plan.bin_ps, max_offset_ps, plan.drifts)
        if best is None or sig > best.significance:
            best = _FirstPeak(off, sig, d, plan)
        if best.significance >= min_significance:
            return best
    sig = best.significance if best is not None else 0.0
    raise ClockSyncError(f"clock sync: no correlation peak ({sig:.1f} σ < {min_significance:g} σ) within "
                         f"±{max_offset_ps:.3g} ps and ±{max_drift * 1e6:g} ppm: the two files share no "
                         "light, or the offset is larger")


def _late_search(first: _FirstPeak, start: float, end: float) -> tuple[float, float, float] | None:
    """(start of the late segment, predicted offset there, search reach) in ps, or None when the run is too
    short for a second segment: the late segment's offset is predicted from the first under the winning
    hypothesis, within what the hypothesis leaves open (±step/2 over the run) and a few bins."""
    length, bin_ps = first.plan.length_ps, first.plan.bin_ps
    late = end - length
    if late - start <= 2 * length:
        return None
    return late, first.offset + first.drift * (late - start), 4 * bin_ps + 1.5 * (first.plan.step / 2) * (late - start)


def _coarse_model(alice: TimeTags, bob: TimeTags, first: _FirstPeak, start: float, end: float,
                  min_significance: float) -> ClockModel:
    """Step 2: the drift from the first and the late segment's offsets (the winning hypothesis when the late
    segment shows no significant peak), and Δ at t_A = 0 from the offset measured at the first segment's
    centre."""
    plan = first.plan
    drift = first.drift
    late = _late_search(first, start, end)
    if late is not None:
        at, predicted, reach = late
        lo, hi = _bob_window(at, plan.length_ps, predicted, reach, plan.bin_ps)
        second, sig2 = coarse_offset(_segment(alice, at, plan.length_ps), _segment(bob, lo, hi - lo), at,
                                     plan.length_ps, plan.bin_ps, reach, drift=first.drift, centre_ps=predicted)
        if sig2 >= min_significance:
            drift = (second - first.offset) / (at - start)
    return ClockModel(first.offset - drift * (start + plan.length_ps / 2), drift, first.significance)


def _synchronise(alice: TimeTags, bob: TimeTags, start: float, end: float, rate: float, *, max_offset_ps: float,
                 max_drift: float, min_bin_ps: float, segment_ps: float | None, min_significance: float,
                 refine_tags: int, hypotheses: tuple[int, ...]) -> ClockModel:
    """Steps 1–3 of the module docstring on two streams in memory."""
    first = _first_peak(alice, bob, start, end, rate, max_offset_ps=max_offset_ps, max_drift=max_drift,
                        min_bin_ps=min_bin_ps, segment_ps=segment_ps, min_significance=min_significance,
                        hypotheses=hypotheses)
    model = _coarse_model(alice, bob, first, start, end, min_significance)
    return refine(alice, bob, model, search_ps=2 * first.plan.bin_ps, max_tags=refine_tags)


def _stream_span(path: str | Path) -> tuple[int, float, float]:
    """(tags, first, last time in ps) of a time-tag file, in one streaming pass."""
    from qkd.events.formats import iter_timetags

    n, first, last = 0, math.nan, math.nan
    for chunk in iter_timetags(path):
        if len(chunk):
            if n == 0:
                first = float(chunk.t_ps[0])
            last = float(chunk.t_ps[-1])
            n += len(chunk)
    return n, first, last


def _merge(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(windows):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _stream_windows(path: str | Path, windows: list[tuple[float, float]]) -> TimeTags:
    """The tags of a time-tag file inside any of ``windows`` (ps), in one streaming pass."""
    from qkd.events.formats import iter_timetags

    merged = _merge(windows)
    parts: list[TimeTags] = []
    for chunk in iter_timetags(path):
        if not len(chunk):
            continue
        t0, t1 = float(chunk.t_ps[0]), float(chunk.t_ps[-1])
        for lo, hi in merged:
            if hi < t0 or lo > t1:
                continue
            i, j = _search(chunk.t_ps, [lo, hi])
            if j > i:
                parts.append(TimeTags(chunk.t_ps[i:j].copy(), chunk.channel[i:j].copy()))
    if not parts:
        return TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
    return TimeTags.concatenate(parts)


def synchronise_files(path_a: str | Path, path_b: str | Path, *, max_offset_ps: float = 1e9,
                      max_drift_ppm: float = 20.0, coarse_bin_ps: float = 2000.0, min_significance: float = 8.0,
                      refine_tags: int = 2_000_000, slices: int = 16,
                      hypotheses: tuple[int, ...] = HYPOTHESES) -> ClockModel:
    """:func:`synchronise` on two stations' time-tag files (any format :func:`~qkd.events.formats.iter_timetags`
    reads) in bounded memory, for files larger than memory. Four streaming passes over each file, each
    keeping only the tags one step reads: (1) span and rate; (2) the head segment of every plan
    (:func:`sync_plan`) and Bob's tags within ±``max_offset_ps`` of it → step 1; (3) the late segment and
    Bob's tags within the reach the first peak leaves → step 2; (4) ``slices`` windows of ``refine_tags``
    Alice tags in all, spread over the run, with Bob's tags a few coarse bins around where the coarse
    model maps them → step 3. Memory: at most ``MAX_SEGMENT_TAGS`` per segment, ``refine_tags`` for the
    refinement, plus Bob's tags within the searched ranges."""
    n_a, start, end = _stream_span(path_a)
    n_b, b0, b1 = _stream_span(path_b)
    if n_a == 0 or n_b == 0:
        raise ClockSyncError("clock sync: a station recorded no tags")
    rate_a = n_a / max(1.0, end - start)
    rate = max(rate_a, n_b / max(1.0, b1 - b0))
    max_drift = max_drift_ppm * 1e-6
    plans = [sync_plan(k, rate, end - start, max_drift, coarse_bin_ps) for k in hypotheses]
    length = max(p.length_ps for p in plans)
    bob_head = _bob_window(start, length, 0.0, max_offset_ps, max(p.bin_ps for p in plans))
    first = _first_peak(_stream_windows(path_a, [(start, start + length)]), _stream_windows(path_b, [bob_head]),
                        start, end, rate, max_offset_ps=max_offset_ps, max_drift=max_drift,
                        min_bin_ps=coarse_bin_ps, segment_ps=None, min_significance=min_significance,
                        hypotheses=hypotheses)
    late = _late_search(first, start, end)
    wins_a: list[tuple[float, float]] = []
    wins_b: list[tuple[float, float]] = []
    if late is not None:
        at, predicted, reach = late
        wins_a.append((at, at + first.plan.length_ps))
        wins_b.append(_bob_window(at, first.plan.length_ps, predicted, reach, first.plan.bin_ps))
    model = _coarse_model(_stream_windows(path_a, wins_a), _stream_windows(path_b, wins_b), first, start, end,
                          min_significance)
    # refinement windows; Bob's around the coarse model's map (it is good to a bin or two over the run, the
    # refinement reads within 8 coarse bins)
    width = min(end - start, refine_tags / slices / rate_a)
    wins_a = [(float(s0), float(s0) + width) for s0 in np.linspace(start, end - width, slices)]
    margin = 12 * first.plan.bin_ps
    wins_b = [(model.offset_ps + (lo - margin) * (1 + model.drift), model.offset_ps + (hi + margin) * (1 + model.drift))
              for lo, hi in wins_a]
    alice = _stream_windows(path_a, wins_a)
    return refine(alice, _stream_windows(path_b, wins_b), model, search_ps=2 * first.plan.bin_ps,
                  max_tags=max(len(alice), 1))


def match(alice: TimeTags, bob: TimeTags, model: ClockModel, window_ps: float,
          bob_taken: npt.NDArray[np.bool_] | None = None) -> Coincidences:
    """Pairs within ± ``window_ps``/2, each Bob tag at most once, the closest claim winning (module
    docstring); compiled single pass (``qkd._native.coincidence_match``). ``bob_taken`` marks Bob tags
    already paired (by an earlier chunk) that may not be paired again."""
    free: npt.NDArray[np.int64] | None = None
    t_b = np.ascontiguousarray(bob.t_ps, dtype=np.int64)
    if bob_taken is not None and bob_taken.any():
        free = np.flatnonzero(~bob_taken).astype(np.int64)
        t_b = np.ascontiguousarray(t_b[free])
    a_idx, b_idx, dt = match_sorted(np.ascontiguousarray(alice.t_ps, dtype=np.int64), t_b, model.offset_ps,
                                    model.drift, window_ps / 2)
    if free is not None:
        b_idx = free[b_idx]
    return Coincidences(a_idx, b_idx, alice.channel[a_idx], bob.channel[b_idx], dt)


def match_reference(alice: TimeTags, bob: TimeTags, model: ClockModel, window_ps: float) -> Coincidences:
    """:func:`match` in numpy (sorted search, then a stable sort settles claims on one Bob tag): the
    reference the compiled pass is tested against."""
    mapped = model.to_alice(bob.t_ps)
    t_a = alice.t_ps.astype(np.float64)
    idx, d = _nearest(mapped, t_a)
    ok = np.abs(d) <= window_ps / 2
    a_idx = np.flatnonzero(ok).astype(np.int64)
    b_idx, dt = idx[ok], d[ok]
    if b_idx.size:
        order = np.lexsort((np.abs(dt), b_idx))
        first = np.ones(order.size, bool)
        first[1:] = b_idx[order][1:] != b_idx[order][:-1]
        keep = np.sort(order[first])
        a_idx, b_idx, dt = a_idx[keep], b_idx[keep], dt[keep]
    return Coincidences(a_idx, b_idx, alice.channel[a_idx], bob.channel[b_idx], dt)


class CoincidenceMatcher:
    """Streaming :func:`match`: feed both stations' tags chunk by chunk (each stream time-ordered); pairs
    come out with indices into each whole stream. Memory holds one chunk of each plus a margin."""

    def __init__(self, model: ClockModel, window_ps: float) -> None:
        self.model = model
        self.window_ps = window_ps
        self._a = TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
        self._b = TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
        self._b_taken = np.zeros(0, bool)   # Bob tags of the buffer already paired
        self._a_base = 0   # stream index of self._a[0]
        self._b_base = 0
        self._a_end = -math.inf   # Alice's last tag fed so far (ps): her later tags come at or after it

    def feed(self, alice: TimeTags | None, bob: TimeTags | None, final: bool = False) -> Coincidences:
        """Add chunks (either may be None) and return the pairs that can no longer change."""
        if alice is not None and len(alice):
            self._a = TimeTags.concatenate([self._a, alice])
            self._a_end = float(alice.t_ps[-1])
        if bob is not None and len(bob):
            self._b = TimeTags.concatenate([self._b, bob])
            self._b_taken = np.concatenate([self._b_taken, np.zeros(len(bob), bool)])
        if len(self._a) == 0:
            return _empty()
        mapped_b_end = float(self.model.to_alice(self._b.t_ps[-1:])[0]) if len(self._b) else -math.inf
        # an Alice tag is settled once Bob's stream has passed it by more than a window
        horizon = math.inf if final else mapped_b_end - self.window_ps
        n_a = len(self._a) if final else int(_search(self._a.t_ps, horizon))
        if n_a == 0:
            return _empty()
        head = TimeTags(self._a.t_ps[:n_a], self._a.channel[:n_a])
        found = match(head, self._b, self.model, self.window_ps, self._b_taken)
        self._b_taken[found.bob_index] = True
        out = Coincidences(found.alice_index + self._a_base, found.bob_index + self._b_base,
                           found.alice_channel, found.bob_channel, found.dt_ps)
        # drop settled Alice tags and Bob tags that no later Alice tag can reach
        self._a = TimeTags(self._a.t_ps[n_a:], self._a.channel[n_a:])
        self._a_base += n_a
        if final:
            self._b = TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
            self._b_taken = np.zeros(0, bool)
        else:
            # Alice's unsettled tags lie at or after the horizon and those not yet fed at or after her last
            # fed tag: Bob tags more than a window before the earlier of the two are done (the streams may
            # be fed unevenly, e.g. Bob's ahead of Alice's)
            earliest = min(float(horizon), self._a_end)
            reach = self.model.offset_ps + (earliest - self.window_ps) * (1.0 + self.model.drift)
            n_b = int(_search(self._b.t_ps, reach))
            self._b = TimeTags(self._b.t_ps[n_b:], self._b.channel[n_b:])
            self._b_taken = self._b_taken[n_b:]
            self._b_base += n_b
        return out


def _empty() -> Coincidences:
    return Coincidences(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint8), np.empty(0, np.uint8),
                        np.empty(0, np.float64))


def match_stream(chunks: Iterable[tuple[TimeTags | None, TimeTags | None]], model: ClockModel,
                 window_ps: float) -> Iterator[Coincidences]:
    """Pairs from an iterable of (Alice chunk, Bob chunk), in order, bounded memory."""
    matcher = CoincidenceMatcher(model, window_ps)
    for a, b in chunks:
        found = matcher.feed(a, b)
        if len(found):
            yield found
    found = matcher.feed(None, None, final=True)
    if len(found):
        yield found


def match_files(path_a: str | Path, path_b: str | Path, model: ClockModel, window_ps: float) -> Iterator[Coincidences]:
    """Pairs between two stations' time-tag files (indices into each whole file), streaming: chunks are read
    from whichever file is behind on Alice's clock, so memory holds about one chunk of each whatever the
    files' sizes (:class:`CoincidenceMatcher` through :func:`match_stream`)."""
    return match_stream(_interleaved_chunks(path_a, path_b, model, window_ps), model, window_ps)


def _interleaved_chunks(path_a: str | Path, path_b: str | Path, model: ClockModel,
                        window_ps: float) -> Iterator[tuple[TimeTags | None, TimeTags | None]]:
    """(Alice chunk, None) or (None, Bob chunk), reading next from the file that is behind on Alice's clock;
    once one file ends, the other's chunks only as far as a window after its last tag (nothing later can
    pair)."""
    from qkd.events.formats import iter_timetags

    it_a, it_b = iter_timetags(path_a), iter_timetags(path_b)
    end_a = end_b = -math.inf            # last tag read from each file, on Alice's clock (ps)
    more_a = more_b = True
    while more_a and more_b:
        if end_a <= end_b:
            chunk_a = next(it_a, None)
            more_a = chunk_a is not None
            if chunk_a is not None and len(chunk_a):
                end_a = float(chunk_a.t_ps[-1])
            yield chunk_a, None
        else:
            chunk_b = next(it_b, None)
            more_b = chunk_b is not None
            if chunk_b is not None and len(chunk_b):
                end_b = float(model.to_alice(chunk_b.t_ps[-1:])[0])
            yield None, chunk_b
    if more_b:
        # Alice's file has ended: Bob's tags that can still pair lie within a window after her last tag
        for chunk_b in it_b:
            yield None, chunk_b
            if len(chunk_b) and float(model.to_alice(chunk_b.t_ps[-1:])[0]) > end_a + window_ps:
                return
    elif more_a:
        # Bob's file has ended: only Alice's tags within a window after his last can still pair
        for chunk_a in it_a:
            if len(chunk_a) and float(chunk_a.t_ps[0]) > end_b + window_ps:
                return
            yield chunk_a, None


__all__ = ["ClockModel", "ClockSyncError", "CoincidenceMatcher", "Coincidences", "SyncPlan", "coarse_offset", "match",
           "match_files", "match_reference", "match_stream", "refine", "sync_plan", "synchronise", "synchronise_files"]
