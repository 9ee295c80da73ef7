/* Layered decoding of quasi-cyclic LDPC codes towards a target syndrome (ldpc_decode.pyx): normalised min-sum,
 * sum-product or the fixed-point φ-sum approximation of sum-product, 8 to 32 checks at a time in SIMD lanes.
 *
 * QC code: base entries e of base row r (row_start[r] <= e < row_start[r+1]) with column ent_col[e] and
 * circulant shift ent_shift[e]; check r*Z+z joins variable ent_col[e]*Z + (z+s) mod Z. Values are LLRs
 * log(P(0)/P(1)) in nats, float32. One base row is one layer of Z independent checks (a base row holds each
 * column once, so the layer touches every variable of its columns exactly once). The layer is processed in
 * chunks of W consecutive checks (ldpc_layer.h): lane i of a chunk is check z0+i, its edge k reads variable
 * (z0+i+s_k) mod Z of column k — one contiguous (unaligned) vector load, two blended in the one chunk per edge
 * that wraps around Z. All arithmetic is on GCC vector types (vector_size): the decoder is built three times, W = 16
 * for AVX-512, W = 8 for AVX2 and W = 8 for the x86-64 baseline, and the CPU's best is taken at run time. Per-check state
 * (two minima, their edge and the sign product, or the φ sum) lives in registers for the whole chunk. Min-sum keeps
 * its messages compressed (per check: α·min1, α·min2, argmin, sign product; per edge: its input's sign), sum-product
 * per edge (float).
 *
 * Check update of check c with incoming t_k = L_v(k) − R_ck (extrinsic), target syndrome bit σ_c:
 *   min-sum (Chen & Fossorier, IEEE Trans. Commun. 50 (2002), normalised by α):
 *       R_ck = (−1)^σ_c · Π_{j≠k} sgn t_j · α · min_{j≠k} |t_j|
 *   sum-product in the φ domain (Gallager 1963; Richardson & Urbanke, "Modern Coding Theory" (2008) §4.5):
 *       R_ck = (−1)^σ_c · Π_{j≠k} sgn t_j · φ(Σ_{j≠k} φ(|t_j|)),  φ(x) = −ln tanh(x/2) = 2 atanh(e^−x)
 * then L_v(k) = t_k + R_ck (layered schedule: Hocevar, SiPS 2004). The syndrome bit flips the sign of every message
 * the check sends (syndrome decoding for reconciliation: Elkouss, Martinez-Mateo, Martin, QIC 11 (2011)).
 *
 * Min-sum runs in int16 fixed point by default (LDPC_MIN_SUM_Q: values round(LLR·8), clamped to ±2047, α in
 * sixteenths; 2·W checks per chunk, twice the float decoders' lanes in the same registers), as hardware layered
 * decoders do; a float min-sum with the same compressed state is kept as the unquantised cross-check. The int8
 * min-sum (LDPC_MIN_SUM_Q8: 4·W checks per chunk) keeps every value in [−127, 127] — round(LLR·scale), the
 * differences t = L − R and sums t + R saturating (−128 lifted to −127, so magnitudes stay signed), α in 64ths
 * applied in int16 lanes once per chunk and rounded to nearest (truncation lowers the effective α at small
 * magnitudes, and these codes lose decodings below α ≈ 0.78).
 *
 * The φ-sum (LDPC_PHI_SUM_Q, ldpc_chunk.h) approximates sum-product with the compressed state of min-sum, in int16
 * (values 1/16 nat): per check Σ' = Σ φ(|t_j|) over every input but the smallest (φ by a 128-entry table, one or two
 * register permutations per edge), the argmin edge receives φ(Σ'), the others φ(Σ' + φ(min)) (approximate-min*,
 * Jones et al., MILCOM 2003). Two φ per check (looked up by the int16 sum) instead of two per edge; it decodes the
 * BSC-optimised codes (variable degrees up to 73, check degrees up to 62), on which min-sum, whose message ignores
 * how many inputs a check has, does not.
 *
 * Early stop: each chunk also counts the checks its own new a-posteriori signs leave unsatisfied; an iteration in
 * which no layer saw an unsatisfied check is confirmed by the exact syndrome of the hard decision (so a returned word
 * always satisfies the syndrome), and that count drives the stall detection ("patience"). */
