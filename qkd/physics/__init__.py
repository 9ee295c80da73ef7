"""QKD physical layer: source, channels, detectors, closed-form key-rate theory, link presets.

End-to-end emulation for the pipeline: :func:`qkd.emulator.emulate_link` (``link, n_pulses, seed`` →
``(SiftedKey, ParameterEstimate)``), built from :mod:`qkd.events.emulate`, :mod:`qkd.postprocess.sift`
and :mod:`qkd.postprocess.estimate`.
"""

from qkd.physics.detector import DETECTOR_PRESETS, INGAAS_APD_GATED, SNSPD, Detector
from qkd.physics.fiber import ChannelConfigError, FiberChannel
from qkd.physics.freespace import FreeSpaceChannel, SatellitePass
from qkd.physics.keyrate import GYS, LIM2014, LinkParameters, key_rate, key_rate_curve, max_distance_km, plob_bound
from qkd.physics.link import Link
from qkd.physics.presets import PRESET_NAMES, link_preset, theory_preset
from qkd.physics.source import WeakCoherentSource

__all__ = ["DETECTOR_PRESETS", "INGAAS_APD_GATED", "SNSPD", "Detector", "ChannelConfigError", "FiberChannel",
           "FreeSpaceChannel", "SatellitePass", "GYS", "LIM2014", "LinkParameters", "key_rate", "key_rate_curve",
           "max_distance_km", "plob_bound", "Link", "PRESET_NAMES", "link_preset", "theory_preset",
           "WeakCoherentSource"]
