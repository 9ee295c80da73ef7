"""Closed-form decoy-state BB84 theory against values derived by hand from Ma, Qi, Zhao, Lo (PRA 72, 012326)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.physics.keyrate import (
    GYS,
    LIM2014,
    error_rate,
    gain,
    key_rate,
    key_rate_curve,
    max_distance_km,
    optimal_mu,
    plob_bound,
    single_photon_infinite,
)

# Hand derivation, GYS parameters at 0 km (η = η_Bob = 0.045), μ = 0.48:
#   ημ = 0.0216, 1 − e^{−ημ} = 0.0213684
#   Q_μ = Y₀ + 1 − e^{−ημ} = 1.7e-6 + 0.0213684 = 0.0213701
#   E_μ = (½·1.7e-6 + 0.033·0.0213684)/Q_μ = 0.0330372
#   Y₁ = Y₀ + η = 0.0450017, e₁ = (½Y₀ + e_det η)/Y₁ = 0.0330176, Q₁ = Y₁ μ e^{−μ} = 0.0133662
#   R = ½[−Q_μ·1.22·H₂(E_μ) + Q₁(1 − H₂(e₁))] = 2.5546e-3 bits/pulse
GYS_0KM = {"Q": 0.0213701, "E": 0.0330372, "e1": 0.0330176, "Q1": 0.0133662, "R": 2.5546e-3}


def test_gys_gain_error_and_rate_at_zero_km_match_the_hand_derivation() -> None:
    eta = GYS.transmittance(0.0)
    assert gain(0.48, eta, GYS.y0) == pytest.approx(GYS_0KM["Q"], rel=1e-5)
    assert error_rate(0.48, eta, GYS.y0, GYS.e_det) == pytest.approx(GYS_0KM["E"], rel=1e-5)
    q1, e1 = single_photon_infinite(0.48, eta, GYS.y0, GYS.e_det)
    assert q1 == pytest.approx(GYS_0KM["Q1"], rel=1e-5)
    assert e1 == pytest.approx(GYS_0KM["e1"], rel=1e-5)
    assert key_rate(GYS, 0.0, 0.48) == pytest.approx(GYS_0KM["R"], rel=1e-4)


def test_gys_maximum_distance_infinite_decoy_is_142_km() -> None:
    # Ma et al. 2005 report ≈ 142 km for infinite decoys with GYS parameters. Our closed form: at fixed
    # μ = 0.48 the rate vanishes at 142.0 km; with μ optimised per distance at 142.2 km.
    assert max_distance_km(GYS, "infinite", mu=0.48) == pytest.approx(142.0, abs=0.1)
    assert max_distance_km(GYS, "infinite") == pytest.approx(142.2, abs=0.1)


def test_gys_maximum_distance_vacuum_weak_decoy_is_about_140_km() -> None:
    # Vacuum + weak decoy (Sec. IV bounds on expected gains): the maximum distance falls as ν grows and
    # tends to the infinite-decoy 142 km as ν → 0: ν = 0.1 → 139.8 km (≈ 140 km of the paper), ν = 0.05 →
    # 141.0 km, ν = 0.01 → 142.0 km.
    assert max_distance_km(GYS, "vacuum-weak", nu=0.1) == pytest.approx(139.8, abs=0.15)
    assert max_distance_km(GYS, "vacuum-weak", nu=0.05) == pytest.approx(141.0, abs=0.15)
    assert max_distance_km(GYS, "vacuum-weak", nu=0.01) == pytest.approx(142.0, abs=0.15)


def test_optimal_mu_for_gys_at_zero_km_is_near_048() -> None:
    mu, rate = optimal_mu(GYS, 0.0)
    assert mu == pytest.approx(0.48, abs=0.01)
    assert rate >= key_rate(GYS, 0.0, 0.48)


@pytest.mark.parametrize("link", [GYS, LIM2014], ids=lambda link: link.name)
@pytest.mark.parametrize("decoy", ["infinite", "vacuum-weak"])
def test_key_rate_never_exceeds_the_plob_bound(link, decoy) -> None:
    curve = key_rate_curve(link, np.linspace(0.5, 250, 40), decoy)
    for rate, bound in zip(curve.rates_bits_per_pulse, curve.plob_bits_per_pulse, strict=True):
        assert rate <= bound
    assert any(r > 0 for r in curve.rates_bits_per_pulse)


def test_vacuum_weak_rate_is_below_infinite_decoy_rate() -> None:
    for length in (0, 40, 80, 120):
        assert key_rate(GYS, length, 0.48, "vacuum-weak", 0.05) <= key_rate(GYS, length, 0.48, "infinite")


def test_plob_bound_is_minus_log2_one_minus_eta() -> None:
    assert plob_bound(0.5) == pytest.approx(1.0)
    assert plob_bound(1e-3) == pytest.approx(-math.log2(1 - 1e-3))


def test_key_rate_falls_with_the_fiber_attenuation_slope() -> None:
    # far from the cut-off the rate scales like η: 10 km of 0.21 dB/km is a factor 10^{-0.21}
    r1, r2 = key_rate(GYS, 40, 0.48), key_rate(GYS, 50, 0.48)
    assert r2 / r1 == pytest.approx(10 ** (-0.21), rel=0.02)


def test_free_space_presets_give_a_key_rate_vs_range_below_plob_and_daylight_shortens_it() -> None:
    from dataclasses import replace

    from qkd.physics.presets import link_preset, theory_preset

    night, day = theory_preset("freespace-night"), theory_preset("freespace-day")
    channel = link_preset("freespace-night").channel
    # t_AB at a range is the free-space channel's own mean transmittance there (geometric × atmospheric)
    assert night.channel_transmittance(800.0) == pytest.approx(
        replace(channel, distance_m=800e3).mean_transmittance(), rel=1e-12)
    assert day.y0 > 100 * night.y0                     # 1e6 vs 1e3 background counts/s
    ranges = [100.0, 1000.0, 3000.0]
    c_night = key_rate_curve(night, ranges)
    c_day = key_rate_curve(day, ranges)
    for curve in (c_night, c_day):
        assert all(r <= b for r, b in zip(curve.rates_bits_per_pulse, curve.plob_bits_per_pulse, strict=True))
    assert c_night.rates_bits_per_pulse[2] > 0 and c_day.rates_bits_per_pulse[2] == 0
    assert 1000 < c_day.max_distance_km < c_night.max_distance_km < math.inf
