"""Bob's end of Cascade: his key and every running bisection (cascade_bob.pyx)."""

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

@disjoint_base   # an extension type: no class derives from it and another base at once
class BobSearches:
    corrections: int
    passes_laid_out: int
    def __init__(self, bits: npt.NDArray[np.uint8], seed: int, sub_block_reuse: bool = True) -> None: ...
    @property
    def bits(self) -> npt.NDArray[np.uint8]:
        """Bob's key as corrected so far (a new array)."""
    @property
    def passes_opened(self) -> int: ...
    def open_pass(self, j: int, block_bits: int, alice_block_parities: npt.NDArray[np.uint8]) -> None: ...
    def questions(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32], npt.NDArray[np.uint32]]: ...
    def ask(self) -> bytes:
        """The ``cascade.ask`` body of this round (b"" when no bisection runs)."""
    def take_answers(self, packed_answers: bytes | bytearray | memoryview) -> int:
        """Consume the ``cascade.answer`` body; returns the flips made."""
