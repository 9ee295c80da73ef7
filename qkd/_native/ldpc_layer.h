/* The layered decoder of ldpc_minsum.h for one lane count and instruction set. No include guard: ldpc_minsum.h
 * includes this file once per build, with LDPC_W (lanes: checks processed together), LDPC_FN(name) (the build's
 * name of `name`) and LDPC_ISA (its target attribute, on every function here: the vector operations of the helpers
 * must be lowered for the same instructions as the decoder they are inlined into, or the compiler splits and
 * scalarises them before inlining) defined; every name defined here is undefined at the end.
 *
 * Lane i of a chunk is check z0+i of the layer; its edge k reads variable (z0+i+s_k) mod Z of column k: one
 * contiguous unaligned vector load, or, in the one chunk per edge that wraps around Z, two loads (the column's tail
 * and head) blended by lane. Stores that must not touch every lane (a wrapped chunk, the partial last chunk of a
 * layer when LDPC_W does not divide Z) read, blend and write back: the lanes they keep are rewritten with the value
 * just read, in the same thread, so a neighbouring column's variables are never changed. Requires Z >= LDPC_W and
 * LDPC_WMAX floats of padding before and after L. */

#define LDPC_LINLINE static inline __attribute__((always_inline)) LDPC_ISA
#define LDPC_VF LDPC_FN(ldpc_vf)
#define LDPC_VI LDPC_FN(ldpc_vi)
#define LDPC_VFU LDPC_FN(ldpc_vfu)
#define LDPC_VIU LDPC_FN(ldpc_viu)
typedef float LDPC_VF __attribute__((vector_size(LDPC_W * sizeof(float))));
typedef int32_t LDPC_VI __attribute__((vector_size(LDPC_W * sizeof(int32_t))));
/* the same, at any address: loads and stores through these are single unaligned vector moves (a memcpy of a whole
 * vector may be split into narrower moves under generic tuning, and the reassembly then stalls store forwarding) */
typedef float LDPC_VFU __attribute__((vector_size(LDPC_W * sizeof(float)), aligned(4), may_alias));
typedef int32_t LDPC_VIU __attribute__((vector_size(LDPC_W * sizeof(int32_t)), aligned(4), may_alias));

LDPC_LINLINE LDPC_VF LDPC_FN(splat)(float x) {
    LDPC_VF v = {0};
    return v + x;
}

LDPC_LINLINE LDPC_VI LDPC_FN(splati)(int32_t x) {
    LDPC_VI v = {0};
    return v + x;
}

/* 0, 1, …, LDPC_W − 1 */
LDPC_LINLINE LDPC_VI LDPC_FN(iota)(void) {
    LDPC_VI v;
    for (int i = 0; i < LDPC_W; i++) v[i] = i;
    return v;
}

LDPC_LINLINE LDPC_VF LDPC_FN(ld)(const float *p) { return *(const LDPC_VFU *)p; }

LDPC_LINLINE void LDPC_FN(st)(float *p, LDPC_VF v) { *(LDPC_VFU *)p = v; }

LDPC_LINLINE LDPC_VI LDPC_FN(ldi)(const int32_t *p) { return *(const LDPC_VIU *)p; }

LDPC_LINLINE void LDPC_FN(sti)(int32_t *p, LDPC_VI v) { *(LDPC_VIU *)p = v; }

/* mask ? a : b, lane by lane (mask lanes all ones or all zeros) */
LDPC_LINLINE LDPC_VF LDPC_FN(sel)(LDPC_VI mask, LDPC_VF a, LDPC_VF b) {
    return (LDPC_VF)(((LDPC_VI)a & mask) | ((LDPC_VI)b & ~mask));
}

LDPC_LINLINE LDPC_VI LDPC_FN(seli)(LDPC_VI mask, LDPC_VI a, LDPC_VI b) { return (a & mask) | (b & ~mask); }

/* lane i: x[(p + i) mod Z], 0 <= p < Z (lanes past a partial chunk read real but unused variables) */
LDPC_LINLINE LDPC_VF LDPC_FN(ld_rot)(const float *x, int p, int Z) {
    if (p + LDPC_W <= Z) return LDPC_FN(ld)(x + p);
    return LDPC_FN(sel)(LDPC_FN(iota)() < LDPC_FN(splati)(Z - p), LDPC_FN(ld)(x + p), LDPC_FN(ld)(x + p - Z));
}

