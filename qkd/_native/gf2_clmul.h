/* GF(2)[x] multiplication on bit-packed 64-bit words for qkd._native.gf2 (our own code).
 *
 * Three product algorithms, all exact (integer / finite-field arithmetic, no rounding):
 *   - schoolbook by product scanning on 64 x 64-bit carry-less products (base case, <= QS_KARA_BASE words);
 *   - Karatsuba above it (3 half-size products per level);
 *   - for long operands, the additive FFT over GF(2^64) of Lin, Chung and Han (FOCS 2014) in the novel
 *     polynomial basis over Cantor's basis (Cantor 1989; Gao and Mateer 2010), as used for GF(2)[x] by
 *     Chen, Cheng, Kuo, Li and Yang, "Faster multiplication for long binary polynomials" (2017):
 *     the operands are cut into 32-bit pieces, each piece an element of GF(2^64) (a polynomial of degree
 *     < 32, so piece products have degree < 63 and are never reduced); the product over GF(2^64)[y] with
 *     y = x^32 is formed by evaluation at 2^k points of an F_2-subspace, pointwise products and
 *     interpolation, then the 63-bit coefficients are added back at bit offsets 32 m.
 *
 * The 64 x 64-bit carry-less product is PCLMULQDQ when the CPU has it (checked once at run time with
 * __builtin_cpu_supports), otherwise a portable shift-and-xor loop, so the results are the same on any
 * x86-64 or aarch64 build.
 */
#ifndef QS_GF2_CLMUL_H
#define QS_GF2_CLMUL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* QS_NO_X86: build the portable code only, as on aarch64 (lets an x86 machine test that build). */
#if (defined(__x86_64__) || defined(__i386__)) && !defined(QS_NO_X86)
#include <immintrin.h>
#define QS_X86 1
#else
#define QS_X86 0
#endif

/* ---------------------------------------------------------------- portable carry-less product */

static inline void qs_clmul_soft(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi) {
    uint64_t l = a & (0 - (b & 1)), h = 0;
    for (int i = 1; i < 64; i++) {
        uint64_t m = 0 - ((b >> i) & 1);
        l ^= (a << i) & m;
        h ^= (a >> (64 - i)) & m;
    }
    *lo = l; *hi = h;
}

static void qs_mul_base_soft(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n) {
    uint64_t carry = 0;
    for (size_t k = 0; k + 1 < 2 * n; k++) {
        size_t lo = k + 1 > n ? k + 1 - n : 0, hi = k < n ? k : n - 1;
        uint64_t s0 = carry, s1 = 0;
        for (size_t i = lo; i <= hi; i++) {
            uint64_t pl, ph;
            qs_clmul_soft(a[i], b[k - i], &pl, &ph);
            s0 ^= pl; s1 ^= ph;
        }
        r[k] = s0;
        carry = s1;
    }
    r[2 * n - 1] = carry;
}

/* Half-block size (words) up to which a transform block is finished breadth first (fits in L1/L2). */
#define QS_FFT_CACHE_WORDS 2048

#define QS_SFX _soft
#define QS_VEC 0
#define QS_TARGET
#define QS_CLMUL(a, b, lo, hi) qs_clmul_soft((a), (b), &(lo), &(hi))
#include "gf2_fft_impl.h"
#undef QS_SFX
#undef QS_VEC
#undef QS_TARGET
#undef QS_CLMUL

/* ---------------------------------------------------------------- PCLMULQDQ versions */
#if QS_X86
/* r[0 .. 2n) = a[0..n) * b[0..n): product scanning, every output word pair accumulated in a register. */
__attribute__((target("pclmul,sse4.1")))
static void qs_mul_base_pclmul(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n) {
    __m128i carry = _mm_setzero_si128();
    for (size_t k = 0; k + 1 < 2 * n; k++) {
        size_t lo = k + 1 > n ? k + 1 - n : 0, hi = k < n ? k : n - 1;
        __m128i acc = _mm_setzero_si128();
        for (size_t i = lo; i <= hi; i++) {
            __m128i va = _mm_loadl_epi64((const __m128i *)(a + i));
            __m128i vb = _mm_loadl_epi64((const __m128i *)(b + k - i));
            acc = _mm_xor_si128(acc, _mm_clmulepi64_si128(va, vb, 0x00));
        }
        acc = _mm_xor_si128(acc, carry);
        r[k] = (uint64_t)_mm_cvtsi128_si64(acc);
        carry = _mm_srli_si128(acc, 8);
    }
    r[2 * n - 1] = (uint64_t)_mm_cvtsi128_si64(carry);
}

/* one 64 x 64 -> 128-bit carry-less product (PCLMULQDQ), for both vector levels below */
#define QS_CLMUL(a, b, lo, hi) do {                                                              \
        __m128i r_ = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)(a)),                      \
                                          _mm_cvtsi64_si128((long long)(b)), 0x00);               \
        (lo) = (uint64_t)_mm_cvtsi128_si64(r_);                                                   \
        (hi) = (uint64_t)_mm_extract_epi64(r_, 1);                                                \
    } while (0)
