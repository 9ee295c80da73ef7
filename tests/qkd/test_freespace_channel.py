"""Free-space channel and satellite pass geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.physics.freespace import EARTH_RADIUS_M, FreeSpaceChannel, SatellitePass, gaussian_beam_collection


def test_far_field_collection_follows_the_diffraction_limited_beam() -> None:
    # far field: w ≈ λL/(π w0); collected fraction ≈ 2a²/w²
    lam, d_tx, d_rx, dist = 850e-9, 0.1, 1.0, 1.0e6
    w = lam * dist / (math.pi * d_tx / 2)
    approx = 2 * (d_rx / 2) ** 2 / w**2
    assert gaussian_beam_collection(850.0, d_tx, d_rx, dist) == pytest.approx(approx, rel=0.02)


def test_pointing_jitter_and_distance_reduce_the_collected_fraction() -> None:
    base = gaussian_beam_collection(850.0, 0.1, 1.0, 5e5)
    assert gaussian_beam_collection(850.0, 0.1, 1.0, 5e5, pointing_jitter_rad=2e-6) < base
    assert gaussian_beam_collection(850.0, 0.1, 1.0, 1e6) < base


def test_atmospheric_transmittance_uses_the_airmass() -> None:
    ch = FreeSpaceChannel(elevation_deg=30.0, zenith_transmittance=0.8)
    assert ch.airmass == pytest.approx(2.0)
    assert ch.atmospheric_transmittance() == pytest.approx(0.64)


def test_turbulence_fading_is_lognormal_with_unit_mean() -> None:
    ch = FreeSpaceChannel(scintillation_log_variance=0.2)
    eta = ch.transmittance_windows(0.0, 1e-3, 200_000, np.random.default_rng(1)) / ch.mean_transmittance()
    assert eta.mean() == pytest.approx(1.0, abs=0.01)
    assert np.log(eta).var() == pytest.approx(0.2, rel=0.03)


def test_background_rate_becomes_a_probability_per_gate() -> None:
    ch = FreeSpaceChannel(background_rate_hz=1e6)
    assert ch.background_probability(1000.0) == pytest.approx(1e-3, rel=1e-3)


def test_satellite_pass_is_symmetric_with_zenith_range_equal_to_altitude() -> None:
    sp = SatellitePass(altitude_m=500e3, min_elevation_deg=10.0)
    assert sp.elevation_deg(np.array([0.0]))[0] == pytest.approx(90.0)
    assert sp.slant_range_m(np.array([90.0]))[0] == pytest.approx(500e3)
    half = sp.half_duration_s()
    assert sp.elevation_deg(np.array([half]))[0] == pytest.approx(10.0, abs=1e-6)
    # slant range at 10° from the law of cosines on the Earth-centred triangle
    th = math.radians(10.0)
    r, rs = EARTH_RADIUS_M, EARTH_RADIUS_M + 500e3
    exact = -r * math.sin(th) + math.sqrt(rs**2 - (r * math.cos(th)) ** 2)
    assert sp.slant_range_m(np.array([10.0]))[0] == pytest.approx(exact)
    prof = sp.profile(41)
    assert np.allclose(prof["loss_db"], prof["loss_db"][::-1])
    assert prof["loss_db"][20] == prof["loss_db"].min()
    assert 200 < half < 300          # a 500 km LEO pass above 10° lasts ~7–8 minutes


def test_channel_at_a_time_of_the_pass_has_that_geometry() -> None:
    sp = SatellitePass()
    ch = sp.channel_at(100.0)
    assert ch.elevation_deg < 90 and ch.distance_m > 500e3
