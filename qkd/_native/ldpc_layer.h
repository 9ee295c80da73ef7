/* The layered decoder of ldpc_minsum.h for one lane count and instruction set. No include guard: ldpc_minsum.h
 * includes this file once per build, with LDPC_W (lanes: checks processed together by the float decoders, twice as
 * many by the int16 fixed-point ones), LDPC_FN(name) (the build's name of `name`) and LDPC_ISA (its target
 * attribute, on every function here: the vector operations of the helpers must be lowered for the same instructions
 * as the decoder they are inlined into, or the compiler splits and scalarises them before inlining) defined; every
 * name defined here is undefined at the end.
 *
 * Lane i of a chunk is check z0+i of the layer; its edge k reads variable (z0+i+s_k) mod Z of column k: one
 * contiguous unaligned vector load, or, in the one chunk per edge that wraps around Z, two loads blended by lane
 * (ldpc_lanes.h, instantiated here for int32 lanes — the float decoders move their values as bit patterns —, int16
 * and int8 lanes). The chunk of the compressed-message decoders (min-sum in float, int16 or int8, the int16 φ-sum)
 * is ldpc_chunk.h, instantiated here for the three value types (the templates undefine their parameters); the
 * float sum-product chunk (per-edge messages) is below.
 * Requires Z >= LDPC_W (Z >= 2·LDPC_W for the int16 decoders, 4·LDPC_W for the int8 min-sum) and LDPC_WMAX floats
 * of padding before and after L. */

#define LDPC_LINLINE static inline __attribute__((always_inline)) LDPC_ISA

#define LDPC_LT int32_t
#define LDPC_LN LDPC_W
#define LDPC_LP(name) LDPC_FN(i_##name)
#include "ldpc_lanes.h"

#define LDPC_LT int16_t
#define LDPC_LN (2 * LDPC_W)
#define LDPC_LP(name) LDPC_FN(h_##name)
#include "ldpc_lanes.h"

#define LDPC_LT int8_t
#define LDPC_LN (4 * LDPC_W)
#define LDPC_LP(name) LDPC_FN(b_##name)
#define LDPC_LSAT 1
#include "ldpc_lanes.h"

#define LDPC_VI LDPC_FN(i_v)
#define LDPC_VH LDPC_FN(h_v)
#define LDPC_VF LDPC_FN(ldpc_vf)
#define LDPC_VHH LDPC_FN(ldpc_vhh)
typedef float LDPC_VF __attribute__((vector_size(LDPC_W * sizeof(float))));
/* LDPC_W int16 lanes (half an LDPC_VH), at any address */
typedef int16_t LDPC_VHH __attribute__((vector_size(LDPC_W * sizeof(int16_t)), aligned(2), may_alias));

LDPC_LINLINE LDPC_VF LDPC_FN(splat)(float x) {
    LDPC_VF v = {0};
    return v + x;
}

LDPC_LINLINE LDPC_VF LDPC_FN(fsel)(LDPC_VI mask, LDPC_VF a, LDPC_VF b) {
    return (LDPC_VF)LDPC_FN(i_sel)(mask, (LDPC_VI)a, (LDPC_VI)b);
}

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

/* e^−x for x in [0, 20]: y = −x·log2 e, 2^floor(y) through the exponent bits, 2^f (f in [0, 1)) by its degree-7
 * Taylor polynomial (relative error < 1.4e-6) */
LDPC_LINLINE LDPC_VF LDPC_FN(exp_neg)(LDPC_VF x) {
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
    return (LDPC_VF)((LDPC_VI)p + n * 8388608);                        /* × 2^n: n >= −30, stays normal */
}

