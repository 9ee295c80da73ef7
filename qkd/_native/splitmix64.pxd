# cython: language_level=3
"""SplitMix64, the generator of every compiled kernel: declarations of splitmix64.h (its one definition)."""

from libc.stdint cimport uint64_t


cdef extern from "splitmix64.h" nogil:
    const uint64_t QS_SPLITMIX64_GAMMA
    const uint64_t QS_STREAM_KEY
    uint64_t qs_splitmix64_mix(uint64_t z)
    uint64_t qs_splitmix64_next(uint64_t *state)
    uint64_t qs_stream_seed(uint64_t seed, uint64_t index)
    uint64_t qs_bounded_draw(uint64_t r, uint64_t n)
