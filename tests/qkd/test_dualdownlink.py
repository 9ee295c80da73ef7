"""Satellite dual downlink geometry and key per pass (qkd.physics.dualdownlink), against the single-station
pass geometry of qkd.physics.freespace and closed-form spherical trigonometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.physics.dualdownlink import DualDownlink, GroundStation, transmitter_aperture_m
from qkd.physics.entangled import EntangledSourceError, SpdcSource, StationDetection, bbm92_figures
from qkd.physics.freespace import EARTH_RADIUS_M, FreeSpaceChannel, SatellitePass

SOURCE = SpdcSource.continuous_wave(5.9e6, 2500.0, visibility=0.95)
CHANNEL = FreeSpaceChannel(wavelength_nm=810.0, tx_aperture_m=0.05, rx_aperture_m=1.2)


def link(separation_km: float, cross_track_deg: float = 0.0, mask: float = 10.0) -> DualDownlink:
    return DualDownlink(GroundStation("a", 0.3, 300.0, mask), GroundStation("b", 0.3, 300.0, mask),
                        separation_km * 1e3, SOURCE, CHANNEL, cross_track_deg=cross_track_deg, window_ps=2500.0)


def test_two_stations_at_one_place_see_the_single_station_pass() -> None:
    dual = link(1e-3)
    single = SatellitePass(altitude_m=500e3)
    t = np.linspace(-300, 300, 13)
    geo = dual.geometry(t)
    assert geo["elevation_a_deg"] == pytest.approx(single.elevation_deg(t), abs=1e-3)
    assert geo["range_a_m"] == pytest.approx(single.slant_range_m(single.elevation_deg(t)), rel=1e-6)


def test_elevation_at_closest_approach_follows_spherical_trigonometry() -> None:
    dual = link(1120.0)
    geo = dual.geometry([0.0])
    beta = 560e3 / EARTH_RADIUS_M
    ratio = EARTH_RADIUS_M / (EARTH_RADIUS_M + 500e3)
    expected = math.degrees(math.atan2(math.cos(beta) - ratio, math.sin(beta)))
    assert geo["elevation_a_deg"][0] == pytest.approx(expected, abs=1e-6)
    assert geo["elevation_b_deg"][0] == pytest.approx(expected, abs=1e-6)
    # a ground track off the midpoint favours one station
    off = link(1120.0, cross_track_deg=2.0).geometry([0.0])
    assert off["elevation_a_deg"][0] > expected > off["elevation_b_deg"][0]


def test_farther_stations_share_a_shorter_window_lose_more_and_distil_less() -> None:
    near, far = link(600.0), link(1400.0)
    (s0, e0), (s1, e1) = near.common_window_s(), far.common_window_s()
    assert e1 - s1 < e0 - s0
    pn, pf = near.pass_profile(), far.pass_profile()
    assert pf["two_photon_loss_db"].min() > pn["two_photon_loss_db"].min()
    assert 0 < far.key_per_pass_bits() < near.key_per_pass_bits()
    # stations farther apart than one satellite can see at once share no window and no key
    beyond = link(6000.0)
    assert beyond.common_window_s() == (0.0, 0.0) and beyond.key_per_pass_bits() == 0.0


def test_the_rate_at_an_instant_is_the_bbm92_closed_form_of_the_two_arms() -> None:
    dual = link(1120.0)
    prof = dual.pass_profile(points=11)
    i = 5
    eta_a = 10 ** (-prof["loss_a_db"][i] / 10) * 0.3
    eta_b = 10 ** (-prof["loss_b_db"][i] / 10) * 0.3
    dark = 300.0 * 2500e-12
    fig = bbm92_figures(SOURCE, StationDetection(eta_a, dark), StationDetection(eta_b, dark))
    assert prof["coincidence_rate_hz"][i] == pytest.approx(fig.gain * SOURCE.window_rate_hz)
    assert prof["qber"][i] == pytest.approx(fig.qber)
    assert prof["two_photon_loss_db"][i] == pytest.approx(prof["loss_a_db"][i] + prof["loss_b_db"][i])


def test_a_pass_as_one_block_pools_coincidences_and_errors_and_never_beats_the_instant_integral() -> None:
    dual = link(1120.0)
    prof = dual.pass_profile(points=61)
    whole = dual.pass_summary(points=61)
    t = prof["t_s"]

    def integral(y: np.ndarray) -> float:
        return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(t)))

    assert whole.window_s == pytest.approx(t[-1] - t[0])
    assert whole.coincidences == pytest.approx(integral(prof["coincidence_rate_hz"]))
    assert whole.qber == pytest.approx(integral(prof["coincidence_rate_hz"] * prof["qber"]) / whole.coincidences)
    assert prof["qber"].min() < whole.qber < prof["qber"].max()
    assert whole.sifted_bits == pytest.approx(whole.coincidences / 2)
    # H₂ is concave: distilling each instant with its own QBER gives at least as much as the pooled QBER
    assert 0 < whole.key_bits <= dual.key_per_pass_bits(points=61)
    assert whole.in_view_bps == pytest.approx(whole.key_bits / whole.window_s)
    assert link(6000.0).pass_summary().key_bits == 0.0


def test_the_transmitter_aperture_gives_the_stated_divergence() -> None:
    # θ = λ / (π w₀): 10 µrad at 810 nm is a 5.2 cm Gaussian transmitter
    d = transmitter_aperture_m(810.0, 10e-6)
    assert d == pytest.approx(2 * 810e-9 / (math.pi * 10e-6)) and 0.05 < d < 0.053
    far = FreeSpaceChannel(wavelength_nm=810.0, tx_aperture_m=d, rx_aperture_m=0.01, pointing_jitter_rad=0.0,
                           distance_m=1e6)
    # far field: beam radius θL = 10 m, a small aperture of radius a collects 2a²/w²
    assert far.geometric_transmittance() == pytest.approx(2 * 0.005 ** 2 / 10.0 ** 2, rel=1e-3)
    with pytest.raises(EntangledSourceError, match="divergence_rad"):
        transmitter_aperture_m(810.0, 0.0)


def test_impossible_geometry_is_refused() -> None:
    with pytest.raises(EntangledSourceError, match="separation_m"):
        link(0.0)
    with pytest.raises(EntangledSourceError, match="altitude_m"):
        DualDownlink(GroundStation("a"), GroundStation("b"), 1e5, SOURCE, altitude_m=50e3)
