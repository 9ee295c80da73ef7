# cython: language_level=3
"""The pseudo-random orders of Cascade passes (Brassard & Salvail 1993, §4: "a random permutation, the same
for both parties", derived here from the public seed): a uniform permutation for SHUFFLED passes and a random
split into two halves for HALVES passes (see :mod:`qkd._native.cascade`).

Randomness: SplitMix64 (splitmix64.h) seeded with stream ``pass_index`` of the public seed; bounded draws by
Lemire's multiply-shift. Both ends call these with the same arguments and get the same orders.
"""

import numpy as np
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from qkd._native.packed_bits cimport qs_words_for_bits
from qkd._native.splitmix64 cimport qs_bounded_draw, qs_splitmix64_next, qs_stream_seed

cdef extern from *:
    """
    static inline void qs_prefetch_for_write(const void *p) { __builtin_prefetch(p, 1, 3); }
    """
    void qs_prefetch_for_write(const void *p) nogil

cdef enum:
    # permutations up to this length (4 bytes per index: 1 MiB, fits L2) are plain Fisher–Yates; longer ones
    # take the Rao–Sandelius two-stage shuffle
    FISHER_YATES_MAX = 1 << 18
    BUCKETS = 256                 # Rao–Sandelius buckets: one byte of a SplitMix64 output per index
    TAGS_PER_DRAW = 8             # bucket tags taken from one 64-bit output
    WRITE_COMBINE_LANES = 16      # indices buffered per bucket before a flush (one 64-byte cache line)
    PREFETCH_STRIDE = 16          # indices per prefetched line while a bucket is shuffled


