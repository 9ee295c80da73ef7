"""Rate-adaptive LDPC reconciliation kernels over quasi-cyclic codes (ldpc_decode.pyx, ldpc_minsum.h)."""

import numpy as np
import numpy.typing as npt

def syndrome(row_start: npt.NDArray[np.int32], ent_col: npt.NDArray[np.int32], ent_shift: npt.NDArray[np.int32],
             Z: int, x: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """H·x over GF(2) as 0/1 bytes (mb·Z bits) for a word of nb·Z bits."""
ALGORITHMS: tuple[str, ...]

def frame_llr(bits: npt.NDArray[np.uint8], key: npt.NDArray[np.int64], shortened: npt.NDArray[np.int64], n: int,
              magnitude: float, known: float) -> npt.NDArray[np.float32]:
    """Bob's channel values of a frame (float32, nats): ±magnitude at key[i] for bits[i] = 0 / 1, +known at the
    shortened positions, 0 at the punctured ones."""
def frame_word(bits: npt.NDArray[np.uint8], key: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.uint8]:
    """A frame's word of n 0/1 bytes holding bits[i] at key[i], zero elsewhere."""
def take_bits(word: npt.NDArray[np.uint8], positions: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """word[positions]: a frame's key bits out of its word."""

def phi_out_table() -> npt.NDArray[np.int16]:
    """The φ-sum's message and slope per φ-domain sum y = 0 … 32767 (columns φ, G), as its decoder looks them up."""
def phi_table() -> npt.NDArray[np.int16]:
    """The φ-sum decoder's table: entry i = min(32767, round(8192·φ((2i + ½)/16))), φ(x) = −ln tanh(x/2), int16."""
def phi_lookup(magnitudes: npt.NDArray[np.int16], lanes: int = 0) -> npt.NDArray[np.int16]:
    """The φ-sum's compiled table lookup on this CPU: entry min(m >> 1, 127) of :func:`phi_table` per magnitude."""
def lanes() -> int:
    """Checks the decoder processes together on this CPU: 16 with AVX-512, else 8."""
def decode(row_start: npt.NDArray[np.int32], ent_col: npt.NDArray[np.int32], ent_shift: npt.NDArray[np.int32],
           Z: int, llr: npt.NDArray[np.float32], syndrome: npt.NDArray[np.uint8], alpha: float = 0.8,
           max_iter: int = 60, patience: int = 0, sum_product: bool = False,
           lanes: int = 0, fixed_point: bool = True, algorithm: str = "",
           q8_scale: float = 3.5) -> tuple[npt.NDArray[np.uint8], int]:
    """Layered normalised min-sum (int16 fixed point unless ``fixed_point`` is False) or sum-product towards
    ``syndrome``: (bits, iterations > 0), or (last hard decision, -iterations run) when it failed (max_iter reached,
    or no new minimum of unsatisfied checks for ``patience`` iterations). ``lanes``: SIMD width 8 or 16 (0: the
    CPU's best); the result does not depend on it. ``algorithm`` (one of :data:`ALGORITHMS`: "min-sum",
    "min-sum-float", "sum-product", "phi-sum", "min-sum-8"), when given, names the rule instead of the two flags;
    "min-sum-8" is min-sum in int8 lanes, values round(LLR·``q8_scale``) in [−127, 127]."""
