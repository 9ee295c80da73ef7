"""Compiled sifting kernels: slot assignment, basis sifting and counting, the fused pass (sift_kernels.pyx)."""

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

def assign_slots(
    t_ps: I64, channel: U8, chan_code: U8, offset_ps: float, period_ps: float, window_ps: float, seed: int,
) -> tuple[I64, U8, int, int, int]:
    """(slots, code, n_outside_window, n_multi_click_slots, n_ignored)."""

def sift_count(
    a_basis: U8, a_bit: U8, a_int: U8, b_code: U8, n_int: int, z_sample_fraction: float, seed: int,
) -> tuple[U8, I64, I64, I64, I64]:
    """(key_mask, sifted[2, n_int], disclosed[2, n_int], errors[2, n_int], detected[n_int])."""

def sift_fused_array(
    t_ps: I64, channel: U8, chan_code: U8, offset_ps: float, period_ps: float, window_ps: float, tx_packed: U8,
    n_int: int, z_sample_fraction: float, seed: int, n_sync: int, simd: bool = True,
) -> tuple[U8, U8, I64, U8, I64, I64, I64, I64, int, int, int]:
    """(alice_key, bob_key, key_slots, key_intensity, sifted, disclosed, errors, detected, n_outside, n_multi,
    n_ignored)."""

def sift_fused_philox(
    t_ps: I64, channel: U8, chan_code: U8, offset_ps: float, period_ps: float, window_ps: float, n_slots: int,
    k0: int, k1: int, stream: int, z_threshold: int, cum_thresholds: npt.NDArray[np.uint32],
    z_sample_fraction: float, seed: int, n_sync: int, simd: bool = True,
) -> tuple[U8, U8, I64, U8, I64, I64, I64, I64, int, int, int]:
    """As :func:`sift_fused_array`, Alice's record from the Philox transmitter."""
