"""Philox4x32-10 counter-based generator and the emulated transmitter's per-slot record (philox.pyx)."""

import numpy as np
import numpy.typing as npt

def philox_block(counters: npt.NDArray[np.uint32], k0: int, k1: int) -> npt.NDArray[np.uint32]: ...
def tx_record_at(
    slots: npt.NDArray[np.int64], k0: int, k1: int, stream: int, z_threshold: int,
    cum_thresholds: npt.NDArray[np.uint32],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]: ...
def tx_count_classes(
    start: int, stop: int, k0: int, k1: int, stream: int, z_threshold: int, cum_thresholds: npt.NDArray[np.uint32],
) -> npt.NDArray[np.int64]: ...