/* φ(x) = −ln tanh(x/2) = ln((1 + u)/(1 − u)) = 2 atanh(u), u = e^−x, for x in [LDPC_SP_XMIN, LDPC_SP_XMAX].
 * u = e^−x (LDPC_FN(exp_neg)). For x > 1.772 (u < 0.17): 2 atanh(u) by its odd series to u^9 (no rounding of 1 ± u
 * in float). Else ln((1 + u)/(1 − u)): 1 − u by its Taylor series in x below x = 0.35 (no cancellation), ln by the
 * exponent and 2 atanh((m − 1)/(m + 1)) of the mantissa m in [√½, √2). Relative error ≈ 1e-6 over the range
 * (checked against −ln tanh(x/2) in double precision). A branch no lane needs is not evaluated. */
LDPC_LINLINE LDPC_VF LDPC_FN(phi)(LDPC_VF x) {
    LDPC_VI isbig = x > LDPC_FN(splat)(1.7719f);
    LDPC_VF u = LDPC_FN(exp_neg)(x);
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
    LDPC_VF den = LDPC_FN(fsel)(x < LDPC_FN(splat)(0.35f), tay, 1.0f - u);
    LDPC_VF q = (1.0f + u) / den;                                     /* >= 1.4 where used */
    LDPC_VI qb = (LDPC_VI)q;
    LDPC_VI ex = ((qb >> 23) & 0xff) - 127;
    LDPC_VF m = (LDPC_VF)((qb & 0x007fffff) | 0x3f800000);            /* [1, 2) */
    LDPC_VI hi = m > LDPC_FN(splat)(1.41421356f);
    m = LDPC_FN(fsel)(hi, m * 0.5f, m);
    ex = ex - hi;                                                      /* hi is −1 where halved */
    LDPC_VF r = (m - 1.0f) / (m + 1.0f);
    LDPC_VF r2 = r * r;
    LDPC_VF lm = r2 * (1.0f / 9.0f) + (1.0f / 7.0f);
    lm = lm * r2 + (1.0f / 5.0f);
    lm = lm * r2 + (1.0f / 3.0f);
    lm = lm * r2 + 1.0f;
    LDPC_VF small = __builtin_convertvector(ex, LDPC_VF) * 0.69314718f + 2.0f * r * lm;
    return LDPC_FN(fsel)(isbig, big, small);
}

LDPC_LINLINE LDPC_VF LDPC_FN(clamp)(LDPC_VF x, float lo, float hi) {
    LDPC_VF vlo = LDPC_FN(splat)(lo), vhi = LDPC_FN(splat)(hi);
    x = LDPC_FN(fsel)(x < vlo, vlo, x);
    return LDPC_FN(fsel)(x > vhi, vhi, x);
}

/* φ-sum, fixed point: φ(|t|) of magnitudes in 1/16 nat as 2^−13 nat (ldpc_phi_table, indexed by eighths of a nat; a
 * lookup of 2·LDPC_W lanes at once, one two-register permutation per 4·LDPC_W table entries: vpermi2w on AVX-512) */
LDPC_LINLINE LDPC_VH LDPC_FN(q_phi_in)(LDPC_VH mag) {
#if LDPC_ISA_LEVEL == 2
    /* AVX2 has no two-register word permutation (a variable __builtin_shuffle of words becomes ~20 instructions per
     * 32 entries): index rows of 16 entries with in-lane byte shuffles (vpshufb) of the entries' low and high bytes,
     * the index's low 4 bits in both bytes of its word, and keep the row the index's high bits name. Exactly the
     * table: rows past LDPC_PHI_ROWS_NONZERO are 0, high bytes past LDPC_PHI_HIGH_ROWS are 0. */
    __m256i i = _mm256_min_epi16((__m256i)(mag >> LDPC_PHI_SHIFT), _mm256_set1_epi16(16 * LDPC_PHI_ROWS_NONZERO - 1));
    __m256i lo4 = _mm256_and_si256(i, _mm256_set1_epi16(15));
    __m256i ctrl = _mm256_or_si256(lo4, _mm256_slli_epi16(lo4, 8));
    __m256i high_byte = _mm256_set1_epi16((short)0xff00);
    __m256i r = _mm256_setzero_si256();
    for (int row = 0; row < LDPC_PHI_ROWS_NONZERO; row++) {
        __m256i lo = _mm256_shuffle_epi8(
            _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)(ldpc_phi_low + 16 * row))), ctrl);
        __m256i v = row < LDPC_PHI_HIGH_ROWS
            ? _mm256_blendv_epi8(lo, _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(
                                     _mm_load_si128((const __m128i *)(ldpc_phi_high + 16 * row))), ctrl), high_byte)
            : _mm256_andnot_si256(high_byte, lo);
        r = row == 0 ? v : _mm256_blendv_epi8(r, v, _mm256_cmpgt_epi16(i, _mm256_set1_epi16(16 * row - 1)));
    }
    return (LDPC_VH)r;
