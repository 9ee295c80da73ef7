"""Key rate of one candidate link (secret bits/s), from the closed forms of ``qkd.physics``.

* fibre, BB84 with decoys: [MQZL05] infinite-decoy rate at the optimal signal intensity
  (``qkd.physics.keyrate.optimal_mu``) × the clock rate; detector and error parameters from the link's
  preset, attenuation and extra loss from the link.
* fibre, BBM92: an SPDC source in the middle, each arm half the fibre (``qkd.physics.entangled``, thermal
  pulsed source), brightness optimised over a log grid; visibility V = 1 − 2 e_det of the preset.
* free space: the preset's free-space channel at the link's optical range (``FreeSpaceLinkParameters``).
* satellite (trusted satellite, BB84 downlinks): the key of one zenith pass
  (``qkd.physics.freespace.SatellitePass``: elevation and loss over time) integrated per ground station;
  the satellite relays, so the end-to-end key per pass is the smaller station's; × passes per day / 86400.
* satellite, BBM92 (dual downlink, the satellite not trusted): ``qkd.physics.dualdownlink`` — both ends,
  ``length_km`` apart on the ground, see the satellite at once; the coincidences and errors of the two arms
  summed over their common window and the pass distilled as one block (``DualDownlink.pass_summary``; with
  a measured ``two_photon_loss_db``, the figures at that loss over the same window); × passes per day /
  86400. ``in_view_bps`` is the key rate while both see it (the figure experiments report, e.g. 0.43 bit/s
  in Yin et al., Nature 582, 501 (2020)).
* repeater chain: :func:`qkd.planner.repeater.repeater_chain_rate`.

Transmittance (for the PLOB bound) is the channel's, without the receiver: fibre 10^{−(αL + loss)/10}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from qkd.errors import QkdError
from qkd.physics.dualdownlink import DualDownlink, GroundStation, PassSummary, transmitter_aperture_m
from qkd.physics.entangled import SpdcSource, StationDetection, bbm92_figures, bbm92_key_rate
from qkd.physics.freespace import FreeSpaceChannel, SatellitePass
from qkd.physics.keyrate import FreeSpaceLinkParameters, LinkParameters, optimal_mu
from qkd.physics.presets import theory_preset
from qkd.planner.repeater import repeater_chain_rate
from qkd.planner.topology import Link, PlannerError

SECONDS_PER_DAY = 86_400.0
FREE_SPACE_DEFAULT_PRESET = "freespace-night"


@dataclass(frozen=True)
class LinkRate:
    """``rate_bps`` secret bits/s (a daily average for satellites); ``transmittance`` of the channel
    (None where a single figure means nothing, as for a satellite pass); ``detail`` says how."""

    link: Link
    rate_bps: float
    transmittance: float | None
    detail: str
    in_view_bps: float | None = None   # satellites: the key rate while the link is up (bits/s)


def _preset(link: Link, free_space: bool) -> LinkParameters:
    name = link.preset
    if free_space and not name.startswith("freespace"):
        name = FREE_SPACE_DEFAULT_PRESET
    try:
        return theory_preset(name)
    except KeyError as exc:
        raise PlannerError(f"link {link.name}: {exc.args[0]}") from None


def fibre_parameters(link: Link) -> LinkParameters:
    """The preset's parameters with the link's attenuation and extra loss."""
    lp = _preset(link, free_space=False)
    alpha = lp.attenuation_db_per_km if link.loss_db_per_km is None else link.loss_db_per_km
    return replace(lp, attenuation_db_per_km=alpha, insertion_loss_db=lp.insertion_loss_db + link.extra_loss_db)


def fibre_bb84_rate(link: Link, clock_rate_hz: float, length_km: float | None = None) -> float:
    """Secret bits/s of a decoy-state BB84 fibre link of ``length_km`` (default: the link's)."""
    lp = fibre_parameters(link)
    return optimal_mu(lp, link.length_km if length_km is None else length_km)[1] * clock_rate_hz


def fibre_bbm92_rate(link: Link, clock_rate_hz: float, length_km: float | None = None) -> float:
    """Secret bits/s of a BBM92 fibre link with the source in the middle."""
    lp = fibre_parameters(link)
    length = link.length_km if length_km is None else length_km
    arm = 10.0 ** (-(lp.attenuation_db_per_km * length / 2 + lp.insertion_loss_db / 2) / 10.0)
    station = StationDetection(arm * lp.eta_bob, lp.y0 / 2)
    visibility = max(0.0, 1.0 - 2.0 * lp.e_det)
    best = 0.0
    for mu in np.geomspace(1e-4, 1.0, 41):
        fig = bbm92_figures(SpdcSource(mean_pairs=float(mu), visibility=visibility), station, station)
        best = max(best, bbm92_key_rate(fig, f_ec=lp.f_ec))
    return best * clock_rate_hz


def fibre_rate(link: Link, clock_rate_hz: float, length_km: float | None = None) -> float:
    if link.protocol == "bbm92":
        return fibre_bbm92_rate(link, clock_rate_hz, length_km)
    return fibre_bb84_rate(link, clock_rate_hz, length_km)


def satellite_key_per_pass_bits(link: Link, clock_rate_hz: float, points: int = 61) -> float:
    """Secret bits one ground station distils over one zenith pass (trapezoid over the pass profile)."""
    lp = _preset(link, free_space=True)
    base = lp.channel if isinstance(lp, FreeSpaceLinkParameters) else None
    sat = SatellitePass(altitude_m=link.altitude_km * 1e3, min_elevation_deg=max(link.min_elevation_deg, 1e-3),
                        **({"channel": base} if base is not None else {}))
    profile = sat.profile(points)
    plain = LinkParameters(lp.name, 0.0, lp.e_det, lp.y0, lp.eta_bob, lp.f_ec, lp.q, 0.0, lp.description)
    rates = np.array([optimal_mu(replace(plain, insertion_loss_db=float(loss) + link.extra_loss_db_per_arm), 0.0)[1]
                      for loss in profile["loss_db"]])
    t = profile["t_s"]
    return float(np.sum((rates[1:] + rates[:-1]) / 2 * np.diff(t))) * clock_rate_hz


def dual_downlink(link: Link) -> DualDownlink:
    """The :class:`DualDownlink` of a bbm92 satellite link: its ``downlink`` spec, altitude, elevation mask,
    ground distance and extra loss per arm."""
    spec = link.downlink
    try:
        source = SpdcSource.continuous_wave(spec.pair_rate_hz, spec.coincidence_window_ps, visibility=spec.visibility)
        tx_aperture_m = transmitter_aperture_m(spec.wavelength_nm, spec.divergence_urad * 1e-6)
        channel = FreeSpaceChannel(wavelength_nm=spec.wavelength_nm, tx_aperture_m=tx_aperture_m,
                                   rx_aperture_m=spec.rx_aperture_m, extra_loss_db=link.extra_loss_db_per_arm)
        stations = [GroundStation(name, spec.receiver_efficiency, spec.background_rate_hz, link.min_elevation_deg)
                    for name in (link.a, link.b)]
        return DualDownlink(stations[0], stations[1], link.length_km * 1e3, source, channel,
                            altitude_m=link.altitude_km * 1e3, window_ps=spec.coincidence_window_ps, f_ec=spec.f_ec)
    except QkdError as exc:
        raise PlannerError(f"link {link.name}: {exc}") from None


def dual_downlink_pass(link: Link, points: int = 61) -> PassSummary:
    """One symmetric pass over a bbm92 satellite link, distilled as one block (module docstring)."""
    dual = dual_downlink(link)
    spec = link.downlink
    if spec.two_photon_loss_db is None:
        return dual.pass_summary(points)
    start, end = dual.common_window_s()
    arm = 10.0 ** (-(spec.two_photon_loss_db + 2 * link.extra_loss_db_per_arm) / 20.0)
    alice = StationDetection(arm, dual.background_probability(dual.station_a))
    bob = StationDetection(arm, dual.background_probability(dual.station_b))
    fig = bbm92_figures(dual.source, alice, bob)
    window_s = max(0.0, end - start)
    coincidences = fig.gain * dual.source.window_rate_hz * window_s
    return PassSummary(window_s, coincidences, coincidences * fig.qber, spec.f_ec)


def link_rate(link: Link, clock_rate_hz: float) -> LinkRate:
    """The key rate of ``link`` (module docstring)."""
    clock = link.clock_rate_hz or clock_rate_hz
    if link.kind == "fibre":
        lp = fibre_parameters(link)
        t = 10.0 ** (-(lp.attenuation_db_per_km * link.length_km + lp.insertion_loss_db) / 10.0)
        return LinkRate(link, fibre_rate(link, clock), t,
                        f"{link.protocol} over {link.length_km:g} km of fibre at {lp.attenuation_db_per_km:g} dB/km")
    if link.kind == "free-space":
        lp = _preset(link, free_space=True)
        rate = optimal_mu(lp, link.length_km)[1] * clock
        t = float(lp.channel_transmittance(link.length_km))
        return LinkRate(link, rate, t, f"free-space range {link.length_km:g} km ({lp.name})")
    if link.kind == "satellite" and link.protocol == "bbm92":
        one = dual_downlink_pass(link)
        loss = ("geometry" if link.downlink.two_photon_loss_db is None
                else f"measured {link.downlink.two_photon_loss_db:g} dB")
        return LinkRate(link, one.key_bits * link.passes_per_day / SECONDS_PER_DAY, None,
                        f"dual downlink (untrusted satellite) to ends {link.length_km:g} km apart, loss from "
                        f"{loss}: {one.key_bits:.3g} bits per pass ({one.in_view_bps:.3g} bit/s over "
                        f"{one.window_s:.0f} s, QBER {one.qber:.1%}) × {link.passes_per_day:g} passes/day",
                        one.in_view_bps)
    if link.kind == "satellite":
        per_pass = satellite_key_per_pass_bits(link, clock)
        return LinkRate(link, per_pass * link.passes_per_day / SECONDS_PER_DAY, None,
                        f"trusted satellite at {link.altitude_km:g} km: {per_pass:.3g} bits per pass × "
                        f"{link.passes_per_day:g} passes/day")
    chain = repeater_chain_rate(link.length_km, link.nesting_levels, link.memory,
                                loss_db_per_km=link.loss_db_per_km if link.loss_db_per_km is not None else 0.2)
    t = 10.0 ** (-((link.loss_db_per_km or 0.2) * link.length_km) / 10.0)
    return LinkRate(link, chain.key_rate_bps, t, chain.describe())


def max_hop_length_km(link: Link, clock_rate_hz: float, target_bps: float) -> float:
    """The longest fibre hop (km) of this link's kind whose rate still meets ``target_bps`` (0 if none)."""
    if fibre_rate(link, clock_rate_hz, 1e-3) < target_bps:
        return 0.0
    lo, hi = 1e-3, 1.0
    while fibre_rate(link, clock_rate_hz, hi) >= target_bps:
        lo, hi = hi, hi * 2
        if hi > 5000:
            return math.inf
    while hi - lo > 0.05:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fibre_rate(link, clock_rate_hz, mid) >= target_bps else (lo, mid)
    return lo
