"""Entangled-pair (SPDC) sources and closed-form BBM92 theory: coincidence gain, QBER, key rate, CHSH.

Model (one coincidence window = one "pulse"; BBM92 with passive or active basis choice at both stations,
each station with two threshold detectors, double clicks assigned a random bit — the squashing model):

* A polarisation-entangled SPDC source emits, per window, pairs into two polarisation modes (H and V
  in the Z basis; by the rotational symmetry of |Φ⁺⟩ the same holds in X). Per mode the pair number is

  - **thermal** (a pulsed single-temporal-mode source, two independent two-mode squeezers): geometric
    with mean λ per mode, so the total pair number has P(n) = (n+1) λⁿ / (1+λ)ⁿ⁺² and mean μ = 2λ
    ([MFL07] Eq. 2);
  - **poisson** (many temporal modes inside the window, e.g. a CW pump with a window ≫ the coherence
    time): independent pairs, Poisson with mean μ/2 per mode.

  A thermal count is a Poisson count whose mean is itself exponentially distributed, so both cases are
  one computation: given the mode means, the photons of a mode split into independent Poisson streams
  (detected at A only, at B only, at both; routed to the wrong detector at B with the misalignment
  probability e_d = (1 − V)/2 for a source of visibility V), and a detector is silent iff every stream
  feeding it is empty and it did not dark-count. The probability that a set of detectors is silent is
  then exp(−Σ rates) (poisson) or Π_modes 1/(1 + λ R_mode) (thermal, the exponential mean integrated
  out); the probability of each of the 16 click patterns follows by inclusion–exclusion. This is exact
  for the model — no truncation of the pair number.
* Gain Q = P(at least one click at each station); QBER E = P(the two bits differ | both clicked), a
  single click giving its detector's bit and a double click a uniformly random one.
* Key rate (asymptotic, [MFL07] Eq. 11 with Koashi–Preskill for a basis-independent source):
  R = q · Q · [1 − f H₂(E) − H₂(E)] secret bits per window, q the fraction of windows whose bases match
  (½ for ½/½ basis choice; p_z² + (1 − p_z)² for biased choice with both bases kept).
* CHSH: for a Werner state of visibility V, S = 2√2 · V (Clauser, Horne, Shimony, Holt, PRL 23, 880
  (1969); Horodecki, PLA 200, 340 (1995)); with the measured correlation E_corr = 1 − 2E in each basis,
  S = 2√2 (1 − 2E). S > 2 certifies entanglement; S ≤ 2 on a link is an alarm.

References:

* [MFL07] X. Ma, C.-H. F. Fung, H.-K. Lo, "Quantum key distribution with entangled photon sources",
  PRA 76, 012307 (2007): Eqs. 9–10 give, for the thermal source with detector efficiencies η_A, η_B and
  background probabilities Y₀A, Y₀B, Q_λ = 1 − (1−Y₀A)/(1+η_Aλ)² − (1−Y₀B)/(1+η_Bλ)² +
  (1−Y₀A)(1−Y₀B)/(1+η_Aλ+η_Bλ−η_Aη_Bλ)² and E_λQ_λ = e₀Q_λ − 2(e₀−e_d)η_Aη_Bλ(1+λ)/[(1+η_Aλ)(1+η_Bλ)
  (1+η_Aλ+η_Bλ−η_Aη_Bλ)]. :func:`mfl_thermal_gain_qber` states them; the general computation above must
  agree with them (a test checks it).

Units: probabilities per coincidence window (dimensionless); pair rates in pairs/s; windows in ps; key
rates in secret bits per window or bits/s where the name says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from qkd.errors import QkdError
from qkd.physics.keyrate import binary_entropy

PairStatistics = Literal["thermal", "poisson"]
SourcePlacement = Literal["middle", "alice"]
E0 = 0.5   # error rate of a click carrying no correlation (dark count, random double-click bit)

# Detector indices of the click pattern: Alice's bit-0 and bit-1 detectors, then Bob's.
A0, A1, B0, B1 = 0, 1, 2, 3


class EntangledSourceError(QkdError):
    """An entangled-source or BBM92 parameter is out of range (message names it and its value)."""


@dataclass(frozen=True)
class SpdcSource:
    """A polarisation-entangled SPDC pair source.

    ``mean_pairs`` μ: mean number of pairs per coincidence window (pulsed: per pulse). ``statistics``:
    ``thermal`` (pulsed, single temporal mode) or ``poisson`` (multimode, CW). ``visibility`` V of the
    two-photon interference (1 = ideal |Φ⁺⟩); it sets the misalignment error e_d = (1 − V)/2.
    ``placement``: ``middle`` (each arm crosses its own channel to its station) or ``alice`` (the source
    sits at Alice's station; only Bob's arm crosses the channel). ``window_rate_hz``: coincidence windows
    per second (the pulse rate, or 1 / window for a CW source).
    """

    mean_pairs: float = 0.05
    statistics: PairStatistics = "thermal"
    visibility: float = 0.98
    placement: SourcePlacement = "middle"
    window_rate_hz: float = 1.0e8

    def __post_init__(self) -> None:
        if not 0 < self.mean_pairs < 10:
            raise EntangledSourceError(f"SPDC source: mean_pairs must be in (0, 10) pairs per window, "
                                       f"got {self.mean_pairs}")
        if self.statistics not in ("thermal", "poisson"):
            raise EntangledSourceError(f"SPDC source: statistics must be 'thermal' or 'poisson', "
                                       f"got {self.statistics!r}")
        if not 0 <= self.visibility <= 1:
            raise EntangledSourceError(f"SPDC source: visibility must be in [0, 1], got {self.visibility}")
        if self.placement not in ("middle", "alice"):
            raise EntangledSourceError(f"SPDC source: placement must be 'middle' or 'alice', got {self.placement!r}")
        if not self.window_rate_hz > 0:
            raise EntangledSourceError(f"SPDC source: window_rate_hz must be > 0, got {self.window_rate_hz}")

    @classmethod
    def continuous_wave(cls, pair_rate_hz: float, coincidence_window_ps: float, *, visibility: float = 0.98,
                        placement: SourcePlacement = "middle") -> SpdcSource:
        """A CW-pumped source of ``pair_rate_hz`` pairs/s seen through coincidence windows of
        ``coincidence_window_ps``: μ = rate × window, Poissonian (many temporal modes per window)."""
        if not pair_rate_hz > 0 or not coincidence_window_ps > 0:
            raise EntangledSourceError(f"CW SPDC source: pair_rate_hz ({pair_rate_hz}) and coincidence_window_ps "
                                       f"({coincidence_window_ps}) must be > 0")
        window_s = coincidence_window_ps * 1e-12
        return cls(mean_pairs=pair_rate_hz * window_s, statistics="poisson", visibility=visibility,
                   placement=placement, window_rate_hz=1.0 / window_s)

    @property
    def misalignment_error(self) -> float:
        """e_d = (1 − V)/2: probability that a photon of a pair reaches the wrong detector at Bob."""
        return (1.0 - self.visibility) / 2.0

    def pair_number_probability(self, n: int) -> float:
        """P(n pairs in a window): (n+1) λⁿ/(1+λ)ⁿ⁺² with λ = μ/2 (thermal, [MFL07] Eq. 2) or Poisson(μ)."""
        if n < 0:
            return 0.0
        if self.statistics == "poisson":
            return math.exp(-self.mean_pairs + n * math.log(self.mean_pairs) - math.lgamma(n + 1))
        lam = self.mean_pairs / 2.0
        return (n + 1) * lam ** n / (1.0 + lam) ** (n + 2)


@dataclass(frozen=True)
class StationDetection:
    """One station's detection: ``efficiency`` η is the whole arm's transmittance times the detectors'
    efficiency (both detectors alike); ``dark_probability`` is each detector's probability of a
    background click per coincidence window."""

    efficiency: float
    dark_probability: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.efficiency <= 1:
            raise EntangledSourceError(f"station: efficiency must be in [0, 1], got {self.efficiency}")
        if not 0 <= self.dark_probability < 1:
            raise EntangledSourceError(f"station: dark_probability must be in [0, 1), got {self.dark_probability}")

    @property
    def background_yield(self) -> float:
        """Y₀ = 1 − (1 − p_dark)²: probability that either of the station's two detectors dark-counts."""
        return 1.0 - (1.0 - self.dark_probability) ** 2