#else
    const int ln = 2 * LDPC_W;
    LDPC_VH top = LDPC_FN(h_splat)(LDPC_PHI_N - 1);
    mag = mag >> LDPC_PHI_SHIFT;
    LDPC_VH i = LDPC_FN(h_sel)(mag > top, top, mag);
    LDPC_VH r = __builtin_shuffle(LDPC_FN(h_ld)(ldpc_phi_table), LDPC_FN(h_ld)(ldpc_phi_table + ln), i);
    for (int b = 2 * ln; b < LDPC_PHI_N; b += 2 * ln)
        r = LDPC_FN(h_sel)(i >= LDPC_FN(h_splat)(b),
                           __builtin_shuffle(LDPC_FN(h_ld)(ldpc_phi_table + b), LDPC_FN(h_ld)(ldpc_phi_table + b + ln),
                                             i),
                           r);
    return r;
#endif
}

/* a·b / 2^16 (the high half of the product), int16 lanes: vpmulhw on AVX2 / AVX-512 */
LDPC_LINLINE LDPC_VH LDPC_FN(h_mulhi)(LDPC_VH a, LDPC_VH b) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_VH)_mm512_mulhi_epi16((__m512i)a, (__m512i)b);
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_VH)_mm256_mulhi_epi16((__m256i)a, (__m256i)b);
#else
    LDPC_VH r;
    for (int i = 0; i < 2 * LDPC_W; i++) r[i] = (int16_t)(((int32_t)a[i] * b[i]) >> 16);
    return r;
#endif
}

/* φ-sum, fixed point: the message magnitude φ(y) in 1/16 nat (rounded; at most 320) of a φ-domain sum y in 2^−13 nat,
 * evaluated in float (LDPC_FN(phi)) on each half of the lanes; with `slope`, also −φ'(y) = 1/sinh(y) as
 * the multiplier G = min(128/sinh(y), 32767) of LDPC_FN(q_tangent). The decoder looks both up in
 * ldpc_phi_out_table (LDPC_FN(q_phi_out)), which this function fills once per y */
LDPC_LINLINE LDPC_VH LDPC_FN(q_phi_out_float)(LDPC_VH y, LDPC_VH *slope) {
    int16_t buf[2 * LDPC_W], gbuf[2 * LDPC_W];
    LDPC_FN(h_st)(buf, y);
    for (int h = 0; h < 2; h++) {
        LDPC_VI yi = __builtin_convertvector(*(const LDPC_VHH *)(buf + h * LDPC_W), LDPC_VI);
        LDPC_VF x = LDPC_FN(clamp)(__builtin_convertvector(yi, LDPC_VF) * (1.0f / LDPC_PHI_SCALE), LDPC_SP_XMIN,
                                   LDPC_SP_XMAX);
        LDPC_VI o = __builtin_convertvector(LDPC_FN(phi)(x) * LDPC_QS_SCALE + 0.5f, LDPC_VI);
        o = LDPC_FN(i_sel)(o > LDPC_FN(i_splat)(LDPC_Q_MAX), LDPC_FN(i_splat)(LDPC_Q_MAX), o);
        *(LDPC_VHH *)(buf + h * LDPC_W) = __builtin_convertvector(o, LDPC_VHH);
        if (slope) {
            LDPC_VF u = LDPC_FN(exp_neg)(x);                         /* 1/sinh(x) = 2u / (1 − u²) */
            LDPC_VF g = LDPC_FN(clamp)(256.0f * u / (1.0f - u * u) + 0.5f, 0.0f, 32767.0f);
            *(LDPC_VHH *)(gbuf + h * LDPC_W) = __builtin_convertvector(__builtin_convertvector(g, LDPC_VI), LDPC_VHH);
        }
    }
    if (slope) *slope = LDPC_FN(h_ld)(gbuf);
    return LDPC_FN(h_ld)(buf);
}

