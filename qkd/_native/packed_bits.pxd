# cython: language_level=3
"""Packed bit arrays (bit i = bit i % 64 of word i // 64): declarations of packed_bits.h, their one definition."""

from libc.stdint cimport uint8_t, uint64_t


cdef extern from "packed_bits.h" nogil:
    size_t qs_words_for_bits(size_t n_bits)
    uint8_t qs_bit_get(const uint64_t *w, size_t i)
    void qs_bit_put(uint64_t *w, size_t i, uint8_t v)
    void qs_bit_flip(uint64_t *w, size_t i)
    int qs_member_parity(const uint64_t *key, const uint64_t *mask, int member_block, size_t s, size_t e)
    size_t qs_words_popcount(const uint64_t *w, size_t n_words)
    int qs_words_and_parity(const uint64_t *a, const uint64_t *m, size_t n_words)
    int qs_range_parity(const uint64_t *w, size_t s, size_t e)
    size_t qs_member_count_upto2(const uint64_t *mask, int member_block, size_t s, size_t e, size_t *first)
