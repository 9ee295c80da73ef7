"""Parameter estimation: QBER, gains per intensity, decoy-state bounds on single-photon counts and phase error.

Finite-size bounds follow Lim, Curty, Walenta, Xu, Zbinden, "Concise security bounds for practical
decoy-state quantum key distribution", PRA 89, 022307 (2014) [LCWXZ14], for three intensities
μ₁ > μ₂ > μ₃ ≥ 0 (signal, weak decoy, vacuum or weaker decoy) with probabilities p_k:

* Hoeffding bands on the counts per intensity, n^±_{Z,k} = (e^{μ_k}/p_k)(n_{Z,k} ± √(n_Z/2 · ln(21/ε_sec)))
  (the same for X counts n_X and error counts m_X);
* τ_n = Σ_k p_k e^{−μ_k} μ_k^n / n!  (probability that Alice sends n photons);
* vacuum events s_{Z,0} ≥ τ₀ (μ₂ n^-_{Z,μ₃} − μ₃ n^+_{Z,μ₂})/(μ₂ − μ₃)  ([LCWXZ14] Eq. 2);
* single-photon events s_{Z,1} ≥ τ₁ μ₁ [n^-_{Z,μ₂} − n^+_{Z,μ₃} − (μ₂² − μ₃²)/μ₁² (n^+_{Z,μ₁} − s^u_{Z,0}/τ₀)]
  / (μ₁(μ₂ − μ₃) − μ₂² + μ₃²)  ([LCWXZ14] Eq. 3), the same with X counts for s_{X,1}.
  The vacuum term enters this bound with a *positive* coefficient (derivation: with S_n = s_n/τ_n and
  N_k = e^{μ_k} n_k/p_k = Σ_n S_n μ_k^n/n!, N₂ − N₃ − c(N₁ − S₀) ≤ S₁(μ₂ − μ₃ − cμ₁), c = (μ₂² − μ₃²)/μ₁²),
  so the value substituted for S₀ must be a *lower* bound: we use s^l_{Z,0}/τ₀ from Eq. 2. An upper bound
  (such as n^+_{Z,μ₃}, which exceeds S₀ by the μ₃-photon terms when μ₃ > 0) can overstate s_{Z,1} under
  an attack that keeps only 0-, 1- and 2-photon yields — tests/qkd/test_estimate_bounds.py pins this;
* single-photon errors in X: v_{X,1} ≤ τ₁ (m^+_{X,μ₂} − m^-_{X,μ₃})/(μ₂ − μ₃)  ([LCWXZ14] Eq. 4);
* phase error in Z: φ_Z ≤ v_{X,1}/s_{X,1} + γ(ε_sec, v_{X,1}/s_{X,1}, s_{Z,1}, s_{X,1}),
  γ(a, b, c, d) = √((c+d)(1−b)b/(c d ln 2) · log₂((c+d)/(c d (1−b) b) · 21²/a²))  ([LCWXZ14] Eq. 5).

The Z counts used are those of the key bits (the disclosed QBER sample removed); X counts are all
X-basis sifted detections (all disclosed). The finite-size bounds need exactly three intensities; with
fewer, the bounds are reported as 0 (s₀, s₁) and ½ (φ_Z), i.e. no secret key.

The asymptotic estimate (:func:`asymptotic_bounds`) applies Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005),
Sec. IV (vacuum + weak decoy) to the measured gains, for the asymptotic key rate that ``qshift qkd
simulate`` prints.

:class:`Bb84DecoyBlock` is the decoy-BB84 side of the per-block protocol's interface
(:class:`qkd.postprocess.link.KeyBlock`): a sifted key with its estimate, its abort tests and its key
length (finite: [LCWXZ14] Eq. 1 through ``finite_key.lim2014_length``; asymptotic: [MQZL05]).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qkd.errors import QkdError
from qkd.physics.keyrate import binary_entropy, gllp_rate, vacuum_weak_bounds
from qkd.postprocess import cascade
from qkd.postprocess.finite_key import TAG_BITS, lim2014_length
from qkd.postprocess.sift import SiftedKey, X, Z


class EstimationError(QkdError):
    """Parameter estimation is impossible with the given counts/intensities (message says why)."""


@dataclass(frozen=True)
class ParameterEstimate:
    """Statistics that bound Eve's information about the key of a :class:`SiftedKey`.

    ``n_sifted``: key bits (Z basis, sample removed). ``qber_z``: error rate on the disclosed Z sample;
    ``qber_z_sample_size``. ``qber_x``: X-basis error rate (all X disclosed). ``phase_error_upper``: upper
    bound φ_Z on the single-photon phase-error rate of the key bits ([LCWXZ14] Eq. 5).
    ``single_photon_lower`` s_{Z,1} and ``vacuum_lower`` s_{Z,0}: lower bounds on the number of key bits
    from single-photon and vacuum pulses ([LCWXZ14] Eqs. 2–3). ``eps_sec``: the secrecy parameter the
    Hoeffding bands use (each of the 21 estimates fails with probability ≤ ε_sec/21, [LCWXZ14]).
    ``gains[k]``: detections per sent pulse of intensity class k; ``qber_by_intensity[basis][k]``.
    Asymptotic [MQZL05] fields: ``y1_lower_asymptotic``, ``e1_upper_asymptotic``,
    ``key_rate_asymptotic`` (bits per emitted pulse, from signal pulses only).
    """

    n_sifted: int
    qber_z: float
    qber_z_sample_size: int
    qber_x: float
    phase_error_upper: float
    single_photon_lower: int
    vacuum_lower: int
    single_photon_lower_x: int
    single_photon_errors_upper_x: float
    eps_sec: float
    intensities: tuple[float, ...]
    gains: tuple[float, ...]
    qber_by_intensity: tuple[tuple[float, ...], ...]
    n_pulses: int
    disclosed_bits: int
    y1_lower_asymptotic: float
    e1_upper_asymptotic: float
    key_rate_asymptotic: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stable keys)."""
        return asdict(self)


