/* Packed bit arrays: bit i of an array is bit i % 64 of 64-bit word i / 64 (little-endian order, the layout
   of numpy.packbits(bits, bitorder="little") viewed as uint64 and of bitops.pack_bits). The one definition
   of the word-level bit operations the compiled kernels share; declared for Cython in packed_bits.pxd.

   A "member mask" is a packed array selecting a subset of indices: block 0 of a Cascade HALVES pass is the
   set bits, block 1 the clear ones (member_block = 0 or 1).

   POPCNT is enabled per function (target attribute): the extensions are built for the x86-64 baseline
   without -mpopcnt, where __builtin_popcountll would be a library call per word. */
#ifndef QS_PACKED_BITS_H
#define QS_PACKED_BITS_H

#include <stddef.h>
#include <stdint.h>

#define QS_WORD_BITS 64
#define QS_WORD_SHIFT 6                    /* i >> QS_WORD_SHIFT: the word holding bit i */
#define QS_BIT_IN_WORD 63                  /* i & QS_BIT_IN_WORD: its position in the word */

static inline size_t qs_words_for_bits(size_t n_bits) { return (n_bits + QS_WORD_BITS - 1) / QS_WORD_BITS; }

static inline uint8_t qs_bit_get(const uint64_t *w, size_t i) {
    return (uint8_t)((w[i >> QS_WORD_SHIFT] >> (i & QS_BIT_IN_WORD)) & 1);
}

static inline void qs_bit_put(uint64_t *w, size_t i, uint8_t v) {
    uint64_t one = (uint64_t)1 << (i & QS_BIT_IN_WORD);
    w[i >> QS_WORD_SHIFT] = (w[i >> QS_WORD_SHIFT] & ~one) | ((uint64_t)(v & 1) << (i & QS_BIT_IN_WORD));
}

static inline void qs_bit_flip(uint64_t *w, size_t i) {
    w[i >> QS_WORD_SHIFT] ^= (uint64_t)1 << (i & QS_BIT_IN_WORD);
}

/* bits of word w that belong to member_block of the mask and lie within [s, e) */
static inline uint64_t qs_member_word(const uint64_t *mask, int member_block, size_t w, size_t s, size_t e) {
    uint64_t m = member_block ? ~mask[w] : mask[w];
    size_t lo = w * QS_WORD_BITS, hi = lo + QS_WORD_BITS;
    if (s > lo) m &= ~((((uint64_t)1) << (s - lo)) - 1);
    if (e < hi) m &= (((uint64_t)1) << (e - lo)) - 1;
    return m;
}

/* parity of the key bits at indices [s, e) that belong to member_block of the mask */
__attribute__((target("popcnt")))
static int qs_member_parity(const uint64_t *key, const uint64_t *mask, int member_block, size_t s, size_t e) {
    if (e <= s) return 0;
    uint64_t acc = 0;
    size_t w0 = s >> QS_WORD_SHIFT, w1 = (e - 1) >> QS_WORD_SHIFT;
    for (size_t w = w0; w <= w1; w++) acc ^= key[w] & qs_member_word(mask, member_block, w, s, e);
    return __builtin_popcountll(acc) & 1;
}

/* number of set bits in n_words words */
__attribute__((target("popcnt")))
static size_t qs_words_popcount(const uint64_t *w, size_t n_words) {
    size_t c = 0;
    for (size_t i = 0; i < n_words; i++) c += (size_t)__builtin_popcountll(w[i]);
    return c;
}

/* parity of (a AND m) over n_words words: the parity of the bits of a selected by the mask m */
__attribute__((target("popcnt")))
static int qs_words_and_parity(const uint64_t *a, const uint64_t *m, size_t n_words) {
    uint64_t acc = 0;
    for (size_t i = 0; i < n_words; i++) acc ^= a[i] & m[i];
    return __builtin_popcountll(acc) & 1;
}

/* parity of bits [s, e) */
__attribute__((target("popcnt")))
static inline int qs_range_parity(const uint64_t *w, size_t s, size_t e) {
    if (e <= s) return 0;
    size_t w0 = s >> QS_WORD_SHIFT, w1 = (e - 1) >> QS_WORD_SHIFT;
    uint64_t lo = ~(uint64_t)0 << (s & QS_BIT_IN_WORD), hi = ~(uint64_t)0 >> (63 - ((e - 1) & QS_BIT_IN_WORD));
    if (w0 == w1) return __builtin_popcountll(w[w0] & lo & hi) & 1;
    uint64_t acc = (w[w0] & lo) ^ (w[w1] & hi);
    for (size_t i = w0 + 1; i < w1; i++) acc ^= w[i];
    return __builtin_popcountll(acc) & 1;
}

/* number of indices in [s, e) that belong to member_block, counted only up to 2 (the caller asks "none,
   one or more?"); *first receives the first member's index */
__attribute__((target("popcnt")))
static size_t qs_member_count_upto2(const uint64_t *mask, int member_block, size_t s, size_t e, size_t *first) {
    size_t c = 0;
    if (e <= s) return 0;
    size_t w0 = s >> QS_WORD_SHIFT, w1 = (e - 1) >> QS_WORD_SHIFT;
    for (size_t w = w0; w <= w1 && c < 2; w++) {
        uint64_t m = qs_member_word(mask, member_block, w, s, e);
        if (m && c == 0) *first = w * QS_WORD_BITS + (size_t)__builtin_ctzll(m);
        c += (size_t)__builtin_popcountll(m);
    }
    return c;
}

#endif