#define QS_SFX _pclmul
#define QS_VEC 1
#define QS_TARGET __attribute__((target("pclmul,sse4.1")))
#include "gf2_fft_impl.h"
#undef QS_SFX
#undef QS_VEC
#undef QS_TARGET
/* QS_CLMUL stays defined for the 256-bit level */

/* The same kernels on 256-bit vectors (VPCLMULQDQ + AVX2: four field products per instruction pair). */
#define QS_SFX _vpclmul
#define QS_VEC 2
#define QS_TARGET __attribute__((target("vpclmulqdq,avx2,pclmul,sse4.1")))
#include "gf2_fft_impl.h"
#undef QS_SFX
#undef QS_VEC
#undef QS_TARGET
#undef QS_CLMUL

__attribute__((target("pclmul,sse4.1")))
static inline void qs_clmul64_pclmul(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi) {
    __m128i r = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)a), _mm_cvtsi64_si128((long long)b), 0x00);
    *lo = (uint64_t)_mm_cvtsi128_si64(r);
    *hi = (uint64_t)_mm_extract_epi64(r, 1);
}
#endif

/* ---------------------------------------------------------------- run-time dispatch */

/* Hardware level: -1 unknown, 0 portable code, 1 PCLMULQDQ (SSE), 2 VPCLMULQDQ + AVX2 for the FFT kernels. */
static int qs_hw_level = -1;
static int qs_hw_max = 2;          /* cap set by qs_set_hardware (tests compare every level on one machine) */

static int qs_level(void) {
    if (qs_hw_level < 0) {
        int lv = 0;
#if QS_X86 && (defined(__GNUC__) || defined(__clang__))
        __builtin_cpu_init();
        if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
            lv = 1;
            if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("vpclmulqdq")) lv = 2;
        }
#endif
        qs_hw_level = lv < qs_hw_max ? lv : qs_hw_max;
    }
    return qs_hw_level;
}

static int qs_use_pclmul(void) { return qs_level() >= 1; }

/* Call NAME_vpclmul, NAME_pclmul or NAME_soft (the kernels gf2_fft_impl.h instantiates), the best that the
 * hardware level (qs_level) allows. */
#if QS_X86
#define QS_DISPATCH(NAME, ...) do {                                                                  \
        if (qs_level() >= 2) NAME##_vpclmul(__VA_ARGS__);                                             \
        else if (qs_level() >= 1) NAME##_pclmul(__VA_ARGS__);                                         \
        else NAME##_soft(__VA_ARGS__);                                                                \
    } while (0)
#else
#define QS_DISPATCH(NAME, ...) NAME##_soft(__VA_ARGS__)
#endif

/* Use at most hardware level `cap` (0 portable, 1 PCLMULQDQ, 2 VPCLMULQDQ/AVX2); returns the level in use. */
static int qs_set_hardware(int cap) {
    qs_hw_max = cap < 0 ? 0 : cap;
    qs_hw_level = -1;
    return qs_level();
}

static void qs_mul_base(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n) {
#if QS_X86
    if (qs_use_pclmul()) { qs_mul_base_pclmul(r, a, b, n); return; }
#endif
    qs_mul_base_soft(r, a, b, n);
}

static uint64_t qs_gf64_mul(uint64_t a, uint64_t b) {
#if QS_X86
    if (qs_use_pclmul()) return qs_gf64_mul_pclmul(a, b);
#endif
    return qs_gf64_mul_soft(a, b);
}

/* ---------------------------------------------------------------- Karatsuba */

#define QS_KARA_BASE 32

/* Scratch words needed by qs_kara for size n. */
static size_t qs_kara_scratch(size_t n) {
    size_t s = 0;
    while (n > QS_KARA_BASE) { size_t h = (n + 1) / 2; s += 4 * h; n = h; }
    return s + 8;
}

/* r[0 .. 2n) = a * b, Karatsuba with split h = ceil(n/2); scratch from qs_kara_scratch(n). */
static void qs_kara(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n, uint64_t *t) {
    if (n <= QS_KARA_BASE) { qs_mul_base(r, a, b, n); return; }
    size_t h = (n + 1) / 2, l = n - h;  /* l <= h */
    uint64_t *sa = t, *sb = t + h, *pm = t + 2 * h, *rest = t + 4 * h;
    qs_kara(r, a, b, h, rest);                       /* p0 -> r[0 .. 2h) */
    if (l == h) {
        qs_kara(r + 2 * h, a + h, b + h, l, rest);   /* p2 -> r[2h .. 2n) */
    } else {
        memcpy(sa, a + h, l * sizeof(uint64_t)); memset(sa + l, 0, (h - l) * sizeof(uint64_t));
        memcpy(sb, b + h, l * sizeof(uint64_t)); memset(sb + l, 0, (h - l) * sizeof(uint64_t));
        qs_kara(pm, sa, sb, h, rest);                /* 2h words, the top 2(h - l) are zero */
        memcpy(r + 2 * h, pm, 2 * l * sizeof(uint64_t));
    }
    for (size_t i = 0; i < h; i++) {
        sa[i] = a[i] ^ (i < l ? a[h + i] : 0);
        sb[i] = b[i] ^ (i < l ? b[h + i] : 0);
    }
    qs_kara(pm, sa, sb, h, rest);
    for (size_t i = 0; i < 2 * h; i++) pm[i] ^= r[i];
    for (size_t i = 0; i < 2 * l; i++) pm[i] ^= r[2 * h + i];
    for (size_t i = 0; i < 2 * h; i++) r[h + i] ^= pm[i];
}