/* x[(p + i) mod Z] = v[i] for lanes i < nl; nothing else changes */
LDPC_LINLINE void LDPC_FN(st_rot)(float *x, int p, int nl, int Z, LDPC_VF v) {
    if (nl == LDPC_W && p + LDPC_W <= Z) {
        LDPC_FN(st)(x + p, v);
        return;
    }
    LDPC_VI lane = LDPC_FN(iota)();
    int cut = Z - p < nl ? Z - p : nl;                       /* lanes [0, cut) at x + p …, [cut, nl) at x + p − Z … */
    LDPC_FN(st)(x + p, LDPC_FN(sel)(lane < LDPC_FN(splati)(cut), v, LDPC_FN(ld)(x + p)));
    if (cut < nl) {
        LDPC_VI in = (lane >= LDPC_FN(splati)(cut)) & (lane < LDPC_FN(splati)(nl));
        LDPC_FN(st)(x + p - Z, LDPC_FN(sel)(in, v, LDPC_FN(ld)(x + p - Z)));
    }
}

/* x[i] = v[i] for lanes i < nl */
LDPC_LINLINE void LDPC_FN(st_part)(float *x, int nl, LDPC_VF v) {
    if (nl == LDPC_W) {
        LDPC_FN(st)(x, v);
        return;
    }
    LDPC_FN(st)(x, LDPC_FN(sel)(LDPC_FN(iota)() < LDPC_FN(splati)(nl), v, LDPC_FN(ld)(x)));
}

LDPC_LINLINE void LDPC_FN(sti_part)(int32_t *x, int nl, LDPC_VI v) {
    if (nl == LDPC_W) {
        LDPC_FN(sti)(x, v);
        return;
    }
    LDPC_FN(sti)(x, LDPC_FN(seli)(LDPC_FN(iota)() < LDPC_FN(splati)(nl), v, LDPC_FN(ldi)(x)));
}

/* sign bits of the lanes, kept as their int32 sign words (a narrower store would need conversions that the
 * compiler scalarises) */
LDPC_LINLINE LDPC_VI LDPC_FN(ld_signs)(const int32_t *p) { return LDPC_FN(ldi)(p); }

LDPC_LINLINE void LDPC_FN(st_signs)(int32_t *p, int nl, LDPC_VI v) { LDPC_FN(sti_part)(p, nl, v & LDPC_SIGN); }

/* whether any lane of a comparison mask is set (a mask move on AVX2 / AVX-512, a loop on the baseline) */
LDPC_LINLINE int LDPC_FN(any)(LDPC_VI mask) {
#if LDPC_ISA_LEVEL == 3
    return _mm512_movepi32_mask((__m512i)mask) != 0;
#elif LDPC_ISA_LEVEL == 2
    return _mm256_movemask_ps((__m256)mask) != 0;
#else
    int32_t r = 0;
    for (int i = 0; i < LDPC_W; i++) r |= mask[i];
    return r != 0;
#endif
}

/* lanes i < nl whose sign bit is set */
LDPC_LINLINE int LDPC_FN(count_neg)(LDPC_VI v, int nl) {
    LDPC_VI neg = (v >> 31) & (LDPC_FN(iota)() < LDPC_FN(splati)(nl));
    int c = 0;
    for (int i = 0; i < LDPC_W; i++) c -= neg[i];
    return c;
}

/* φ(x) = −ln tanh(x/2) = ln((1 + u)/(1 − u)) = 2 atanh(u), u = e^−x, for x in [LDPC_SP_XMIN, LDPC_SP_XMAX].
 * u = 2^y, y = −x·log2 e: 2^floor(y) through the exponent bits, 2^f (f in [0, 1)) by its degree-7 Taylor polynomial
 * (relative error < 1.4e-6). For x > 1.772 (u < 0.17): 2 atanh(u) by its odd series to u^9 (no rounding of 1 ± u
 * in float). Else ln((1 + u)/(1 − u)): 1 − u by its Taylor series in x below x = 0.35 (no cancellation), ln by the
 * exponent and 2 atanh((m − 1)/(m + 1)) of the mantissa m in [√½, √2). Relative error ≈ 1e-6 over the range
 * (checked against −ln tanh(x/2) in double precision). A branch no lane needs is not evaluated. */
