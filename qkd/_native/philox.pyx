# cython: language_level=3
"""Philox4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy
as 1, 2, 3", SC'11, Sec. 3.2), keyed by slot index: the transmitter's per-slot record (basis, bit,
intensity class) of any slot is computed on demand, reproducibly, without generating the slots before it.

Counter of slot k: (k mod 2³², k div 2³², stream, 0); key: (k0, k1) derived from the run's seed.
Output words: w0 → basis (Z if w0 < z_threshold), w1 → bit (top bit), w2 → intensity class (first class
whose cumulative threshold exceeds w2), w3 → spare.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint32_t, uint64_t, int64_t, uint8_t

cnp.import_array()

cdef uint32_t M0 = 0xD2511F53u
cdef uint32_t M1 = 0xCD9E8D57u
cdef uint32_t W0 = 0x9E3779B9u
cdef uint32_t W1 = 0xBB67AE85u


cdef inline void philox4x32_10(uint32_t* c, uint32_t k0, uint32_t k1) noexcept nogil:
    cdef uint64_t p0, p1
    cdef uint32_t hi0, lo0, hi1, lo1
    cdef int r
    for r in range(10):
        p0 = <uint64_t>M0 * c[0]
        p1 = <uint64_t>M1 * c[2]
        hi0 = <uint32_t>(p0 >> 32); lo0 = <uint32_t>p0
        hi1 = <uint32_t>(p1 >> 32); lo1 = <uint32_t>p1
        c[0] = hi1 ^ c[1] ^ k0
        c[1] = lo1
        c[2] = hi0 ^ c[3] ^ k1
        c[3] = lo0
        k0 = k0 + W0
        k1 = k1 + W1


def philox_block(const uint32_t[:, ::1] counters, uint32_t k0, uint32_t k1):
    """Philox4x32-10 of each row of ``counters`` (n×4 uint32) under key (k0, k1): n×4 uint32."""
    cdef Py_ssize_t n = counters.shape[0], i
    out = np.empty((n, 4), dtype=np.uint32)
    cdef uint32_t[:, ::1] o = out
    cdef uint32_t c[4]
    with nogil:
        for i in range(n):
            c[0] = counters[i, 0]; c[1] = counters[i, 1]; c[2] = counters[i, 2]; c[3] = counters[i, 3]
            philox4x32_10(c, k0, k1)
            o[i, 0] = c[0]; o[i, 1] = c[1]; o[i, 2] = c[2]; o[i, 3] = c[3]
    return out


cdef inline void slot_record(int64_t slot, uint32_t k0, uint32_t k1, uint32_t stream, uint32_t z_thr,
                             const uint32_t* cum, int n_int, uint8_t* basis, uint8_t* bit,
                             uint8_t* intensity) noexcept nogil:
    cdef uint32_t c[4]
    cdef int j
    c[0] = <uint32_t>(<uint64_t>slot & 0xFFFFFFFFu)
    c[1] = <uint32_t>(<uint64_t>slot >> 32)
    c[2] = stream
    c[3] = 0
    philox4x32_10(c, k0, k1)
    basis[0] = 0 if c[0] < z_thr else 1
    bit[0] = c[1] >> 31
    j = 0
    while j < n_int - 1 and c[2] >= cum[j]:
        j += 1
    intensity[0] = j


cdef extern from *:
    r"""
    #include "philox_lanes.h"
    """
    void qs_philox_lanes(uint32_t *c0, uint32_t *c1, uint32_t *c2, uint32_t *c3, int n, uint32_t k0,
                         uint32_t k1) noexcept nogil


DEF LANES = 512


cdef inline void _philox_slots(const int64_t* slots, int64_t first, Py_ssize_t m, uint32_t k0, uint32_t k1,
                               uint32_t stream, uint32_t* c0, uint32_t* c1, uint32_t* c2,
                               uint32_t* c3) noexcept nogil:
    """Output words c0..c3[0 .. m) of the m slots ``slots[0 .. m)``, or ``first, first + 1, …`` when ``slots``
    is NULL: counter (k mod 2³², k div 2³², stream, 0) per slot k, the rounds in SIMD lanes."""
    cdef Py_ssize_t i
    cdef uint64_t k
    for i in range(m):
        k = <uint64_t>(slots[i] if slots != NULL else first + i)
        c0[i] = <uint32_t>(k & 0xFFFFFFFFu)
        c1[i] = <uint32_t>(k >> 32)
        c2[i] = stream
        c3[i] = 0
    qs_philox_lanes(c0, c1, c2, c3, <int>m, k0, k1)


cdef inline uint8_t _class_of(uint32_t w2, const uint32_t* cum, int n_int) noexcept nogil:
    cdef int j = 0
    while j < n_int - 1 and w2 >= cum[j]:
        j += 1
    return <uint8_t>j


def tx_record_at(const int64_t[::1] slots, uint32_t k0, uint32_t k1, uint32_t stream, uint32_t z_threshold,
                 const uint32_t[::1] cum_thresholds):
    """(basis, bit, intensity) uint8 arrays of the transmitter's record at ``slots`` (basis 0 = Z, 1 = X).

    ``z_threshold`` = round(p_z 2³²); ``cum_thresholds[j]`` = round((p_0 + … + p_j) 2³²) for j < n−1.
    The slots are processed 512 at a time in SIMD lanes (the values of :func:`slot_record`)."""
    cdef Py_ssize_t n = slots.shape[0], i, base, m
    cdef int n_int = cum_thresholds.shape[0] + 1
    basis = np.empty(n, dtype=np.uint8)
    bit = np.empty(n, dtype=np.uint8)
    inten = np.empty(n, dtype=np.uint8)
    cdef uint8_t[::1] b = basis, v = bit, it = inten
    cdef const uint32_t* cum = &cum_thresholds[0] if cum_thresholds.shape[0] > 0 else NULL
    cdef uint32_t c[4][LANES]   # output words 0..3 of each lane
    with nogil:
        base = 0
        while base < n:
            m = LANES if n - base >= LANES else n - base
            _philox_slots(&slots[base], 0, m, k0, k1, stream, c[0], c[1], c[2], c[3])
            for i in range(m):
                b[base + i] = 0 if c[0][i] < z_threshold else 1
                v[base + i] = c[1][i] >> 31
                it[base + i] = _class_of(c[2][i], cum, n_int)
            base += m
    return basis, bit, inten


def tx_count_classes(int64_t start, int64_t stop, uint32_t k0, uint32_t k1, uint32_t stream,
                     uint32_t z_threshold, const uint32_t[::1] cum_thresholds):
    """Exact number of slots in [start, stop) per (basis, intensity class): int64 array 2×n_int (the slots
    512 at a time in SIMD lanes)."""
    cdef int n_int = cum_thresholds.shape[0] + 1
    counts = np.zeros((2, n_int), dtype=np.int64)
    cdef int64_t[:, ::1] cnt = counts
    cdef int64_t s, m, i
    cdef const uint32_t* cum = &cum_thresholds[0] if cum_thresholds.shape[0] > 0 else NULL
    cdef uint32_t c[4][LANES]   # output words 0..3 of each lane
    with nogil:
        s = start
        while s < stop:
            m = LANES if stop - s >= LANES else stop - s
            _philox_slots(NULL, s, m, k0, k1, stream, c[0], c[1], c[2], c[3])
            for i in range(m):
                cnt[0 if c[0][i] < z_threshold else 1, _class_of(c[2][i], cum, n_int)] += 1
            s += m
    return counts