/* LDPC_FN(q_phi_out_float) by table: y is a saturating sum of non-negative φ values, so one of 32 768 inputs, and
 * the message and slope are functions of y alone — the same bits as evaluating them (ldpc_phi_out_table holds
 * φ | G << 16 per y), at a load per lane instead of two exponentials, a logarithm and three divisions a lane */
LDPC_LINLINE LDPC_VH LDPC_FN(q_phi_out)(LDPC_VH y, LDPC_VH *slope) {
    int16_t buf[2 * LDPC_W], gbuf[2 * LDPC_W];
    LDPC_FN(h_st)(buf, y);
    for (int i = 0; i < 2 * LDPC_W; i++) {
        int32_t entry = ldpc_phi_out_table[(uint16_t)buf[i] & 0x7fff];
        buf[i] = (int16_t)(entry & 0xffff);
        gbuf[i] = (int16_t)(entry >> 16);
    }
    if (slope) *slope = LDPC_FN(h_ld)(gbuf);
    return LDPC_FN(h_ld)(buf);
}

/* fills ldpc_phi_out_table from this build's float evaluation (the baseline build's is the one used; the others
 * are unused) */
LDPC_ISA
__attribute__((unused)) static void LDPC_FN(ldpc_phi_out_fill)(int32_t *table) {
    for (int y0 = 0; y0 < 32768; y0 += 2 * LDPC_W) {
        int16_t in[2 * LDPC_W], phi[2 * LDPC_W], g[2 * LDPC_W];
        for (int i = 0; i < 2 * LDPC_W; i++) in[i] = (int16_t)(y0 + i);
        LDPC_VH G;
        LDPC_FN(h_st)(phi, LDPC_FN(q_phi_out_float)(LDPC_FN(h_ld)(in), &G));
        LDPC_FN(h_st)(g, G);
        for (int i = 0; i < 2 * LDPC_W; i++) table[y0 + i] = (int32_t)(uint16_t)phi[i] | ((int32_t)g[i] << 16);
    }
}

/* φ-sum, fixed point: the message of a non-argmin edge whose input has φ(|t_k|) = ph (2^−13 nat, from
 * LDPC_FN(q_phi_in)), from the message of all inputs o = φ(Σ) and G: φ(Σ − φ(|t_k|)) ≈ φ(Σ) + φ(|t_k|)/sinh(Σ)
 * (first order; φ is convex, so this stays at or below the exact message). 2^−13 nat · G/128 · 16 = the product /
 * 2^16 in 1/16 nat. No clamp needed: φ(|t_k|) <= Σ, so the term is at most 16·x/sinh(x) <= 16 units (1 nat), and
 * o <= φ(LDPC_SP_XMIN) = 320 units. */
LDPC_LINLINE LDPC_VH LDPC_FN(q_tangent)(LDPC_VH o, LDPC_VH G, LDPC_VH ph) { return o + LDPC_FN(h_mulhi)(ph, G); }