LDPC_LINLINE LDPC_VF LDPC_FN(phi)(LDPC_VF x) {
    LDPC_VI isbig = x > LDPC_FN(splat)(1.7719f);
    LDPC_VF y = x * -1.44269504f;
    LDPC_VI ti = __builtin_convertvector(y, LDPC_VI);                  /* toward zero */
    LDPC_VI n = ti + (__builtin_convertvector(ti, LDPC_VF) > y);       /* floor: −1 where truncation rounded up */
    LDPC_VF f = y - __builtin_convertvector(n, LDPC_VF);
    LDPC_VF p = LDPC_FN(splat)(1.5252734e-5f);
    p = p * f + 1.5403530e-4f;
    p = p * f + 1.3333558e-3f;
    p = p * f + 9.6181291e-3f;
    p = p * f + 5.5504109e-2f;
    p = p * f + 2.4022651e-1f;
    p = p * f + 6.9314718e-1f;
    p = p * f + 1.0f;
    LDPC_VF u = (LDPC_VF)((LDPC_VI)p + n * 8388608);                   /* × 2^n: n >= −30, stays normal */
    /* large x: 2 (u + u^3/3 + u^5/5 + u^7/7 + u^9/9) */
    LDPC_VF u2 = u * u;
    LDPC_VF s = u2 * (1.0f / 9.0f) + (1.0f / 7.0f);
    s = s * u2 + (1.0f / 5.0f);
    s = s * u2 + (1.0f / 3.0f);
    s = s * u2 + 1.0f;
    LDPC_VF big = 2.0f * u * s;
    if (!LDPC_FN(any)(~isbig)) return big;
    /* small x: ln((1 + u) / (1 − u)) */
    LDPC_VF tay = x * (1.0f / 6.0f);
    tay = x * (1.0f / 5.0f) * (1.0f - tay);
    tay = x * (1.0f / 4.0f) * (1.0f - tay);
    tay = x * (1.0f / 3.0f) * (1.0f - tay);
    tay = x * (1.0f / 2.0f) * (1.0f - tay);
    tay = x * (1.0f - tay);                                            /* 1 − e^−x for small x */
    LDPC_VF den = LDPC_FN(sel)(x < LDPC_FN(splat)(0.35f), tay, 1.0f - u);
    LDPC_VF q = (1.0f + u) / den;                                     /* >= 1.4 where used */
    LDPC_VI qb = (LDPC_VI)q;
    LDPC_VI ex = ((qb >> 23) & 0xff) - 127;
    LDPC_VF m = (LDPC_VF)((qb & 0x007fffff) | 0x3f800000);            /* [1, 2) */
    LDPC_VI hi = m > LDPC_FN(splat)(1.41421356f);
    m = LDPC_FN(sel)(hi, m * 0.5f, m);
    ex = ex - hi;                                                      /* hi is −1 where halved */
    LDPC_VF r = (m - 1.0f) / (m + 1.0f);
    LDPC_VF r2 = r * r;
    LDPC_VF lm = r2 * (1.0f / 9.0f) + (1.0f / 7.0f);
    lm = lm * r2 + (1.0f / 5.0f);
    lm = lm * r2 + (1.0f / 3.0f);
    lm = lm * r2 + 1.0f;
    LDPC_VF small = __builtin_convertvector(ex, LDPC_VF) * 0.69314718f + 2.0f * r * lm;
    return LDPC_FN(sel)(isbig, big, small);
}

LDPC_LINLINE LDPC_VF LDPC_FN(clamp)(LDPC_VF x, float lo, float hi) {
    LDPC_VF vlo = LDPC_FN(splat)(lo), vhi = LDPC_FN(splat)(hi);
    x = LDPC_FN(sel)(x < vlo, vlo, x);
    return LDPC_FN(sel)(x > vhi, vhi, x);
}

/* Min-sum, one chunk of one layer (checks c0 … c0+nl−1 = r·Z+z0 …, base row entries e0 … e0+deg−1). Messages are
 * stored compressed (the classic layered min-sum state): per check the two scaled minima α·m1, α·m2, the edge of
 * the minimum and the sign product (syndrome included); per edge only the sign of its last input t. The message
 * check → edge k is then sel(k == argmin, α·m2, α·m1) with sign (product ⊕ sign t_k): the same values a per-edge
 * store would hold, without storing magnitudes. Returns the checks the new signs leave unsatisfied. */
