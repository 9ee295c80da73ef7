/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11) over n independent counters in struct-of-arrays form:
   word j of counter i is c_j[i]; each counter goes through the ten rounds under key (k0, k1) in place.
   Written so that the compiler vectorises the lanes; compiled for AVX2 and for the baseline ISA and chosen
   at load time (ifunc) on GCC/x86-64. Shared by qkd._native.philox (record lookups) and
   qkd._native.sift_kernels (the fused sifting pass). */
#ifndef QS_PHILOX_LANES_H
#define QS_PHILOX_LANES_H
#include <stdint.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void qs_philox_lanes(uint32_t *restrict c0, uint32_t *restrict c1, uint32_t *restrict c2,
                            uint32_t *restrict c3, int n, uint32_t k0, uint32_t k1) {
    for (int r = 0; r < 10; r++) {
        for (int j = 0; j < n; j++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * c0[j];
            uint64_t p1 = (uint64_t)0xCD9E8D57u * c2[j];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
            c1[j] = (uint32_t)p1;
            c3[j] = (uint32_t)p0;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}
#endif
