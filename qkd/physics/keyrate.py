"""Closed-form decoy-state BB84 theory: gains, error rates, asymptotic key rates, the PLOB bound.

References (section numbers of the published versions):

* [MQZL05] X. Ma, B. Qi, Y. Zhao, H.-K. Lo, "Practical decoy state for quantum key distribution",
  PRA 72, 012326 (2005). Sec. II: the GLLP key rate R ≥ q{−Q_μ f(E_μ) H₂(E_μ) + Q₁[1 − H₂(e₁)]}
  (their Eq. 1); the channel model η = t_AB η_Bob, t_AB = 10^{−αl/10}; yields Y_i = Y₀ + 1 − (1−η)^i ≈
  Y₀ + iη; gain Q_μ = Y₀ + 1 − e^{−ημ}; error E_μ Q_μ = e₀Y₀ + e_det(1 − e^{−ημ}); single-photon
  e₁ = (e₀Y₀ + e_det η)/Y₁, Q₁ = Y₁ μ e^{−μ}, e₀ = ½. Sec. III: infinite decoys (Y₁, e₁ exact).
  Sec. IV (vacuum + weak decoy): Y₁ ≥ Y₁^{L,ν,0} = μ/(μν − ν²) · (Q_ν e^ν − Q_μ e^μ ν²/μ² − (μ² − ν²)/μ² Y₀),
  e₁ ≤ e₁^U = (E_ν Q_ν e^ν − e₀ Y₀)/(Y₁^{L,ν,0} ν). Sec. V: the GYS parameters (α = 0.21 dB/km,
  e_det = 3.3 %, Y₀ = 1.7e-6, η_Bob = 4.5 %, f = 1.22, q = ½).
* [PLOB17] S. Pirandola, R. Laurenza, C. Ottaviani, L. Banchi, "Fundamental limits of repeaterless
  quantum communications", Nat. Commun. 8, 15043 (2017), Eq. 4: secret-key capacity of the pure-loss
  channel −log₂(1 − η) bits per channel use.
* [LCWXZ14] C. C. W. Lim, M. Curty, N. Walenta, F. Xu, H. Zbinden, PRA 89, 022307 (2014): the
  parameters of the ``lim2014`` preset (α = 0.2 dB/km, η_Bob = 10 %, p_dc = 6e-7, e_mis = 0.5 %,
  f_EC = 1.16).

All rates are secret bits per emitted pulse; distances in km; η dimensionless.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

E0 = 0.5  # error rate of a background (vacuum) click


def binary_entropy(x: float | np.ndarray) -> float | np.ndarray:
    """H₂(x) = −x log₂ x − (1−x) log₂(1−x) (bits), with H₂(0) = H₂(1) = 0."""
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -x * np.log2(x) - (1 - x) * np.log2(1 - x)
    h = np.nan_to_num(h, nan=0.0)
    return float(h) if h.ndim == 0 else h


@dataclass(frozen=True)
class LinkParameters:
    """Parameters of the [MQZL05] model of a fiber BB84 link.

    ``attenuation_db_per_km`` α; ``e_det`` misalignment error; ``y0`` background click probability per
    pulse summed over Bob's detectors; ``eta_bob`` Bob's transmittance × detector efficiency; ``f_ec``
    error-correction inefficiency; ``q`` sifting factor (½ for BB84 with ½/½ bases, p_z² + (1−p_z)² ≈
    p_z² for efficient BB84 keyed on Z only); ``insertion_loss_db`` extra loss on top of the fiber.
    """

    name: str
    attenuation_db_per_km: float
    e_det: float
    y0: float
    eta_bob: float
    f_ec: float
    q: float = 0.5
    insertion_loss_db: float = 0.0
    description: str = ""

    def channel_transmittance(self, length_km: float | np.ndarray) -> float | np.ndarray:
        """t_AB = 10^{−(α l + loss)/10} (dimensionless)."""
        return 10.0 ** (-(self.attenuation_db_per_km * np.asarray(length_km, dtype=float)
                          + self.insertion_loss_db) / 10.0)

    def transmittance(self, length_km: float | np.ndarray) -> float | np.ndarray:
        """η = t_AB η_Bob ([MQZL05] Sec. II)."""
        return self.channel_transmittance(length_km) * self.eta_bob


@functools.lru_cache(maxsize=4096)
def _free_space_transmittance(channel: Any, range_km: float) -> float:
    """Mean transmittance of a (frozen, hashable) free-space channel at ``range_km``; cached because the
    μ optimisation evaluates the same range many times."""
    from dataclasses import replace

    return float(replace(channel, distance_m=range_km * 1e3).mean_transmittance())


@dataclass(frozen=True)
class FreeSpaceLinkParameters(LinkParameters):
    """[MQZL05] parameters of a free-space link whose ``length_km`` is the optical range: t_AB(L) is the
    mean transmittance of ``channel`` (a :class:`qkd.physics.freespace.FreeSpaceChannel`: diffraction-
    limited Gaussian beam with pointing jitter, atmospheric extinction at the channel's elevation) at
    range L, times 10^{−insertion_loss_db/10}; ``attenuation_db_per_km`` is unused (0). Ranges below
    1 m are evaluated at 1 m."""

    channel: Any = None

    def channel_transmittance(self, length_km: float | np.ndarray) -> float | np.ndarray:
        """t_AB at range ``length_km`` (dimensionless)."""
        lengths = np.asarray(length_km, dtype=float)
        t = np.array([_free_space_transmittance(self.channel, max(float(x), 1e-3))
                      for x in lengths.ravel()]).reshape(lengths.shape)
        t = t * 10.0 ** (-self.insertion_loss_db / 10.0)
        return float(t) if t.ndim == 0 else t


GYS = LinkParameters("gys", 0.21, 0.033, 1.7e-6, 0.045, 1.22, 0.5, 0.0,
                     "Ma et al. 2005 Sec. V: parameters of the Gobby-Yuan-Shields experiment")
LIM2014 = LinkParameters("lim2014", 0.2, 0.005, 2 * 6e-7, 0.1, 1.16, 0.5, 0.0,
                         "Lim et al. 2014: η_Bob 10 %, p_dc 6e-7 per detector (two), e_mis 0.5 %, f 1.16")


def gain(mu: float, eta: float | np.ndarray, y0: float) -> float | np.ndarray:
    """Q_μ = Y₀ + 1 − e^{−ημ} ([MQZL05] Sec. II): detection probability per pulse of intensity μ."""
    return y0 + 1.0 - np.exp(-np.asarray(eta) * mu)


def error_rate(mu: float, eta: float | np.ndarray, y0: float, e_det: float) -> float | np.ndarray:
    """E_μ = (e₀Y₀ + e_det(1 − e^{−ημ}))/Q_μ ([MQZL05] Sec. II): QBER of sifted pulses of intensity μ."""
    q = gain(mu, eta, y0)
    return (E0 * y0 + e_det * (1.0 - np.exp(-np.asarray(eta) * mu))) / q


def single_photon_infinite(mu: float, eta: float, y0: float, e_det: float) -> tuple[float, float]:
    """(Q₁, e₁) with infinite decoys, where the single-photon yield is known exactly ([MQZL05] Sec. III)."""
    y1 = y0 + eta
    e1 = (E0 * y0 + e_det * eta) / y1
    return y1 * mu * math.exp(-mu), e1


def vacuum_weak_bounds(mu: float, nu: float, q_mu: float, q_nu: float, e_nu: float,
                       y0: float) -> tuple[float, float]:
    """(Y₁^{L,ν,0}, e₁^U) from the gains of signal μ, weak decoy ν and vacuum ([MQZL05] Sec. IV).

    Works on measured values as well as on the model's expected ones; ``y0`` is the vacuum gain."""
    y1_l = mu / (mu * nu - nu * nu) * (q_nu * math.exp(nu) - q_mu * math.exp(mu) * nu * nu / (mu * mu)
                                        - (mu * mu - nu * nu) / (mu * mu) * y0)
    y1_l = max(y1_l, 0.0)
    if y1_l <= 0:
        return 0.0, 0.5
    e1_u = (e_nu * q_nu * math.exp(nu) - E0 * y0) / (y1_l * nu)
    return y1_l, min(max(e1_u, 0.0), 0.5)


def gllp_rate(q: float, f_ec: float, q_mu: float, e_mu: float, q1: float, e1: float) -> float:
    """R = q{−Q_μ f H₂(E_μ) + Q₁[1 − H₂(e₁)]} ([MQZL05] Eq. 1), clipped at 0 (bits/pulse)."""
    r = q * (-q_mu * f_ec * binary_entropy(e_mu) + q1 * (1.0 - binary_entropy(e1)))
    return max(float(r), 0.0)


def key_rate(link: LinkParameters, length_km: float, mu: float, decoy: str = "infinite",
             nu: float = 0.05) -> float:
    """Asymptotic decoy-state BB84 key rate (bits/pulse) at ``length_km`` with signal intensity ``mu``.

    ``decoy='infinite'`` uses [MQZL05] Sec. III; ``'vacuum-weak'`` uses Sec. IV with weak decoy ``nu``
    and the expected gains of the model standing in for measured ones."""
    eta = float(link.transmittance(length_km))
    q_mu = float(gain(mu, eta, link.y0))
    e_mu = float(error_rate(mu, eta, link.y0, link.e_det))
    if decoy == "infinite":
        q1, e1 = single_photon_infinite(mu, eta, link.y0, link.e_det)
    elif decoy == "vacuum-weak":
        if not 0 < nu < mu:
            raise ValueError(f"weak decoy nu={nu} must be in (0, mu={mu})")
        q_nu = float(gain(nu, eta, link.y0))
        e_nu = float(error_rate(nu, eta, link.y0, link.e_det))
        y1_l, e1 = vacuum_weak_bounds(mu, nu, q_mu, q_nu, e_nu, link.y0)
        q1 = y1_l * mu * math.exp(-mu)
    else:
        raise ValueError(f"unknown decoy method {decoy!r}: use 'infinite' or 'vacuum-weak'")
    return gllp_rate(link.q, link.f_ec, q_mu, e_mu, q1, e1)


def plob_bound(channel_transmittance: float | np.ndarray) -> float | np.ndarray:
    """−log₂(1 − η) ([PLOB17] Eq. 4): repeaterless secret-key capacity, bits per channel use."""
    eta = np.asarray(channel_transmittance, dtype=float)
    with np.errstate(divide="ignore"):
        r = -np.log2(1.0 - eta)
    return float(r) if r.ndim == 0 else r


def _golden_max(fn: Callable[[float], float], lo: float, hi: float, tol: float = 1e-5) -> tuple[float, float]:
    """Maximiser and maximum of a unimodal ``fn`` on [lo, hi] (golden-section search)."""
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = fn(c), fn(d)
    while b - a > tol:
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = fn(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = fn(d)
    x = (a + b) / 2
    return x, fn(x)


def optimal_mu(link: LinkParameters, length_km: float, decoy: str = "infinite",
               nu: float = 0.05) -> tuple[float, float]:
    """(μ*, R(μ*)): the signal intensity maximising the key rate at ``length_km``."""
    lo = nu * 1.05 if decoy == "vacuum-weak" else 1e-3
    grid = np.linspace(lo, 1.2, 60)
    rates = [key_rate(link, length_km, float(m), decoy, nu) for m in grid]
    i = int(np.argmax(rates))
    if rates[i] <= 0:
        return float(grid[i]), 0.0
    a, b = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, len(grid) - 1)])
    return _golden_max(lambda m: key_rate(link, length_km, m, decoy, nu), a, b)