#ifndef QSHIFT_LDPC_MINSUM_H
#define QSHIFT_LDPC_MINSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define LDPC_INLINE static inline __attribute__((always_inline))
#define LDPC_ABS 0x7fffffff
#define LDPC_SIGN INT32_MIN
/* widest lane count: the padding every buffer carries past its end (and L before its start) */
#define LDPC_WMAX 16
/* fixed-point min-sum: values are round(LLR · LDPC_Q_SCALE) (1/8 nat), clamped to ±LDPC_Q_MAX (256 nats: every
 * sum stays inside int16, and a message α·min ≤ 16·LDPC_Q_MAX/16 too); α in sixteenths */
#define LDPC_Q_SCALE 8.0f
#define LDPC_Q_MAX 2047
/* int8 min-sum: values round(LLR · q8_scale) in [−127, 127] (the scale is the caller's: ldpc_decode.pyx) */
/* sum-product clamps (nats): φ maps [XMIN, XMAX] onto itself (φ(20) = 4.1e-9), so no message exceeds 20 nats */
#define LDPC_SP_XMIN 4.0e-9f
#define LDPC_SP_XMAX 20.0f
/* fixed-point φ-sum: values round(LLR · LDPC_QS_SCALE) (1/16 nat; the same clamp LDPC_Q_MAX, 128 nats); φ values
 * in 2^−13 nat (LDPC_PHI_SCALE), a sum saturating at 32767 (4 nats: φ(4 nats) = 0.037 nat rounds to 0 or 1 unit of
 * a message) */
#define LDPC_QS_SCALE 16.0f
#define LDPC_PHI_SHIFT 1
#define LDPC_PHI_SCALE 8192.0f
#define LDPC_PHI_N 128
/* φ-sum: the clamp of a-posteriori values (1/16 nat: 1875 nat). Its messages stay at or below 336 units (φ of
 * LDPC_SP_XMIN, 20 nat, plus at most 1 nat of first-order term), so |t| = |L − R| <= LDPC_PHI_Q_MAX + 336 and
 * |t + R| fit int16; min-sum's 2047 (128 nat) would saturate a variable of degree 60–73 (the rate-0.6 and -0.7
 * codes) long before its messages */
#define LDPC_PHI_Q_MAX 30000

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LDPC_X86_DISPATCH 1
#include <immintrin.h>
#else
#define LDPC_X86_DISPATCH 0
#endif

/* acc[z] ^= the bits of base row r's checks z = 0 … Z−1 over x (0/1 bytes): each entry's column rotated by its
 * shift, two contiguous runs (pointer-sized indices, so the loops vectorise under -fwrapv) */
LDPC_INLINE void ldpc_xor_row(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift, int r, int Z,
                              const uint8_t *restrict x, uint8_t *restrict acc) {
    for (int32_t e = row_start[r]; e < row_start[r + 1]; e++) {
        const uint8_t *restrict col = x + (ptrdiff_t)ent_col[e] * Z;
        ptrdiff_t s = ent_shift[e], head = Z - s;
        const uint8_t *restrict from = col + s;
        uint8_t *restrict tail = acc + head;
        for (ptrdiff_t z = 0; z < head; z++) acc[z] ^= from[z];
        for (ptrdiff_t z = 0; z < s; z++) tail[z] ^= col[z];
    }
}

/* number of checks the hard decision `hard` leaves unsatisfied */
LDPC_INLINE ptrdiff_t ldpc_syndrome_bad(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift,
                                        int mb, int Z, const uint8_t *restrict syn, const uint8_t *restrict hard,
                                        uint8_t *restrict acc) {
    ptrdiff_t bad = 0;
    for (int r = 0; r < mb; r++) {
        memcpy(acc, syn + (ptrdiff_t)r * Z, (size_t)Z);
        ldpc_xor_row(row_start, ent_col, ent_shift, r, Z, hard, acc);
        for (ptrdiff_t z = 0; z < Z; z++) bad += acc[z];
    }
    return bad;
}

