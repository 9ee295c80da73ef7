"""PicoQuant T2 record decoding (timetag_decode.pyx)."""

import numpy as np
import numpy.typing as npt

def decode_t2(
    rec: npt.NDArray[np.uint32], kind: int, ovf_units: int, scale_num: int, sync_channel: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], int, int, int]:
    """(t_ps, channel, ovf_units carried to the next chunk, markers, overflow records)."""