/* r[0 .. na+nb) = a * b by Karatsuba, the longer operand cut into pieces of the shorter's length. */
static int qs_mul_karatsuba(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
    if (na < nb) { const uint64_t *tp = a; a = b; b = tp; size_t tn = na; na = nb; nb = tn; }
    memset(r, 0, (na + nb) * sizeof(uint64_t));
    if (nb == 0) return 0;
    uint64_t *t = (uint64_t *)malloc((qs_kara_scratch(nb) + 3 * nb) * sizeof(uint64_t));
    if (!t) return -1;
    uint64_t *piece = t, *prod = t + nb, *scratch = t + 3 * nb;
    for (size_t off = 0; off < na; off += nb) {
        size_t m = na - off < nb ? na - off : nb;
        memcpy(piece, a + off, m * sizeof(uint64_t));
        memset(piece + m, 0, (nb - m) * sizeof(uint64_t));
        qs_kara(prod, piece, b, nb, scratch);
        for (size_t i = 0; i < m + nb; i++) r[off + i] ^= prod[i];
    }
    free(t);
    return 0;
}

/* ---------------------------------------------------------------- additive FFT over GF(2^64) */

#define QS_CANTOR_LEN 40
static uint64_t qs_cantor[QS_CANTOR_LEN];      /* v_0 = 1, v_i^2 + v_i = v_(i-1) */
static uint64_t qs_lam_tab[3][4096];           /* lam(B) = sum_{bit t of B} v_(t+1), by 12-bit digits of B */
static int qs_fft_ready = 0;

/* One solution v of v^2 + v = c in GF(2^64) (Gaussian elimination on the F_2-linear map v -> v^2 + v);
 * returns -1 if there is none (trace of c is 1). */
static int qs_solve_artin_schreier(uint64_t c, uint64_t *out) {
    uint64_t col[64];             /* col[b] = L(t^b) */
    for (int b = 0; b < 64; b++) {
        uint64_t e = (uint64_t)1 << b;
        col[b] = qs_gf64_mul_soft(e, e) ^ e;
    }
    /* rows: row[r] bit b = bit r of col[b]; rhs bit r of c */
    uint64_t row[64]; int rhs[64];
    for (int r = 0; r < 64; r++) {
        uint64_t w = 0;
        for (int b = 0; b < 64; b++) w |= ((col[b] >> r) & 1) << b;
        row[r] = w; rhs[r] = (int)((c >> r) & 1);
    }
    int pivot_col[64]; int rank = 0;
    for (int b = 0; b < 64 && rank < 64; b++) {
        int p = -1;
        for (int r = rank; r < 64; r++) if ((row[r] >> b) & 1) { p = r; break; }
        if (p < 0) continue;
        uint64_t tw = row[p]; row[p] = row[rank]; row[rank] = tw;
        int tr = rhs[p]; rhs[p] = rhs[rank]; rhs[rank] = tr;
        for (int r = 0; r < 64; r++)
            if (r != rank && ((row[r] >> b) & 1)) { row[r] ^= row[rank]; rhs[r] ^= rhs[rank]; }
        pivot_col[rank++] = b;
    }
    for (int r = rank; r < 64; r++) if (rhs[r]) return -1;
    uint64_t v = 0;
    for (int r = 0; r < rank; r++) if (rhs[r]) v |= (uint64_t)1 << pivot_col[r];
    if ((qs_gf64_mul_soft(v, v) ^ v) != c) return -1;
    *out = v;
    return 0;
}

static int qs_fft_init(void) {
    if (qs_fft_ready) return 0;
    qs_cantor[0] = 1;
    for (int i = 1; i < QS_CANTOR_LEN; i++)
        if (qs_solve_artin_schreier(qs_cantor[i - 1], &qs_cantor[i]) != 0) return -1;
    for (int d = 0; d < 3; d++) {
        qs_lam_tab[d][0] = 0;
        for (unsigned x = 1; x < 4096; x++) {
            unsigned t = (unsigned)__builtin_ctz(x);
            qs_lam_tab[d][x] = qs_lam_tab[d][x & (x - 1)] ^ qs_cantor[12 * d + t + 1];
        }
    }
    qs_fft_ready = 1;
    return 0;
}