/* a + b saturating at 32767, for a, b >= 0: the sum (<= 65534) taken in uint16 lanes, then the unsigned minimum */
LDPC_LINLINE LDPC_VH LDPC_FN(h_adds)(LDPC_VH a, LDPC_VH b) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_VH)_mm512_adds_epi16((__m512i)a, (__m512i)b);         /* signed saturation: the same for a, b >= 0 */
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_VH)_mm256_adds_epi16((__m256i)a, (__m256i)b);
#endif
    typedef uint16_t vu16 __attribute__((vector_size(sizeof(LDPC_VH))));
    vu16 sum = (vu16)a + (vu16)b, top = (vu16){0} + 32767;
    return LDPC_FN(h_sel)(sum > top, (LDPC_VH)top, (LDPC_VH)sum);
}

/* φ(|t|) table lookup of this build (LDPC_FN(q_phi_in)) over n magnitudes (1/16 nat, 0 … 32767), for the tests;
 * n a multiple of 2·LDPC_W */
LDPC_ISA
static void LDPC_FN(ldpc_phi_lookup)(const int16_t *mag, int16_t *out, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i + 2 * LDPC_W <= n; i += 2 * LDPC_W)
        LDPC_FN(h_st)(out + i, LDPC_FN(q_phi_in)(LDPC_FN(h_ld)(mag + i)));
}

/* H·x over GF(2) on 0/1 bytes (ldpc_syndrome_bytes of ldpc_minsum.h) in this build's instructions */
LDPC_ISA
static void LDPC_FN(ldpc_syndrome)(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift,
                                   int mb, int Z, const uint8_t *x, uint8_t *out) {
    ldpc_syndrome_bytes(row_start, ent_col, ent_shift, mb, Z, x, out);
}

/* where lane 0 of a chunk starting at check z0 reads edge e's column: (z0 + s_e) mod Z */
LDPC_LINLINE int LDPC_FN(rot)(const int32_t *ent_shift, int32_t e, int z0, int Z) {
    int p = z0 + ent_shift[e];
    return p >= Z ? p - Z : p;
}

#define LDPC_CV LDPC_VF
#define LDPC_CM LDPC_VI
#define LDPC_CN LDPC_W
#define LDPC_CE float
#define LDPC_CS int32_t
#define LDPC_CP(name) LDPC_FN(i_##name)
#define LDPC_CF(name) LDPC_FN(f_##name)
#define LDPC_CQ 0
#include "ldpc_chunk.h"

#define LDPC_CV LDPC_VH
#define LDPC_CM LDPC_VH
#define LDPC_CN (2 * LDPC_W)
#define LDPC_CE int16_t
#define LDPC_CS int16_t
#define LDPC_CP(name) LDPC_FN(h_##name)
#define LDPC_CF(name) LDPC_FN(q_##name)
#define LDPC_CQ 1
#include "ldpc_chunk.h"

#define LDPC_CV LDPC_FN(b_v)
#define LDPC_CM LDPC_FN(b_v)
#define LDPC_CN (4 * LDPC_W)
#define LDPC_CE int8_t
#define LDPC_CS int8_t
#define LDPC_CP(name) LDPC_FN(b_##name)
#define LDPC_CF(name) LDPC_FN(b8_##name)
#define LDPC_CQ 2
#include "ldpc_chunk.h"