def max_distance_km(link: LinkParameters, decoy: str = "infinite", nu: float = 0.05,
                    mu: float | None = None, tol_km: float = 0.01) -> float:
    """Largest distance (km) with a positive key rate, μ optimised per distance unless given."""
    def positive(length: float) -> bool:
        r = key_rate(link, length, mu, decoy, nu) if mu is not None else optimal_mu(link, length, decoy, nu)[1]
        return r > 0

    lo, hi = 0.0, 10.0
    if not positive(lo):
        return 0.0
    while positive(hi):
        lo, hi = hi, hi * 2
        if hi > 1e6:   # beyond 10⁶ km (free-space ranges reach 10⁴–10⁵ km): report unbounded
            return math.inf
    while hi - lo > tol_km:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if positive(mid) else (lo, mid)
    return lo


@dataclass(frozen=True)
class KeyRateCurve:
    """Key rate vs distance for one link and decoy method, μ optimised per point, with PLOB alongside."""

    link: LinkParameters
    decoy: str
    nu: float
    distances_km: tuple[float, ...]
    rates_bits_per_pulse: tuple[float, ...]
    optimal_mu: tuple[float, ...]
    plob_bits_per_pulse: tuple[float, ...]
    max_distance_km: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stable keys)."""
        d = asdict(self)
        d["link"] = asdict(self.link)
        return d


def key_rate_curve(link: LinkParameters, distances_km: list[float] | np.ndarray, decoy: str = "infinite",
                   nu: float = 0.05) -> KeyRateCurve:
    """Optimised key rate at each distance (bits/pulse), the PLOB bound of the fiber channel, max distance."""
    mus, rates = [], []
    for length in distances_km:
        m, r = optimal_mu(link, float(length), decoy, nu)
        mus.append(round(m, 6))
        rates.append(r)
    plob = [float(plob_bound(link.channel_transmittance(float(d)))) for d in distances_km]
    return KeyRateCurve(link, decoy, nu, tuple(float(d) for d in distances_km), tuple(rates), tuple(mus),
                        tuple(plob), max_distance_km(link, decoy, nu))
