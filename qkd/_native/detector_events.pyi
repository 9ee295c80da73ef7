"""Detector dead time and afterpulsing over sorted primary clicks (detector_events.pyx)."""

import numpy as np
import numpy.typing as npt

def dead_time_afterpulse(
    t_ps: npt.NDArray[np.float64], dead_ps: float, p_ap: float, decay_ps: float, u_ap: npt.NDArray[np.float64],
    u_delay: npt.NDArray[np.float64], gated: bool, period_ps: float, last_ps: float, pending_ps: float,
    until_ps: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8], float, float, int]:
    """(registered times ps, afterpulse flags, last_ps, pending_ps, clicks lost to dead time)."""
