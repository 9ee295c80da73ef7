"""Finite-key length of entanglement-based BB84 (BBM92) by random sampling of the phase error, the analysis
behind the Micius 1,120 km result (Yin et al., Nature 582, 501–505, 2020: 372 secret bits from 3,100 s).

[FMC10] C.-H. F. Fung, X. Ma, H. F. Chau, "Practical issues in quantum-key-distribution post-processing",
PRA 81, 012318 (2010), the random-sampling estimate of the phase error rate: with n_z key bits in one
basis and n_x test bits in the other (q_x = n_x / (n_x + n_z)), the probability that the key's phase error
rate exceeds the test bits' bit error rate e_b by more than θ is at most

    ε_θ ≤ √(n_x + n_z) / √(n_x n_z e_b (1 − e_b)) · 2^(−(n_x + n_z) ξ(θ)),
    ξ(θ) = h(e_b + θ − q_x θ) − q_x h(e_b) − (1 − q_x) h(e_b + θ)

(h the binary entropy). The equation is quoted from our reading of [FMC10]'s phase-error section; its
number in the paper was not checked here. Given ε, θ is the smallest deviation with ε_θ ≤ ε
(:func:`fmc10_theta`, by bisection: ε_θ falls monotonically in θ over (0, ½ − e_b)).

Key length of a symmetric entanglement-based run where the sifted bits of *both* bases are key (each
basis' phase error bounded by the other's bit error — the two bases of BBM92 are symmetric), against a
bit-error threshold e_th agreed before the run (the protocol aborts above it; passing, every basis' bit
error is ≤ e_th, so the phase error is ≤ e_th + θ except with probability ε):

    ℓ = ⌊ n (1 − h(e_th + θ)) − λ_EC − 2 log₂(1/ε_PA) ⌋,   n = n_z + n_x,

the last term the leftover-hash cost of privacy amplification at ε_PA (Renner's leftover hash lemma,
2 log₂(1/ε) extra bits removed), λ_EC the bits disclosed by error correction (f · n · h(e_bit) for a code
of inefficiency f).

Why our per-block bound gave 0 bits on the Micius data: [TLGR12] (M. Tomamichel, C. C. W. Lim, N. Gisin,
R. Renner, Nat. Commun. 3, 634 (2012), Eq. 2; ``qkd.postprocess.bbm92.bbm92_key_length``) allows the
phase error μ = √((n+k)/(nk) · (k+1)/k · ln(2/ε)) above the test rate, with the key from Z only and every X
pair a test. On 3,410 sifted bits μ ≈ 0.17 against θ ≈ 0.06 here, on half the key bits
(:func:`compare_margins`).

Units: bits; rates dimensionless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qkd.postprocess.cascade import binary_entropy


def _h(p: float) -> float:
    return float(binary_entropy(min(max(p, 0.0), 0.5)))


def fmc10_failure(theta: float, e_b: float, n_x: int, n_z: int) -> float:
    """ε_θ of [FMC10] (module docstring): probability that the phase error exceeds ``e_b`` + ``theta``."""
    if n_x <= 0 or n_z <= 0:
        return 1.0
    e = min(max(e_b, 1e-12), 0.5 - 1e-12)
    q = n_x / (n_x + n_z)
    xi = _h(e + theta - q * theta) - q * _h(e) - (1.0 - q) * _h(e + theta)
    prefactor = math.sqrt(n_x + n_z) / math.sqrt(n_x * n_z * e * (1.0 - e))
    return min(1.0, prefactor * 2.0 ** (-(n_x + n_z) * xi))


def fmc10_theta(e_b: float, n_x: int, n_z: int, eps: float) -> float:
    """Smallest θ with ε_θ ≤ ``eps`` ([FMC10], module docstring); ½ − e_b when no θ reaches it."""
    lo, hi = 0.0, 0.5 - e_b
    if fmc10_failure(hi, e_b, n_x, n_z) > eps:
        return hi
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if fmc10_failure(mid, e_b, n_x, n_z) > eps:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass(frozen=True)
class SamplingKeyLength:
    """ℓ (bits, ≥ 0) of the module docstring's formula and its terms; ``reason`` when ℓ = 0."""

    length: int
    n: int
    threshold: float
    theta: float
    phase_error_bound: float    # e_th + θ
    privacy_term: float         # n h(e_th + θ)
    lambda_ec: float
    pa_term: float              # 2 log₂(1/ε_PA)
    reason: str = ""


def bbm92_sampling_key_length(n_z: int, n_x: int, threshold: float, lambda_ec: float, *, eps_pe: float = 1e-10,
                              eps_pa: float = 1e-10) -> SamplingKeyLength:
    """Secret bits from ``n_z`` + ``n_x`` sifted bits (both bases key) that passed a bit-error threshold
    ``threshold`` (e_th), with ``lambda_ec`` bits disclosed by error correction; the phase error bound
    e_th + θ fails with probability ≤ ``eps_pe`` ([FMC10]), privacy amplification costs 2 log₂(1/``eps_pa``)
    (module docstring)."""
    n = n_z + n_x
    if n_z <= 0 or n_x <= 0:
        return SamplingKeyLength(0, n, threshold, math.nan, math.nan, 0.0, lambda_ec, 0.0,
                                 f"too few sifted bits: {n_z} in Z, {n_x} in X")
    theta = fmc10_theta(threshold, n_x, n_z, eps_pe)
    bound = min(0.5, threshold + theta)
    privacy = n * _h(bound)
    pa = 2.0 * math.log2(1.0 / eps_pa)
    length = max(0, math.floor(n - privacy - lambda_ec - pa))
    reason = "" if length else (f"no secret key: {n} bits − {privacy:.0f} (phase error ≤ {threshold:.2%} + "
                                f"{theta:.2%}) − {lambda_ec:.0f} disclosed − {pa:.0f} (privacy amplification) ≤ 0")
    return SamplingKeyLength(length, n, threshold, theta, bound, privacy, lambda_ec, pa, reason)


def tlgr12_margin(n: int, k: int, eps_sec: float) -> float:
    """μ of [TLGR12] Eq. 2 (``qkd.postprocess.bbm92``): the deviation our per-block finite key allows between
    the key's phase error and the rate seen on ``k`` test bits, for ``n`` key bits."""
    return math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2.0 / eps_sec))


def compare_margins(n_z: int, n_x: int, e_b: float, eps: float) -> dict[str, float]:
    """The two finite-size margins side by side for one run: [FMC10]'s θ (key from both bases, each basis
    tested by the other) and [TLGR12]'s μ (key from Z, X the test)."""
    return {"fmc10_theta": fmc10_theta(e_b, n_x, n_z, eps), "tlgr12_mu": tlgr12_margin(n_z, n_x, eps),
            "fmc10_key_bits": float(n_z + n_x), "tlgr12_key_bits": float(n_z)}


__all__ = ["SamplingKeyLength", "bbm92_sampling_key_length", "compare_margins", "fmc10_failure", "fmc10_theta",
           "tlgr12_margin"]