@dataclass(frozen=True)
class Bbm92Figures:
    """Per coincidence window: gain ``gain`` (Q), QBER ``qber`` (E), ``double_click_probability`` at
    either station (given a coincidence), the CHSH value those correlations imply, and
    ``accidental_gain``: P(A clicks) · P(B clicks), the coincidences two uncorrelated click streams with the
    same singles would give (the experimenters' "accidentals", singles_A × singles_B × window)."""

    gain: float
    qber: float
    double_click_probability: float
    accidental_gain: float = 0.0

    @property
    def chsh(self) -> float:
        return chsh_from_qber(self.qber)

    @property
    def signal_to_noise(self) -> float:
        """(Q − accidentals) / accidentals: the coincidence signal-to-noise ratio experiments report
        (e.g. 15:1 in Yin et al., Nature 582, 501 (2020)); infinite without accidentals."""
        if self.accidental_gain <= 0.0:
            return math.inf
        return (self.gain - self.accidental_gain) / self.accidental_gain


def _streams(eta_a: float, eta_b: float, e_d: float) -> list[tuple[float, tuple[int, ...], tuple[int, ...]]]:
    """The independent photon streams of one polarisation mode, per unit of the mode's mean pair number:
    (rate, detectors fed when the mode is bit 0, detectors fed when it is bit 1)."""
    both = eta_a * eta_b
    a_only = eta_a * (1.0 - eta_b)
    b_only = (1.0 - eta_a) * eta_b
    return [
        (both * (1.0 - e_d), (A0, B0), (A1, B1)),   # both photons detected, Bob's on the right detector
        (both * e_d, (A0, B1), (A1, B0)),           # both detected, Bob's misrouted
        (a_only, (A0,), (A1,)),
        (b_only * (1.0 - e_d), (B0,), (B1,)),
        (b_only * e_d, (B1,), (B0,)),
    ]


