"""Bob's end of Cascade: his key and every running bisection (cascade_bob.pyx)."""

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

@disjoint_base   # an extension type: no class derives from it and another base at once
class BobSearches:
    corrections: int
    passes_laid_out: int
    lookahead_budget: int
    lookahead_spent: int
    lookahead_max_running: int
    lookahead_max_questions: int
    lookahead_max_levels: int
    def __init__(self, bits: npt.NDArray[np.uint8], seed: int, sub_block_reuse: bool = True) -> None: ...
    @property
    def bits(self) -> npt.NDArray[np.uint8]:
        """Bob's key as corrected so far (a new array)."""
    @property
    def passes_opened(self) -> int: ...
    def open_pass(self, j: int, block_bits: int, alice_block_parities: npt.NDArray[np.uint8]) -> None: ...
    def questions(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32], npt.NDArray[np.uint32]]: ...
    def set_lookahead(self, budget_bits: int, max_running: int = 32, max_questions: int = 64,
                      max_levels: int = 4) -> None:
        """Let rounds with few running bisections ask several levels at once (extra disclosed bits up to
        ``budget_bits``)."""
    def ask(self) -> bytes:
        """The ``cascade.ask`` body of this round (b"" when no bisection runs)."""
    def take_answers(self, packed_answers: bytes | bytearray | memoryview) -> int:
        """Consume the ``cascade.answer`` body; returns the flips made."""