/* out[i] = 1 where the a-posteriori value L[i] < 0 (float; q = 1: int16, q = 2: int8 for the fixed-point decoders) */
LDPC_INLINE void ldpc_hard_decision(const float *restrict L, int q, ptrdiff_t n, uint8_t *restrict out) {
    if (q == 2) {
        const int8_t *Lb = (const int8_t *)L;
        for (ptrdiff_t i = 0; i < n; i++) out[i] = Lb[i] < 0;
    } else if (q) {
        const int16_t *Lh = (const int16_t *)L;
        for (ptrdiff_t i = 0; i < n; i++) out[i] = Lh[i] < 0;
    } else {
        for (ptrdiff_t i = 0; i < n; i++) out[i] = L[i] < 0.0f;
    }
}

/* hard decision of L, and the number of checks it leaves unsatisfied */
LDPC_INLINE ptrdiff_t ldpc_unsatisfied(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift,
                                       int mb, int Z, ptrdiff_t n, const float *restrict L, int q,
                                       const uint8_t *restrict syn, uint8_t *restrict hard, uint8_t *restrict acc) {
    ldpc_hard_decision(L, q, n, hard);
    return ldpc_syndrome_bad(row_start, ent_col, ent_shift, mb, Z, syn, hard, acc);
}

/* stall detection: an attempt stops after `patience` iterations without a new minimum of unsatisfied checks */
typedef struct {
    ptrdiff_t best;
    int since_best;
} ldpc_stall;

LDPC_INLINE int ldpc_stalled(ldpc_stall *s, ptrdiff_t bad, int patience) {
    if (s->best < 0 || bad < s->best) {
        s->best = bad;
        s->since_best = 0;
        return 0;
    }
    return patience > 0 && ++s->since_best >= patience;
}

/* decoder algorithms (ldpc_decode_layered's `algorithm`) */
#define LDPC_MIN_SUM_Q 0      /* normalised min-sum in int16 fixed point (2·W checks per chunk) */
#define LDPC_SUM_PRODUCT 1    /* sum-product, float, per-edge messages */
#define LDPC_MIN_SUM_F 2      /* normalised min-sum, float (the same algorithm unquantised: a cross-check) */
#define LDPC_PHI_SUM_Q 3      /* φ-sum approximation of sum-product in int16 fixed point, compressed messages */
#define LDPC_MIN_SUM_Q8 4     /* normalised min-sum in int8 fixed point (4·W checks per chunk) */

/* φ(x) = −ln tanh(x/2) of the fixed-point φ-sum: entry i = min(32767, round(8192 · φ((2i + ½)/16))), for the
 * magnitudes 2i/16 and (2i + 1)/16 nat (LDPC_PHI_SHIFT: the index is the magnitude in eighths of a nat); from about
 * 11 nat up φ rounds to 0, so reliable inputs leave a check's sum alone (computed in double precision;
 * test_ldpc_reconcile.py recomputes it through ldpc_decode.phi_table()) */
#define LDPC_PHI_ENTRIES(X) \
    X(32767) X(20902) X(16124) X(13169) X(11049) X(9416) X(8103) X(7020) X(6110) X(5336) X(4672) X(4098) X(3600) \
    X(3166) X(2786) X(2453) X(2162) X(1905) X(1680) X(1481) X(1306) X(1152) X(1016) X(897) X(791) X(698) X(616) X(544) \
    X(480) X(423) X(374) X(330) X(291) X(257) X(227) X(200) X(176) X(156) X(137) X(121) X(107) X(94) X(83) X(74) X(65) \
    X(57) X(51) X(45) X(39) X(35) X(31) X(27) X(24) X(21) X(19) X(16) X(14) X(13) X(11) X(10) X(9) X(8) X(7) X(6) X(5) \
    X(5) X(4) X(4) X(3) X(3) X(3) X(2) X(2) X(2) X(2) X(1) X(1) X(1) X(1) X(1) X(1) X(1) X(1) X(0) X(0) X(0) X(0) X(0) \
    X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) \
    X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0) X(0)
