"""The pseudo-random orders of Cascade passes (cascade_shuffle.pyx)."""

import numpy as np
import numpy.typing as npt

def shuffle_into(p: npt.NDArray[np.uint32], seed: int, pass_index: int) -> None: ...
def halves_mask(n: int, seed: int, pass_index: int, out: npt.NDArray[np.uint64] | None = None
                ) -> npt.NDArray[np.uint64]: ...
def halves_order(mask: npt.NDArray[np.uint64], n: int, out: npt.NDArray[np.uint32] | None = None
                 ) -> tuple[npt.NDArray[np.uint32], int]: ...
