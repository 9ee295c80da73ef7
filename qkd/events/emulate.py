"""Detector-event emulator: what a decoy-state BB84 link's hardware records, without looping over pulses.

Per chunk of slots the emulator samples *detections* directly:

1. Signal clicks. Slot k of intensity class i gives a click with p_i = 1 − exp(−η μ_i) (η = channel ×
   receiver × detector efficiency, [MQZL05] Sec. II). Candidate slots are drawn as a Bernoulli process of
   rate p_max = max_i p_i by geometric gaps (O(detections), not O(slots)), the transmitter's record is
   computed at the candidates only (Philox keyed by slot), and candidates are kept with p_i/p_max — exact
   thinning of the per-slot probability. Intensity fluctuation multiplies μ per pulse by a Gaussian factor.
2. Bob's passive basis choice, the misalignment error, and an optional intercept-resend Eve decide the
   detector (channel = basis·2 + bit). Further detected photons of multi-photon pulses (probability
   ≈ λ/2 per detection, λ = ημ) fire further detectors: double clicks, as real threshold detectors give.
3. Dark/background clicks per detector, again by geometric gaps, uniform inside the gate (gated) or the
   slot (free-running).
4. Per detector, dead time and afterpulsing (compiled, ``qkd._native.detector_events``), then Gaussian
   timing jitter, then the receiver clock: t_rx = t·(1 + drift·1e-6) + offset, rounded to int64 ps.

Free-space channels with turbulence are emulated in chunks no longer than their fading window, each chunk
with its own lognormal transmittance factor.

Randomness: the transmitter's record comes from Philox keyed by the run ``seed``; everything else from a
``numpy.random.Generator`` seeded from the same seed. The seed is recorded in the output metadata.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qkd._native.detector_events import dead_time_afterpulse
from qkd.events.record import PhiloxTransmitterRecord, TimeTags, on_station_clock
from qkd.physics.link import N_DETECTORS, Link

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SLOTS = 1 << 26
_GEOMETRIC_MIN_P = 1e-12   # below this, geometric gaps (mean 1/p) over a long run approach int64's range


def bernoulli_positions(rng: np.random.Generator, start: int, stop: int, p: float) -> np.ndarray:
    """Indices in [start, stop) of a Bernoulli(p) process, drawn by geometric gaps (int64, sorted)."""
    if p <= 0 or stop <= start:
        return np.empty(0, dtype=np.int64)
    if p >= 1:
        return np.arange(start, stop, dtype=np.int64)
    n = stop - start
    if p < _GEOMETRIC_MIN_P:
        # Geometric gaps of mean 1/p no longer fit in int64 (numpy saturates them at 2**63 - 1 and the
        # running sum wraps): draw the count, then its positions, which given the count are uniform
        # without replacement — the same Bernoulli process.
        k = int(rng.binomial(n, p))
        return np.sort(start + rng.choice(n, size=k, replace=False).astype(np.int64))
    expected = n * p
    parts = []
    pos = start - 1
    while True:
        m = int(expected + 6 * math.sqrt(expected) + 16)
        steps = pos + np.cumsum(rng.geometric(p, size=m), dtype=np.int64)
        parts.append(steps[steps < stop])
        if steps[-1] >= stop:
            break
        pos = int(steps[-1])
        expected = (stop - pos) * p
    return np.concatenate(parts)


@dataclass
class EmulationStats:
    """Ground truth counted by the emulator (not available to the receiver)."""

    n_slots: int = 0
    signal_clicks: int = 0
    dark_clicks: int = 0
    afterpulses: int = 0
    lost_to_dead_time: int = 0
    eve_intercepted: int = 0
    multi_photon_clicks: int = 0

    def add(self, other: EmulationStats) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class EmulatedRun:
    """Emulator output: the receiver's time tags, the transmitter's record, the seed and ground truth."""

    tags: TimeTags
    tx: PhiloxTransmitterRecord
    seed: int
    stats: EmulationStats = field(default_factory=EmulationStats)


class DetectorEventEmulator:
    """Chunked emulator of ``link`` for ``n_slots`` slots with ``seed``; iterate :meth:`chunks` or call
    :meth:`run`."""

    def __init__(self, link: Link, n_slots: int, seed: int, chunk_slots: int = DEFAULT_CHUNK_SLOTS) -> None:
        if n_slots <= 0:
            raise ValueError(f"n_slots must be > 0, got {n_slots}")
        self.link = link
        self.n_slots = int(n_slots)
        self.seed = int(seed)
        self.chunk_slots = int(chunk_slots)
        src = link.source
        self.tx = PhiloxTransmitterRecord(self.seed, self.n_slots, src.period_ps, src.intensities,
                                          src.intensity_probabilities, src.p_z)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, 0xE3])))
        self.rng_multi = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, 0x3D])))
        self.stats = EmulationStats()
        self._state = [(-1e308, 1e308)] * N_DETECTORS
        self._held = TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))

    # -- one chunk ---------------------------------------------------------------------------------
    def _signal(self, s0: int, s1: int, eta_ch: float) -> tuple[np.ndarray, np.ndarray, EmulationStats]:
        link, rng, src = self.link, self.rng, self.link.source
        st = EmulationStats()
        eta = eta_ch * link.eta_bob
        mus = np.asarray(src.intensities)
        sig = src.intensity_fluctuation_rel
        p_cls = -np.expm1(-eta * mus)
        p_max = float(-math.expm1(-eta * mus[0] * (1 + 6 * sig)))
        cand = bernoulli_positions(rng, s0, s1, p_max)
        a_basis, a_bit, a_int = self.tx.at(cand)
        if sig > 0:
            f = np.maximum(rng.normal(1.0, sig, cand.size), 0.0)
            lam_all = eta * mus[a_int] * f
            p = -np.expm1(-lam_all)
        else:
            lam_all = eta * mus[a_int]
            p = p_cls[a_int]
        keep = rng.random(cand.size) * p_max < p
        slots, a_basis, a_bit = cand[keep], a_basis[keep], a_bit[keep]
        lam = lam_all[keep]
        n = slots.size
        st.signal_clicks = n
        b_basis = (rng.random(n) >= link.bob_p_z).astype(np.uint8)
        # the state arriving at Bob: Alice's, or Eve's re-prepared one
        s_basis, s_bit = a_basis, a_bit
        f_eve = link.intercept_resend_fraction
        if f_eve > 0:
            hit = rng.random(n) < f_eve
            st.eve_intercepted = int(hit.sum())
            e_basis = rng.integers(0, 2, n, dtype=np.uint8)
            e_bit = np.where(e_basis == a_basis, a_bit, rng.integers(0, 2, n, dtype=np.uint8)).astype(np.uint8)
            s_basis = np.where(hit, e_basis, a_basis).astype(np.uint8)
            s_bit = np.where(hit, e_bit, a_bit).astype(np.uint8)
        flip = (rng.random(n) < link.channel.misalignment_error).astype(np.uint8)
        rand_bit = rng.integers(0, 2, n, dtype=np.uint8)
        b_bit = np.where(b_basis == s_basis, s_bit ^ flip, rand_bit).astype(np.uint8)
        code = (b_basis * 2 + b_bit).astype(np.uint8)
        x_pulse, x_code = self._extra_photons(lam, s_basis, s_bit, code)
        st.multi_photon_clicks = int(x_pulse.size)
        st.signal_clicks += int(x_pulse.size)
        t = np.concatenate([slots, slots[x_pulse]]).astype(np.float64) * src.period_ps
        return t, np.concatenate([code, x_code]), st

    def _extra_photons(self, lam: np.ndarray, s_basis: np.ndarray, s_bit: np.ndarray,
                       code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Clicks of the 2nd, 3rd, … detected photon of multi-photon pulses (index of the detected pulse,
        detector code). Given at least one detected photon, a pulse of mean detected photon number λ = ημ
        holds k ≥ 2 with probability 1 − λe^{−λ}/(1 − e^{−λ}) (Poisson); each further photon takes Bob's
        passive basis split, the misalignment flip and the state (Alice's or Eve's) independently, and a
        detector already fired by the pulse does not fire twice (threshold detectors). These are the
        double clicks the squashing-model rule in sifting resolves. Drawn from a separate generator so that
        the single-photon stream is the same as without them."""
        link, rng = self.link, self.rng_multi
        n = lam.size
        if n == 0:
            return np.empty(0, np.int64), np.empty(0, np.uint8)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_multi = np.where(lam > 1e-12, 1.0 + lam * np.exp(-lam) / np.expm1(-lam), lam / 2.0)
        idx = np.flatnonzero(rng.random(n) < p_multi)
        if idx.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.uint8)
        # k | k ≥ 2 by inverse CDF of the Poisson tail (λ ≤ ~1: 24 terms are ample)
        ks = np.arange(2, 26)
        lk = lam[idx][:, None]
        log_pmf = ks[None, :] * np.log(lk) - lk - np.cumsum(np.log(np.arange(1, 26)))[1:][None, :]
        pmf = np.exp(log_pmf)
        cdf = np.cumsum(pmf, axis=1) / pmf.sum(axis=1, keepdims=True)
        k = ks[np.minimum((cdf < rng.random(idx.size)[:, None]).sum(axis=1), ks.size - 1)]
        pulse = np.repeat(idx, k - 1)
        m = pulse.size
        basis = (rng.random(m) >= link.bob_p_z).astype(np.uint8)
        flip = (rng.random(m) < link.channel.misalignment_error).astype(np.uint8)
        bit = np.where(basis == s_basis[pulse], s_bit[pulse] ^ flip, rng.integers(0, 2, m, dtype=np.uint8))
        key = np.unique(pulse.astype(np.int64) * N_DETECTORS + basis * 2 + bit)
        key = key[key != (key // N_DETECTORS) * N_DETECTORS + code[key // N_DETECTORS]]   # detector already fired
        return key // N_DETECTORS, (key % N_DETECTORS).astype(np.uint8)

    def _dark(self, s0: int, s1: int) -> tuple[np.ndarray, np.ndarray, int]:
        link, rng = self.link, self.rng
        p = link.background_probability_per_detector()
        period = link.source.period_ps
        width = link.detector.gate_width_ps if link.detector.gated else period
        ts, cs = [], []
        for ch in range(N_DETECTORS):
            pos = bernoulli_positions(rng, s0, s1, p)
            ts.append(pos * period + (rng.random(pos.size) - 0.5) * width)
            cs.append(np.full(pos.size, ch, np.uint8))
        t = np.concatenate(ts)
        return t, np.concatenate(cs), int(t.size)

    def _chunk(self, s0: int, s1: int, eta_ch: float, last: bool) -> TimeTags:
        link, rng = self.link, self.rng
        det, period = link.detector, link.source.period_ps
        t_sig, c_sig, st = self._signal(s0, s1, eta_ch)
        t_dark, c_dark, st.dark_clicks = self._dark(s0, s1)
        t_all = np.concatenate([t_sig, t_dark])
        c_all = np.concatenate([c_sig, c_dark])
        until = math.inf if last else s1 * period - period / 2
        out_t, out_c = [], []
        for ch in range(N_DETECTORS):
            sel = c_all == ch
            tc = np.sort(t_all[sel])
            last_ps, pending = self._state[ch]
            if det.dead_time_ns > 0 or det.afterpulse_probability > 0:
                m = tc.size + 1
                u_ap, u_delay = rng.random(m), rng.random(m)
                u_delay = np.maximum(u_delay, 1e-300)
                tc, flags, last_ps, pending, n_dead = dead_time_afterpulse(
                    tc, det.dead_time_ns * 1e3, det.afterpulse_probability, det.afterpulse_decay_ns * 1e3,
                    u_ap, u_delay, det.gated, period, last_ps, pending, until)
                st.afterpulses += int(flags.sum())
                st.lost_to_dead_time += int(n_dead)
                self._state[ch] = (last_ps, pending)
            out_t.append(tc)
            out_c.append(np.full(tc.size, ch, np.uint8))
        t = np.concatenate(out_t)
        c = np.concatenate(out_c)
        t_i = on_station_clock(t, jitter_ps=det.jitter_ps, clock_drift_ppm=link.clock_drift_ppm,
                               clock_offset_ps=link.clock_offset_ps, rng=rng)
        st.n_slots = s1 - s0
        self.stats.add(st)
        # merge with tags held back from the previous chunk and keep the tail back (jitter may reorder
        # tags across the chunk boundary)
        t_i = np.concatenate([self._held.t_ps, t_i])
        c = np.concatenate([self._held.channel, c])
        order = np.argsort(t_i, kind="stable")
        t_i, c = t_i[order], c[order]
        if last:
            self._held = TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
            return TimeTags(t_i, c)
        horizon = ((s1 * period - period - 8 * det.jitter_ps - det.gate_width_ps)
                   * (1.0 + link.clock_drift_ppm * 1e-6) + link.clock_offset_ps)
        cut = int(np.searchsorted(t_i, horizon, side="left"))
        self._held = TimeTags(t_i[cut:], c[cut:])
        return TimeTags(t_i[:cut], c[:cut])

    def chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[TimeTags]:
        """Time tags chunk by chunk (time-ordered across chunks). ``progress(n_slots_done)`` is called
        after each chunk."""
        period_s = self.link.source.period_ps * 1e-12
        step = self.chunk_slots
        window_s = getattr(self.link.channel, "fading_window_s", None)
        if window_s is not None and getattr(self.link.channel, "scintillation_log_variance", 0.0) > 0:
            # one chunk per turbulence window, so that each window gets its own fading factor
            step = max(1, min(step, int(round(window_s / period_s))))
        s0 = 0
        while s0 < self.n_slots:
            s1 = min(s0 + step, self.n_slots)
            eta_ch = float(self.link.channel.transmittance_windows(s0 * period_s, (s1 - s0) * period_s, 1,
                                                                   self.rng)[0])
            tags = self._chunk(s0, s1, eta_ch, last=s1 >= self.n_slots)
            if progress is not None:
                progress(s1)
            yield tags
            s0 = s1

    def metadata(self) -> dict[str, Any]:
        """Provenance of the run: seed, link, transmitter record description."""
        return {"seed": self.seed, "n_slots": self.n_slots, "units": "ps", "source": "qshift emulator",
                "link": repr(self.link), "tx": self.tx.describe()}

    def run(self, progress: Callable[[int], None] | None = None) -> EmulatedRun:
        """Emulate all slots and return the collected :class:`EmulatedRun`."""
        tags = TimeTags.concatenate(list(self.chunks(progress)), self.metadata())
        log.info("emulated link", extra={"event": "qkd.emulate", "seed": self.seed, "n_slots": self.n_slots,
                                         "n_tags": len(tags)})
        return EmulatedRun(tags, self.tx, self.seed, self.stats)


def emulate(link: Link, n_slots: int, seed: int, chunk_slots: int = DEFAULT_CHUNK_SLOTS,
            progress: Callable[[int], None] | None = None) -> EmulatedRun:
    """Emulate ``n_slots`` slots of ``link`` with ``seed`` (see the module docstring)."""
    return DetectorEventEmulator(link, n_slots, seed, chunk_slots).run(progress)