def _tau(n: int, mus: np.ndarray, ps: np.ndarray) -> float:
    return float((ps * np.exp(-mus) * mus**n).sum() / math.factorial(n))


def gamma(a: float, b: float, c: float, d: float) -> float:
    """[LCWXZ14] Eq. 5 correction term γ(a, b, c, d) (a = ε_sec, b = error rate, c, d = counts)."""
    if b <= 0 or b >= 1 or c <= 0 or d <= 0:
        return 0.5
    arg = (c + d) / (c * d * (1 - b) * b) * 21.0**2 / a**2
    if arg <= 1:
        return 0.0
    return math.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2)) * math.log2(arg))


def decoy_bounds(n: np.ndarray, m: np.ndarray | None, mus: np.ndarray, ps: np.ndarray,
                 eps_sec: float) -> tuple[float, float, float | None]:
    """(s₀ lower, s₁ lower, v₁ upper or None) from counts ``n[k]`` and errors ``m[k]`` per intensity
    (μ decreasing) with [LCWXZ14] Eqs. 2–4."""
    if len(mus) != 3:
        raise EstimationError(f"finite-key decoy bounds need 3 intensities μ1 > μ2 > μ3 ≥ 0, got {tuple(mus)}")
    mu1, mu2, mu3 = (float(x) for x in mus)
    p = np.asarray(ps, dtype=float)
    delta = math.sqrt(n.sum() / 2.0 * math.log(21.0 / eps_sec))
    ef = np.exp(mus) / p
    n_plus, n_minus = ef * (n + delta), ef * (n - delta)
    tau0, tau1 = _tau(0, mus, p), _tau(1, mus, p)
    s0 = max(tau0 * (mu2 * n_minus[2] - mu3 * n_plus[1]) / (mu2 - mu3), 0.0)   # Eq. 2, lower bound
    # S₀ enters Eq. 3 with a positive coefficient: substitute its lower bound (see the module docstring)
    s1 = (tau1 * mu1 * (n_minus[1] - n_plus[2] - (mu2**2 - mu3**2) / mu1**2 * (n_plus[0] - s0 / tau0))
          / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2))
    v1 = None
    if m is not None:
        dm = math.sqrt(m.sum() / 2.0 * math.log(21.0 / eps_sec))
        m_plus, m_minus = ef * (m + dm), ef * (m - dm)
        v1 = tau1 * (m_plus[1] - m_minus[2]) / (mu2 - mu3)
    return max(s0, 0.0), max(s1, 0.0), v1


