"""Secret key length: finite-key decoy-state BB84 (Lim et al. 2014) and the asymptotic GLLP formula.

Finite key — C. C. W. Lim, M. Curty, N. Walenta, F. Xu, H. Zbinden, "Concise security bounds for
practical decoy-state quantum key distribution", PRA 89, 022307 (2014) [LCWXZ14], Eq. (1):

    ℓ = ⌊ s_0 + s_1 − s_1 h(φ) − λ_EC − 6 log2(21/ε_sec) − log2(2/ε_cor) ⌋

with s_0, s_1 lower bounds on the vacuum and single-photon events of the key bits (Eqs. 2–3), φ an
upper bound on the single-photon phase error rate (Eq. 5), h the binary entropy, λ_EC the bits
disclosed by error correction, and the protocol ε_sec-secret and ε_cor-correct. The verification
hash of [LCWXZ14] discloses log2(2/ε_cor) bits; ours discloses its tag of ``tag_bits`` = 128 bits
(collision probability ≤ 2^-64 ≤ ε_cor), so the term we subtract is max(log2(2/ε_cor), tag_bits).
λ_EC is the total the classical channel's ledger counted during reconciliation (Cascade parities).
A length ≤ 0 is reported as 0 with the reason (too few counts, phase error too high, leakage).

The bounds (Eqs. 2–5) live in :mod:`qkd.postprocess.estimate` for measured counts; this module adds
:func:`lim2014_expected_rate`, which evaluates Eq. (1) on the *expected* counts of the paper's
simulation model (its Sec. IV: fibre loss α, Bob's efficiency, dark counts, after-pulsing,
misalignment; key from the X basis, μ3 fixed) and optimises intensities and probabilities, to
reproduce the paper's key-rate-versus-distance curves.

Asymptotic — Gottesman–Lo–Lütkenhaus–Preskill with decoy states (Lo, Ma, Chen, PRL 94, 230504
(2005), Eq. 1): ℓ_∞ = s_1 (1 − h(e_1)) − f n h(E) (the vacuum term s_0 added as in [LCWXZ14]).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qkd.postprocess.cascade import binary_entropy

TAG_BITS = 128


@dataclass(frozen=True)
class KeyLength:
    """ℓ (bits, ≥ 0), every term of Eq. (1) (bits) and, when ℓ = 0, why."""

    length: int
    s0: float
    s1: float
    phase_error: float
    privacy_term: float          # s_1 h(φ)
    lambda_ec: int
    security_term: float         # 6 log2(21/ε_sec)
    correctness_term: float      # max(log2(2/ε_cor), tag bits)
    eps_sec: float
    eps_cor: float
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lim2014_length(s0: float, s1: float, phase_error: float, lambda_ec: int, eps_sec: float = 1e-10,
                   eps_cor: float = 1e-15, tag_bits: int = TAG_BITS) -> KeyLength:
    """[LCWXZ14] Eq. (1) with the correctness term max(log2(2/ε_cor), ``tag_bits``)."""
    if not (0 < eps_sec < 1 and 0 < eps_cor < 1):
        raise ValueError(f"ε_sec={eps_sec}, ε_cor={eps_cor}: both must lie in (0, 1)")
    phi = min(max(phase_error, 0.0), 0.5) if math.isfinite(phase_error) else 0.5
    s0 = max(float(s0), 0.0)
    s1 = max(float(s1), 0.0)
    priv = s1 * binary_entropy(phi)
    sec = 6 * math.log2(21 / eps_sec)
    cor = max(math.log2(2 / eps_cor), float(tag_bits))
    raw = s0 + s1 - priv - lambda_ec - sec - cor
    length = max(int(math.floor(raw)), 0)
    reason = ""
    if length == 0:
        if s1 <= 0:
            reason = "too few counts: single-photon lower bound s1 is 0"
        elif phi >= 0.5:
            reason = f"phase error bound φ = {phi:.3f} leaves no single-photon entropy"
        elif s0 + s1 - priv <= lambda_ec:
            reason = (f"error-correction leakage λ_EC = {lambda_ec} bits exceeds the entropy bound "
                      f"s0 + s1(1 − h(φ)) = {s0 + s1 - priv:.0f} bits")
        else:
            reason = (f"finite-size terms {sec + cor:.0f} bits exceed the {s0 + s1 - priv - lambda_ec:.0f} bits "
                      "left after error correction: too few counts")
    return KeyLength(length, s0, s1, phi, priv, int(lambda_ec), sec, cor, eps_sec, eps_cor, reason)


def asymptotic_length(n_bits: int, s1_fraction: float, e1: float, qber: float, f_ec: float = 1.16,
                      s0_fraction: float = 0.0) -> float:
    """GLLP/decoy asymptotic key length (bits) for ``n_bits`` sifted bits of which a fraction
    ``s1_fraction`` came from single photons with phase error ``e1``."""
    return max(n_bits * (s0_fraction + s1_fraction * (1 - binary_entropy(e1)) - f_ec * binary_entropy(qber)), 0.0)


# --------------------------------------------------------------------------------------------------
# the paper's simulation (expected counts) — to reproduce [LCWXZ14] Fig. 1


@dataclass(frozen=True)
class Lim2014System:
    """Simulation parameters of [LCWXZ14] Sec. IV (their Table / Fig. 1 caption)."""

    alpha_db_per_km: float = 0.2
    eta_bob: float = 0.1
    p_dc: float = 6e-7
    p_ap: float = 4e-2
    e_mis: float = 5e-3
    f_ec: float = 1.16
    mu3: float = 2e-4
    eps_sec: float = 1e-10
    eps_cor: float = 1e-15


def _h(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 1e-300, 1 - 1e-16)
    return -x * np.log2(x) - (1 - x) * np.log2(1 - x)


def _gamma_v(a: float, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        arg = (c + d) / (c * d * (1 - b) * b) * 21.0**2 / a**2
        g = np.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2)) * np.log2(np.maximum(arg, 1.0)))
    return np.where((b > 0) & (b < 1) & (c > 0) & (d > 0), g, 0.5)


def _rate_vectorised(sys: Lim2014System, length_km: float, n_x: float, mu1: np.ndarray, mu2: np.ndarray,
                     p1: np.ndarray, p2: np.ndarray, qx: np.ndarray, tag_bits: int = 0) -> np.ndarray:
    """Secret bits per sent pulse for arrays of (μ1, μ2, p1, p2, q_X); key from X ([LCWXZ14])."""
    eta = sys.eta_bob * 10 ** (-sys.alpha_db_per_km * length_km / 10)
    mus = np.stack([mu1, mu2, np.full_like(mu1, sys.mu3)])
    ps = np.stack([p1, p2, 1 - p1 - p2])
    det = 1 - (1 - 2 * sys.p_dc) * np.exp(-eta * mus)
    r = det * (1 + sys.p_ap)
    e = sys.p_dc + sys.e_mis * (1 - np.exp(-eta * mus)) + sys.p_ap * det / 2
    # N pulses so that n_X = Σ_k N q_X² p_k R_k
    n_pulses = n_x / (qx**2 * (ps * r).sum(axis=0))
    nx = n_pulses * qx**2 * ps * r
    mx = n_pulses * qx**2 * ps * e
    nz = n_pulses * (1 - qx) ** 2 * ps * r
    mz = n_pulses * (1 - qx) ** 2 * ps * e
    ln = math.log(21 / sys.eps_sec)
    tau0 = (ps * np.exp(-mus)).sum(axis=0)
    tau1 = (ps * np.exp(-mus) * mus).sum(axis=0)
    m1, m2, m3 = mus

    def bounds(n: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dn = np.sqrt(n.sum(axis=0) / 2 * ln)
        dm = np.sqrt(m.sum(axis=0) / 2 * ln)
        ef = np.exp(mus) / ps
        n_p, n_m = ef * (n + dn), ef * (n - dn)
        m_p, m_m = ef * (m + dm), ef * (m - dm)
        s0 = np.maximum(tau0 * (m2 * n_m[2] - m3 * n_p[1]) / (m2 - m3), 0.0)     # Eq. (2), lower bound
        # Eq. (3): with S_n = s_n/τ_n and N_k = e^{μ_k} n_k/p_k = Σ_n S_n μ_k^n/n!,
        # N_2 − N_3 − c (N_1 − S_0) ≤ S_1 (μ_2 − μ_3 − c μ_1), c = (μ_2² − μ_3²)/μ_1²: S_0 enters with a
        # positive coefficient, so its LOWER bound (Eq. 2) is the one to substitute (an upper bound
        # overstates s_1, grossly so where dark counts dominate and μ_1 − μ_2 − μ_3 → 0)
        s1 = (tau1 * m1 * (n_m[1] - n_p[2] - (m2**2 - m3**2) / m1**2 * (n_p[0] - s0 / tau0))
              / (m1 * (m2 - m3) - m2**2 + m3**2))                                # Eq. (3)
        v1 = tau1 * (m_p[1] - m_m[2]) / (m2 - m3)                                # Eq. (4)
        return np.maximum(s0, 0), np.maximum(s1, 0), v1

    s0x, s1x, _ = bounds(nx, mx)
    _, s1z, v1z = bounds(nz, mz)
    with np.errstate(all="ignore"):
        ratio = np.clip(v1z / s1z, 0, 0.5)
    phi = np.minimum(ratio + _gamma_v(sys.eps_sec, ratio, s1x, s1z), 0.5)            # Eq. (5)
    e_obs = mx.sum(axis=0) / nx.sum(axis=0)
    lam = n_x * sys.f_ec * _h(e_obs)
    ell = (s0x + s1x - s1x * _h(phi) - lam - 6 * math.log2(21 / sys.eps_sec)
           - max(math.log2(2 / sys.eps_cor), float(tag_bits)))
    valid = (mu2 > sys.mu3) & (mu1 > mu2 + sys.mu3) & (ps[2] > 0) & (s1z > 0)
    return np.where(valid, np.maximum(ell, 0) / n_pulses, 0.0)


def lim2014_expected_rate(length_km: float, n_x: float, system: Lim2014System | None = None, *, seed: int = 1,
                          samples: int = 20000, refinements: int = 6) -> tuple[float, dict[str, float]]:
    """Optimised secret key rate (bits per pulse) for block size ``n_x`` at ``length_km`` under the
    paper's model; returns (rate, optimal parameters). Random search then shrinking local search over
    μ1, μ2, p_μ1, p_μ2, q_X (μ3 fixed), vectorised with numpy."""
    sys = system or Lim2014System()
    rng = np.random.default_rng(seed)
    lo = np.array([0.1, 0.005, 0.05, 0.02, 0.5])
    hi = np.array([1.0, 0.5, 0.95, 0.9, 0.999])

    def ev(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, lo, hi)
        ok = x[:, 2] + x[:, 3] < 0.995
        r = _rate_vectorised(sys, length_km, n_x, x[:, 0], x[:, 1], x[:, 2], x[:, 3], x[:, 4])
        return np.where(ok, r, 0.0)

    x = lo + (hi - lo) * rng.random((samples, 5))
    r = ev(x)
    best = x[int(np.argmax(r))]
    best_r = float(r.max())
    width = (hi - lo) / 4
    for _ in range(refinements):
        cand = np.clip(best + width * rng.standard_normal((samples // 4, 5)), lo, hi)
        rc = ev(cand)
        i = int(np.argmax(rc))
        if rc[i] > best_r:
            best, best_r = cand[i], float(rc[i])
        width = width / 2
    names = ("mu1", "mu2", "p_mu1", "p_mu2", "q_x")
    return best_r, {k: float(v) for k, v in zip(names, best, strict=True)}


__all__ = ["KeyLength", "Lim2014System", "TAG_BITS", "asymptotic_length", "lim2014_expected_rate",
           "lim2014_length"]