/* Chunk structure of the division of a block of 2h = 2^(i+1) coefficients by the Cantor subspace
 * polynomial s_i(x) = sum_{j subset of i} x^(2^j) (Lucas), i >= 1: the quotient coefficient at t moves
 * to t - d for every shift d = h - 2^j (j a proper bit-subset of i); chunks of min(d) coefficients are
 * independent. */
static int qs_shifts(unsigned i, size_t *d) {
    int m = 0;
    size_t h = (size_t)1 << i;
    for (unsigned j = 0; j < i; j++) if ((j & i) == j) d[m++] = h - ((size_t)1 << j);
    return m;
}

static void qs_xor_shifts(uint64_t *g, size_t t0, size_t t1, const size_t *d, int m) {
    QS_DISPATCH(qs_xor_shifts, g, t0, t1, d, m);
}

/* Monomial -> novel basis on a block g of 2^(i+1) coefficients of w words each (w > 1: the coefficients are
 * rows, xored as wholes), of which only the first nz may be non-zero. */
static void qs_to_novel(uint64_t *g, unsigned i, size_t nz, size_t w) {
    if (i == 0 || nz == 0) return;
    size_t h = (size_t)1 << i;
    if (nz > h) {
        size_t d[64]; int m = qs_shifts(i, d);
        size_t c = d[m - 1];   /* the smallest shift: j largest */
        for (int q = 0; q < m; q++) d[q] *= w;
        for (size_t t1 = 2 * h; t1 > h; t1 = t1 > h + c ? t1 - c : h)
            qs_xor_shifts(g, (t1 > h + c ? t1 - c : h) * w, t1 * w, d, m);
        qs_to_novel(g, i - 1, h, w);
        qs_to_novel(g + h * w, i - 1, nz - h, w);
    } else {
        qs_to_novel(g, i - 1, nz, w);
    }
}

/* Novel -> monomial basis on a block of 2^(i+1) coefficients of w words (inverse of qs_to_novel). */
static void qs_from_novel(uint64_t *g, unsigned i, size_t w) {
    if (i == 0) return;
    size_t h = (size_t)1 << i;
    qs_from_novel(g, i - 1, w);
    qs_from_novel(g + h * w, i - 1, w);
    size_t d[64]; int m = qs_shifts(i, d);
    size_t c = d[m - 1];
    for (int q = 0; q < m; q++) d[q] *= w;
    size_t starts[8]; int ns = 0;
    for (size_t t1 = 2 * h; t1 > h; t1 = t1 > h + c ? t1 - c : h) starts[ns++] = t1;
    for (int sidx = ns - 1; sidx >= 0; sidx--) {
        size_t t1 = starts[sidx];
        qs_xor_shifts(g, (t1 > h + c ? t1 - c : h) * w, t1 * w, d, m);
    }
}

/* Taylor expansion of f (2^K coefficients, the first nz possibly non-zero) at Z = y^tau + y, tau = 2^K0
 * (Gao and Mateer 2010): f = sum_m F_m(y) Z^m with deg F_m < tau, F_m stored at f[m tau .. (m+1) tau).
 * One level divides by Z^D = y^(tau D) + y^D (D a power of two, characteristic 2): a single shift. */
static void qs_taylor(uint64_t *f, unsigned K, unsigned K0, size_t nz) {
    if (K <= K0 || nz == 0) return;
    size_t half = (size_t)1 << (K - 1), D = half >> K0, d = half - D;
    if (nz > half) {
        for (size_t t1 = 2 * half; t1 > half; t1 = t1 > half + d ? t1 - d : half)
            qs_xor_shifts(f, t1 > half + d ? t1 - d : half, t1, &d, 1);
        qs_taylor(f, K - 1, K0, half);
        qs_taylor(f + half, K - 1, K0, nz - half);
    } else {
        qs_taylor(f, K - 1, K0, nz);
    }
}

static void qs_taylor_inv(uint64_t *f, unsigned K, unsigned K0) {
    if (K <= K0) return;
    size_t half = (size_t)1 << (K - 1), D = half >> K0, d = half - D;
    qs_taylor_inv(f, K - 1, K0);
    qs_taylor_inv(f + half, K - 1, K0);
    size_t starts[8]; int ns = 0;
    for (size_t t1 = 2 * half; t1 > half; t1 = t1 > half + d ? t1 - d : half) starts[ns++] = t1;
    for (int sidx = ns - 1; sidx >= 0; sidx--) {
        size_t t1 = starts[sidx];
        qs_xor_shifts(f, t1 > half + d ? t1 - d : half, t1, &d, 1);
    }
}

/* Blocks up to 2^QS_CONV_DIRECT coefficients are converted by division level by level (they are in cache),
 * breadth first over all blocks of a level without a call per block (levels 1, 2, 3 have blocks of 4, 8, 16). */
#define QS_CONV_DIRECT 12

