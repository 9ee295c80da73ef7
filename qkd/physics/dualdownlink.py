"""Satellite dual downlink: one satellite carrying an entangled-pair source sends one photon of each pair
to each of two ground stations at once (the geometry of Micius' entanglement-based QKD between Delingha
and Nanshan, 1,120 km apart: J. Yin et al., Nature 582, 501 (2020)).

Geometry (spherical Earth of radius R_E, circular orbit of radius r_s = R_E + h, Earth-centred frame):
the stations stand at S_± = R_E (cos β, ±sin β, 0), β = D / (2 R_E) for a ground separation D along the
great circle. The satellite's ground track crosses the baseline's midpoint, perpendicular to it, offset
by a cross-track angle γ (0: the symmetric pass that serves both stations best):
P(t) = r_s (cos γ cos ωt, sin γ cos ωt, sin ωt), ω = √(GM / r_s³). For each station, d = P − S; the
slant range is |d| and the elevation θ = asin(d · Ŝ / |d|). Both stations must see the satellite above
their elevation mask at the same time.

Per arm the loss is the free-space channel's (``FreeSpaceChannel``: diffraction, pointing, airmass) at
that range and elevation; the pair rate is the source's; per instant the BBM92 gain, QBER and key rate come
from ``qkd.physics.entangled`` (Poissonian CW source, coincidence windows of ``window_ps``), and the key of
a pass is their integral over the common visibility window (trapezoid rule). That integral distils every
instant with its own QBER; a pass processed as one block (as experiments do: Yin et al. distil their
3,100 s of data together) pools the coincidences and errors first — :meth:`DualDownlink.pass_summary`,
never more than the integral since H₂ is concave.

Units: m, s, deg, dB, Hz; key in bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from qkd.physics.entangled import (
    Bbm92Figures,
    EntangledSourceError,
    SpdcSource,
    StationDetection,
    bbm92_figures,
    bbm92_key_rate,
)
from qkd.physics.freespace import EARTH_GM_M3_S2, EARTH_RADIUS_M, FreeSpaceChannel
from qkd.physics.keyrate import binary_entropy


def transmitter_aperture_m(wavelength_nm: float, divergence_rad: float) -> float:
    """Diameter (m) of the Gaussian transmitter whose far-field 1/e² half-angle divergence is
    ``divergence_rad``: θ = λ / (π w₀), the far field of the beam radius w(L) of
    ``qkd.physics.freespace`` (Siegman, *Lasers*, Sec. 17.5), so D = 2 w₀ = 2λ / (π θ). Papers state the
    divergence (Micius: about 10 µrad, Yin et al., Nature 582, 501 (2020)); the channel model takes the
    aperture."""
    if not wavelength_nm > 0 or not divergence_rad > 0:
        raise EntangledSourceError(f"transmitter: wavelength_nm ({wavelength_nm}) and divergence_rad "
                                   f"({divergence_rad}) must be > 0")
    return 2.0 * wavelength_nm * 1e-9 / (math.pi * divergence_rad)


@dataclass(frozen=True)
class GroundStation:
    """Receiver of one arm: ``receiver_efficiency`` (optics after the telescope × detector efficiency),
    ``background_rate_hz`` (dark plus sky counts per detector), ``min_elevation_deg`` (horizon mask)."""

    name: str
    receiver_efficiency: float = 0.5
    background_rate_hz: float = 500.0
    min_elevation_deg: float = 15.0


@dataclass(frozen=True)
class PassSummary:
    """A pass as one block: ``window_s`` both stations see the satellite (s), ``coincidences`` and
    ``errors`` over it (counts, both bases), the error-correction inefficiency ``f_ec``."""

    window_s: float
    coincidences: float
    errors: float
    f_ec: float

    @property
    def qber(self) -> float:
        return self.errors / self.coincidences if self.coincidences > 0 else 0.5

    @property
    def sifted_bits(self) -> float:
        return 0.5 * self.coincidences

    @property
    def key_bits(self) -> float:
        """Asymptotic secret bits, sifted × [1 − f H₂(E) − H₂(E)] on the pooled QBER (Ma, Fung, Lo, PRA 76,
        012307 (2007), Eq. 11), ≥ 0."""
        h = float(binary_entropy(self.qber))
        return max(0.0, self.sifted_bits * (1.0 - self.f_ec * h - h))

    @property
    def in_view_bps(self) -> float:
        """Secret key rate while both stations see the satellite (bits/s)."""
        return self.key_bits / self.window_s if self.window_s > 0 else 0.0


@dataclass(frozen=True)
class DualDownlink:
    """A satellite (``altitude_m``, its ``source`` and the optics of ``channel``: transmit and receive
    apertures, wavelength, pointing, zenith transmittance) serving ``station_a`` and ``station_b``,
    ``separation_m`` apart on the ground, with the ground track ``cross_track_deg`` off the midpoint."""

    station_a: GroundStation
    station_b: GroundStation
    separation_m: float
    source: SpdcSource
    channel: FreeSpaceChannel = FreeSpaceChannel()
    altitude_m: float = 500e3
    cross_track_deg: float = 0.0
    window_ps: float = 2000.0
    f_ec: float = 1.19

    def __post_init__(self) -> None:
        if not 0 < self.separation_m < math.pi * EARTH_RADIUS_M:
            raise EntangledSourceError(f"dual downlink: separation_m must be in (0, πR_E), got {self.separation_m}")
        if self.altitude_m <= 100e3:
            raise EntangledSourceError(f"dual downlink: altitude_m must be above 100 km, got {self.altitude_m}")

    @property
    def angular_rate_rad_s(self) -> float:
        return math.sqrt(EARTH_GM_M3_S2 / (EARTH_RADIUS_M + self.altitude_m) ** 3)

    def _stations(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        beta = self.separation_m / (2 * EARTH_RADIUS_M)
        return (EARTH_RADIUS_M * np.array([math.cos(beta), math.sin(beta), 0.0]),
                EARTH_RADIUS_M * np.array([math.cos(beta), -math.sin(beta), 0.0]))

    def geometry(self, t_s: npt.ArrayLike) -> dict[str, npt.NDArray[np.float64]]:
        """Elevation (deg) and slant range (m) of the satellite from each station at times ``t_s`` (s from
        the closest approach to the baseline's midpoint)."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        rs = EARTH_RADIUS_M + self.altitude_m
        g = math.radians(self.cross_track_deg)
        wt = self.angular_rate_rad_s * t
        sat = rs * np.stack([math.cos(g) * np.cos(wt), math.sin(g) * np.cos(wt), np.sin(wt)], axis=1)
        out: dict[str, npt.NDArray[np.float64]] = {"t_s": t}
        for key, st in zip(("a", "b"), self._stations(), strict=True):
            d = sat - st
            dist = np.linalg.norm(d, axis=1)
            out[f"elevation_{key}_deg"] = np.degrees(np.arcsin(d @ (st / EARTH_RADIUS_M) / dist))
            out[f"range_{key}_m"] = dist
        return out

    def common_window_s(self, step_s: float = 1.0) -> tuple[float, float]:
        """(start, end) of the time both stations see the satellite above their masks (s); (0, 0) if never."""
        period = 2 * math.pi / self.angular_rate_rad_s
        t = np.arange(-period / 4, period / 4, step_s)
        geo = self.geometry(t)
        both = ((geo["elevation_a_deg"] >= self.station_a.min_elevation_deg)
                & (geo["elevation_b_deg"] >= self.station_b.min_elevation_deg))
        if not both.any():
            return 0.0, 0.0
        idx = np.flatnonzero(both)
        return float(t[idx[0]]), float(t[idx[-1]])

    def arm_loss_db(self, range_m: float, elevation_deg: float) -> float:
        """Mean loss (dB) of one downlink arm before the receiver."""
        return replace(self.channel, distance_m=float(range_m), elevation_deg=float(max(elevation_deg, 1e-3))).loss_db

    def figures_at(self, range_a_m: float, elev_a_deg: float, range_b_m: float,
                   elev_b_deg: float) -> tuple[Bbm92Figures, float, float]:
        """BBM92 figures per window, and the two arms' losses (dB), at one instant."""
        loss_a = self.arm_loss_db(range_a_m, elev_a_deg)
        loss_b = self.arm_loss_db(range_b_m, elev_b_deg)
        alice = StationDetection(10 ** (-loss_a / 10) * self.station_a.receiver_efficiency,
                                 self.background_probability(self.station_a))
        bob = StationDetection(10 ** (-loss_b / 10) * self.station_b.receiver_efficiency,
                               self.background_probability(self.station_b))
        return bbm92_figures(self.source, alice, bob), loss_a, loss_b

    def background_probability(self, station: GroundStation) -> float:
        """Background click probability of one of ``station``'s detectors per coincidence window:
        rate × window (capped at ½; the rates of interest give 10⁻⁸–10⁻⁵)."""
        return min(0.5, station.background_rate_hz * self.window_ps * 1e-12)

    def pass_profile(self, points: int = 121) -> dict[str, npt.NDArray[np.float64]]:
        """Over the common window: time, both elevations and losses, two-photon loss (dB), coincidence rate
        (Hz), QBER and secret key rate (bits/s)."""
        start, end = self.common_window_s()
        if end <= start:
            empty = np.empty(0)
            return {k: empty for k in ("t_s", "elevation_a_deg", "elevation_b_deg", "loss_a_db", "loss_b_db",
                                       "two_photon_loss_db", "coincidence_rate_hz", "qber", "key_rate_bps")}
        t = np.linspace(start, end, points)
        geo = self.geometry(t)
        windows_per_s = self.source.window_rate_hz
        cols: dict[str, list[float]] = {k: [] for k in ("loss_a_db", "loss_b_db", "coincidence_rate_hz", "qber",
                                                          "key_rate_bps")}
        for i in range(t.size):
            fig, la, lb = self.figures_at(geo["range_a_m"][i], geo["elevation_a_deg"][i], geo["range_b_m"][i],
                                          geo["elevation_b_deg"][i])
            cols["loss_a_db"].append(la)
            cols["loss_b_db"].append(lb)
            cols["coincidence_rate_hz"].append(fig.gain * windows_per_s)
            cols["qber"].append(fig.qber)
            cols["key_rate_bps"].append(bbm92_key_rate(fig, f_ec=self.f_ec) * windows_per_s)
        out = {"t_s": t, "elevation_a_deg": geo["elevation_a_deg"], "elevation_b_deg": geo["elevation_b_deg"]}
        out.update({k: np.asarray(v) for k, v in cols.items()})
        out["two_photon_loss_db"] = out["loss_a_db"] + out["loss_b_db"]
        return out

    def pass_summary(self, points: int = 121) -> PassSummary:
        """One pass distilled as one block: coincidences, errors, sifted bits and the asymptotic key from
        the pooled QBER (sifted × [1 − f H₂(E) − H₂(E)], bases matched with ½), over the common window."""
        prof = self.pass_profile(points)
        t = prof["t_s"]
        if t.size < 2:
            return PassSummary(0.0, 0.0, 0.0, self.f_ec)

        def integral(y: npt.NDArray[np.float64]) -> float:
            return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(t)))

        rate = prof["coincidence_rate_hz"]
        return PassSummary(float(t[-1] - t[0]), integral(rate), integral(rate * prof["qber"]), self.f_ec)

    def key_per_pass_bits(self, points: int = 121) -> float:
        """Secret bits of one pass (asymptotic rate integrated over the common window)."""
        prof = self.pass_profile(points)
        if prof["t_s"].size < 2:
            return 0.0
        r, t = prof["key_rate_bps"], prof["t_s"]
        return float(np.sum((r[1:] + r[:-1]) / 2 * np.diff(t)))


__all__ = ["DualDownlink", "GroundStation", "PassSummary", "transmitter_aperture_m"]
