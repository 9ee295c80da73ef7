/* SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): the one
   definition of the generator that every compiled kernel of qkd._native draws from (sifting's QBER sample
   and multi-click choice, Cascade's shuffles and HALVES masks). Declared for Cython in splitmix64.pxd.

   The state advances by the golden-ratio increment γ; output j (0-based) of the stream started at seed s is
   mix(s + (j + 1)·γ), so a run of outputs can be computed ahead (and in SIMD lanes, see sift_kernels.pyx). */
#ifndef QS_SPLITMIX64_H
#define QS_SPLITMIX64_H

#include <stdint.h>

#define QS_SPLITMIX64_GAMMA 0x9E3779B97F4A7C15ULL   /* 2^64 / φ, odd: the state increment */
#define QS_SPLITMIX64_MUL1 0xBF58476D1CE4E5B9ULL    /* the two multipliers of the output mix ("Mix13") */
#define QS_SPLITMIX64_MUL2 0x94D049BB133111EBULL
/* an odd 64-bit constant (Steele & Vigna's LCG multiplier) that keys one stream per index of a seed:
   stream seed = seed XOR index·QS_STREAM_KEY (one per Cascade pass, one per multi-click slot) */
#define QS_STREAM_KEY 0xD1B54A32D192ED03ULL

/* the output mix of a state (a bijection of 64-bit words) */
static inline uint64_t qs_splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * QS_SPLITMIX64_MUL1;
    z = (z ^ (z >> 27)) * QS_SPLITMIX64_MUL2;
    return z ^ (z >> 31);
}

/* advance *state by γ and return the next output */
static inline uint64_t qs_splitmix64_next(uint64_t *state) {
    *state += QS_SPLITMIX64_GAMMA;
    return qs_splitmix64_mix(*state);
}

/* the seed of stream `index` of `seed` */
static inline uint64_t qs_stream_seed(uint64_t seed, uint64_t index) {
    return seed ^ (index * QS_STREAM_KEY);
}

/* a draw uniform on [0, n) from a 64-bit output r: Lemire's multiply-shift, floor(r·n / 2^64)
   (bias below n / 2^64) */
static inline uint64_t qs_bounded_draw(uint64_t r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)r * (unsigned __int128)n) >> 64);
}

#endif
