"""Decoy-state bounds: Lim et al. 2014 finite-size estimates and Ma et al. 2005 asymptotic ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.emulator import emulate_link
from qkd.physics.keyrate import GYS, error_rate, gain
from qkd.postprocess.estimate import decoy_bounds, gamma


def _expected_counts(n_pulses: float, eta: float, y0: float, e_det: float, mus, ps, p_basis: float):
    n = np.array([n_pulses * p * p_basis * float(gain(m, eta, y0)) for m, p in zip(mus, ps, strict=True)])
    m = np.array([c * float(error_rate(mu, eta, y0, e_det)) for c, mu in zip(n, mus, strict=True)])
    return n, m


def test_finite_bounds_approach_the_true_single_photon_counts_for_huge_samples() -> None:
    mus, ps = np.array([0.5, 0.1, 0.0]), np.array([0.8, 0.1, 0.1])
    eta, y0, e_det = GYS.transmittance(30.0), GYS.y0, GYS.e_det
    n_pulses = 1e16
    n, m = _expected_counts(n_pulses, eta, y0, e_det, mus, ps, 0.5)
    s0, s1, v1 = decoy_bounds(n, m, mus, ps, 1e-10)
    tau1 = float((ps * np.exp(-mus) * mus).sum())
    true_s1 = n_pulses * 0.5 * tau1 * (y0 + eta)       # single-photon detections, Y₁ = Y₀ + η
    true_s0 = n_pulses * 0.5 * float((ps * np.exp(-mus)).sum()) * y0
    assert s1 <= true_s1 * 1.0001
    assert s1 == pytest.approx(true_s1, rel=0.05)        # a 3-intensity decoy bound is nearly tight
    assert s0 <= true_s0 * 1.0001 and s0 == pytest.approx(true_s0, rel=0.2)
    e1_true = (0.5 * y0 + e_det * eta) / (y0 + eta)
    # the X-error bound uses the weak decoy, whose two-photon errors it cannot remove: ≈ ν = 10 % above e₁
    assert v1 / s1 == pytest.approx(e1_true, rel=0.2)
    assert v1 / s1 >= e1_true * 0.999


@pytest.mark.parametrize("mus", [(0.5, 0.2, 0.05), (0.5, 0.1, 0.0), (0.6, 0.3, 0.1)])
@pytest.mark.parametrize("yields", [(1e-4, 1e-4, 0.5), (1e-3, 1e-4, 0.9), (1e-6, 1e-3, 1.0)])
def test_single_photon_bound_holds_when_eve_keeps_only_zero_one_and_two_photon_yields(mus, yields) -> None:
    # Y_n = 0 for n ≥ 3 makes the decoy inequality behind [LCWXZ14] Eq. 3 tight, so any over-estimate of
    # the vacuum term shows up directly as s₁ above the truth. Expected counts, N huge: fluctuation terms
    # are negligible and the bound must still be at most the true number of single-photon detections.
    mus_a, ps = np.array(mus), np.array([0.6, 0.2, 0.2])
    n_pulses = 1e20
    y = np.array(yields)
    n = np.array([n_pulses * p * sum(math.exp(-m) * m**j / math.factorial(j) * y[j] for j in range(3))
                  for p, m in zip(ps, mus_a, strict=True)])
    tau0 = float((ps * np.exp(-mus_a)).sum())
    tau1 = float((ps * np.exp(-mus_a) * mus_a).sum())
    s0, s1, _ = decoy_bounds(n, None, mus_a, ps, 1e-10)
    assert s1 <= tau1 * n_pulses * y[1]
    assert s0 <= tau0 * n_pulses * y[0] * (1 + 1e-6)
    if mus[2] == 0.0:   # vacuum decoy: S₀ is known exactly and the bound is tight against this attack
        assert s1 == pytest.approx(tau1 * n_pulses * y[1], rel=1e-3)


def test_finite_bounds_loosen_as_samples_shrink() -> None:
    mus, ps = np.array([0.5, 0.1, 0.0]), np.array([0.8, 0.1, 0.1])
    eta = GYS.transmittance(30.0)
    ratios = []
    for n_pulses in (1e10, 1e12, 1e14):
        n, m = _expected_counts(n_pulses, eta, GYS.y0, GYS.e_det, mus, ps, 0.5)
        s0, s1, v1 = decoy_bounds(n, m, mus, ps, 1e-10)
        ratios.append(s1 / n.sum())
    assert ratios[0] < ratios[1] < ratios[2]


def test_gamma_shrinks_with_more_counts_and_grows_with_smaller_epsilon() -> None:
    assert gamma(1e-10, 0.03, 1e6, 1e5) > gamma(1e-10, 0.03, 1e8, 1e7)
    assert gamma(1e-15, 0.03, 1e6, 1e5) > gamma(1e-5, 0.03, 1e6, 1e5)
    assert gamma(1e-10, 0.0, 1e6, 1e5) == 0.5


def test_emulated_link_estimate_bounds_the_truth_and_reports_the_asymptotic_rate() -> None:
    key, est = emulate_link("gys", 3 * 10**8, seed=21, length_km=20.0, eps_sec=1e-10)
    eta = GYS.transmittance(20.0)
    y1 = GYS.y0 + eta
    assert est.y1_lower_asymptotic <= y1 * 1.05
    assert est.y1_lower_asymptotic == pytest.approx(y1, rel=0.15)
    assert est.phase_error_upper >= (0.5 * GYS.y0 + GYS.e_det * eta) / y1 * 0.95
    assert 0 < est.single_photon_lower < est.n_sifted
    assert est.key_rate_asymptotic > 0
    assert est.n_sifted == key.n_key and est.disclosed_bits == int(key.disclosed.sum())
    assert math.isclose(est.qber_z, key.qber(0))


def test_estimate_has_no_key_material_in_its_repr() -> None:
    key, est = emulate_link("gys", 10**7, seed=22, length_km=5.0)
    assert "alice_bits" not in repr(key) and "bob_bits" not in repr(key)