def click_pattern_probabilities(source: SpdcSource, alice: StationDetection,
                                bob: StationDetection) -> dict[tuple[bool, bool, bool, bool], float]:
    """P(click pattern) per window over the four detectors (A0, A1, B0, B1), all 16 patterns.

    Exact for the model of the module docstring (inclusion–exclusion over silent sets)."""
    streams = _streams(alice.efficiency, bob.efficiency, source.misalignment_error)
    dark = (alice.dark_probability, alice.dark_probability, bob.dark_probability, bob.dark_probability)
    lam = source.mean_pairs / 2.0   # mean pairs per polarisation mode

    def all_silent(silent: frozenset[int]) -> float:
        """P(every detector in ``silent`` stays silent)."""
        no_dark = math.prod(1.0 - dark[d] for d in silent)
        rates = [sum(r for r, feeds, _ in streams if silent.intersection(feeds)),
                 sum(r for r, _, feeds in streams if silent.intersection(feeds))]
        if source.statistics == "poisson":
            return no_dark * math.exp(-lam * (rates[0] + rates[1]))
        return no_dark / ((1.0 + lam * rates[0]) * (1.0 + lam * rates[1]))

    detectors = (A0, A1, B0, B1)
    cache: dict[frozenset[int], float] = {}
    out: dict[tuple[bool, bool, bool, bool], float] = {}
    for a0, a1, b0, b1 in itertools.product((False, True), repeat=4):
        pattern = (a0, a1, b0, b1)
        clicked = [d for d in detectors if pattern[d]]
        silent = frozenset(d for d in detectors if not pattern[d])
        p = 0.0
        for k in range(len(clicked) + 1):
            for extra in itertools.combinations(clicked, k):
                key = silent | frozenset(extra)
                if key not in cache:
                    cache[key] = all_silent(key)
                p += (-1) ** k * cache[key]
        out[pattern] = max(p, 0.0)
    return out


def _bit_one_probability(c0: bool, c1: bool) -> float:
    """P(bit = 1) of a station that clicked: its detector's bit, or a fair coin on a double click."""
    return 0.5 if (c0 and c1) else (1.0 if c1 else 0.0)


def bbm92_figures(source: SpdcSource, alice: StationDetection, bob: StationDetection) -> Bbm92Figures:
    """Gain, QBER, double-click and accidental-coincidence probabilities of a BBM92 link (per window,
    bases matched)."""
    gain = errors = doubles = singles_a = singles_b = 0.0
    for (a0, a1, b0, b1), p in click_pattern_probabilities(source, alice, bob).items():
        singles_a += p if (a0 or a1) else 0.0
        singles_b += p if (b0 or b1) else 0.0
        if not (a0 or a1) or not (b0 or b1):
            continue
        pa, pb = _bit_one_probability(a0, a1), _bit_one_probability(b0, b1)
        gain += p
        errors += p * (pa * (1.0 - pb) + pb * (1.0 - pa))
        if (a0 and a1) or (b0 and b1):
            doubles += p
    if gain <= 0.0:
        return Bbm92Figures(0.0, E0, 0.0, singles_a * singles_b)
    return Bbm92Figures(gain, errors / gain, doubles / gain, singles_a * singles_b)


