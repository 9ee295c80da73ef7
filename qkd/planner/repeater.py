"""A memory-based quantum-repeater chain, for comparison with trusted nodes.

Model ([SSRG11] N. Sangouard, C. Simon, H. de Riedmatten, N. Gisin, "Quantum repeaters based on atomic
ensembles and linear optics", RMP 83, 33 (2011), Sec. IV: the time to distribute one pair over a nested
chain): the distance L is cut into 2ⁿ elementary segments of L₀ = L/2ⁿ. An elementary pair is heralded
by a two-photon Bell measurement half-way along a segment: each photon crosses L₀/2 of fibre and is
detected (η_t = 10^{−αL₀/20}, η_d), and a linear-optics Bell measurement succeeds with ½, so
P₀ = ½ (η_t η_d)². One attempt takes L₀/c (signal out, herald back), c = 2·10⁵ km/s in fibre. Each of the
n nesting levels swaps two neighbouring pairs: both memories are read (η_m²) and the swap succeeds with
p_swap; waiting for two independent pairs costs the factor 3/2 per level ([SSRG11] Eq. 8 and its
discussion). Expected time per end-to-end pair:

    T = (3/2)ⁿ · (L₀/c) / (P₀ · Π_{levels} η_m² p_swap) · 1/η_m²   (the end nodes read their memories).

Errors: an elementary pair has QBER e₀; swapping composes the correlations, 1 − 2e = (1 − 2e₀)^{2ⁿ}, and
storage for about T dephases them by exp(−T/τ) (memory coherence time τ). Key: BBM92 on the end-to-end
pairs with efficient basis choice, R = (1/T)·[1 − (1 + f)·H₂(e)] with f = 1.16. A simplified model: it ignores
multi-excitation errors and the spread of waiting times — enough to tell what memories a repeater needs
before it beats a chain of trusted nodes, not to design one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qkd.physics.keyrate import binary_entropy
from qkd.planner.topology import RepeaterMemory

FIBRE_LIGHT_SPEED_KM_S = 2.0e5
F_EC = 1.16


@dataclass(frozen=True)
class RepeaterChainRate:
    length_km: float
    nesting_levels: int
    segment_km: float
    time_per_pair_s: float
    qber: float
    key_rate_bps: float

    def describe(self) -> str:
        return (f"repeater chain of {2 ** self.nesting_levels} segments × {self.segment_km:g} km: one pair per "
                f"{self.time_per_pair_s:.3g} s, QBER {self.qber:.3%} ([SSRG11] model)")


def repeater_chain_rate(length_km: float, nesting_levels: int, memory: RepeaterMemory,
                        loss_db_per_km: float = 0.2) -> RepeaterChainRate:
    """Secret bits/s of a nested repeater chain over ``length_km`` (module docstring)."""
    segments = 2 ** nesting_levels
    l0 = length_km / segments
    eta_half = 10.0 ** (-loss_db_per_km * l0 / 20.0)
    p0 = 0.5 * (eta_half * memory.detector_efficiency) ** 2
    per_level = memory.efficiency ** 2 * memory.swap_success
    attempt_s = l0 / FIBRE_LIGHT_SPEED_KM_S
    t_pair = (1.5 ** nesting_levels) * attempt_s / (p0 * per_level ** nesting_levels) / memory.efficiency ** 2
    correlation = (1.0 - 2.0 * memory.pair_fidelity_error) ** segments
    correlation *= math.exp(-t_pair / (memory.coherence_time_ms * 1e-3))
    qber = (1.0 - correlation) / 2.0
    h = float(binary_entropy(qber))
    rate = max(0.0, (1.0 - (1.0 + F_EC) * h) / t_pair)
    return RepeaterChainRate(length_km, nesting_levels, l0, t_pair, qber, rate)
