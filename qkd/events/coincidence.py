"""Coincidences between two stations' time-tag streams that share no clock.

Clock model: Bob's tagger reads t_B = t_A · (1 + δ) + Δ for the same physical instant (offset Δ ps,
relative drift δ, both unknown; the stations are free-running). Found in three steps:

1. **Coarse offset by FFT cross-correlation.** Over a segment of both streams, histogram the tags in
   coarse bins (``coarse_bin_ps``, wide enough that jitter and the drift over the segment stay inside a
   bin or two), zero-pad to twice the searched range (no circular wrap) and take the peak of
   IFFT(FFT(a)* · FFT(b)). The peak bin gives Δ to within a coarse bin. The accidental background of the
   correlation is flat; the peak's significance is (peak − mean) / std of the correlation, and a peak
   below ``min_significance`` is refused rather than guessed.
2. **Drift** from the coarse offsets of two segments far apart in the run: δ = (Δ₂ − Δ₁)/(t₂ − t₁).
3. **Refinement.** With the coarse model applied, every Alice tag's nearest Bob tag within a few coarse
   bins gives a residual; the residuals of true pairs form a narrow peak (the two detectors' jitter) on a
   flat accidental floor. A least-squares line through the residuals inside the peak (iterated, the window
   shrinking to a few times their spread) refines Δ and δ to picoseconds and parts in 10⁹.

Then pairs: each Alice tag is matched to the nearest Bob tag (mapped onto Alice's clock) within ± half the
coincidence window, each Bob tag used at most once (the closer claim wins): one compiled pass with a
pointer that only moves forward (``qkd._native.coincidence_match``; :func:`match_reference` is the numpy
reference it is tested against); a stream is processed chunk by chunk (:class:`CoincidenceMatcher`) so
files larger than memory go through in bounded memory.

Units: ps throughout; drift dimensionless (×1e6 for ppm).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


def _segment(tags: TimeTags, start_ps: float, length_ps: float) -> npt.NDArray[np.float64]:
    lo, hi = np.searchsorted(tags.t_ps, [start_ps, start_ps + length_ps])
    return tags.t_ps[lo:hi].astype(np.float64)


def coarse_offset(t_a: npt.NDArray[np.float64], t_b: npt.NDArray[np.float64], start_ps: float, length_ps: float,
                  bin_ps: float, max_offset_ps: float) -> tuple[float, float]:
    """(Δ to within ``bin_ps``, peak significance in σ) from the FFT cross-correlation of Alice's tags in
    [start, start + length) and Bob's in [start − max_offset, start + length + max_offset)."""
    n_a = int(math.ceil(length_ps / bin_ps))
    n_shift = int(math.ceil(max_offset_ps / bin_ps))
    n_b = n_a + 2 * n_shift
    size = 1 << int(math.ceil(math.log2(n_a + n_b)))
    if size > 1 << 27:
        raise ClockSyncError(f"coarse search of {n_b} bins is too large: widen coarse_bin_ps or narrow max_offset_ps")
    a = np.bincount(((t_a - start_ps) // bin_ps).astype(np.int64), minlength=n_a)[:n_a].astype(np.float64)
    b_idx = ((t_b - (start_ps - n_shift * bin_ps)) // bin_ps).astype(np.int64)
    b_idx = b_idx[(b_idx >= 0) & (b_idx < n_b)]
    b = np.bincount(b_idx, minlength=n_b)[:n_b].astype(np.float64)
    corr = np.fft.irfft(np.conj(np.fft.rfft(a, size)) * np.fft.rfft(b, size), size)[: 2 * n_shift + 1]
    peak = int(np.argmax(corr))
    others = np.delete(corr, np.arange(max(0, peak - 2), min(corr.size, peak + 3)))
    spread = float(others.std()) if others.size > 1 else 0.0
    significance = (float(corr[peak]) - float(others.mean())) / spread if spread > 0 else math.inf
    # sub-bin: the centroid of the peak and its neighbours (a pair's residual can straddle a bin edge)
    lo, hi = max(0, peak - 1), min(corr.size, peak + 2)
    w = corr[lo:hi] - (float(others.mean()) if others.size else 0.0)
    w = np.clip(w, 0, None)
    centre = float((np.arange(lo, hi) * w).sum() / w.sum()) if w.sum() > 0 else float(peak)
    return (centre - n_shift) * bin_ps, significance


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
        b0, b1 = np.searchsorted(t_b, [lo, hi])
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


def synchronise(alice: TimeTags, bob: TimeTags, *, max_offset_ps: float = 1e9, max_drift_ppm: float = 20.0,
                coarse_bin_ps: float = 2000.0, segment_ps: float = 2e10, min_significance: float = 8.0) -> ClockModel:
    """Find Bob's clock against Alice's from the tags alone: offset within ±``max_offset_ps``, relative
    drift within ±``max_drift_ppm`` (the coarse bins are widened so that this drift over one segment
    stays inside two bins)."""
    if len(alice) == 0 or len(bob) == 0:
        raise ClockSyncError("clock sync: a station recorded no tags")
    start, end = float(alice.t_ps[0]), float(alice.t_ps[-1])
    length = min(segment_ps, max(1.0, (end - start) / 4))
    coarse_bin_ps = max(coarse_bin_ps, 2.0 * max_drift_ppm * 1e-6 * length)

    def bob_near(at: float, reach: float) -> npt.NDArray[np.float64]:   # only the Bob tags a search can use
        return _segment(bob, at - reach - coarse_bin_ps, length + 2 * (reach + coarse_bin_ps))

    first, sig1 = coarse_offset(_segment(alice, start, length), bob_near(start, max_offset_ps), start, length,
                                coarse_bin_ps, max_offset_ps)
    if sig1 < min_significance:
        raise ClockSyncError(f"clock sync: no correlation peak ({sig1:.1f} σ < {min_significance:g} σ) within "
                             f"±{max_offset_ps:.3g} ps: the two files share no light, or the offset is larger")
    drift = 0.0
    late = end - length
    if late - start > 2 * length:
        # centred on zero, with a range that holds Δ plus the largest drift allowed over the run
        reach = abs(first) + 4 * coarse_bin_ps + 1.5 * max_drift_ppm * 1e-6 * (late - start)
        second, sig2 = coarse_offset(_segment(alice, late, length), bob_near(late, reach), late, length,
                                     coarse_bin_ps, reach)
        if sig2 >= min_significance:
            drift = (second - first) / (late - start)
    # Δ at t_A = 0 from the offset measured around the first segment's centre
    model = ClockModel(first - drift * (start + length / 2), drift, sig1)
    return refine(alice, bob, model, search_ps=2 * coarse_bin_ps)


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

    def feed(self, alice: TimeTags | None, bob: TimeTags | None, final: bool = False) -> Coincidences:
        """Add chunks (either may be None) and return the pairs that can no longer change."""
        if alice is not None and len(alice):
            self._a = TimeTags.concatenate([self._a, alice])
        if bob is not None and len(bob):
            self._b = TimeTags.concatenate([self._b, bob])
            self._b_taken = np.concatenate([self._b_taken, np.zeros(len(bob), bool)])
        if len(self._a) == 0:
            return _empty()
        mapped_b_end = float(self.model.to_alice(self._b.t_ps[-1:])[0]) if len(self._b) else -math.inf
        # an Alice tag is settled once Bob's stream has passed it by more than a window
        horizon = math.inf if final else mapped_b_end - self.window_ps
        n_a = len(self._a) if final else int(np.searchsorted(self._a.t_ps, horizon, side="left"))
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
            # later Alice tags lie at or after the horizon: Bob tags more than a window before it are done
            reach = self.model.offset_ps + (float(horizon) - self.window_ps) * (1.0 + self.model.drift)
            n_b = int(np.searchsorted(self._b.t_ps, reach, side="left"))
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


__all__ = ["ClockModel", "ClockSyncError", "CoincidenceMatcher", "Coincidences", "coarse_offset", "match",
           "match_reference", "match_stream", "refine", "synchronise"]