#define LDPC_PHI_AS_INT16(v) v,
#define LDPC_PHI_LOW_BYTE(v) (uint8_t)((v) & 0xff),
#define LDPC_PHI_HIGH_BYTE(v) (uint8_t)((v) >> 8),
static const int16_t ldpc_phi_table[LDPC_PHI_N] __attribute__((aligned(64))) = {LDPC_PHI_ENTRIES(LDPC_PHI_AS_INT16)};
/* the same entries split into low and high bytes: the AVX2 lookup (LDPC_FN(q_phi_in)) takes 16 entries at a time
 * with byte shuffles */
static const uint8_t ldpc_phi_low[LDPC_PHI_N] __attribute__((aligned(64))) = {LDPC_PHI_ENTRIES(LDPC_PHI_LOW_BYTE)};
static const uint8_t ldpc_phi_high[LDPC_PHI_N] __attribute__((aligned(64))) = {LDPC_PHI_ENTRIES(LDPC_PHI_HIGH_BYTE)};
/* entries from 16·LDPC_PHI_ROWS_NONZERO on are 0 (φ of 12 nat and more rounds to 0), entries from 16·LDPC_PHI_HIGH_ROWS
 * on are below 256 (test_ldpc_reconcile.py checks both on ldpc_decode.phi_table()) */
#define LDPC_PHI_ROWS_NONZERO 6
#define LDPC_PHI_HIGH_ROWS 3

/* v clamped to [-lim, lim] and rounded half away from zero, without a branch on its sign (the channel values' signs
 * are random: a branch on them mispredicts every other value, which made this loop a fifth of a decode's time) */
LDPC_INLINE int32_t ldpc_round_clamped(float v, float lim) {
    v = v < lim ? v : lim;
    v = v > -lim ? v : -lim;
    return (int32_t)(v + copysignf(0.5f, v));
}

/* The decoder's state at the start of an attempt: L = the channel values (float, or rounded to the fixed-point
 * decoder's scale and clamped), messages zero, the syndrome as sign words (int32, or int16 / int8 for fixed point).
 * Inlined into each instruction-set build of the decoder, which vectorises the rounding with its own instructions.
 * n_msgs: sum-product's per-edge messages (floats); the others' per-edge words in bytes (what their layout uses) */
LDPC_INLINE void ldpc_init_state(int algorithm, float q8_scale, ptrdiff_t n, ptrdiff_t m, ptrdiff_t n_msgs,
                                 const float *restrict llr, const uint8_t *syn, float *L, float *R, int32_t *sb,
                                 float *cm1, float *cm2, int32_t *cidx, int32_t *csg, int32_t *cg, int32_t *synm) {
    const size_t P = LDPC_WMAX;
    if (algorithm == LDPC_SUM_PRODUCT) {
        memcpy(L, llr, (size_t)n * sizeof(float));
        memset(R, 0, ((size_t)n_msgs + P) * sizeof(float));
    } else {
        memset(sb, 0, (size_t)n_msgs);
        memset(cm1, 0, ((size_t)m + P) * sizeof(float));
        memset(cm2, 0, ((size_t)m + P) * sizeof(float));
        memset(cidx, 0, ((size_t)m + P) * sizeof(int32_t));
        memset(csg, 0, ((size_t)m + P) * sizeof(int32_t));
    }
    if (algorithm == LDPC_PHI_SUM_Q) memset(cg, 0, ((size_t)m + P) * sizeof(int32_t));
    if (algorithm == LDPC_MIN_SUM_F) memcpy(L, llr, (size_t)n * sizeof(float));
    if (algorithm == LDPC_MIN_SUM_Q8) {
        int8_t *restrict Lb = (int8_t *)L, *synb = (int8_t *)synm;
        for (ptrdiff_t i = 0; i < n; i++) Lb[i] = (int8_t)ldpc_round_clamped(llr[i] * q8_scale, 127.0f);
        for (ptrdiff_t i = 0; i < m; i++) synb[i] = syn[i] ? INT8_MIN : 0;
        for (ptrdiff_t i = m; i < m + 4 * (ptrdiff_t)P; i++) synb[i] = 0;
    } else if (algorithm == LDPC_MIN_SUM_Q || algorithm == LDPC_PHI_SUM_Q) {
        float scale = algorithm == LDPC_PHI_SUM_Q ? LDPC_QS_SCALE : LDPC_Q_SCALE;
        float lim = (float)(algorithm == LDPC_PHI_SUM_Q ? LDPC_PHI_Q_MAX : LDPC_Q_MAX);
        int16_t *restrict Lh = (int16_t *)L, *synh = (int16_t *)synm;
        for (ptrdiff_t i = 0; i < n; i++) Lh[i] = (int16_t)ldpc_round_clamped(llr[i] * scale, lim);
        for (ptrdiff_t i = 0; i < m; i++) synh[i] = syn[i] ? INT16_MIN : 0;
        for (ptrdiff_t i = m; i < m + 2 * (ptrdiff_t)P; i++) synh[i] = 0;
    } else {
        for (ptrdiff_t i = 0; i < m; i++) synm[i] = syn[i] ? LDPC_SIGN : 0;
        for (ptrdiff_t i = m; i < m + (ptrdiff_t)P; i++) synm[i] = 0;
    }
}