LDPC_LINLINE int LDPC_FN(chunk_ms)(const int32_t *restrict ent_col, const int32_t *restrict ent_shift, int32_t e0,
                                  int32_t deg, int Z, int z0, int nl, ptrdiff_t c0, LDPC_VI s0, float alpha,
                                  float *restrict L, int32_t *restrict sb, float *restrict cm1, float *restrict cm2,
                                  int32_t *restrict cidx, int32_t *restrict csg, float *restrict tb) {
    LDPC_VF o1 = LDPC_FN(ld)(cm1 + c0), o2 = LDPC_FN(ld)(cm2 + c0);
    LDPC_VI oi = LDPC_FN(ldi)(cidx + c0), os = LDPC_FN(ldi)(csg + c0);
    LDPC_VF m1 = LDPC_FN(splat)(3.0e38f), m2 = m1;
    LDPC_VI idx = LDPC_FN(splati)(-1), sg = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = z0 + ent_shift[e];
        if (p >= Z) p -= Z;
        LDPC_VI kk = LDPC_FN(splati)(k);
        int32_t *se = sb + (ptrdiff_t)e * Z + z0;
        LDPC_VF rold = (LDPC_VF)((LDPC_VI)LDPC_FN(sel)(oi == kk, o2, o1) | (os ^ LDPC_FN(ld_signs)(se)));
        LDPC_VF t = LDPC_FN(ld_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, Z) - rold;
        LDPC_FN(st)(tb + (ptrdiff_t)k * LDPC_W, t);
        LDPC_VI ti = (LDPC_VI)t;
        LDPC_FN(st_signs)(se, nl, ti);
        LDPC_VF mag = (LDPC_VF)(ti & LDPC_ABS);
        sg ^= ti;
        LDPC_VI lt = mag < m1;
        LDPC_VF hi = LDPC_FN(sel)(lt, m1, mag);
        m2 = LDPC_FN(sel)(hi < m2, hi, m2);
        m1 = LDPC_FN(sel)(lt, mag, m1);
        idx = LDPC_FN(seli)(lt, kk, idx);
    }
    sg &= LDPC_SIGN;
    LDPC_VF a1 = m1 * alpha, a2 = m2 * alpha;
    LDPC_VI par = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = z0 + ent_shift[e];
        if (p >= Z) p -= Z;
        LDPC_VF t = LDPC_FN(ld)(tb + (ptrdiff_t)k * LDPC_W);
        LDPC_VI ti = (LDPC_VI)t;
        LDPC_VF rm = LDPC_FN(sel)(idx == LDPC_FN(splati)(k), a2, a1);
        LDPC_VF ln = t + (LDPC_VF)((LDPC_VI)rm | ((sg ^ ti) & LDPC_SIGN));
        LDPC_FN(st_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, nl, Z, ln);
        par ^= (LDPC_VI)ln;
    }
    LDPC_FN(st_part)(cm1 + c0, nl, a1);
    LDPC_FN(st_part)(cm2 + c0, nl, a2);
    LDPC_FN(sti_part)(cidx + c0, nl, idx);
    LDPC_FN(sti_part)(csg + c0, nl, sg);
    return LDPC_FN(count_neg)(par, nl);
}