def mfl_thermal_gain_qber(lam: float, eta_a: float, eta_b: float, y0_a: float, y0_b: float,
                          e_d: float) -> tuple[float, float]:
    """[MFL07] Eqs. 9–10 (thermal source, λ = mean pairs per mode = μ/2): (Q_λ, E_λ)."""
    da, db = 1.0 + eta_a * lam, 1.0 + eta_b * lam
    dab = 1.0 + eta_a * lam + eta_b * lam - eta_a * eta_b * lam
    q = 1.0 - (1.0 - y0_a) / da ** 2 - (1.0 - y0_b) / db ** 2 + (1.0 - y0_a) * (1.0 - y0_b) / dab ** 2
    eq = E0 * q - 2.0 * (E0 - e_d) * eta_a * eta_b * lam * (1.0 + lam) / (da * db * dab)
    return q, (eq / q if q > 0 else E0)


def arm_efficiencies(source: SpdcSource, channel_a: float, channel_b: float, detector_a: float,
                     detector_b: float) -> tuple[float, float]:
    """η_A, η_B for the source's placement. ``channel_a`` / ``channel_b``: transmittance from the middle
    of the route to each station (source in the middle); with the source at Alice, Alice's photon sees
    only her detector and Bob's crosses the whole route (transmittance ``channel_a · channel_b``)."""
    if source.placement == "alice":
        return detector_a, channel_a * channel_b * detector_b
    return channel_a * detector_a, channel_b * detector_b


def bbm92_key_rate(figures: Bbm92Figures, *, f_ec: float = 1.16, basis_match: float = 0.5) -> float:
    """Asymptotic secret bits per window, R = q Q [1 − f H₂(E) − H₂(E)] ([MFL07] Eq. 11), ≥ 0."""
    if figures.gain <= 0.0:
        return 0.0
    h = float(binary_entropy(figures.qber))
    return max(0.0, basis_match * figures.gain * (1.0 - f_ec * h - h))


@dataclass(frozen=True)
class CwOperatingPoint:
    """A symmetric CW entangled-pair link that reproduces measured figures: the ``source`` (pair rate,
    window, visibility), each ``station`` (arm transmittance × receiver efficiency, background
    probability per window), the ``background_rate_hz`` per detector behind that probability, and the
    ``figures`` of the model at that point."""

    source: SpdcSource
    station: StationDetection
    background_rate_hz: float
    figures: Bbm92Figures

    @property
    def two_photon_loss_db(self) -> float:
        """Loss of both arms together, receivers included (dB): −10 log₁₀ η_A η_B."""
        return -20.0 * math.log10(self.station.efficiency)

    @property
    def coincidence_rate_hz(self) -> float:
        return self.figures.gain * self.source.window_rate_hz