/* Levels 3, 2, 1 of the conversion on one 16-coefficient block, straight-line: s_3 = y^8 + y^4 + y^2 + y
 * (shifts 7, 6, 4 in chunks [12, 16), [8, 12)), s_2 = y^4 + y (shift 3, chunks [5, 8), [4, 5)),
 * s_1 = y^2 + y (shift 1). */
static inline void qs_novel16_fwd(uint64_t *b) {
    for (int u = 15; u >= 12; u--) { b[u - 7] ^= b[u]; b[u - 6] ^= b[u]; b[u - 4] ^= b[u]; }
    for (int u = 11; u >= 8; u--) { b[u - 7] ^= b[u]; b[u - 6] ^= b[u]; b[u - 4] ^= b[u]; }
    for (int o = 0; o < 16; o += 8) { b[o + 4] ^= b[o + 7]; b[o + 3] ^= b[o + 6]; b[o + 2] ^= b[o + 5]; b[o + 1] ^= b[o + 4]; }
    for (int o = 0; o < 16; o += 4) { b[o + 2] ^= b[o + 3]; b[o + 1] ^= b[o + 2]; }
}

static inline void qs_novel16_inv(uint64_t *b) {
    for (int o = 0; o < 16; o += 4) { b[o + 1] ^= b[o + 2]; b[o + 2] ^= b[o + 3]; }
    for (int o = 0; o < 16; o += 8) { b[o + 1] ^= b[o + 4]; b[o + 2] ^= b[o + 5]; b[o + 3] ^= b[o + 6]; b[o + 4] ^= b[o + 7]; }
    for (int u = 8; u < 12; u++) { b[u - 7] ^= b[u]; b[u - 6] ^= b[u]; b[u - 4] ^= b[u]; }
    for (int u = 12; u < 16; u++) { b[u - 7] ^= b[u]; b[u - 6] ^= b[u]; b[u - 4] ^= b[u]; }
}

static void qs_to_novel_small(uint64_t *g, unsigned K) {
    size_t n = (size_t)1 << K;
    unsigned lowest = K >= 4 ? 4 : 1;
    for (unsigned i = K - 1; i >= lowest; i--) {
        size_t h = (size_t)1 << i, d[64];
        int m = qs_shifts(i, d);
        size_t c = d[m - 1];
        for (size_t base = 0; base < n; base += 2 * h) {
            uint64_t *b = g + base;
            for (size_t t1 = 2 * h; t1 > h; t1 = t1 > h + c ? t1 - c : h) {
                size_t t0 = t1 > h + c ? t1 - c : h;
                for (int q = 0; q < m; q++)
                    for (size_t u = t0; u < t1; u++) b[u - d[q]] ^= b[u];
            }
        }
    }
    if (lowest == 4) for (size_t base = 0; base < n; base += 16) qs_novel16_fwd(g + base);
}

static void qs_from_novel_small(uint64_t *g, unsigned K) {
    size_t n = (size_t)1 << K;
    unsigned lowest = K >= 4 ? 4 : 1;
    if (lowest == 4) for (size_t base = 0; base < n; base += 16) qs_novel16_inv(g + base);
    for (unsigned i = lowest; i < K; i++) {
        size_t h = (size_t)1 << i, d[64];
        int m = qs_shifts(i, d);
        size_t c = d[m - 1];
        for (size_t base = 0; base < n; base += 2 * h) {
            uint64_t *b = g + base;
            /* chunks ascending: [h, h + r), then up by c, where the descending pass had [2h - c, 2h) first */
            size_t starts[8]; int ns = 0;
            for (size_t t1 = 2 * h; t1 > h; t1 = t1 > h + c ? t1 - c : h) starts[ns++] = t1;
            for (int sidx = ns - 1; sidx >= 0; sidx--) {
                size_t t1 = starts[sidx], t0 = t1 > h + c ? t1 - c : h;
                for (int q = 0; q < m; q++)
                    for (size_t u = t0; u < t1; u++) b[u - d[q]] ^= b[u];
            }
        }
    }
}

/* Monomial -> novel basis of 2^K coefficients (first nz possibly non-zero). With K0 = the largest power of two
 * below K, s_(K0 + t) = s_t(s_K0(y)) and s_K0(y) = y^(2^K0) + y, so the novel basis element of index
 * j_hi 2^K0 + j_lo is X'_(j_hi)(Z) X_(j_lo)(y) with Z = y^(2^K0) + y: Taylor-expand at Z, convert the rows
 * (coefficients of Z^m) as a size-2^(K - K0) problem on whole rows, then each row recursively. This replaces
 * the many-term divisions of the large levels (up to 2^popcount(i) - 1 passes over the block at level i) by
 * single-shift passes. */
