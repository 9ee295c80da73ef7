"""Named link presets: for the key-rate theory (``LinkParameters``) and for the emulator (``Link``).

* ``gys`` — the parameters Ma et al. (PRA 72, 012326 (2005), Sec. V) take from the GYS experiment
  (Gobby, Yuan, Shields, APL 84, 3762 (2004)): α 0.21 dB/km, e_det 3.3 %, Y₀ 1.7e-6, η_Bob 4.5 %, f 1.22,
  ½/½ bases. The emulated version runs it at 1 GHz with four detectors of efficiency 4.5 % and dark
  probability Y₀/4 each, no dead time or afterpulsing, so that it matches the closed forms.
* ``lim2014`` — Lim et al. (PRA 89, 022307 (2014)): α 0.2 dB/km, η_Bob 10 %, p_dc 6e-7, e_mis 0.5 %,
  f 1.16 (two detectors in their model, Y₀ = 2 p_dc).
* ``ingaas-fiber``, ``snspd-fiber`` — efficient BB84 (p_z = 0.9) over 0.2 dB/km fiber with the
  detector presets of :mod:`qkd.physics.detector` (dead time, afterpulsing, jitter included).
* ``freespace-night``, ``freespace-day`` — a 500 km zenith downlink (:class:`FreeSpaceChannel` defaults)
  with SNSPDs, background 1e3 resp. 1e6 counts/s.
"""

from __future__ import annotations

from dataclasses import replace

from qkd.physics.detector import INGAAS_APD_GATED, SNSPD, Detector
from qkd.physics.fiber import FiberChannel
from qkd.physics.freespace import FreeSpaceChannel
from qkd.physics.keyrate import GYS, LIM2014, FreeSpaceLinkParameters, LinkParameters
from qkd.physics.link import Link
from qkd.physics.source import WeakCoherentSource

PRESET_NAMES = ("gys", "lim2014", "ingaas-fiber", "snspd-fiber", "freespace-night", "freespace-day")


def link_preset(name: str, length_km: float = 0.0) -> Link:
    """The emulated link of preset ``name`` at fiber ``length_km`` (ignored for free-space presets)."""
    if name == "gys":
        det = Detector(name="gys-bob", efficiency=GYS.eta_bob, dark_count_probability=GYS.y0 / 4,
                       gate_width_ps=400.0, gated=True, source="Ma et al. 2005 Sec. V (GYS)")
        src = WeakCoherentSource(intensities=(0.48, 0.1, 0.0), intensity_probabilities=(0.8, 0.1, 0.1), p_z=0.5)
        return Link(src, FiberChannel(length_km, GYS.attenuation_db_per_km, 0.0, GYS.e_det), det, bob_p_z=0.5,
                    window_ps=400.0)
    if name == "lim2014":
        det = Detector(name="lim2014-bob", efficiency=LIM2014.eta_bob, dark_count_probability=6e-7 / 2,
                       gate_width_ps=400.0, gated=True, source="Lim et al. 2014")
        src = WeakCoherentSource(intensities=(0.5, 0.1, 0.0), intensity_probabilities=(0.7, 0.2, 0.1), p_z=0.9)
        return Link(src, FiberChannel(length_km, 0.2, 0.0, LIM2014.e_det), det, bob_p_z=0.9, window_ps=400.0)
    if name in ("ingaas-fiber", "snspd-fiber"):
        det = INGAAS_APD_GATED if name == "ingaas-fiber" else SNSPD
        window = 300.0 if det.gated else 200.0
        return Link(WeakCoherentSource(), FiberChannel(length_km, 0.2, 1.0, 0.01), det, bob_p_z=0.9,
                    window_ps=window)
    if name in ("freespace-night", "freespace-day"):
        bg = 1e3 if name.endswith("night") else 1e6
        det = replace(SNSPD, efficiency=0.7)
        src = WeakCoherentSource(wavelength_nm=850.0)
        return Link(src, FreeSpaceChannel(background_rate_hz=bg), det, bob_p_z=0.9, window_ps=200.0)
    raise KeyError(f"unknown link preset {name!r}; known: {', '.join(PRESET_NAMES)}")


def theory_preset(name: str) -> LinkParameters:
    """The key-rate theory parameters of preset ``name``: fiber presets vary the fiber length, free-space presets
    the optical range of their zenith link (:class:`FreeSpaceLinkParameters`)."""
    if name == "gys":
        return GYS
    if name == "lim2014":
        return LIM2014
    if name in ("ingaas-fiber", "snspd-fiber"):
        return link_preset(name).theory(name)
    if name in ("freespace-night", "freespace-day"):
        link = link_preset(name)
        lp = link.theory(name)
        return FreeSpaceLinkParameters(name, 0.0, lp.e_det, lp.y0, lp.eta_bob, lp.f_ec, lp.q, 0.0,
                                       "zenith free-space link, key rate vs optical range (km)",
                                       channel=link.channel)
    raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESET_NAMES)}")
