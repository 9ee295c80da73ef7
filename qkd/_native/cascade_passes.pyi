"""Cascade pass structure shared by both ends (cascade_passes.pyx)."""

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

IDENTITY: int
SHUFFLED: int
HALVES: int

def pass_kind(n: int, pass_index: int, block_bits: int) -> int: ...
def identity_order(n: int) -> npt.NDArray[np.uint32]: ...

@disjoint_base   # an extension type: no class derives from it and another base at once
class PassPlan:
    kind: int
    block_bits: int
    n_blocks: int
    n: int
    order: npt.NDArray[np.uint32] | None
    mask: npt.NDArray[np.uint64] | None
    def __init__(self, n: int, seed: int, pass_index: int, block_bits: int, owner: list[object] | None = None
                 ) -> None: ...
    def lay_out(self, seed: int, pass_index: int, owner: list[object] | None = None) -> None: ...