/* H·x over GF(2) on 0/1 bytes, the syndrome Alice sends (ldpc_xor_row per base row). Inlined into each
 * instruction-set build (LDPC_FN(ldpc_syndrome) of ldpc_layer.h). */
LDPC_INLINE void ldpc_syndrome_bytes(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift,
                                     int mb, int Z, const uint8_t *restrict x, uint8_t *restrict out) {
    for (int r = 0; r < mb; r++) {
        uint8_t *acc = out + (ptrdiff_t)r * Z;
        memset(acc, 0, (size_t)Z);
        ldpc_xor_row(row_start, ent_col, ent_shift, r, Z, x, acc);
    }
}

/* the φ-sum's message and slope per φ-domain sum y (0 … 32767): φ | G << 16, filled by ldpc_phi_out_init() from
 * the float evaluation (LDPC_FN(q_phi_out_float) of ldpc_layer.h) before any decoding */
static int32_t ldpc_phi_out_table[32768];

/* three builds: W = 16 for AVX-512, W = 8 for AVX2, W = 8 for the baseline (and every other architecture) */
#if LDPC_X86_DISPATCH
#define LDPC_ISA_AVX512 __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512dq")))
#define LDPC_ISA_AVX2 __attribute__((target("avx2")))
#else
#define LDPC_ISA_AVX512
#define LDPC_ISA_AVX2
#endif

/* LDPC_ISA_LEVEL: 3 AVX-512, 2 AVX2, 0 baseline (which mask-test instructions ldpc_layer.h may use) */
#define LDPC_W 16
#define LDPC_FN(name) name##_w16
#define LDPC_ISA LDPC_ISA_AVX512
#define LDPC_ISA_LEVEL (3 * LDPC_X86_DISPATCH)
#include "ldpc_layer.h"
#undef LDPC_W
#undef LDPC_FN
#undef LDPC_ISA
#undef LDPC_ISA_LEVEL

#define LDPC_W 8
#define LDPC_FN(name) name##_w8avx2
#define LDPC_ISA LDPC_ISA_AVX2
#define LDPC_ISA_LEVEL (2 * LDPC_X86_DISPATCH)
#include "ldpc_layer.h"
#undef LDPC_W
#undef LDPC_FN
#undef LDPC_ISA
#undef LDPC_ISA_LEVEL

#define LDPC_W 8
#define LDPC_FN(name) name##_w8
#define LDPC_ISA
#define LDPC_ISA_LEVEL 0
#include "ldpc_layer.h"
#undef LDPC_W
#undef LDPC_FN
#undef LDPC_ISA
#undef LDPC_ISA_LEVEL

/* fills ldpc_phi_out_table (once, at module import, before any decoder runs): by the baseline build's float
 * evaluation, which every build computes bit for bit alike (no contraction, IEEE operations only) */
static void ldpc_phi_out_init(void) { ldpc_phi_out_fill_w8(ldpc_phi_out_table); }

/* the table entry φ | G << 16 of a φ-domain sum y (for the tests) */
static int32_t ldpc_phi_out_entry(int y) { return ldpc_phi_out_table[y & 0x7fff]; }

