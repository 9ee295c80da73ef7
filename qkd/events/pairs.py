"""Two-station time-tag emulator for an entanglement-based (BBM92) link fed by a CW-pumped SPDC source.

What each station's time tagger records, with nothing shared between the stations but the photons:

1. Pair emission: a Poisson process of rate μ · window_rate (``SpdcSource.mean_pairs`` per coincidence
   window times windows per second — for ``SpdcSource.continuous_wave`` exactly the pair rate), emission
   times uniform in [0, T). Independent pairs: the multimode (``poisson``) model of
   ``qkd.physics.entangled``; a single-mode pulsed (thermal) source is refused here.
2. Each photon of a pair crosses its arm (transmittance), meets a passive basis splitter (Z with
   probability ``p_z``) and its detector (efficiency). Bits: Alice's uniform; Bob's equal to hers when the
   bases match (flipped with the misalignment probability e_d = (1 − V)/2), uniform otherwise — the
   correlations of |Φ⁺⟩ measured in Z and X. Channel = basis·2 + bit (the BB84 receivers' convention).
3. Background: each of a station's four detectors dark-counts as a Poisson process of its rate.
4. Per detector, dead time (``qkd._native.detector_events``, no afterpulsing here), then Gaussian timing
   jitter, then the station's own clock: t_station = t · (1 + drift_ppm · 1e-6) + offset_ps, int64 ps.

Randomness: one ``numpy.random.Generator`` seeded from ``seed`` (recorded in each output's metadata).
Ground truth (which tags belong to one pair) is returned beside the tags for tests and benchmarks; a
receiver never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from qkd._native.detector_events import dead_time_afterpulse
from qkd.events.record import TimeTags, on_station_clock
from qkd.physics.detector import Detector
from qkd.physics.entangled import EntangledSourceError, SpdcSource

N_STATION_DETECTORS = 4   # Z0, Z1, X0, X1
NO_PAIR = -1              # ground-truth pair index of a background click


@dataclass(frozen=True)
class PairStation:
    """One station of an entanglement-based link.

    ``arm_transmittance``: from the source to the detectors, excluding detector efficiency (fibre or
    free-space channel times the station's optics). ``detector``: the model of each of its four
    detectors (efficiency, ``dark_count_rate_hz``, ``dead_time_ns``, ``jitter_ps``). ``p_z``: probability
    that the passive splitter sends a photon to the Z basis. ``clock_offset_ps`` / ``clock_drift_ppm``:
    the station's time tagger against true time.
    """

    name: str
    arm_transmittance: float
    detector: Detector = field(default_factory=lambda: Detector(name="snspd", efficiency=0.8,
                                                                 dark_count_rate_hz=100.0, jitter_ps=50.0,
                                                                 dead_time_ns=20.0, gated=False))
    p_z: float = 0.5
    clock_offset_ps: float = 0.0
    clock_drift_ppm: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.arm_transmittance <= 1:
            raise EntangledSourceError(f"station {self.name}: arm_transmittance must be in [0, 1], "
                                       f"got {self.arm_transmittance}")
        if not 0 < self.p_z < 1:
            raise EntangledSourceError(f"station {self.name}: p_z must be in (0, 1), got {self.p_z}")
        if abs(self.clock_drift_ppm) >= 1000:
            raise EntangledSourceError(f"station {self.name}: clock_drift_ppm must be below 1000 in magnitude, "
                                       f"got {self.clock_drift_ppm}")

    @property
    def efficiency(self) -> float:
        """Probability that a photon of a pair is detected at this station (arm × detector)."""
        return self.arm_transmittance * self.detector.efficiency


@dataclass(frozen=True)
class PairTruth:
    """Ground truth of a run: pairs emitted, and per station the pair index of every tag (``NO_PAIR`` for
    background clicks), aligned with that station's tags."""

    pairs_emitted: int
    alice_pair: npt.NDArray[np.int64]
    bob_pair: npt.NDArray[np.int64]
    lost_to_dead_time: tuple[int, int]

    def true_coincidences(self) -> int:
        """Pairs with a registered tag at both stations."""
        a = self.alice_pair[self.alice_pair != NO_PAIR]
        b = self.bob_pair[self.bob_pair != NO_PAIR]
        return int(np.intersect1d(a, b, assume_unique=False).size)


@dataclass(frozen=True)
class PairRun:
    alice: TimeTags
    bob: TimeTags
    truth: PairTruth


def _station_tags(rng: np.random.Generator, station: PairStation, duration_ps: float, t_pair: np.ndarray,
                  detected: np.ndarray, channel: np.ndarray, seed: int) -> tuple[TimeTags, np.ndarray, int]:
    det = station.detector
    t_sig = t_pair[detected]
    c_sig = channel[detected]
    idx_sig = np.flatnonzero(detected).astype(np.int64)
    n_dark = rng.poisson(det.dark_count_rate_hz * duration_ps * 1e-12 * N_STATION_DETECTORS)
    t_dark = rng.random(n_dark) * duration_ps
    c_dark = rng.integers(0, N_STATION_DETECTORS, n_dark).astype(np.uint8)
    t_all = np.concatenate([t_sig, t_dark])
    c_all = np.concatenate([c_sig, c_dark])
    p_all = np.concatenate([idx_sig, np.full(n_dark, NO_PAIR, np.int64)])
    lost = 0
    out_t, out_c, out_p = [], [], []
    for ch in range(N_STATION_DETECTORS):
        sel = np.flatnonzero(c_all == ch)
        order = sel[np.argsort(t_all[sel], kind="stable")]
        tc = np.ascontiguousarray(t_all[order])
        pc = p_all[order]
        if det.dead_time_ns > 0 and tc.size:
            kept_t, _, _, _, n_dead = dead_time_afterpulse(
                tc, det.dead_time_ns * 1e3, 0.0, 1.0, np.empty(0), np.empty(0), False, 1.0, -1e308, 1e308, np.inf)
            lost += int(n_dead)
            keep = np.isin(tc, kept_t)   # dead time only removes clicks: registered times are a subset
            tc, pc = tc[keep], pc[keep]
        out_t.append(tc)
        out_c.append(np.full(tc.size, ch, np.uint8))
        out_p.append(pc)
    t = np.concatenate(out_t)
    c = np.concatenate(out_c)
    p = np.concatenate(out_p)
    t_i = on_station_clock(t, jitter_ps=det.jitter_ps, clock_drift_ppm=station.clock_drift_ppm,
                           clock_offset_ps=station.clock_offset_ps, rng=rng)
    order = np.argsort(t_i, kind="stable")
    meta = {"seed": seed, "station": station.name, "units": "ps", "source": "qshift pair emulator",
            "channels": "basis*2+bit (Z0, Z1, X0, X1)"}
    return TimeTags(t_i[order], c[order], meta), p[order], lost


def emulate_pairs(source: SpdcSource, alice: PairStation, bob: PairStation, duration_s: float,
                  seed: int, *, intercept_resend_fraction: float = 0.0) -> PairRun:
    """Both stations' time tags for ``duration_s`` seconds of a CW entangled-pair link (module docstring).

    ``intercept_resend_fraction``: the fraction of Bob's photons an eavesdropper on his arm measures in a
    random basis (Z or X) and resends as the state she found: her result equals Alice's bit when she chose
    Alice's basis and is random otherwise; Bob then reads her state (random in the other basis)."""
    if not 0 <= intercept_resend_fraction <= 1:
        raise EntangledSourceError(f"pair emulator: intercept_resend_fraction must be in [0, 1], "
                                   f"got {intercept_resend_fraction}")
    if source.statistics != "poisson":
        raise EntangledSourceError("pair emulator: models a CW (multimode, Poissonian) source; "
                                   f"got statistics={source.statistics!r}")
    if not 0 < duration_s <= 100:
        raise EntangledSourceError(f"pair emulator: duration_s must be in (0, 100] s, got {duration_s}")
    rng = np.random.default_rng(seed)
    duration_ps = duration_s * 1e12
    rate_hz = source.mean_pairs * source.window_rate_hz
    n = int(rng.poisson(rate_hz * duration_s))
    t_pair = np.sort(rng.random(n)) * duration_ps
    basis_a = (rng.random(n) >= alice.p_z).astype(np.uint8)
    basis_b = (rng.random(n) >= bob.p_z).astype(np.uint8)
    bit_a = rng.integers(0, 2, n, dtype=np.uint8)
    flip = (rng.random(n) < source.misalignment_error).astype(np.uint8)
    bit_b = np.where(basis_a == basis_b, bit_a ^ flip, rng.integers(0, 2, n, dtype=np.uint8)).astype(np.uint8)
    if intercept_resend_fraction > 0:
        eve = rng.random(n) < intercept_resend_fraction
        basis_e = rng.integers(0, 2, n, dtype=np.uint8)
        bit_e = np.where(basis_e == basis_a, bit_a, rng.integers(0, 2, n, dtype=np.uint8))
        resent = np.where(basis_b == basis_e, bit_e ^ flip, rng.integers(0, 2, n, dtype=np.uint8))
        bit_b = np.where(eve, resent, bit_b).astype(np.uint8)
    det_a = rng.random(n) < alice.efficiency
    det_b = rng.random(n) < bob.efficiency
    tags_a, pair_a, lost_a = _station_tags(rng, alice, duration_ps, t_pair, det_a, basis_a * 2 + bit_a, seed)
    tags_b, pair_b, lost_b = _station_tags(rng, bob, duration_ps, t_pair, det_b, basis_b * 2 + bit_b, seed)
    return PairRun(tags_a, tags_b, PairTruth(n, pair_a, pair_b, (lost_a, lost_b)))


__all__ = ["NO_PAIR", "PairRun", "PairStation", "PairTruth", "emulate_pairs"]