/* Sum-product, one chunk of one layer: messages stored per edge in R (float). tb, pb: deg·LDPC_W floats. */
LDPC_LINLINE int LDPC_FN(chunk_sp)(const int32_t *restrict ent_col, const int32_t *restrict ent_shift, int32_t e0,
                                  int32_t deg, int Z, int z0, int nl, LDPC_VI s0, float *restrict L,
                                  float *restrict R, float *restrict tb, float *restrict pb) {
    LDPC_VF S = LDPC_FN(splat)(0.0f);
    LDPC_VI sg = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = z0 + ent_shift[e];
        if (p >= Z) p -= Z;
        LDPC_VF t = LDPC_FN(ld_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, Z) - LDPC_FN(ld)(R + (ptrdiff_t)e * Z + z0);
        LDPC_FN(st)(tb + (ptrdiff_t)k * LDPC_W, t);
        LDPC_VI ti = (LDPC_VI)t;
        LDPC_VF ph = LDPC_FN(phi)(LDPC_FN(clamp)((LDPC_VF)(ti & LDPC_ABS), LDPC_SP_XMIN, LDPC_SP_XMAX));
        LDPC_FN(st)(pb + (ptrdiff_t)k * LDPC_W, ph);
        S += ph;
        sg ^= ti;
    }
    sg &= LDPC_SIGN;
    LDPC_VI par = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = z0 + ent_shift[e];
        if (p >= Z) p -= Z;
        LDPC_VF t = LDPC_FN(ld)(tb + (ptrdiff_t)k * LDPC_W);
        LDPC_VI ti = (LDPC_VI)t;
        LDPC_VF rm = LDPC_FN(phi)(LDPC_FN(clamp)(S - LDPC_FN(ld)(pb + (ptrdiff_t)k * LDPC_W), LDPC_SP_XMIN,
                                                 LDPC_SP_XMAX));
        LDPC_VF rv = (LDPC_VF)((LDPC_VI)rm | ((sg ^ ti) & LDPC_SIGN));
        LDPC_FN(st_part)(R + (ptrdiff_t)e * Z + z0, nl, rv);
        LDPC_VF ln = t + rv;
        LDPC_FN(st_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, nl, Z, ln);
        par ^= (LDPC_VI)ln;
    }
    return LDPC_FN(count_neg)(par, nl);
}

/* The decoder at this width; see ldpc_decode_layered in ldpc_minsum.h for the contract. */
LDPC_ISA
static int LDPC_FN(ldpc_decode_layered)(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift,
                                        int mb, int Z, ptrdiff_t n, const float *llr, const uint8_t *syn, uint8_t *out,
                                        float alpha, int sum_product, int max_iter, int patience, float *L, float *R,
                                        int32_t *sb, float *cm1, float *cm2, int32_t *cidx, int32_t *csg, float *tb,
                                        float *pb, int32_t *synm, uint8_t *hard, uint8_t *acc) {
    ptrdiff_t best = -1;
    int since_best = 0;
    ptrdiff_t m = (ptrdiff_t)mb * Z;
    ptrdiff_t n_msgs = (ptrdiff_t)row_start[mb] * Z;
    memcpy(L, llr, (size_t)n * sizeof(float));
    if (sum_product) {
        memset(R, 0, (size_t)(n_msgs + LDPC_WMAX) * sizeof(float));
    } else {
        memset(sb, 0, (size_t)(n_msgs + LDPC_WMAX) * sizeof(int32_t));
        memset(cm1, 0, (size_t)(m + LDPC_WMAX) * sizeof(float));
        memset(cm2, 0, (size_t)(m + LDPC_WMAX) * sizeof(float));
        memset(cidx, 0, (size_t)(m + LDPC_WMAX) * sizeof(int32_t));
        memset(csg, 0, (size_t)(m + LDPC_WMAX) * sizeof(int32_t));
    }
    for (ptrdiff_t i = 0; i < m; i++) synm[i] = syn[i] ? LDPC_SIGN : 0;
    for (ptrdiff_t i = m; i < m + LDPC_WMAX; i++) synm[i] = 0;
    for (int it = 1; it <= max_iter; it++) {
        ptrdiff_t bad = 0;
        for (int r = 0; r < mb; r++) {
            int32_t e0 = row_start[r], deg = row_start[r + 1] - e0;
            for (int z0 = 0; z0 < Z; z0 += LDPC_W) {
                int nl = Z - z0 < LDPC_W ? Z - z0 : LDPC_W;
                ptrdiff_t c0 = (ptrdiff_t)r * Z + z0;
                LDPC_VI s0 = LDPC_FN(ldi)(synm + c0);
                if (sum_product)
                    bad += LDPC_FN(chunk_sp)(ent_col, ent_shift, e0, deg, Z, z0, nl, s0, L, R, tb, pb);
                else
                    bad += LDPC_FN(chunk_ms)(ent_col, ent_shift, e0, deg, Z, z0, nl, c0, s0, alpha, L, sb, cm1, cm2,
                                             cidx, csg, tb);
            }
        }
        if (bad == 0 && ldpc_unsatisfied(row_start, ent_col, ent_shift, mb, Z, n, L, syn, hard, acc) == 0) {
            memcpy(out, hard, (size_t)n);
            return it;
        }
        if (best < 0 || bad < best) {
            best = bad;
            since_best = 0;
        } else if (patience > 0 && ++since_best >= patience) {
            for (ptrdiff_t i = 0; i < n; i++) out[i] = L[i] < 0.0f;
            return -it;
        }
    }
    for (ptrdiff_t i = 0; i < n; i++) out[i] = L[i] < 0.0f;
    return -max_iter;
}