/* Sum-product, one chunk of one layer: messages stored per edge in R (float). tb, pb: deg·LDPC_W floats. */
LDPC_LINLINE int LDPC_FN(chunk_sp)(const int32_t *restrict ent_col, const int32_t *restrict ent_shift, int32_t e0,
                                  int32_t deg, int Z, int z0, int nl, LDPC_VI s0, float *restrict L,
                                  float *restrict R, float *restrict tb, float *restrict pb) {
    LDPC_VF S = LDPC_FN(splat)(0.0f);
    LDPC_VI sg = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = LDPC_FN(rot)(ent_shift, e, z0, Z);
        LDPC_VF t = LDPC_FN(f_ld_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, Z) - LDPC_FN(f_ld)(R + (ptrdiff_t)e * Z + z0);
        LDPC_FN(f_st)(tb + (ptrdiff_t)k * LDPC_W, t);
        LDPC_VF ph = LDPC_FN(phi)(LDPC_FN(clamp)(LDPC_FN(f_abs)(t), LDPC_SP_XMIN, LDPC_SP_XMAX));
        LDPC_FN(f_st)(pb + (ptrdiff_t)k * LDPC_W, ph);
        S += ph;
        sg ^= (LDPC_VI)t;
    }
    LDPC_VI par = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = LDPC_FN(rot)(ent_shift, e, z0, Z);
        LDPC_VF t = LDPC_FN(f_ld)(tb + (ptrdiff_t)k * LDPC_W);
        LDPC_VF rm = LDPC_FN(phi)(LDPC_FN(clamp)(S - LDPC_FN(f_ld)(pb + (ptrdiff_t)k * LDPC_W), LDPC_SP_XMIN,
                                                 LDPC_SP_XMAX));
        LDPC_VF rv = LDPC_FN(f_signed)(rm, sg ^ (LDPC_VI)t);
        LDPC_FN(f_st_part)(R + (ptrdiff_t)e * Z + z0, nl, rv);
        LDPC_VF ln = t + rv;
        LDPC_FN(f_st_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, nl, Z, ln);
        par ^= (LDPC_VI)ln;
    }
    return LDPC_FN(i_count_neg)(par, nl);
}

/* The decoder at this width; see ldpc_decode_layered in ldpc_minsum.h for the contract (`algorithm` one of
 * LDPC_MIN_SUM_Q, LDPC_SUM_PRODUCT, LDPC_MIN_SUM_F, LDPC_PHI_SUM_Q). The fixed-point decoders keep their values in
 * the float buffers as int16 arrays, which they hold with room to spare. */
