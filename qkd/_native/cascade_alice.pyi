"""Alice's end of Cascade: the parity oracle (cascade_alice.pyx)."""

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

@disjoint_base   # an extension type: no class derives from it and another base at once
class AliceOracle:
    n: int
    def __init__(self, bits: npt.NDArray[np.uint8], seed: int) -> None: ...
    def open_pass(self, j: int, block_bits: int) -> npt.NDArray[np.uint8]:
        """Parities of the top-level blocks of pass ``j`` (one per block)."""
    def answer(self, passes: npt.NDArray[np.uint8], starts: npt.NDArray[np.uint32], ends: npt.NDArray[np.uint32]
               ) -> npt.NDArray[np.uint8]: ...
    def answer_wire(self, body: bytes | bytearray | memoryview) -> bytes:
        """The ``cascade.answer`` body for a ``cascade.ask`` body."""