def asymptotic_bounds(key: SiftedKey, f_ec: float = 1.16) -> tuple[float, float, float]:
    """(Y₁ lower, e₁ upper, key rate bits/pulse) from measured gains with [MQZL05] Sec. IV; the weak decoy
    is class 1, the vacuum class 2 (or Y₀ = 0 without one)."""
    mus = key.intensities
    if len(mus) < 2:
        return 0.0, 0.5, 0.0
    sent_all = key.sent.sum(axis=0)
    gains = key.detected / np.maximum(sent_all, 1)
    disc, err = key.disclosed.sum(axis=0), key.errors.sum(axis=0)
    e_k = np.where(disc > 0, err / np.maximum(disc, 1), 0.5)
    y0 = float(gains[2]) if len(mus) == 3 and mus[2] == 0 else 0.0
    mu, nu = mus[0], mus[1]
    y1, e1 = vacuum_weak_bounds(mu, nu, float(gains[0]), float(gains[1]), float(e_k[1]), y0)
    # q: fraction of signal detections that became key bits (basis match × not sampled)
    n_key_signal = int(key.sifted[Z, 0] - key.disclosed[Z, 0])   # signal key bits (see :func:`estimate`)
    q = n_key_signal / int(key.detected[0]) if key.detected[0] else 0.0
    e_z = float(key.errors[Z, 0] / key.disclosed[Z, 0]) if key.disclosed[Z, 0] else 0.5
    rate = key.intensity_probabilities[0] * gllp_rate(q, f_ec, float(gains[0]), e_z,
                                                      y1 * mu * math.exp(-mu), e1)
    return y1, e1, rate


def estimate(key: SiftedKey, eps_sec: float = 1e-10, f_ec: float = 1.16) -> ParameterEstimate:
    """Parameter estimate of ``key`` (see the module docstring)."""
    mus = np.asarray(key.intensities, dtype=float)
    ps = np.asarray(key.intensity_probabilities, dtype=float)
    n_int = mus.size
    # key bits per intensity (Z, sample removed): every Z-sifted detection is either disclosed (QBER or sync
    # sample) or a key bit, so the counts give them without a pass over the key; X sifted counts and errors
    n_z = (key.sifted[Z] - key.disclosed[Z]).astype(float)
    n_x = key.sifted[X].astype(float)
    m_x = key.errors[X].astype(float)
    if n_int == 3:
        s0, s1, _ = decoy_bounds(n_z, None, mus, ps, eps_sec)
        _, s1x, v1x = decoy_bounds(n_x, m_x, mus, ps, eps_sec)
        assert v1x is not None
        if s1x > 0 and s1 > 0:
            ratio = min(max(v1x / s1x, 0.0), 0.5)
            phi = min(ratio + gamma(eps_sec, ratio, s1, s1x), 0.5)
        else:
            phi = 0.5
    else:
        s0, s1, s1x, v1x, phi = 0.0, 0.0, 0.0, float("nan"), 0.5
    sent_all = key.sent.sum(axis=0)
    gains = tuple(float(g) for g in key.detected / np.maximum(sent_all, 1))
    qbi = tuple(tuple(float(e / d) if d else float("nan") for e, d in zip(key.errors[b], key.disclosed[b],
                                                                          strict=True)) for b in (Z, X))
    y1a, e1a, rate = asymptotic_bounds(key, f_ec)
    return ParameterEstimate(
        n_sifted=key.n_key, qber_z=key.qber(Z), qber_z_sample_size=int(key.disclosed[Z].sum()),
        qber_x=key.qber(X), phase_error_upper=float(phi), single_photon_lower=int(math.floor(s1)),
        vacuum_lower=int(math.floor(s0)), single_photon_lower_x=int(math.floor(s1x)),
        single_photon_errors_upper_x=float(v1x), eps_sec=eps_sec, intensities=tuple(key.intensities),
        gains=gains, qber_by_intensity=qbi, n_pulses=key.n_slots, disclosed_bits=key.disclosed_bits,
        y1_lower_asymptotic=y1a, e1_upper_asymptotic=e1a, key_rate_asymptotic=rate)


