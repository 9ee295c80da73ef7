"""Plain-numpy twins of the compiled sifting kernels (``qkd._native.sift_kernels``).

Same inputs, same outputs, vectorised numpy instead of one compiled pass: the tests check the compiled
kernels against these, and ``bench/qkd_physics.py`` measures them as the in-run baseline. The random draws
are the compiled ones, computed vectorised: the multi-click pick is keyed by (seed, slot), and the QBER
sample takes the j-th SplitMix64 output (Steele, Lea, Flood, OOPSLA 2014) of the sample stream for the j-th
Z-basis sifted detection, so the results are exactly equal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# SplitMix64 as qkd/_native/splitmix64.h defines it (that header is the kernels' one definition; this vectorised
# twin is the independent reference the tests hold them to, so it spells the constants out again)
SPLITMIX64_GAMMA = np.uint64(0x9E3779B97F4A7C15)
SPLITMIX64_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
SPLITMIX64_MUL2 = np.uint64(0x94D049BB133111EB)
STREAM_KEY = np.uint64(0xD1B54A32D192ED03)     # stream seed = seed XOR index·STREAM_KEY


def assign_slots_numpy(t_ps: np.ndarray, channel: np.ndarray, chan_code: np.ndarray, offset_ps: float,
                       period_ps: float, window_ps: float, seed: int, n_slots: int | None = None,
                       ) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Numpy version of :func:`qkd._native.sift_kernels.assign_slots`; with ``n_slots``, tags of slots
    outside [0, n_slots) are dropped (and counted outside) before multi-clicks are grouped, as the fused
    kernels do."""
    code = chan_code[channel]
    keep = code != 255
    n_ign = int((~keep).sum())
    t, code = t_ps[keep], code[keep]
    x = (t - offset_ps) * (1.0 / period_ps)
    k = np.floor(x + 0.5).astype(np.int64)
    inside = np.abs(x - k) <= 0.5 * window_ps / period_ps
    if n_slots is not None:
        inside &= (k >= 0) & (k < n_slots)
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
    z = state + SPLITMIX64_GAMMA
    z = (z ^ (z >> np.uint64(30))) * SPLITMIX64_MUL1
    z = (z ^ (z >> np.uint64(27))) * SPLITMIX64_MUL2
    return z ^ (z >> np.uint64(31))


def pick_code_numpy(mask: np.ndarray, slots: np.ndarray, seed: int) -> np.ndarray:
    """Numpy version of the compiled ``pick_code``: a uniformly random one of the distinct codes set in each
    ``mask`` (bits 0..3), keyed by (seed, slot)."""
    mask = mask.astype(np.uint8)
    n = sum(((mask >> np.uint8(c)) & np.uint8(1)).astype(np.uint64) for c in range(4))
    with np.errstate(over="ignore"):
        state = np.uint64(seed) ^ (slots.astype(np.uint64) * STREAM_KEY)
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


def sample_threshold(z_sample_fraction: float) -> int:
    """The uint64 threshold of the compiled kernels: a Z-sifted detection becomes a key bit when its draw is
    ≥ this (``z_sample_fraction`` · (2⁶⁴ − 1), truncated; 2⁶⁴ − 1 when the fraction is ≥ 1)."""
    if z_sample_fraction >= 1:
        return 2**64 - 1
    return min(max(int(z_sample_fraction * 18446744073709551615.0), 0), 2**64 - 1)


def sample_draws(seed: int, j: np.ndarray) -> np.ndarray:
    """The j-th output (0-based, uint64) of the SplitMix64 stream started at ``seed``: mix(seed + (j + 1)·γ)."""
    with np.errstate(over="ignore"):
        state = np.uint64(seed) + (j.astype(np.uint64) + np.uint64(1)) * SPLITMIX64_GAMMA
        return _splitmix64_next(state - SPLITMIX64_GAMMA)


def sift_count_numpy(a_basis: np.ndarray, a_bit: np.ndarray, a_int: np.ndarray, b_code: np.ndarray, n_int: int,
                     z_sample_fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Numpy version of :func:`qkd._native.sift_kernels.sift_count` (the same draws: exactly equal)."""
    b_basis = b_code >> 1
    valid = a_int < n_int
    detected = np.bincount(a_int[valid], minlength=n_int)[:n_int].astype(np.int64)
    match = valid & (a_basis == b_basis)
    flat = a_basis.astype(np.int64) * n_int + a_int
    sifted = np.bincount(flat[match], minlength=2 * n_int)[: 2 * n_int].reshape(2, n_int)
    z_sifted = match & (a_basis == 0)
    to_key = np.zeros(a_basis.size, dtype=bool)
    if z_sample_fraction < 1:
        pos = np.flatnonzero(z_sifted)
        to_key[pos] = sample_draws(seed, np.arange(pos.size)) >= np.uint64(sample_threshold(z_sample_fraction))
    disc = match & ~to_key
    err = disc & ((a_bit ^ b_code) & 1).astype(bool)
    disclosed = np.bincount(flat[disc], minlength=2 * n_int)[: 2 * n_int].reshape(2, n_int)
    errors = np.bincount(flat[err], minlength=2 * n_int)[: 2 * n_int].reshape(2, n_int)
    return (to_key.astype(np.uint8), sifted.astype(np.int64), disclosed.astype(np.int64),
            errors.astype(np.int64), detected)


def sift_fused_numpy(t_ps: np.ndarray, channel: np.ndarray, chan_code: np.ndarray, offset_ps: float,
                     period_ps: float, window_ps: float, n_slots: int,
                     lookup: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]], n_int: int,
                     z_sample_fraction: float, seed: int, n_sync: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                np.ndarray, int, int, int]:
    """Numpy version of :func:`qkd._native.sift_kernels.sift_fused_array` / ``sift_fused_philox``:
    ``lookup(slots)`` gives the transmitter's (basis, bit, intensity class) uint8 arrays at int64 slots.
    Same outputs (alice_key, bob_key, key_slots, key_intensity, sifted, disclosed, errors, detected,
    n_outside, n_multi, n_ignored)."""
    slots, code, n_out, n_multi, n_ign = assign_slots_numpy(t_ps, channel, chan_code, offset_ps, period_ps,
                                                            window_ps, seed ^ 0xA5A5A5A5A5A5A5A5, n_slots)
    a_basis, a_bit, a_int = lookup(slots)
    valid = a_int < n_int
    n_sync = min(int(n_sync), slots.size)
    # the first n_sync assigned detections (valid or not) are the sync sample: disclosed, never key, no draw
    key, sifted, disclosed, errors, detected = sift_count_numpy(a_basis[n_sync:], a_bit[n_sync:], a_int[n_sync:],
                                                                code[n_sync:], n_int, z_sample_fraction, seed)
    _, s2, d2, e2, det2 = sift_count_numpy(a_basis[:n_sync], a_bit[:n_sync], a_int[:n_sync], code[:n_sync], n_int,
                                           1.0, 0)
    km = np.concatenate([np.zeros(n_sync, bool), key.astype(bool)]) & valid
    return (a_bit[km], (code[km] & 1).astype(np.uint8), slots[km], a_int[km], sifted + s2, disclosed + d2,
            errors + e2, detected + det2, n_out, n_multi, n_ign)