/* ---- fixed-point min-sum: int16 values, 2·LDPC_W checks per chunk (the same register width) ---- */

#define LDPC_H (2 * LDPC_W)
#define LDPC_VH LDPC_FN(ldpc_vh)
#define LDPC_VHU LDPC_FN(ldpc_vhu)
typedef int16_t LDPC_VH __attribute__((vector_size(LDPC_W * 4)));
typedef int16_t LDPC_VHU __attribute__((vector_size(LDPC_W * 4), aligned(2), may_alias));

LDPC_LINLINE LDPC_VH LDPC_FN(h_splat)(int16_t x) {
    LDPC_VH v = {0};
    return v + x;
}

LDPC_LINLINE LDPC_VH LDPC_FN(h_iota)(void) {
    LDPC_VH v;
    for (int i = 0; i < LDPC_H; i++) v[i] = (int16_t)i;
    return v;
}

LDPC_LINLINE LDPC_VH LDPC_FN(h_ld)(const int16_t *p) { return *(const LDPC_VHU *)p; }

LDPC_LINLINE void LDPC_FN(h_st)(int16_t *p, LDPC_VH v) { *(LDPC_VHU *)p = v; }

LDPC_LINLINE LDPC_VH LDPC_FN(h_sel)(LDPC_VH mask, LDPC_VH a, LDPC_VH b) { return (a & mask) | (b & ~mask); }

/* lane i: x[(p + i) mod Z], 0 <= p < Z, Z >= LDPC_H */
LDPC_LINLINE LDPC_VH LDPC_FN(h_ld_rot)(const int16_t *x, int p, int Z) {
    if (p + LDPC_H <= Z) return LDPC_FN(h_ld)(x + p);
    return LDPC_FN(h_sel)(LDPC_FN(h_iota)() < LDPC_FN(h_splat)((int16_t)(Z - p)), LDPC_FN(h_ld)(x + p),
                          LDPC_FN(h_ld)(x + p - Z));
}

/* x[(p + i) mod Z] = v[i] for lanes i < nl; nothing else changes */
LDPC_LINLINE void LDPC_FN(h_st_rot)(int16_t *x, int p, int nl, int Z, LDPC_VH v) {
    if (nl == LDPC_H && p + LDPC_H <= Z) {
        LDPC_FN(h_st)(x + p, v);
        return;
    }
    LDPC_VH lane = LDPC_FN(h_iota)();
    int cut = Z - p < nl ? Z - p : nl;
    LDPC_FN(h_st)(x + p, LDPC_FN(h_sel)(lane < LDPC_FN(h_splat)((int16_t)cut), v, LDPC_FN(h_ld)(x + p)));
    if (cut < nl) {
        LDPC_VH in = (lane >= LDPC_FN(h_splat)((int16_t)cut)) & (lane < LDPC_FN(h_splat)((int16_t)nl));
        LDPC_FN(h_st)(x + p - Z, LDPC_FN(h_sel)(in, v, LDPC_FN(h_ld)(x + p - Z)));
    }
}

LDPC_LINLINE void LDPC_FN(h_st_part)(int16_t *x, int nl, LDPC_VH v) {
    if (nl == LDPC_H) {
        LDPC_FN(h_st)(x, v);
        return;
    }
    LDPC_FN(h_st)(x, LDPC_FN(h_sel)(LDPC_FN(h_iota)() < LDPC_FN(h_splat)((int16_t)nl), v, LDPC_FN(h_ld)(x)));
}

