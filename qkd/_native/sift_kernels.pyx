# cython: language_level=3
"""Compiled kernels of sifting: tag → slot assignment with multi-click resolution, and basis sifting with
per-(basis, intensity) counting. Called by ``qkd.postprocess.sift``; numpy twins live in
``qkd.postprocess.sift_reference`` for tests and the benchmark baseline.
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport floor
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

cnp.import_array()


cdef inline uint64_t splitmix64(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


def assign_slots(const int64_t[::1] t_ps, const uint8_t[::1] channel, const uint8_t[::1] chan_code,
                 double offset_ps, double period_ps, double window_ps, uint64_t seed):
    """Assign time tags to slots: slot k = round((t − offset)/period) when |residual| ≤ window/2.

    ``t_ps`` must be non-decreasing. ``chan_code[c]`` maps detector channel c to basis·2 + bit (0..3) or
    255 (ignored channel). Several tags in one slot (a multi-click) are resolved by picking one of them
    uniformly at random (squashing-model practice: a double click gets a random value).
    Returns (slots int64, code uint8, n_outside_window, n_multi_click_slots, n_ignored)."""
    cdef Py_ssize_t n = t_ps.shape[0], i, m = 0
    slots = np.empty(n, dtype=np.int64)
    codes = np.empty(n, dtype=np.uint8)
    cdef int64_t[::1] so = slots
    cdef uint8_t[::1] co = codes
    cdef double x, half = 0.5 * window_ps / period_ps, r
    cdef int64_t k
    cdef uint8_t c
    cdef Py_ssize_t n_out = 0, n_multi = 0, n_ign = 0, group = 0
    cdef uint64_t rs = seed
    if channel.shape[0] != n:
        raise ValueError(f"t_ps and channel differ in length: {n} and {channel.shape[0]}")
    if chan_code.shape[0] < 256:
        raise ValueError("chan_code must have 256 entries")
    with nogil:
        for i in range(n):
            c = chan_code[channel[i]]
            if c == 255:
                n_ign += 1
                continue
            x = (t_ps[i] - offset_ps) / period_ps
            k = <int64_t>floor(x + 0.5)
            r = x - k
            if r > half or r < -half:
                n_out += 1
                continue
            if m > 0 and so[m - 1] == k:
                # reservoir choice among the group's clicks: keep the new one with probability 1/(group+1)
                group += 1
                if group == 1:
                    n_multi += 1
                if splitmix64(&rs) % <uint64_t>(group + 1) == 0:
                    co[m - 1] = c
                continue
            group = 0
            so[m] = k
            co[m] = c
            m += 1
    return slots[:m], codes[:m], n_out, n_multi, n_ign


def sift_count(const uint8_t[::1] a_basis, const uint8_t[::1] a_bit, const uint8_t[::1] a_int,
               const uint8_t[::1] b_code, int n_int, double z_sample_fraction, uint64_t seed):
    """Basis sifting and counting.

    For every detection: sifted if Alice's basis equals Bob's (code >> 1). Z-basis sifted detections go
    to the disclosed QBER sample with probability ``z_sample_fraction`` (all of them when it is ≥ 1), else to
    the key; X-basis sifted
    detections are all disclosed (phase-error estimation). Returns (key_mask uint8 over detections,
    sifted[2, n_int], disclosed[2, n_int], errors[2, n_int], detected[n_int]) as int64 arrays; errors are
    counted on disclosed detections only."""
    cdef Py_ssize_t n = a_basis.shape[0], i
    key = np.zeros(n, dtype=np.uint8)
    sifted = np.zeros((2, n_int), dtype=np.int64)
    disclosed = np.zeros((2, n_int), dtype=np.int64)
    errors = np.zeros((2, n_int), dtype=np.int64)
    detected = np.zeros(n_int, dtype=np.int64)
    cdef uint8_t[::1] km = key
    cdef int64_t[:, ::1] sf = sifted, dc = disclosed, er = errors
    cdef int64_t[::1] dt = detected
    cdef uint8_t bb, ab, it
    cdef uint64_t rs = seed
    cdef uint64_t thr = <uint64_t>(z_sample_fraction * 18446744073709551615.0) if z_sample_fraction < 1 else 0xFFFFFFFFFFFFFFFFULL
    if a_bit.shape[0] != n or a_int.shape[0] != n or b_code.shape[0] != n:
        raise ValueError("sift_count: input arrays differ in length")
    with nogil:
        for i in range(n):
            it = a_int[i]
            if it >= n_int:
                continue
            dt[it] += 1
            bb = b_code[i] >> 1
            ab = a_basis[i]
            if ab != bb:
                continue
            sf[ab, it] += 1
            if ab == 0 and z_sample_fraction < 1 and splitmix64(&rs) >= thr:
                km[i] = 1
                continue
            dc[ab, it] += 1
            er[ab, it] += (a_bit[i] ^ b_code[i]) & 1
    return key, sifted, disclosed, errors, detected
