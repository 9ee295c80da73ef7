"""BBM92 closed forms (qkd.physics.entangled) against Ma–Fung–Lo's published formulas and against a direct
photon-by-photon Monte Carlo written independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.physics.entangled import (
    EntangledSourceError,
    SpdcSource,
    StationDetection,
    arm_efficiencies,
    bbm92_figures,
    bbm92_key_rate,
    chsh_from_qber,
    chsh_from_visibility,
    click_pattern_probabilities,
    cw_operating_point,
    mfl_thermal_gain_qber,
)

CASES = [  # mean pairs μ, η_A, η_B, dark probability per detector, misalignment e_d
    (0.01, 0.1, 0.2, 1e-5, 0.01),
    (0.1, 0.5, 0.5, 0.0, 0.0),
    (0.1, 1e-3, 1e-2, 1e-6, 0.02),
    (0.5, 0.1, 0.2, 1e-5, 0.01),
    (2.0, 0.3, 0.05, 1e-4, 0.03),
]


@pytest.mark.parametrize(("mu", "eta_a", "eta_b", "p_dark", "e_d"), CASES)
def test_thermal_gain_equals_ma_fung_lo_and_qber_agrees_to_the_dark_count_order(
        mu: float, eta_a: float, eta_b: float, p_dark: float, e_d: float) -> None:
    source = SpdcSource(mean_pairs=mu, statistics="thermal", visibility=1 - 2 * e_d)
    fig = bbm92_figures(source, StationDetection(eta_a, p_dark), StationDetection(eta_b, p_dark))
    y0 = 1 - (1 - p_dark) ** 2
    q, e = mfl_thermal_gain_qber(mu / 2, eta_a, eta_b, y0, y0, e_d)
    assert fig.gain == pytest.approx(q, rel=1e-9)
    # [MFL07]'s error term keeps a coincidence correlated when a dark count lands on top of it; the
    # squashing model here turns that double click into a random bit: a difference of order p_dark
    assert abs(fig.qber - e) <= 4 * p_dark + 1e-12
    if p_dark == 0:
        assert fig.qber == pytest.approx(e, rel=1e-9)


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
def test_click_patterns_are_a_distribution_and_single_pairs_dominate_at_low_brightness(statistics: str) -> None:
    source = SpdcSource(mean_pairs=0.001, statistics=statistics, visibility=0.96)   # type: ignore[arg-type]
    probs = click_pattern_probabilities(source, StationDetection(0.2, 1e-6), StationDetection(0.3, 1e-6))
    assert len(probs) == 16 and min(probs.values()) >= 0
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
    fig = bbm92_figures(source, StationDetection(0.2, 1e-6), StationDetection(0.3, 1e-6))
    assert fig.gain == pytest.approx(0.001 * 0.2 * 0.3, rel=0.01)       # Q ≈ μ η_A η_B
    assert fig.qber == pytest.approx(0.02, abs=0.001)                    # E ≈ e_d = (1 − V)/2
    brighter = bbm92_figures(SpdcSource(mean_pairs=0.02, statistics=statistics, visibility=0.96),  # type: ignore[arg-type]
                             StationDetection(0.2, 1e-6), StationDetection(0.3, 1e-6))
    assert brighter.qber > fig.qber + 0.005 and brighter.double_click_probability > fig.double_click_probability


def _monte_carlo(source: SpdcSource, eta_a: float, eta_b: float, p_dark: float, windows: int,
                 seed: int) -> tuple[float, float]:
    """Photon by photon: draw each polarisation mode's pairs, detect every photon, misroute Bob's, add
    dark counts, squash double clicks; return (gain, QBER)."""
    rng = np.random.default_rng(seed)
    lam = source.mean_pairs / 2
    if source.statistics == "thermal":   # geometric on {0, 1, ...} with mean λ
        pairs = rng.geometric(1 / (1 + lam), size=(2, windows)) - 1
    else:
        pairs = rng.poisson(lam, size=(2, windows))
    clicks = np.zeros((4, windows), dtype=bool)   # A0, A1, B0, B1
    for mode in (0, 1):
        n = pairs[mode]
        a_hits = rng.binomial(n, eta_a)
        b_hits = rng.binomial(n, eta_b)
        b_wrong = rng.binomial(b_hits, source.misalignment_error)
        clicks[mode] |= a_hits > 0
        clicks[2 + mode] |= (b_hits - b_wrong) > 0
        clicks[2 + 1 - mode] |= b_wrong > 0
    clicks |= rng.random((4, windows)) < p_dark
    a_any, b_any = clicks[0] | clicks[1], clicks[2] | clicks[3]
    both = a_any & b_any
    coin = rng.random((2, windows)) < 0.5
    a_bit = np.where(clicks[0] & clicks[1], coin[0], clicks[1])
    b_bit = np.where(clicks[2] & clicks[3], coin[1], clicks[3])
    errors = int(np.count_nonzero(both & (a_bit != b_bit)))
    coincidences = int(np.count_nonzero(both))
    return float(both.mean()), errors / max(1, coincidences)


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
@pytest.mark.parametrize(("mu", "eta_a", "eta_b", "p_dark", "e_d"), [(0.3, 0.4, 0.25, 2e-3, 0.02),
                                                                      (1.5, 0.2, 0.3, 5e-3, 0.0)])
def test_closed_form_matches_a_photon_by_photon_monte_carlo(statistics: str, mu: float, eta_a: float,
                                                            eta_b: float, p_dark: float, e_d: float) -> None:
    source = SpdcSource(mean_pairs=mu, statistics=statistics, visibility=1 - 2 * e_d)   # type: ignore[arg-type]
    fig = bbm92_figures(source, StationDetection(eta_a, p_dark), StationDetection(eta_b, p_dark))
    windows = 400_000
    gain, qber = _monte_carlo(source, eta_a, eta_b, p_dark, windows, seed=11)
    sigma_q = math.sqrt(fig.gain * (1 - fig.gain) / windows)
    sigma_e = math.sqrt(fig.qber * (1 - fig.qber) / (fig.gain * windows))
    assert abs(gain - fig.gain) < 5 * sigma_q
    assert abs(qber - fig.qber) < 5 * sigma_e


def test_multi_pair_emission_raises_the_qber_independent_pairs_more_than_thermal_ones() -> None:
    alice, bob = StationDetection(0.5, 0.0), StationDetection(0.5, 0.0)
    low = bbm92_figures(SpdcSource(mean_pairs=0.01, visibility=1.0), alice, bob).qber
    high_thermal = bbm92_figures(SpdcSource(mean_pairs=0.5, visibility=1.0), alice, bob).qber
    high_poisson = bbm92_figures(SpdcSource(mean_pairs=0.5, statistics="poisson", visibility=1.0), alice, bob).qber
    # a thermal mode's extra pairs share its polarisation (bosonic bunching), so they still agree; the
    # independent pairs of a multimode (Poisson) source carry independent bits and add more errors
    assert low < 0.01 < high_thermal < high_poisson


def test_key_rate_has_an_optimal_brightness_and_vanishes_in_the_noise() -> None:
    alice, bob = StationDetection(0.05, 1e-6), StationDetection(0.05, 1e-6)
    rates = {mu: bbm92_key_rate(bbm92_figures(SpdcSource(mean_pairs=mu), alice, bob))
             for mu in (0.001, 0.01, 0.05, 0.2, 1.0, 4.0)}
    best = max(rates, key=lambda m: rates[m])
    assert 0.001 < best < 4.0 and rates[best] > 0
    assert rates[4.0] < rates[best] and rates[0.001] < rates[best]
    # far beyond the loss a dark-count floor allows, nothing is secret
    lossy = StationDetection(1e-5, 1e-4)
    assert bbm92_key_rate(bbm92_figures(SpdcSource(mean_pairs=0.1), lossy, lossy)) == 0.0


def test_chsh_is_tsirelson_at_full_visibility_and_classical_at_one_over_root_two() -> None:
    assert chsh_from_visibility(1.0) == pytest.approx(2 * math.sqrt(2))
    assert chsh_from_visibility(1 / math.sqrt(2)) == pytest.approx(2.0)
    assert chsh_from_qber(0.0) == pytest.approx(2 * math.sqrt(2))
    # the CHSH threshold S = 2 sits at E = (1 − 1/√2)/2 ≈ 14.6 %
    assert chsh_from_qber((1 - 1 / math.sqrt(2)) / 2) == pytest.approx(2.0)


def test_placement_and_cw_source() -> None:
    middle = SpdcSource(placement="middle")
    at_alice = SpdcSource(placement="alice")
    assert arm_efficiencies(middle, 0.1, 0.2, 0.8, 0.7) == pytest.approx((0.08, 0.14))
    assert arm_efficiencies(at_alice, 0.1, 0.2, 0.8, 0.7) == pytest.approx((0.8, 0.1 * 0.2 * 0.7))
    cw = SpdcSource.continuous_wave(1e6, 500.0)
    assert cw.statistics == "poisson" and cw.mean_pairs == pytest.approx(5e-4)
    assert cw.window_rate_hz == pytest.approx(2e9)
    total = sum(cw.pair_number_probability(n) for n in range(30))
    assert total == pytest.approx(1.0)
    thermal = SpdcSource(mean_pairs=0.4)
    mean = sum(n * thermal.pair_number_probability(n) for n in range(400))
    assert mean == pytest.approx(0.4, rel=1e-9)


@pytest.mark.parametrize("kwargs", [{"mean_pairs": 0.0}, {"visibility": 1.2}, {"statistics": "bose"},
                                    {"placement": "bob"}, {"window_rate_hz": 0.0}])
def test_out_of_range_source_parameters_are_refused_by_name(kwargs: dict) -> None:
    with pytest.raises(EntangledSourceError, match=next(iter(kwargs))):
        SpdcSource(**kwargs)


def test_accidentals_are_the_product_of_the_singles_and_the_operating_point_inverts_the_model() -> None:
    source = SpdcSource.continuous_wave(1e6, 1000.0, visibility=0.95)      # μ = 10⁻³ pairs per window
    alice, bob = StationDetection(0.01, 1e-5), StationDetection(0.02, 3e-5)
    fig = bbm92_figures(source, alice, bob)
    # a Poissonian source: a station is silent iff no photon of the window reaches it and neither detector
    # dark-counts, so P(clicks) = 1 − (1 − p)² e^{−μη}
    singles_a = 1 - (1 - 1e-5) ** 2 * math.exp(-1e-3 * 0.01)
    singles_b = 1 - (1 - 3e-5) ** 2 * math.exp(-1e-3 * 0.02)
    assert fig.accidental_gain == pytest.approx(singles_a * singles_b, rel=1e-9)
    assert fig.signal_to_noise == pytest.approx((fig.gain - fig.accidental_gain) / fig.accidental_gain)
    assert 50 < fig.signal_to_noise < 120                     # ≈ μη_Aη_B / (singles_A singles_B) ≈ 83
    # from the three figures an experiment reports back to the parameters of a symmetric link
    station = StationDetection(0.01, 1e-5)
    fig = bbm92_figures(source, station, station)
    point = cw_operating_point(1e6, 1000.0, coincidence_rate_hz=fig.gain * source.window_rate_hz,
                               signal_to_noise=fig.signal_to_noise, qber=fig.qber)
    assert point.station.efficiency == pytest.approx(0.01, rel=1e-3)
    assert point.station.dark_probability == pytest.approx(1e-5, rel=1e-3)
    assert point.source.visibility == pytest.approx(0.95, rel=1e-4)
    assert point.background_rate_hz == pytest.approx(-math.log1p(-1e-5) / 1e-9, rel=1e-3)
    assert point.two_photon_loss_db == pytest.approx(40.0, abs=0.01)
    assert point.coincidence_rate_hz == pytest.approx(fig.gain * source.window_rate_hz, rel=1e-4)