static void qs_to_novel_fast(uint64_t *f, unsigned K, size_t nz) {
    /* data in the lower half only: the division by s_(K-1) leaves it as it is (zero quotient) */
    while (K > 0 && nz <= ((size_t)1 << (K - 1))) K--;
    if (K == 0 || nz == 0) return;
    if (K <= QS_CONV_DIRECT) { qs_to_novel_small(f, K); return; }
    unsigned K0 = 1;
    while (2 * K0 < K) K0 *= 2;
    size_t tau = (size_t)1 << K0, rows_nz = (nz + tau - 1) >> K0;
    qs_taylor(f, K, K0, nz);
    qs_to_novel(f, K - K0 - 1, rows_nz, tau);
    for (size_t m = 0; m < rows_nz; m++) qs_to_novel_fast(f + m * tau, K0, tau);
}

static void qs_from_novel_fast(uint64_t *f, unsigned K) {
    if (K == 0) return;
    if (K <= QS_CONV_DIRECT) { qs_from_novel_small(f, K); return; }
    unsigned K0 = 1;
    while (2 * K0 < K) K0 *= 2;
    size_t tau = (size_t)1 << K0, rows = (size_t)1 << (K - K0);
    for (size_t m = 0; m < rows; m++) qs_from_novel_fast(f + m * tau, K0);
    qs_from_novel(f, K - K0 - 1, tau);
    qs_taylor_inv(f, K, K0);
}

/* The twiddle tables as the kernels take them (lam(B) = lt[0][B & 4095] ^ lt[1][..] ^ lt[2][..]). */
#define QS_LAM_TAB ((const uint64_t (*)[4096])qs_lam_tab)

static void qs_afft(uint64_t *a, unsigned k, size_t nz) {
    QS_DISPATCH(qs_afft, a, k, QS_LAM_TAB, nz);
}

static void qs_aifft(uint64_t *a, unsigned k) {
    QS_DISPATCH(qs_aifft, a, k, QS_LAM_TAB);
}

static void qs_pointwise(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n) {
    QS_DISPATCH(qs_pointwise, c, a, b, n);
}

static void qs_pointwise_acc(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n) {
    QS_DISPATCH(qs_pointwise_acc, c, a, b, n);
}

/* Largest supported transform: 2^QS_FFT_MAXK points of 32 bits (2^36 bits of product). */
#define QS_FFT_MAXK 36

/* Cut packed words into 32-bit pieces (one per GF(2^64) element) into e[0 .. 2n). */
static void qs_split32(uint64_t *e, const uint64_t *w, size_t n) {
    for (size_t i = 0; i < n; i++) { e[2 * i] = w[i] & 0xffffffffu; e[2 * i + 1] = w[i] >> 32; }
}

/* r[0 .. nr) ^= the coefficients c[0 .. mc) of a product of 32-bit pieces, coefficient m (up to 64 bits wide)
 * at bit 32 m: the way back from qs_split32 once the pieces have been multiplied. */
static void qs_join32(uint64_t *r, size_t nr, const uint64_t *c, size_t mc) {
    for (size_t m = 0; m < mc; m++) {
        size_t w = m >> 1;
        if (m & 1) {
            r[w] ^= c[m] << 32;
            if (w + 1 < nr) r[w + 1] ^= c[m] >> 32;
        } else {
            r[w] ^= c[m];
        }
    }
}

/* Smallest k >= 1 with 2^k >= m: the transform size exponent for m coefficients. */
static unsigned qs_fft_k(size_t m) {
    unsigned k = 1;
    while (((size_t)1 << k) < m) k++;
    return k;
}

/* Forward transform of 2^k points: monomial coefficients a[0 .. nz) (zero above) to the novel basis, then the
 * additive FFT (Lin-Chung-Han 2014). */
static void qs_forward(uint64_t *a, unsigned k, size_t nz) {
    qs_to_novel_fast(a, k, nz);
    qs_afft(a, k, nz);
}

/* Inverse of qs_forward: back to monomial coefficients. */
static void qs_inverse(uint64_t *a, unsigned k) {
    qs_aifft(a, k);
    qs_from_novel_fast(a, k);
}

/* r[0 .. na+nb) = a * b by the additive FFT. Returns 0, -1 (no memory), -2 (too long), -3 (no basis). */
static int qs_mul_fft(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
    memset(r, 0, (na + nb) * sizeof(uint64_t));
    if (na == 0 || nb == 0) return 0;
    if (qs_fft_init() != 0) return -3;
    size_t ma = 2 * na, mb = 2 * nb, mc = ma + mb - 1;
    unsigned k = qs_fft_k(mc);
    if (k > QS_FFT_MAXK) return -2;
    size_t N = (size_t)1 << k;
    uint64_t *A = (uint64_t *)calloc(N, sizeof(uint64_t));
    uint64_t *B = (uint64_t *)calloc(N, sizeof(uint64_t));
    if (!A || !B) { free(A); free(B); return -1; }
    qs_split32(A, a, na);
    qs_split32(B, b, nb);
    qs_forward(A, k, ma);
    qs_forward(B, k, mb);
    qs_pointwise(A, A, B, N);
    free(B);
    qs_inverse(A, k);
    qs_join32(r, na + nb, A, mc);
    free(A);
    return 0;
}

