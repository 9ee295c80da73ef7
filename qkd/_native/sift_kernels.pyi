"""Compiled sifting kernels: slot assignment, basis sifting and counting, the fused pass (sift_kernels.pyx)."""

import numpy as np
import numpy.typing as npt

_U8 = npt.NDArray[np.uint8]
_I64 = npt.NDArray[np.int64]

def assign_slots(
    t_ps: _I64, channel: _U8, chan_code: _U8, offset_ps: float, period_ps: float, window_ps: float, seed: int,
) -> tuple[_I64, _U8, int, int, int]:
    """(slots, code, n_outside_window, n_multi_click_slots, n_ignored)."""

def sift_count(
    a_basis: _U8, a_bit: _U8, a_int: _U8, b_code: _U8, n_int: int, z_sample_fraction: float, seed: int,
) -> tuple[_U8, _I64, _I64, _I64, _I64]:
    """(key_mask, sifted[2, n_int], disclosed[2, n_int], errors[2, n_int], detected[n_int])."""

def sift_fused_array(
    t_ps: _I64, channel: _U8, chan_code: _U8, offset_ps: float, period_ps: float, window_ps: float, tx_packed: _U8,
    n_int: int, z_sample_fraction: float, seed: int, n_sync: int, simd: bool = True,
) -> tuple[_U8, _U8, _I64, _U8, _I64, _I64, _I64, _I64, int, int, int]:
    """(alice_key, bob_key, key_slots, key_intensity, sifted, disclosed, errors, detected, n_outside, n_multi,
    n_ignored)."""

def sift_fused_philox(
    t_ps: _I64, channel: _U8, chan_code: _U8, offset_ps: float, period_ps: float, window_ps: float, n_slots: int,
    k0: int, k1: int, stream: int, z_threshold: int, cum_thresholds: npt.NDArray[np.uint32],
    z_sample_fraction: float, seed: int, n_sync: int, simd: bool = True,
) -> tuple[_U8, _U8, _I64, _U8, _I64, _I64, _I64, _I64, int, int, int]:
    """As :func:`sift_fused_array`, Alice's record from the Philox transmitter."""
