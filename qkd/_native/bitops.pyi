"""Bit-level kernels and the one bit packing of the QKD stack (bitops.pyx)."""

import numpy as np
import numpy.typing as npt

def count_bit_differences(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int: ...
def parity(bits: npt.NDArray[np.uint8]) -> int: ...
def pack_bits(bits: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """0/1 bytes → packed uint64 words (bit i = bit i % 64 of word i // 64), ⌈n/64⌉ words, zero above n."""
def unpack_bits(words: npt.ArrayLike, n_bits: int) -> npt.NDArray[np.uint8]:
    """The first ``n_bits`` bits of packed words as 0/1 bytes."""