/* out[0 .. ceil(nbits/64)) = bits [start, start + nbits) of w (nw words), zero beyond w and above nbits. */
static void qs_extract(uint64_t *out, const uint64_t *w, size_t nw, size_t start, size_t nbits) {
    size_t no = (nbits + 63) / 64, base = start / 64;
    unsigned sh = (unsigned)(start % 64);
    for (size_t i = 0; i < no; i++) {
        size_t src = base + i;
        uint64_t lo = src < nw ? w[src] : 0;
        if (sh) {
            uint64_t hi = src + 1 < nw ? w[src + 1] : 0;
            lo = (lo >> sh) | (hi << (64 - sh));
        }
        out[i] = lo;
    }
    if (nbits % 64) out[no - 1] &= ((uint64_t)1 << (nbits % 64)) - 1;
}

/* The 64 bits of w (nw words) from bit q on; bits before 0 (q < 0) and from nw * 64 on read as zero. */
static inline uint64_t qs_bits64_at(const uint64_t *w, size_t nw, long long q) {
    if (q <= -64) return 0;
    if (q < 0) return nw ? w[0] << (unsigned)(-q) : 0;
    size_t i = (size_t)q / 64;
    unsigned r = (unsigned)((size_t)q % 64);
    uint64_t lo = i < nw ? w[i] : 0;
    if (!r) return lo;
    uint64_t hi = i + 1 < nw ? w[i + 1] : 0;
    return (lo >> r) | (hi << (64 - r));
}

/* e[0 .. ceil(nbits/32)) = the bits [start, start + nbits) of w as 32-bit pieces (one per element). */
static void qs_split32_at(uint64_t *e, const uint64_t *w, size_t nw, long long start, size_t nbits) {
    size_t m = (nbits + 31) / 32;
    for (size_t i = 0; i < m; i++) e[i] = qs_bits64_at(w, nw, start + 32 * (long long)i) & 0xffffffffu;
    if (m && nbits % 32) e[m - 1] &= ((uint64_t)1 << (nbits % 32)) - 1;
}

/* Zero e[filled .. p) where p is the smallest power of two >= bound (<= N): the transform reads the data
 * block of that size (qs_to_novel_fast and qs_afft touch nothing above it). */
static void qs_zero_to_pow2(uint64_t *e, size_t filled, size_t bound, size_t N) {
    size_t p = 2;
    while (p < bound) p *= 2;
    if (p > N) p = N;
    if (filled < p) memset(e + filled, 0, (p - filled) * sizeof(uint64_t));
}

/* Transform size exponent for P pieces of b bits (b a multiple of 32) against seed segments of b + l - 1
 * bits: the product has ma + mb - 1 pieces of 32 bits. */
static unsigned qs_toeplitz_k(size_t b, size_t ell) {
    size_t ma = b / 32, mb = (b + ell - 1 + 31) / 32;
    return qs_fft_k(ma + mb - 1);
}

/* Number of pieces P of the input for the Toeplitz hash by FFT: the smallest estimated cost
 * (2P + 1) transforms of 2^k points, k = qs_toeplitz_k. */
static size_t qs_toeplitz_pieces(size_t n, size_t ell) {
    size_t best = 1; double best_cost = 0;
    for (size_t P = 1; P <= 64 && P <= (n + 31) / 32; P++) {
        size_t b = ((n + P - 1) / P + 31) / 32 * 32;
        unsigned k = qs_toeplitz_k(b, ell);
        double cost = (double)(2 * P + 1) * (double)((size_t)1 << k) * (double)(k + 4);
        if (P == 1 || cost < best_cost) { best = P; best_cost = cost; }
    }
    return best;
}

/* Toeplitz hash y = T x (T[i, j] = s[i - j + n - 1], l x n) by the additive FFT: x is cut into P pieces x_t of
 * b bits (b = 32 * ceil(n / 32P), x zero padded to n' = P b bits and n' - n zero bits put below the seed, which
 * leaves T x unchanged); piece t meets the seed segment S_t = s'[n' - (t+1) b, n' - t b + l - 1) and
 * y = bits [b - 1, b - 1 + l) of sum_t S_t x_t (the same window for every t), summed in the transform domain:
 * 2P forward transforms and one inverse. x: ceil(n/64) words, s: ceil((n + l - 1)/64) words, both masked;
 * y: ceil(l/64) words. pieces = 0 picks P by qs_toeplitz_pieces. Returns 0, -1 (memory), -2, -3. */
