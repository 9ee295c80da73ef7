"""Plain-numpy twins of the compiled sifting kernels (``qkd._native.sift_kernels``).

Same inputs, same outputs, vectorised numpy instead of one compiled pass: the tests check the compiled
kernels against these, and ``bench/qkd_physics.py`` measures them as the in-run baseline. The multi-click
pick is the same keyed draw as the compiled one (exactly equal); the QBER sample uses a numpy generator
here, so it agrees in distribution, and exactly when the sample fraction is 0 or 1.
"""

from __future__ import annotations

import numpy as np


def assign_slots_numpy(t_ps: np.ndarray, channel: np.ndarray, chan_code: np.ndarray, offset_ps: float,
                       period_ps: float, window_ps: float, seed: int) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Numpy version of :func:`qkd._native.sift_kernels.assign_slots`."""
    code = chan_code[channel]
    keep = code != 255
    n_ign = int((~keep).sum())
    t, code = t_ps[keep], code[keep]
    x = (t - offset_ps) * (1.0 / period_ps)
    k = np.floor(x + 0.5).astype(np.int64)
    inside = np.abs(x - k) <= 0.5 * window_ps / period_ps
    n_out = int((~inside).sum())
    k, code = k[inside], code[inside]
    if k.size == 0:
        return k, code, n_out, 0, n_ign
    first = np.ones(k.size, bool)
    first[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(first)
    sizes = np.diff(np.append(starts, k.size))
    n_multi = int((sizes > 1).sum())
    slots = k[starts]
    mask = np.bitwise_or.reduceat((np.uint8(1) << code).astype(np.uint8), starts)
    return slots, pick_code_numpy(mask, slots, seed), n_out, n_multi, n_ign


def _splitmix64_next(state: np.ndarray) -> np.ndarray:
    """SplitMix64 output for each uint64 state (the state advanced once), as the compiled kernels draw it."""
    z = state + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def pick_code_numpy(mask: np.ndarray, slots: np.ndarray, seed: int) -> np.ndarray:
    """Numpy version of the compiled ``pick_code``: a uniformly random one of the distinct codes set in each
    ``mask`` (bits 0..3), keyed by (seed, slot)."""
    mask = mask.astype(np.uint8)
    n = sum(((mask >> np.uint8(c)) & np.uint8(1)).astype(np.uint64) for c in range(4))
    with np.errstate(over="ignore"):
        state = np.uint64(seed) ^ (slots.astype(np.uint64) * np.uint64(0xD1B54A32D192ED03))
        r = np.where(n > 1, _splitmix64_next(state) % np.maximum(n, np.uint64(1)), np.uint64(0))
    out = np.zeros(mask.size, dtype=np.uint8)
    done = np.zeros(mask.size, dtype=bool)
    for c in range(4):
        has = ((mask >> np.uint8(c)) & np.uint8(1)).astype(bool) & ~done
        hit = has & (r == 0)
        out[hit] = c
        done |= hit
        r = np.where(has & ~hit, r - np.uint64(1), r)
    return out


def sift_count_numpy(a_basis: np.ndarray, a_bit: np.ndarray, a_int: np.ndarray, b_code: np.ndarray, n_int: int,
                     z_sample_fraction: float, seed: int):
    """Numpy version of :func:`qkd._native.sift_kernels.sift_count`."""
    b_basis = b_code >> 1
    valid = a_int < n_int
    detected = np.bincount(a_int[valid], minlength=n_int)[:n_int].astype(np.int64)
    match = valid & (a_basis == b_basis)
    flat = a_basis.astype(np.int64) * n_int + a_int
    sifted = np.bincount(flat[match], minlength=2 * n_int)[: 2 * n_int].reshape(2, n_int)
    rng = np.random.default_rng(seed)
    to_key = match & (a_basis == 0)
    if z_sample_fraction < 1:
        to_key &= rng.random(a_basis.size) >= z_sample_fraction
    else:
        to_key &= False
    disc = match & ~to_key
    err = disc & ((a_bit ^ b_code) & 1).astype(bool)
    disclosed = np.bincount(flat[disc], minlength=2 * n_int)[: 2 * n_int].reshape(2, n_int)
    errors = np.bincount(flat[err], minlength=2 * n_int)[: 2 * n_int].reshape(2, n_int)
    return (to_key.astype(np.uint8), sifted.astype(np.int64), disclosed.astype(np.int64),
            errors.astype(np.int64), detected)
