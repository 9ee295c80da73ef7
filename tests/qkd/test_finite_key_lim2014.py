"""Finite-key length: Eq. (1) of Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014) by hand, zero with a
reason when counts are too few, and the paper's n_X = 10^9 vs 10^7 key-rate ratio at 100 km."""

from __future__ import annotations

import math

import pytest

from qkd.postprocess.finite_key import asymptotic_length, lim2014_expected_rate, lim2014_length


def h(p: float) -> float:
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_length_matches_hand_computation_of_eq_1() -> None:
    s0, s1, phi, lam = 12_000.0, 400_000.0, 0.031, 55_555
    eps_sec, eps_cor = 1e-10, 1e-15
    # ℓ = s0 + s1 − s1 h(φ) − λ_EC − 6 log2(21/ε_sec) − log2(2/ε_cor), with our 128-bit tag ≥ log2(2/ε_cor)
    hand = s0 + s1 - s1 * h(phi) - lam - 6 * math.log2(21 / eps_sec) - 128
    kl = lim2014_length(s0, s1, phi, lam, eps_sec, eps_cor)
    assert kl.length == math.floor(hand)
    assert kl.security_term == pytest.approx(6 * math.log2(21e10))
    assert kl.correctness_term == 128 and kl.reason == ""


def test_a_loose_correctness_parameter_uses_the_paper_term_when_larger_than_the_tag() -> None:
    kl = lim2014_length(0, 1e6, 0.02, 0, 1e-10, 1e-60, tag_bits=128)
    assert kl.correctness_term == pytest.approx(math.log2(2 / 1e-60))


def test_every_disclosed_bit_lowers_the_length_by_one() -> None:
    a = lim2014_length(5_000, 300_000, 0.03, 40_000).length
    b = lim2014_length(5_000, 300_000, 0.03, 40_001).length
    assert a - b == 1


@pytest.mark.parametrize("s0,s1,phi,lam,cause", [
    (0, 0, 0.02, 0, "too few counts: single-photon lower bound s1 is 0"),
    (0, 10_000, 0.5, 0, "phase error bound"),
    (0, 10_000, 0.02, 20_000, "error-correction leakage"),
    (0, 400, 0.01, 100, "finite-size terms"),
])
def test_too_few_counts_give_zero_with_the_reason(s0: float, s1: float, phi: float, lam: int, cause: str) -> None:
    kl = lim2014_length(s0, s1, phi, lam)
    assert kl.length == 0 and cause in kl.reason


def test_rate_ratio_for_1e9_vs_1e7_at_100_km_is_close_to_the_paper() -> None:
    r9, p9 = lim2014_expected_rate(100, 1e9)
    r7, _ = lim2014_expected_rate(100, 1e7)
    assert r7 > 0
    assert r9 / r7 == pytest.approx(1.75, abs=0.15)   # [LCWXZ14] Sec. IV reports ~1.75
    assert 0 < p9["mu2"] < p9["mu1"] <= 1


def test_finite_rate_approaches_but_stays_below_asymptotic_behaviour_with_block_size() -> None:
    rates = [lim2014_expected_rate(50, n)[0] for n in (1e6, 1e8, 1e10)]
    assert rates[0] < rates[1] < rates[2]


def test_asymptotic_length() -> None:
    assert asymptotic_length(10**6, 0.5, 0.02, 0.02, 1.16) == pytest.approx(
        10**6 * (0.5 * (1 - h(0.02)) - 1.16 * h(0.02)))
    assert asymptotic_length(10**6, 0.1, 0.2, 0.1) == 0.0


def test_expected_rate_never_grows_with_distance_and_ends_where_dark_counts_dominate() -> None:
    # Eq. (3) with an upper bound on the vacuum term (instead of Eq. 2's lower bound) let the optimiser find
    # μ1 ≈ μ2 + μ3 settings with a near-zero denominator and a "rate" that rose again beyond 200 km
    rates = [lim2014_expected_rate(d, 1e6, samples=4000, refinements=4)[0] for d in (100, 150, 225, 300)]
    assert rates[0] > rates[1] > 0
    assert rates[2] == 0.0 and rates[3] == 0.0
