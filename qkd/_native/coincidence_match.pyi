"""Coincidence matching of two sorted tag streams under a linear clock model (coincidence_match.pyx)."""

import numpy as np
import numpy.typing as npt

def match_sorted(
    t_a: npt.NDArray[np.int64], t_b: npt.NDArray[np.int64], offset_ps: float, drift: float, half_window_ps: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(alice_index, bob_index, dt_ps) of the pairs within ±half_window_ps, each Bob tag at most once."""