/* lanes the decoder uses on this CPU: 16 with AVX-512 (F, VL, BW, DQ), else 8 */
static int ldpc_lanes(void) {
#if LDPC_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2"))
        return 16;
#endif
    return 8;
}

static int ldpc_has_avx2(void) {
#if LDPC_X86_DISPATCH
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* the φ-sum's table lookup as the decoder at `lanes` runs it (ldpc_phi_lookup of ldpc_layer.h); n a multiple of 32 */
static void ldpc_phi_lookup(int lanes, const int16_t *mag, int16_t *out, ptrdiff_t n) {
    if (lanes == 16)
        ldpc_phi_lookup_w16(mag, out, n);
    else if (ldpc_has_avx2())
        ldpc_phi_lookup_w8avx2(mag, out, n);
    else
        ldpc_phi_lookup_w8(mag, out, n);
}

/* H·x over GF(2) (ldpc_syndrome_bytes) by the widest build this CPU runs */
static void ldpc_syndrome(const int32_t *row_start, const int32_t *ent_col, const int32_t *ent_shift, int mb, int Z,
                          const uint8_t *x, uint8_t *out) {
    if (ldpc_lanes() == 16)
        ldpc_syndrome_w16(row_start, ent_col, ent_shift, mb, Z, x, out);
    else if (ldpc_has_avx2())
        ldpc_syndrome_w8avx2(row_start, ent_col, ent_shift, mb, Z, x, out);
    else
        ldpc_syndrome_w8(row_start, ent_col, ent_shift, mb, Z, x, out);
}

/* Returns the iterations to a word satisfying the syndrome, or minus the iterations run when none was found:
 * after max_iter, or earlier when the number of unsatisfied checks has not reached a new minimum for
 * `patience` iterations (a stalled decoding; 0 = never stop early). out = last hard decision.
 * lanes: 8 or 16 (16 only where ldpc_lanes() says so); requires Z >= lanes (Z >= 2·lanes for the int16
 * algorithms, 4·lanes for the int8 min-sum). Buffers (E = row_start[mb] base entries, m = mb·Z checks,
 * P = LDPC_WMAX): L n floats with P floats of padding before and after; tb, pb max row degree · P floats; synm
 * m + P int32; hard n bytes; acc Z bytes; sum-product: R E·Z + P floats; the others: sb E·(Z + P) + P int32 (room
 * for E·Zp words of any value type), cm1, cm2 m + P floats, cidx, csg m + P int32; the φ-sum also cg m + P int32
 * (the unused ones may be NULL). q8_scale: the int8 min-sum's values per nat. */
static int ldpc_decode_layered(int lanes, int algorithm, const int32_t *row_start, const int32_t *ent_col,
                               const int32_t *ent_shift, int mb, int Z, ptrdiff_t n, const float *llr,
                               const uint8_t *syn, uint8_t *out, float alpha, int max_iter, int patience, float *L,
                               float *R, int32_t *sb, float *cm1, float *cm2, int32_t *cidx, int32_t *csg, int32_t *cg,
                               float *tb, float *pb, int32_t *synm, uint8_t *hard, uint8_t *acc, float q8_scale) {
    if (lanes == 16)
        return ldpc_decode_layered_w16(algorithm, row_start, ent_col, ent_shift, mb, Z, n, llr, syn, out, alpha,
                                       max_iter, patience, L, R, sb, cm1, cm2, cidx, csg, cg, tb, pb, synm, hard, acc,
                                       q8_scale);
    if (ldpc_has_avx2())
        return ldpc_decode_layered_w8avx2(algorithm, row_start, ent_col, ent_shift, mb, Z, n, llr, syn, out, alpha,
                                          max_iter, patience, L, R, sb, cm1, cm2, cidx, csg, cg, tb, pb, synm, hard,
                                          acc, q8_scale);
    return ldpc_decode_layered_w8(algorithm, row_start, ent_col, ent_shift, mb, Z, n, llr, syn, out, alpha, max_iter,
                                  patience, L, R, sb, cm1, cm2, cidx, csg, cg, tb, pb, synm, hard, acc, q8_scale);
}

#endif