LDPC_LINLINE int LDPC_FN(h_count_neg)(LDPC_VH v, int nl) {
    LDPC_VH neg = (v >> 15) & (LDPC_FN(h_iota)() < LDPC_FN(h_splat)((int16_t)nl));
    int c = 0;
    for (int i = 0; i < LDPC_H; i++) c -= neg[i];
    return c;
}

/* Fixed-point normalised min-sum, one chunk of one layer: the compressed state of chunk_ms (per check α·m1, α·m2,
 * argmin, sign product; per edge its last input t, whose sign is the one kept) in int16. Magnitudes are clamped
 * to LDPC_Q_MAX, α = a16/16. */
LDPC_LINLINE int LDPC_FN(chunk_msq)(const int32_t *restrict ent_col, const int32_t *restrict ent_shift, int32_t e0,
                                   int32_t deg, int Z, int z0, int nl, ptrdiff_t c0, LDPC_VH s0, int16_t a16,
                                   int16_t *restrict L, int16_t *restrict sb, int16_t *restrict cm1,
                                   int16_t *restrict cm2, int16_t *restrict cidx, int16_t *restrict csg,
                                   int16_t *restrict tb) {
    const LDPC_VH zero = LDPC_FN(h_splat)(0), qmax = LDPC_FN(h_splat)(LDPC_Q_MAX), qmin = -qmax;
    LDPC_VH o1 = LDPC_FN(h_ld)(cm1 + c0), o2 = LDPC_FN(h_ld)(cm2 + c0);
    LDPC_VH oi = LDPC_FN(h_ld)(cidx + c0), os = LDPC_FN(h_ld)(csg + c0);
    LDPC_VH m1 = LDPC_FN(h_splat)(32767), m2 = m1, idx = LDPC_FN(h_splat)(-1), sg = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = z0 + ent_shift[e];
        if (p >= Z) p -= Z;
        LDPC_VH kk = LDPC_FN(h_splat)((int16_t)k);
        int16_t *se = sb + (ptrdiff_t)e * Z + z0;
        LDPC_VH rmag = LDPC_FN(h_sel)(oi == kk, o2, o1);
        LDPC_VH rold = LDPC_FN(h_sel)((os ^ LDPC_FN(h_ld)(se)) < zero, -rmag, rmag);
        LDPC_VH t = LDPC_FN(h_ld_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, Z) - rold;
        LDPC_FN(h_st)(tb + (ptrdiff_t)k * LDPC_H, t);
        LDPC_FN(h_st_part)(se, nl, t);
        LDPC_VH mag = LDPC_FN(h_sel)(t < zero, -t, t);
        mag = LDPC_FN(h_sel)(mag > qmax, qmax, mag);
        sg ^= t;
        LDPC_VH lt = mag < m1;
        LDPC_VH hi = LDPC_FN(h_sel)(lt, m1, mag);
        m2 = LDPC_FN(h_sel)(hi < m2, hi, m2);
        m1 = LDPC_FN(h_sel)(lt, mag, m1);
        idx = LDPC_FN(h_sel)(lt, kk, idx);
    }
    m2 = LDPC_FN(h_sel)(m2 > qmax, qmax, m2);                  /* a check of degree 1 has no second minimum */
    LDPC_VH a1 = (m1 * a16) >> 4, a2 = (m2 * a16) >> 4;          /* <= 2047 · 16: inside int16 */
    LDPC_VH par = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = z0 + ent_shift[e];
        if (p >= Z) p -= Z;
        LDPC_VH t = LDPC_FN(h_ld)(tb + (ptrdiff_t)k * LDPC_H);
        LDPC_VH rm = LDPC_FN(h_sel)(idx == LDPC_FN(h_splat)((int16_t)k), a2, a1);
        LDPC_VH ln = t + LDPC_FN(h_sel)((sg ^ t) < zero, -rm, rm);   /* |t| <= 2·2047, |ln| <= 3·2047 */
        ln = LDPC_FN(h_sel)(ln > qmax, qmax, ln);
        ln = LDPC_FN(h_sel)(ln < qmin, qmin, ln);
        LDPC_FN(h_st_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, nl, Z, ln);
        par ^= ln;
    }
    LDPC_FN(h_st_part)(cm1 + c0, nl, a1);
    LDPC_FN(h_st_part)(cm2 + c0, nl, a2);
    LDPC_FN(h_st_part)(cidx + c0, nl, idx);
    LDPC_FN(h_st_part)(csg + c0, nl, sg);
    return LDPC_FN(h_count_neg)(par, nl);
}