static int qs_toeplitz_fft(uint64_t *y, const uint64_t *x, size_t n, const uint64_t *s, size_t ell, size_t pieces) {
    if (qs_fft_init() != 0) return -3;
    size_t P = pieces ? pieces : qs_toeplitz_pieces(n, ell);
    size_t b = ((n + P - 1) / P + 31) / 32 * 32, npad = P * b;
    unsigned k = qs_toeplitz_k(b, ell);
    if (k > QS_FFT_MAXK) return -2;
    size_t N = (size_t)1 << k, nxw = (n + 63) / 64, nsw = (n + ell - 1 + 63) / 64;
    size_t segbits = b + ell - 1;
    size_t ma = b / 32, mb = (segbits + 31) / 32;
    uint64_t *acc = (uint64_t *)calloc(N, sizeof(uint64_t));
    uint64_t *A = (uint64_t *)malloc(N * sizeof(uint64_t));
    uint64_t *B = (uint64_t *)malloc(N * sizeof(uint64_t));
    if (!acc || !A || !B) { free(acc); free(A); free(B); return -1; }
    size_t shift = npad - n;   /* s'[v] = s[v - shift] */
    for (size_t t = 0; t < P; t++) {
        /* piece x_t = x'[t b, (t + 1) b): 32-bit pieces, the ones past n are zero */
        size_t xb = t * b < n ? (n - t * b < b ? n - t * b : b) : 0;
        if (xb == 0) continue;
        qs_split32_at(A, x, nxw, (long long)(t * b), xb);
        qs_zero_to_pow2(A, (xb + 31) / 32, ma, N);
        /* segment S_t = s'[o, o + segbits), o = npad - (t + 1) b, i.e. s from bit o - shift (may be < 0) */
        size_t o = npad - (t + 1) * b;
        qs_split32_at(B, s, nsw, (long long)o - (long long)shift, segbits);
        qs_zero_to_pow2(B, mb, mb, N);
        qs_forward(A, k, ma);
        qs_forward(B, k, mb);
        qs_pointwise_acc(acc, A, B, N);
    }
    free(A); free(B);
    qs_inverse(acc, k);
    /* product words covering the window [b - 1, b - 1 + l): reassemble 32-bit-offset coefficients */
    size_t nr = (b + segbits + 63) / 64 + 1;
    uint64_t *prod = (uint64_t *)calloc(nr, sizeof(uint64_t));
    if (!prod) { free(acc); return -1; }
    qs_join32(prod, nr, acc, ma + mb - 1);
    qs_extract(y, prod, nr, b - 1, ell);
    free(prod); free(acc);
    return 0;
}

/* Word count from which qs_mul picks the FFT (of the shorter operand); set from measurements. */
static size_t qs_fft_threshold = 1024;

/* r[0 .. na+nb) = a * b: Karatsuba below qs_fft_threshold words of the shorter operand, else the FFT. */
static int qs_mul(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
    size_t m = na < nb ? na : nb;
    if (m >= qs_fft_threshold) return qs_mul_fft(r, a, na, b, nb);
    return qs_mul_karatsuba(r, a, na, b, nb);
}

/* ---------------------------------------------------------------- GF(2^128) */

/* GF(2^128) multiply, modulus x^128 + x^7 + x^2 + x + 1, plain polynomial order (one body per clmul). */
#define QS_GF128_BODY(CLMUL)                                                                        \
    uint64_t l0, h0, l1, h1, l2, h2, l3, h3;                                                        \
    CLMUL(a[0], b[0], &l0, &h0);                                                                     \
    CLMUL(a[1], b[1], &l3, &h3);                                                                     \
    CLMUL(a[0], b[1], &l1, &h1);                                                                     \
    CLMUL(a[1], b[0], &l2, &h2);                                                                     \
    uint64_t w0 = l0, w1 = h0 ^ l1 ^ l2, w2 = h1 ^ h2 ^ l3, w3 = h3;                                 \
    /* fold w3 (x^192..) and w2 (x^128..): x^128 = x^7 + x^2 + x + 1 */                             \
    uint64_t c3 = (w3 >> 63) ^ (w3 >> 62) ^ (w3 >> 57);                                              \
    w2 ^= c3;                                                                                        \
    w1 ^= w3 ^ (w3 << 1) ^ (w3 << 2) ^ (w3 << 7);                                                    \
    uint64_t c2 = (w2 >> 63) ^ (w2 >> 62) ^ (w2 >> 57);                                              \
    w1 ^= c2;                                                                                        \
    w0 ^= w2 ^ (w2 << 1) ^ (w2 << 2) ^ (w2 << 7);                                                    \
    out[0] = w0; out[1] = w1;

static void qs_gf128_mul_soft(const uint64_t *a, const uint64_t *b, uint64_t *out) { QS_GF128_BODY(qs_clmul_soft) }

#if QS_X86
__attribute__((target("pclmul,sse4.1")))
static void qs_gf128_mul_pclmul(const uint64_t *a, const uint64_t *b, uint64_t *out) {
    QS_GF128_BODY(qs_clmul64_pclmul)
}
#endif

static void qs_gf128_mul(const uint64_t *a, const uint64_t *b, uint64_t *out) {
#if QS_X86
    if (qs_use_pclmul()) { qs_gf128_mul_pclmul(a, b, out); return; }
#endif
    qs_gf128_mul_soft(a, b, out);
}
#undef QS_GF128_BODY
#undef QS_LAM_TAB
#undef QS_DISPATCH

#endif /* QS_GF2_CLMUL_H */
