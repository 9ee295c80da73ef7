"""Satellite dual downlink geometry and key per pass (qkd.physics.dualdownlink), against the single-station
pass geometry of qkd.physics.freespace and closed-form spherical trigonometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.physics.dualdownlink import DualDownlink, GroundStation
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


def test_impossible_geometry_is_refused() -> None:
    with pytest.raises(EntangledSourceError, match="separation_m"):
        link(0.0)
    with pytest.raises(EntangledSourceError, match="altitude_m"):
        DualDownlink(GroundStation("a"), GroundStation("b"), 1e5, SOURCE, altitude_m=50e3)