/* The fixed-point min-sum decoder at this width (same contract as ldpc_decode_layered; the buffers of the
 * floating-point min-sum are reused as int16 arrays, which they hold with room to spare; requires Z >= 2·LDPC_W). */
LDPC_ISA
static int LDPC_FN(ldpc_decode_msq)(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift, int mb,
                                    int Z, ptrdiff_t n, const float *llr, const uint8_t *syn, uint8_t *out, float alpha,
                                    int max_iter, int patience, float *Lf, int32_t *sbf, float *cm1f, float *cm2f,
                                    int32_t *cidxf, int32_t *csgf, float *tbf, int32_t *synmf, uint8_t *hard,
                                    uint8_t *acc) {
    int16_t *L = (int16_t *)Lf, *sb = (int16_t *)sbf, *cm1 = (int16_t *)cm1f, *cm2 = (int16_t *)cm2f;
    int16_t *cidx = (int16_t *)cidxf, *csg = (int16_t *)csgf, *tb = (int16_t *)tbf, *synm = (int16_t *)synmf;
    ptrdiff_t best = -1;
    int since_best = 0;
    ptrdiff_t m = (ptrdiff_t)mb * Z;
    ptrdiff_t n_msgs = (ptrdiff_t)row_start[mb] * Z;
    int a = (int)(alpha * 16.0f + 0.5f);
    int16_t a16 = (int16_t)(a < 0 ? 0 : a > 16 ? 16 : a);
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = llr[i] * LDPC_Q_SCALE;
        v = v > (float)LDPC_Q_MAX ? (float)LDPC_Q_MAX : v < -(float)LDPC_Q_MAX ? -(float)LDPC_Q_MAX : v;
        L[i] = (int16_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
    }
    memset(sb, 0, (size_t)(n_msgs + 2 * LDPC_WMAX) * sizeof(int16_t));
    memset(cm1, 0, (size_t)(m + 2 * LDPC_WMAX) * sizeof(int16_t));
    memset(cm2, 0, (size_t)(m + 2 * LDPC_WMAX) * sizeof(int16_t));
    memset(cidx, 0, (size_t)(m + 2 * LDPC_WMAX) * sizeof(int16_t));
    memset(csg, 0, (size_t)(m + 2 * LDPC_WMAX) * sizeof(int16_t));
    for (ptrdiff_t i = 0; i < m; i++) synm[i] = syn[i] ? INT16_MIN : 0;
    for (ptrdiff_t i = m; i < m + 2 * LDPC_WMAX; i++) synm[i] = 0;
    for (int it = 1; it <= max_iter; it++) {
        ptrdiff_t bad = 0;
        for (int r = 0; r < mb; r++) {
            int32_t e0 = row_start[r], deg = row_start[r + 1] - e0;
            for (int z0 = 0; z0 < Z; z0 += LDPC_H) {
                int nl = Z - z0 < LDPC_H ? Z - z0 : LDPC_H;
                ptrdiff_t c0 = (ptrdiff_t)r * Z + z0;
                bad += LDPC_FN(chunk_msq)(ent_col, ent_shift, e0, deg, Z, z0, nl, c0, LDPC_FN(h_ld)(synm + c0), a16, L,
                                          sb, cm1, cm2, cidx, csg, tb);
            }
        }
        if (bad == 0 && ldpc_unsatisfied_q(row_start, ent_col, ent_shift, mb, Z, n, L, syn, hard, acc) == 0) {
            memcpy(out, hard, (size_t)n);
            return it;
        }
        if (best < 0 || bad < best) {
            best = bad;
            since_best = 0;
        } else if (patience > 0 && ++since_best >= patience) {
            for (ptrdiff_t i = 0; i < n; i++) out[i] = L[i] < 0;
            return -it;
        }
    }
    for (ptrdiff_t i = 0; i < n; i++) out[i] = L[i] < 0;
    return -max_iter;
}

#undef LDPC_H
#undef LDPC_VH
#undef LDPC_VHU
#undef LDPC_LINLINE
#undef LDPC_VF
#undef LDPC_VI
#undef LDPC_VFU
#undef LDPC_VIU
