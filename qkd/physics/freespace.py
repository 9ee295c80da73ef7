"""Free-space optical channel (ground-ground or ground-satellite) and a satellite pass profile.

Loss budget of a free-space QKD link, each factor dimensionless:

* atmospheric extinction: η_atm = T_zenith^{sec ζ} (Beer-Lambert with the plane-parallel airmass
  sec ζ at zenith angle ζ; Bourgoin et al., New J. Phys. 15, 023006 (2013), Sec. 3.2);
* geometric (diffraction) loss of a Gaussian beam: waist w0 = D_tx/2, Rayleigh range z_R = π w0²/λ,
  beam radius w(L) = w0 √(1 + (L/z_R)²) (Siegman, *Lasers*, Eq. 17.5-13); the fraction of power in a
  circular aperture of radius a is 1 − exp(−2a²/w²) (Siegman Eq. 17.1-15). Pointing jitter σ_θ (rad,
  per axis) widens the long-term spot: w_LT² = w² + 4 (σ_θ L)² (Bourgoin 2013, Sec. 3.1);
* turbulence: a lognormal fading factor per time window, exp(X) with X ~ N(−σ²/2, σ²), mean 1, σ² the
  log-irradiance variance (Andrews & Phillips, *Laser Beam Propagation through Random Media*, Ch. 8),
  independent between windows of ``fading_window_s`` (the irradiance coherence time of atmospheric
  turbulence is of the order of milliseconds; default 1 ms; the emulator draws one factor per window);
* background light: a click rate at the receiver (counts/s, day or night), turned into a probability
  per gate of width τ_g as 1 − exp(−R τ_g).

Satellite pass: circular orbit of altitude h over a spherical Earth of radius R_E passing through the
ground station's zenith; central angle ψ(t) = ω t with ω = √(GM/(R_E+h)³), elevation θ from
tan θ = (cos ψ − R_E/(R_E+h)) / sin ψ and slant range
L = √((R_E+h)² − R_E² cos² θ) − R_E sin θ (Bourgoin 2013, Eq. 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from qkd.physics.fiber import ChannelConfigError

EARTH_RADIUS_M = 6.371e6
EARTH_GM_M3_S2 = 3.986004418e14


def gaussian_beam_collection(wavelength_nm: float, tx_aperture_m: float, rx_aperture_m: float,
                             distance_m: float, pointing_jitter_rad: float = 0.0) -> float:
    """Fraction of a Gaussian beam (waist = tx aperture radius) collected by the rx aperture at
    ``distance_m`` with per-axis pointing jitter ``pointing_jitter_rad`` (see module docstring)."""
    lam = wavelength_nm * 1e-9
    w0 = tx_aperture_m / 2.0
    z_r = math.pi * w0**2 / lam
    w2 = w0**2 * (1.0 + (distance_m / z_r) ** 2) + 4.0 * (pointing_jitter_rad * distance_m) ** 2
    a = rx_aperture_m / 2.0
    return float(1.0 - math.exp(-2.0 * a * a / w2))


@dataclass(frozen=True)
class FreeSpaceChannel:
    """Free-space link at ``distance_m`` and ``elevation_deg`` (90 = zenith).

    Defaults (850 nm, the usual free-space band): 10 cm transmit and
    1 m receive apertures, zenith transmittance 0.8 (clear sky, Bourgoin 2013 Fig. 3 range 0.7–0.9),
    1 µrad pointing jitter, log-irradiance variance 0.1 with independent fading windows of 1 ms, background
    1e3 counts/s by night and 1e6 by day, misalignment 1%.
    """

    distance_m: float = 500e3
    elevation_deg: float = 90.0
    wavelength_nm: float = 850.0
    tx_aperture_m: float = 0.1
    rx_aperture_m: float = 1.0
    zenith_transmittance: float = 0.8
    pointing_jitter_rad: float = 1e-6
    scintillation_log_variance: float = 0.1
    background_rate_hz: float = 1e3
    misalignment_error: float = 0.01
    extra_loss_db: float = 0.0
    fading_window_s: float = 1e-3

    def __post_init__(self) -> None:
        if self.distance_m <= 0:
            raise ChannelConfigError(f"distance_m must be > 0, got {self.distance_m}")
        if not 0 < self.elevation_deg <= 90:
            raise ChannelConfigError(f"elevation_deg must be in (0, 90], got {self.elevation_deg}")
        if not 0 < self.zenith_transmittance <= 1:
            raise ChannelConfigError(f"zenith_transmittance must be in (0, 1], got {self.zenith_transmittance}")
        if self.scintillation_log_variance < 0 or self.background_rate_hz < 0:
            raise ChannelConfigError("scintillation_log_variance and background_rate_hz must be ≥ 0")
        if not 0 <= self.misalignment_error <= 0.5:
            raise ChannelConfigError(f"misalignment_error must be in [0, 0.5], got {self.misalignment_error}")
        if self.fading_window_s <= 0:
            raise ChannelConfigError(f"fading_window_s must be > 0, got {self.fading_window_s}")

    @property
    def airmass(self) -> float:
        """Plane-parallel airmass sec(zenith angle) (dimensionless)."""
        return 1.0 / math.sin(math.radians(self.elevation_deg))

    def atmospheric_transmittance(self) -> float:
        """η_atm = T_zenith^airmass."""
        return float(self.zenith_transmittance ** self.airmass)

    def geometric_transmittance(self) -> float:
        """Gaussian-beam collection efficiency including pointing jitter."""
        return gaussian_beam_collection(self.wavelength_nm, self.tx_aperture_m, self.rx_aperture_m,
                                        self.distance_m, self.pointing_jitter_rad)

    def mean_transmittance(self) -> float:
        """Mean η_ch over turbulence (the lognormal factor has mean 1)."""
        return (self.atmospheric_transmittance() * self.geometric_transmittance()
                * 10.0 ** (-self.extra_loss_db / 10.0))

    @property
    def loss_db(self) -> float:
        """Mean channel loss (dB)."""
        return -10.0 * math.log10(self.mean_transmittance())

    def transmittance_windows(self, start_s: float, window_s: float, n_windows: int,
                              rng: np.random.Generator) -> np.ndarray:
        """η_ch per time window: the mean times an independent lognormal fading factor per window."""
        s2 = self.scintillation_log_variance
        fade = np.exp(rng.normal(-s2 / 2.0, math.sqrt(s2), n_windows)) if s2 > 0 else np.ones(n_windows)
        return np.minimum(self.mean_transmittance() * fade, 1.0)

    def background_probability(self, gate_width_ps: float) -> float:
        """Background click probability per gate of ``gate_width_ps``: 1 − exp(−R τ_g)."""
        return float(-math.expm1(-self.background_rate_hz * gate_width_ps * 1e-12))


@dataclass(frozen=True)
class SatellitePass:
    """Zenith pass of a satellite in a circular orbit at ``altitude_m``, seen above ``min_elevation_deg``.

    ``channel`` carries the optics and atmosphere; its distance and elevation are replaced at each time.
    Defaults: 500 km orbit (Micius: ≈ 500 km, Liao et al., Nature 549, 43 (2017)), 10° mask.
    """

    altitude_m: float = 500e3
    min_elevation_deg: float = 10.0
    channel: FreeSpaceChannel = FreeSpaceChannel()

    @property
    def angular_rate_rad_s(self) -> float:
        """Orbital angular rate ω (rad/s)."""
        return math.sqrt(EARTH_GM_M3_S2 / (EARTH_RADIUS_M + self.altitude_m) ** 3)

    def elevation_deg(self, t_s: np.ndarray) -> np.ndarray:
        """Elevation (deg) at times ``t_s`` (s) from closest approach (zenith at t = 0)."""
        psi = np.abs(self.angular_rate_rad_s * np.asarray(t_s, dtype=float))
        ratio = EARTH_RADIUS_M / (EARTH_RADIUS_M + self.altitude_m)
        return np.degrees(np.arctan2(np.cos(psi) - ratio, np.sin(psi)))

    def slant_range_m(self, elevation_deg: np.ndarray) -> np.ndarray:
        """Slant range (m) at elevation θ (Bourgoin 2013, Eq. 1)."""
        th = np.radians(np.asarray(elevation_deg, dtype=float))
        r, rs = EARTH_RADIUS_M, EARTH_RADIUS_M + self.altitude_m
        return np.sqrt(rs**2 - (r * np.cos(th)) ** 2) - r * np.sin(th)

    def half_duration_s(self) -> float:
        """Time (s) from zenith until the elevation drops to ``min_elevation_deg``."""
        th = math.radians(self.min_elevation_deg)
        ratio = EARTH_RADIUS_M / (EARTH_RADIUS_M + self.altitude_m)
        psi = math.acos(ratio * math.cos(th)) - th  # central angle at elevation θ
        return psi / self.angular_rate_rad_s

    def profile(self, n_points: int = 200) -> dict[str, np.ndarray]:
        """Time (s), elevation (deg), slant range (m), mean loss (dB) over the visible pass."""
        half = self.half_duration_s()
        t = np.linspace(-half, half, n_points)
        el = self.elevation_deg(t)
        rng_m = self.slant_range_m(el)
        loss = np.array([replace(self.channel, distance_m=float(d), elevation_deg=float(max(e, 1e-3))).loss_db
                         for d, e in zip(rng_m, el, strict=True)])
        return {"t_s": t, "elevation_deg": el, "slant_range_m": rng_m, "loss_db": loss}

    def channel_at(self, t_s: float) -> FreeSpaceChannel:
        """The free-space channel at time ``t_s`` of the pass."""
        el = float(self.elevation_deg(np.array([t_s]))[0])
        if el < self.min_elevation_deg:
            raise ChannelConfigError(f"t_s={t_s} is outside the pass (elevation {el:.1f}° < mask)")
        return replace(self.channel, distance_m=float(self.slant_range_m(np.array([el]))[0]),
                       elevation_deg=el)