def shuffle_into(uint32_t[::1] p, uint64_t seed, int pass_index):
    """Fill ``p`` with a uniformly random permutation of ``range(len(p))`` (position -> bit index).

    Rao–Sandelius two-stage shuffle (uniform, like Fisher–Yates, but cache friendly for large n):
    every index draws one of 256 buckets, buckets are laid out in order (a stable counting sort),
    then each bucket is Fisher–Yates shuffled in cache. Randomness: SplitMix64 seeded from
    (seed, pass); bounded draws by Lemire's multiply-shift (bias < n / 2^64).
    """
    cdef Py_ssize_t n = p.shape[0], i, j, b, lo, hi
    cdef uint64_t state = qs_stream_seed(seed, <uint64_t>pass_index), r = 0
    cdef uint32_t t
    cdef Py_ssize_t bucket_start[BUCKETS + 1]
    cdef Py_ssize_t bucket_fill_at[BUCKETS]
    if n <= FISHER_YATES_MAX:
        with nogil:
            for i in range(n):
                p[i] = <uint32_t>i
            i = n - 1
            while i > 0:
                j = <Py_ssize_t>qs_bounded_draw(qs_splitmix64_next(&state), <uint64_t>(i + 1))
                t = p[i]
                p[i] = p[j]
                p[j] = t
                i -= 1
        return
    cdef uint32_t *out = &p[0]
    cdef uint64_t state0 = state
    cdef uint32_t *lanes = <uint32_t *>malloc(BUCKETS * WRITE_COMBINE_LANES * sizeof(uint32_t))
    cdef uint8_t lane_fill[BUCKETS]
    cdef Py_ssize_t tag, next_line
    if lanes == NULL:
        raise MemoryError("shuffle buffers")
    with nogil:
        # tags: one byte of SplitMix64 output per index, counted first (bucket sizes)...
        for b in range(BUCKETS + 1):
            bucket_start[b] = 0
        for i in range(n):
            if (i & (TAGS_PER_DRAW - 1)) == 0:
                r = qs_splitmix64_next(&state)
            bucket_start[(r & (BUCKETS - 1)) + 1] += 1
            r >>= 8
        for b in range(BUCKETS):
            bucket_start[b + 1] += bucket_start[b]
            bucket_fill_at[b] = bucket_start[b]
            lane_fill[b] = 0
        for b in range(BUCKETS):
            qs_prefetch_for_write(out + bucket_fill_at[b])
            qs_prefetch_for_write(out + bucket_fill_at[b] + WRITE_COMBINE_LANES - 1)
        # ...then drawn again from the same state (no n-byte tag array) and scattered stably into their
        # buckets through per-bucket write-combining buffers of WRITE_COMBINE_LANES indices (256 sequential
        # output streams would otherwise miss the cache and TLB on nearly every store)
        state = state0
        for i in range(n):
            if (i & (TAGS_PER_DRAW - 1)) == 0:
                r = qs_splitmix64_next(&state)
            tag = <Py_ssize_t>(r & (BUCKETS - 1))
            r >>= 8
            lanes[tag * WRITE_COMBINE_LANES + lane_fill[tag]] = <uint32_t>i
            lane_fill[tag] += 1
            if lane_fill[tag] == WRITE_COMBINE_LANES:
                memcpy(out + bucket_fill_at[tag], lanes + tag * WRITE_COMBINE_LANES,
                       WRITE_COMBINE_LANES * sizeof(uint32_t))
                bucket_fill_at[tag] += WRITE_COMBINE_LANES
                lane_fill[tag] = 0
                # the next flush's lines, long before it
                qs_prefetch_for_write(out + bucket_fill_at[tag] + WRITE_COMBINE_LANES - 1)
        for b in range(BUCKETS):
            memcpy(out + bucket_fill_at[b], lanes + b * WRITE_COMBINE_LANES, lane_fill[b] * sizeof(uint32_t))
        free(lanes)
        # each bucket Fisher–Yates shuffled in cache; the next bucket's lines are prefetched meanwhile
        # (its first touches would otherwise be random misses)
        for b in range(BUCKETS):
            lo = bucket_start[b]
            hi = bucket_start[b + 1]
            i = hi - 1
            next_line = hi
            while i > lo:
                if next_line < bucket_start[b + 2 if b < BUCKETS - 1 else BUCKETS] and ((hi - 1 - i) & 3) == 0:
                    qs_prefetch_for_write(out + next_line)
                    next_line += PREFETCH_STRIDE
                j = lo + <Py_ssize_t>qs_bounded_draw(qs_splitmix64_next(&state), <uint64_t>(i - lo + 1))
                t = out[i]
                out[i] = out[j]
                out[j] = t
                i -= 1


def halves_mask(Py_ssize_t n, uint64_t seed, int pass_index, out=None):
    """Packed membership mask of block 0 of a HALVES pass (bit i set: key bit i is in block 0): one
    SplitMix64 bit per key bit, so each bit is in block 0 with probability 1/2 independently."""
    cdef Py_ssize_t n_words = qs_words_for_bits(n), w
    if out is None:
        out = np.empty(n_words, dtype=np.uint64)
    cdef uint64_t[::1] m = out
    cdef uint64_t state = qs_stream_seed(seed, <uint64_t>pass_index)
    with nogil:
        for w in range(n_words):
            m[w] = qs_splitmix64_next(&state)
        if n % 64:
            m[n_words - 1] &= ((<uint64_t>1) << (n % 64)) - 1     # no members above n
    return out


def halves_order(const uint64_t[::1] mask, Py_ssize_t n, out=None):
    """Order of a HALVES pass: members of block 0 ascending, then the rest ascending; and |block 0|."""
    if out is None:
        out = np.empty(n, dtype=np.uint32)
    cdef uint32_t[::1] o = out
    cdef Py_ssize_t i, a = 0, k = 0, b
    with nogil:
        for i in range(n):
            k += (mask[i >> 6] >> (i & 63)) & 1
        b = k
        for i in range(n):
            if (mask[i >> 6] >> (i & 63)) & 1:
                o[a] = <uint32_t>i
                a += 1
            else:
                o[b] = <uint32_t>i
                b += 1
    return out, k