LDPC_ISA
static int LDPC_FN(ldpc_decode_layered)(int algorithm, const int32_t *row_start, const int32_t *ent_col,
                                        const int32_t *ent_shift, int mb, int Z, ptrdiff_t n, const float *llr,
                                        const uint8_t *syn, uint8_t *out, float alpha, int max_iter, int patience,
                                        float *L, float *R, int32_t *sb, float *cm1, float *cm2, int32_t *cidx,
                                        int32_t *csg, int32_t *cg, float *tb, float *pb, int32_t *synm,
                                        uint8_t *hard, uint8_t *acc, float q8_scale) {
    int q = algorithm == LDPC_MIN_SUM_Q8 ? 2 : algorithm == LDPC_MIN_SUM_Q || algorithm == LDPC_PHI_SUM_Q;
    int step = q == 2 ? 4 * LDPC_W : q ? 2 * LDPC_W : LDPC_W;
    ptrdiff_t m = (ptrdiff_t)mb * Z;
    ptrdiff_t n_msgs = (ptrdiff_t)row_start[mb] * Z;
    int16_t *Lh = (int16_t *)L, *sbh = (int16_t *)sb, *cm1h = (int16_t *)cm1, *cm2h = (int16_t *)cm2;
    int16_t *cidxh = (int16_t *)cidx, *csgh = (int16_t *)csg, *cgh = (int16_t *)cg, *tbh = (int16_t *)tb;
    int16_t *pbh = (int16_t *)pb;
    int16_t *synh = (int16_t *)synm;
    int8_t *Lb = (int8_t *)L, *sbb = (int8_t *)sb, *cm1b = (int8_t *)cm1, *cm2b = (int8_t *)cm2;
    int8_t *cidxb = (int8_t *)cidx, *csgb = (int8_t *)csg, *tbb = (int8_t *)tb, *synb = (int8_t *)synm;
    int a = (int)(alpha * 16.0f + 0.5f);
    LDPC_VH a16 = LDPC_FN(h_splat)(a < 0 ? 0 : a > 16 ? 16 : a);
    int a64 = (int)(alpha * 64.0f + 0.5f);
    LDPC_FN(b_v) a8 = LDPC_FN(b_splat)(a64 < 0 ? 0 : a64 > 64 ? 64 : a64);
    LDPC_VF af = LDPC_FN(splat)(alpha);
    /* sb: the chunk-major per-edge words of this value type (ldpc_chunk.h), E·Zp of them, Zp = Z rounded up to
     * whole chunks (the buffer holds E·(Z + LDPC_WMAX) + LDPC_WMAX int32 words: room for any of them) */
    if (algorithm == LDPC_MIN_SUM_Q8)
        n_msgs = (ptrdiff_t)row_start[mb] * LDPC_FN(b8_padded)(Z);
    else if (q)
        n_msgs = (ptrdiff_t)row_start[mb] * LDPC_FN(q_padded)(Z) * (ptrdiff_t)sizeof(int16_t);
    else if (algorithm != LDPC_SUM_PRODUCT)
        n_msgs = (ptrdiff_t)row_start[mb] * LDPC_FN(f_padded)(Z) * (ptrdiff_t)sizeof(int32_t);
    ldpc_init_state(algorithm, q8_scale, n, m, n_msgs, llr, syn, L, R, sb, cm1, cm2, cidx, csg, cg, synm);
    ldpc_stall stall = {-1, 0};
    for (int it = 1; it <= max_iter; it++) {
        ptrdiff_t bad = 0;
        for (int r = 0; r < mb; r++) {
            int32_t e0 = row_start[r], deg = row_start[r + 1] - e0;
            for (int z0 = 0; z0 < Z; z0 += step) {
                int nl = Z - z0 < step ? Z - z0 : step;
                ptrdiff_t c0 = (ptrdiff_t)r * Z + z0;
                if (algorithm == LDPC_MIN_SUM_Q8)
                    bad += LDPC_FN(b8_chunk)(ent_col, ent_shift, e0, deg, Z, z0, nl, c0, LDPC_FN(b_ld)(synb + c0), a8,
                                             0, Lb, sbb, cm1b, cm2b, cidxb, csgb, NULL, tbb, NULL);
                else if (algorithm == LDPC_MIN_SUM_Q)
                    bad += LDPC_FN(q_chunk)(ent_col, ent_shift, e0, deg, Z, z0, nl, c0, LDPC_FN(h_ld)(synh + c0), a16,
                                            0, Lh, sbh, cm1h, cm2h, cidxh, csgh, cgh, tbh, pbh);
                else if (algorithm == LDPC_PHI_SUM_Q)
                    bad += LDPC_FN(q_chunk)(ent_col, ent_shift, e0, deg, Z, z0, nl, c0, LDPC_FN(h_ld)(synh + c0), a16,
                                            1, Lh, sbh, cm1h, cm2h, cidxh, csgh, cgh, tbh, pbh);
                else if (algorithm == LDPC_SUM_PRODUCT)
                    bad += LDPC_FN(chunk_sp)(ent_col, ent_shift, e0, deg, Z, z0, nl, LDPC_FN(i_ld)(synm + c0), L, R, tb,
                                             pb);
                else
                    bad += LDPC_FN(f_chunk)(ent_col, ent_shift, e0, deg, Z, z0, nl, c0, LDPC_FN(i_ld)(synm + c0), af,
                                            0, L, sb, cm1, cm2, cidx, csg, cg, tb, pb);
            }
        }
        if (bad == 0 && ldpc_unsatisfied(row_start, ent_col, ent_shift, mb, Z, n, L, q, syn, hard, acc) == 0) {
            memcpy(out, hard, (size_t)n);
            return it;
        }
        if (ldpc_stalled(&stall, bad, patience)) {
            ldpc_hard_decision(L, q, n, out);
            return -it;
        }
    }
    ldpc_hard_decision(L, q, n, out);
    return -max_iter;
}

#undef LDPC_VI
#undef LDPC_VH
#undef LDPC_VF
#undef LDPC_VHH
#undef LDPC_LINLINE
