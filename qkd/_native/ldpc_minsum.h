/* Layered normalised min-sum decoding of quasi-cyclic LDPC codes, with a target syndrome (ldpc_decode.pyx).
 *
 * QC code: base entries e of base row r (row_start[r] <= e < row_start[r+1]) with column ent_col[e] and
 * circulant shift ent_shift[e]; check r*Z+z joins variable ent_col[e]*Z + (z+s) mod Z. Values are LLRs
 * log(P(0)/P(1)) in float32. One base row = one layer of Z independent checks, processed Z lanes at a time
 * over contiguous (rotated) slices: every inner loop is a plain, branch-free vector loop. The decoder is
 * compiled twice (AVX2 and the x86-64 baseline) and the CPU's best is picked at load time. */
#ifndef QSHIFT_LDPC_MINSUM_H
#define QSHIFT_LDPC_MINSUM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LDPC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LDPC_CLONES
#endif
#define LDPC_INLINE static inline __attribute__((always_inline))

/* t = L(rotated by s) - R over the Z lanes of one base entry */
LDPC_INLINE void ldpc_gather(float *restrict te, const float *restrict Lc, const float *restrict Re, int Z, int s) {
    for (int z = 0; z < Z - s; z++) te[z] = Lc[z + s] - Re[z];
    for (int z = Z - s; z < Z; z++) te[z] = Lc[z + s - Z] - Re[z];
}

/* running two smallest magnitudes, position of the smallest, product of signs */
LDPC_INLINE void ldpc_minima(const float *restrict te, float *restrict min1, float *restrict min2,
                             int32_t *restrict idx, float *restrict sgn, int32_t k, int Z) {
    for (int z = 0; z < Z; z++) {
        float v = te[z], mag = fabsf(v), m1 = min1[z], m2 = min2[z];
        int less = mag < m1;
        float hi = less ? m1 : mag;
        sgn[z] = v < 0.0f ? -sgn[z] : sgn[z];
        min2[z] = hi < m2 ? hi : m2;
        min1[z] = less ? mag : m1;
        idx[z] = less ? k : idx[z];
    }
}

/* R = alpha * sign * (min over the other edges); L(rotated) = t + R */
LDPC_INLINE void ldpc_scatter(const float *restrict te, float *restrict Lc, float *restrict Re,
                              const float *restrict min1, const float *restrict min2, const int32_t *restrict idx,
                              const float *restrict sgn, int32_t k, float alpha, int Z, int s) {
    for (int z = 0; z < Z; z++) {
        float mag = idx[z] == k ? min2[z] : min1[z];
        float r = alpha * mag * sgn[z];
        Re[z] = te[z] < 0.0f ? -r : r;
    }
    for (int z = 0; z < Z - s; z++) Lc[z + s] = te[z] + Re[z];
    for (int z = Z - s; z < Z; z++) Lc[z + s - Z] = te[z] + Re[z];
}

/* number of checks the hard decision of L leaves unsatisfied */
LDPC_INLINE ptrdiff_t ldpc_unsatisfied(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift,
                                       int mb, int Z, ptrdiff_t n, const float *restrict L,
                                       const uint8_t *restrict syn, uint8_t *restrict hard, uint8_t *restrict acc) {
    ptrdiff_t bad = 0;
    for (ptrdiff_t i = 0; i < n; i++) hard[i] = L[i] < 0.0f;
    for (int r = 0; r < mb; r++) {
        memcpy(acc, syn + (ptrdiff_t)r * Z, (size_t)Z);
        for (int32_t e = row_start[r]; e < row_start[r + 1]; e++) {
            const uint8_t *col = hard + (ptrdiff_t)ent_col[e] * Z;
            int s = ent_shift[e];
            for (int z = 0; z < Z - s; z++) acc[z] ^= col[z + s];
            for (int z = Z - s; z < Z; z++) acc[z] ^= col[z + s - Z];
        }
        for (int z = 0; z < Z; z++) bad += acc[z];
    }
    return bad;
}

/* Returns the iterations to a word satisfying the syndrome, or minus the iterations run when none was found:
 * after max_iter, or earlier when the number of unsatisfied checks has not reached a new minimum for
 * `patience` iterations (a stalled decoding; 0 = never stop early). out = last hard decision. */
LDPC_CLONES
static int ldpc_decode_layered(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift, int mb,
                               int Z, ptrdiff_t n, const float *llr, const uint8_t *syn, uint8_t *out, float alpha,
                               int max_iter, int patience, float *L, float *R, float *t, float *min1, float *min2,
                               int32_t *idx, float *sgn, uint8_t *hard, uint8_t *acc) {
    ptrdiff_t best = -1;
    int since_best = 0;
    ptrdiff_t n_msgs = (ptrdiff_t)row_start[mb] * Z;
    memcpy(L, llr, (size_t)n * sizeof(float));
    memset(R, 0, (size_t)n_msgs * sizeof(float));
    for (int it = 1; it <= max_iter; it++) {
        for (int r = 0; r < mb; r++) {
            int32_t e0 = row_start[r], deg = row_start[r + 1] - e0;
            const uint8_t *sr = syn + (ptrdiff_t)r * Z;
            for (int z = 0; z < Z; z++) {
                min1[z] = 3.0e38f;
                min2[z] = 3.0e38f;
                idx[z] = -1;
                sgn[z] = sr[z] ? -1.0f : 1.0f;
            }
            for (int32_t k = 0; k < deg; k++) {
                int32_t e = e0 + k;
                ldpc_gather(t + (ptrdiff_t)k * Z, L + (ptrdiff_t)ent_col[e] * Z, R + (ptrdiff_t)e * Z, Z, ent_shift[e]);
                ldpc_minima(t + (ptrdiff_t)k * Z, min1, min2, idx, sgn, k, Z);
            }
            for (int32_t k = 0; k < deg; k++) {
                int32_t e = e0 + k;
                ldpc_scatter(t + (ptrdiff_t)k * Z, L + (ptrdiff_t)ent_col[e] * Z, R + (ptrdiff_t)e * Z, min1, min2,
                             idx, sgn, k, alpha, Z, ent_shift[e]);
            }
        }
        ptrdiff_t bad = ldpc_unsatisfied(row_start, ent_col, ent_shift, mb, Z, n, L, syn, hard, acc);
        if (bad == 0) {
            memcpy(out, hard, (size_t)n);
            return it;
        }
        if (best < 0 || bad < best) {
            best = bad;
            since_best = 0;
        } else if (patience > 0 && ++since_best >= patience) {
            memcpy(out, hard, (size_t)n);
            return -it;
        }
    }
    memcpy(out, hard, (size_t)n);
    return -max_iter;
}

#endif