def _asymptotic_entropy(estimate: ParameterEstimate, sifted: SiftedKey) -> tuple[float, float, str]:
    """(s1, e1, reason) from the decoy asymptotic Y_1 and e_1 of the estimate, for the signal bits."""
    y1, e1 = float(estimate.y1_lower_asymptotic), float(estimate.e1_upper_asymptotic)
    if not (math.isfinite(y1) and math.isfinite(e1)) or y1 <= 0:
        return 0.0, 0.5, "decoy estimate gives no single-photon yield"
    mu = float(sifted.intensities[0])
    gain = float(estimate.gains[0]) if estimate.gains else 0.0
    n_signal = int(np.count_nonzero(sifted.key_intensity == 0))
    if gain <= 0:
        return 0.0, 0.5, "no detections at the signal intensity"
    frac = min(y1 * mu * math.exp(-mu) / gain, 1.0)
    return n_signal * frac, min(max(e1, 0.0), 0.5), ""


@dataclass(frozen=True)
class Bb84DecoyBlock:
    """A decoy-BB84 block for the per-block protocol (:class:`qkd.postprocess.link.KeyBlock`): the sifted
    key of both ends and its parameter estimate. Abort tests: the Z-sample QBER above ``qber_abort``
    (``qber``); no key bits, or (finite key) a single-photon lower bound of 0 (``too-few-counts``)."""

    sifted: SiftedKey
    estimate: ParameterEstimate
    protocol: str = "bb84-decoy"

    @property
    def qber(self) -> float:
        return float(self.estimate.qber_z)

    def key_bits(self, role: str) -> np.ndarray:
        return self.sifted.alice_bits if role == "alice" else self.sifted.bob_bits

    def check(self, *, qber_abort: float, key_length: str) -> tuple[str, str] | None:
        qber = self.qber
        if not math.isfinite(qber) or qber > qber_abort:
            return "qber", f"QBER estimate {qber:.4f} above the abort threshold {qber_abort}"
        n = int(self.key_bits("alice").size)
        if n == 0 or (key_length == "finite" and self.estimate.single_photon_lower <= 0):
            return "too-few-counts", f"{n} sifted bits, single-photon lower bound {self.estimate.single_photon_lower}"
        return None

    def secret_length(self, lambda_ec: int, *, key_length: str, eps_sec: float,
                      eps_cor: float) -> tuple[int, str, dict[str, Any]]:
        """ℓ (bits): ``finite`` [LCWXZ14] Eq. 1, or ``asymptotic`` s_1 (1 − h(e_1)) − λ_EC − tag bits ([MQZL05])."""
        est = self.estimate
        if key_length == "finite":
            kl = lim2014_length(est.vacuum_lower, est.single_photon_lower, est.phase_error_upper, lambda_ec,
                                eps_sec, eps_cor, TAG_BITS)
            return kl.length, kl.reason, kl.to_dict()
        s1, e1, reason = _asymptotic_entropy(est, self.sifted)
        secret = s1 * (1 - cascade.binary_entropy(e1))
        length = max(int(math.floor(secret - lambda_ec - TAG_BITS)), 0) if not reason else 0
        if length == 0 and not reason:
            reason = f"λ_EC = {lambda_ec} bits exceeds s1(1 − h(e1)) = {secret:.0f}"
        return length, reason, {"mode": "asymptotic", "s1": s1, "e1": e1, "lambda_ec": lambda_ec,
                                "tag_bits": TAG_BITS, "length": length}

    def report(self) -> dict[str, Any] | None:
        return None


__all__ = ["Bb84DecoyBlock", "ParameterEstimate", "EstimationError", "estimate", "decoy_bounds", "gamma",
           "asymptotic_bounds", "binary_entropy"]