def _bisect(fn: Callable[[float], float], lo: float, hi: float, *, geometric: bool, steps: int = 100) -> float:
    """A root of ``fn`` (which changes sign between ``lo`` and ``hi``) by bisection, arithmetic or geometric."""
    f_lo = fn(lo)
    for _ in range(steps):
        mid = math.sqrt(lo * hi) if geometric else (lo + hi) / 2.0
        f_mid = fn(mid)
        if (f_mid > 0.0) == (f_lo > 0.0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return math.sqrt(lo * hi) if geometric else (lo + hi) / 2.0


def cw_operating_point(pair_rate_hz: float, coincidence_window_ps: float, *, coincidence_rate_hz: float,
                       signal_to_noise: float, qber: float, rounds: int = 12,
                       rel_tol: float = 1e-4) -> CwOperatingPoint:
    """The symmetric CW link (both stations alike) whose model figures are the measured coincidence rate
    (Hz, accidentals included), signal-to-noise ratio (:attr:`Bbm92Figures.signal_to_noise`) and QBER,
    for a source of ``pair_rate_hz`` seen through windows of ``coincidence_window_ps``.

    Experiments report these three figures rather than the loss, background and visibility behind them;
    this inverts :func:`bbm92_figures` for those three parameters by alternating bisections (the rate
    rises with the arm efficiency, the signal-to-noise ratio falls with the background, the QBER falls
    with the visibility), ``rounds`` times. Raises :class:`EntangledSourceError` when no point of the model
    reproduces the figures within ``rel_tol`` (a rate above the pair rate, a signal-to-noise ratio above
    what multi-pair emission allows, a QBER below the accidentals' floor)."""
    if not pair_rate_hz > 0 or not coincidence_window_ps > 0:
        raise EntangledSourceError(f"operating point: pair_rate_hz ({pair_rate_hz}) and coincidence_window_ps "
                                   f"({coincidence_window_ps}) must be > 0")
    if not 0 < coincidence_rate_hz < pair_rate_hz:
        raise EntangledSourceError(f"operating point: coincidence_rate_hz must be in (0, pair_rate_hz = "
                                   f"{pair_rate_hz:g}), got {coincidence_rate_hz}")
    if not signal_to_noise > 0 or not 0 < qber < E0:
        raise EntangledSourceError(f"operating point: signal_to_noise must be > 0 (got {signal_to_noise}) and "
                                   f"qber in (0, 0.5) (got {qber})")
    window_s = coincidence_window_ps * 1e-12

    def figures(eta: float, p_dark: float, visibility: float) -> tuple[SpdcSource, Bbm92Figures]:
        src = SpdcSource.continuous_wave(pair_rate_hz, coincidence_window_ps, visibility=visibility)
        station = StationDetection(eta, p_dark)
        return src, bbm92_figures(src, station, station)

    def rate_gap(eta: float, p_dark: float, visibility: float) -> float:
        src, fig = figures(eta, p_dark, visibility)
        return fig.gain * src.window_rate_hz - coincidence_rate_hz

    def snr_gap(p_dark: float, eta: float, visibility: float) -> float:
        return figures(eta, p_dark, visibility)[1].signal_to_noise - signal_to_noise

    def qber_gap(visibility: float, eta: float, p_dark: float) -> float:
        return figures(eta, p_dark, visibility)[1].qber - qber

    eta, p_dark, visibility = 1e-3, 0.0, 1.0
    for _ in range(rounds):
        eta = _bisect(partial(rate_gap, p_dark=p_dark, visibility=visibility), 1e-12, 1.0, geometric=True)
        if figures(eta, 0.0, visibility)[1].signal_to_noise < signal_to_noise:
            raise EntangledSourceError(f"operating point: a signal-to-noise ratio of {signal_to_noise:g} is above "
                                       f"what multi-pair emission alone allows at {coincidence_window_ps:g} ps "
                                       "windows (shorten the window)")
        p_dark = _bisect(partial(snr_gap, eta=eta, visibility=visibility), 1e-15, 0.5, geometric=True)
        visibility = _bisect(partial(qber_gap, eta=eta, p_dark=p_dark), 0.0, 1.0, geometric=False)
    src, fig = figures(eta, p_dark, visibility)
    got = (fig.gain * src.window_rate_hz, fig.signal_to_noise, fig.qber)
    want = (coincidence_rate_hz, signal_to_noise, qber)
    if any(abs(g - w) > rel_tol * w for g, w in zip(got, want, strict=True)):
        raise EntangledSourceError(f"operating point: no visibility in [0, 1] and background reproduce rate "
                                   f"{coincidence_rate_hz:g} Hz, signal-to-noise {signal_to_noise:g} and QBER "
                                   f"{qber:g} (model gives {got[0]:.4g} Hz, {got[1]:.4g}, {got[2]:.4g}; a QBER "
                                   "below the accidentals' floor cannot be reached)")
    return CwOperatingPoint(src, StationDetection(eta, p_dark), -math.log1p(-p_dark) / window_s, fig)


def chsh_from_visibility(visibility: float) -> float:
    """S = 2√2 V for a Werner state of visibility V (Tsirelson's bound at V = 1)."""
    return 2.0 * math.sqrt(2.0) * visibility


def chsh_from_qber(qber: float) -> float:
    """S = 2√2 (1 − 2E): the CHSH value of rotationally symmetric correlations with QBER E per basis."""
    return 2.0 * math.sqrt(2.0) * (1.0 - 2.0 * qber)


__all__ = [
    "A0", "A1", "B0", "B1", "Bbm92Figures", "CwOperatingPoint", "EntangledSourceError", "PairStatistics",
    "SourcePlacement", "SpdcSource", "StationDetection", "arm_efficiencies", "bbm92_figures", "bbm92_key_rate",
    "chsh_from_qber", "chsh_from_visibility", "click_pattern_probabilities", "cw_operating_point",
    "mfl_thermal_gain_qber",
]
