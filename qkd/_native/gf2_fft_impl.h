/* Kernels of the additive FFT over GF(2^64), instantiated twice by
 * gf2_clmul.h: once with PCLMULQDQ (QS_SFX = _pclmul, QS_TARGET = target("pclmul,sse4.1")) and once
 * portable (QS_SFX = _soft).  Do not include directly.
 *
 * Required macros: QS_SFX (name suffix), QS_TARGET (function attribute, may be empty),
 * QS_CLMUL(a, b, lo, hi) (64 x 64 -> 128-bit carry-less product into two uint64_t lvalues).
 */

#define QS_CAT_(a, b) a##b
#define QS_CAT(a, b) QS_CAT_(a, b)
#define QS_FN(name) QS_CAT(name, QS_SFX)

/* Product in GF(2^64) = GF(2)[t] / (t^64 + t^4 + t^3 + t + 1). */
QS_TARGET static inline uint64_t QS_FN(qs_gf64_mul)(uint64_t a, uint64_t b) {
    uint64_t lo, hi;
    QS_CLMUL(a, b, lo, hi);
    uint64_t t = hi ^ (hi >> 63) ^ (hi >> 61) ^ (hi >> 60);
    return lo ^ t ^ (t << 1) ^ (t << 3) ^ (t << 4);
}

/* Butterfly rows. Forward (one level of the LCH transform on a block lo | hi with twiddle lam):
 * lo ^= lam * hi; hi ^= lo.  Inverse: hi ^= lo; lo ^= lam * hi.  Radix-4 rows fuse two levels
 * (i on the pairs (a0, a2), (a1, a3) with lam_i, then i-1 on (a0, a1) with lam_a and (a2, a3) with lam_b)
 * so that a block larger than the cache is read and written once per two levels. */
#if QS_VEC == 1
typedef __m128i QS_CAT(qs_vec, QS_SFX);
#define QS_W 2
#define QS_LD(p) _mm_loadu_si128((const __m128i *)(p))
#define QS_ST(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define QS_X(a, b) _mm_xor_si128((a), (b))
#define QS_SET1(x) _mm_set1_epi64x((long long)(x))
#define QS_CLMUL_V(a, b, imm) _mm_clmulepi64_si128((a), (b), (imm))
#define QS_UNPLO _mm_unpacklo_epi64
#define QS_UNPHI _mm_unpackhi_epi64
#define QS_SRL _mm_srli_epi64
#define QS_SLL _mm_slli_epi64
#elif QS_VEC == 2
typedef __m256i QS_CAT(qs_vec, QS_SFX);
#define QS_W 4
#define QS_LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define QS_ST(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define QS_X(a, b) _mm256_xor_si256((a), (b))
#define QS_SET1(x) _mm256_set1_epi64x((long long)(x))
#define QS_CLMUL_V(a, b, imm) _mm256_clmulepi64_epi128((a), (b), (imm))
#define QS_UNPLO _mm256_unpacklo_epi64
#define QS_UNPHI _mm256_unpackhi_epi64
#define QS_SRL _mm256_srli_epi64
#define QS_SLL _mm256_slli_epi64
#endif

#if QS_VEC
#define QS_V QS_CAT(qs_vec, QS_SFX)
/* L * x lane by lane (64-bit lanes), reduced mod t^64 + t^4 + t^3 + t + 1. */
QS_TARGET static inline QS_V QS_FN(qs_mulv)(QS_V x, QS_V L) {
    QS_V p0 = QS_CLMUL_V(x, L, 0x00), p1 = QS_CLMUL_V(x, L, 0x11);
    QS_V lo = QS_UNPLO(p0, p1), hi = QS_UNPHI(p0, p1);
    QS_V t = QS_X(QS_X(hi, QS_SRL(hi, 63)), QS_X(QS_SRL(hi, 61), QS_SRL(hi, 60)));
    QS_V r = QS_X(QS_X(lo, t), QS_SLL(t, 1));
    return QS_X(r, QS_X(QS_SLL(t, 3), QS_SLL(t, 4)));
}
#endif

/* One butterfly on (x, y) with twiddle lam: forward x ^= lam * y; y ^= x.  Inverse: y ^= x; x ^= lam * y. */
QS_TARGET static inline __attribute__((always_inline)) void QS_FN(qs_bf)(uint64_t *x, uint64_t *y, uint64_t lam,
                                                                         int inverse) {
    if (!inverse) { *x ^= QS_FN(qs_gf64_mul)(lam, *y); *y ^= *x; }
    else { *y ^= *x; *x ^= QS_FN(qs_gf64_mul)(lam, *y); }
}

#if QS_VEC
/* The same butterflies lane by lane (one twiddle per lane). */
QS_TARGET static inline __attribute__((always_inline)) void QS_FN(qs_bfv)(QS_V *x, QS_V *y, QS_V L, int inverse) {
    if (!inverse) { *x = QS_X(*x, QS_FN(qs_mulv)(*y, L)); *y = QS_X(*y, *x); }
    else { *y = QS_X(*y, *x); *x = QS_X(*x, QS_FN(qs_mulv)(*y, L)); }
}
#endif

/* Two fused levels on x[0..4) with the butterfly BF (qs_bf, or qs_bfv lane by lane): forward, level i on
 * (x0, x2), (x1, x3) with li, then i-1 on (x0, x1) with la and (x2, x3) with lb; the inverse undoes them in
 * the reverse order. */
#ifndef QS_RADIX4
#define QS_RADIX4(BF, x, li, la, lb, inverse) do {                                                   \
        if (!(inverse)) {                                                                             \
            BF((x), (x) + 2, li, 0); BF((x) + 1, (x) + 3, li, 0);                                     \
            BF((x), (x) + 1, la, 0); BF((x) + 2, (x) + 3, lb, 0);                                     \
        } else {                                                                                      \
            BF((x), (x) + 1, la, 1); BF((x) + 2, (x) + 3, lb, 1);                                     \
            BF((x), (x) + 2, li, 1); BF((x) + 1, (x) + 3, li, 1);                                     \
        }                                                                                             \
    } while (0)
#endif

/* One level on the block lo | hp of h words (twiddle lam); with lam = 0 either direction is hp ^= lo. */
QS_TARGET static inline __attribute__((always_inline)) void QS_FN(qs_row)(uint64_t *lo, uint64_t *hp, size_t h,
                                                                          uint64_t lam, int inverse) {
    size_t j = 0;
    if (lam == 0) { for (; j < h; j++) hp[j] ^= lo[j]; return; }
#if QS_VEC
    QS_V L = QS_SET1(lam);
    for (; j + QS_W <= h; j += QS_W) {
        QS_V x = QS_LD(lo + j), y = QS_LD(hp + j);
        QS_FN(qs_bfv)(&x, &y, L, inverse);
        QS_ST(lo + j, x); QS_ST(hp + j, y);
    }
#endif
    for (; j < h; j++) QS_FN(qs_bf)(lo + j, hp + j, lam, inverse);
}

/* Two fused levels on the four quarters (q words each) of a: see QS_RADIX4. */
QS_TARGET static inline __attribute__((always_inline)) void QS_FN(qs_row4)(uint64_t *a, size_t q, uint64_t li,
                                                                           uint64_t la, uint64_t lb, int inverse) {
    size_t j = 0;
#if QS_VEC
    QS_V Li = QS_SET1(li), La = QS_SET1(la), Lb = QS_SET1(lb);
    for (; j + QS_W <= q; j += QS_W) {
        QS_V x[4];
        for (int r = 0; r < 4; r++) x[r] = QS_LD(a + r * q + j);
        QS_RADIX4(QS_FN(qs_bfv), x, Li, La, Lb, inverse);
        for (int r = 0; r < 4; r++) QS_ST(a + r * q + j, x[r]);
    }
#endif
    for (; j < q; j++) {
        uint64_t x[4] = {a[j], a[q + j], a[2 * q + j], a[3 * q + j]};
        QS_RADIX4(QS_FN(qs_bf), x, li, la, lb, inverse);
        for (int r = 0; r < 4; r++) a[r * q + j] = x[r];
    }
}

#define QS_LAM(B) (lt[0][(B) & 4095] ^ lt[1][((B) >> 12) & 4095] ^ lt[2][(B) >> 24])

#if QS_VEC == 2
/* Levels 1 and 0 of the transform on n words (n a multiple of 16) whose first 4-word block has index g0 at
 * level 1: four 4-word blocks at a time, transposed so that every lane holds one block (per-lane twiddles;
 * lam is F_2-linear, so lam(g + c) = lam(g) ^ lam(c) for g a multiple of 4 and c < 4). */
#define QS_T4(r0, r1, r2, r3) do {                                                                \
        __m256i t0_ = _mm256_unpacklo_epi64(r0, r1), t1_ = _mm256_unpackhi_epi64(r0, r1);        \
        __m256i t2_ = _mm256_unpacklo_epi64(r2, r3), t3_ = _mm256_unpackhi_epi64(r2, r3);        \
        r0 = _mm256_permute2x128_si256(t0_, t2_, 0x20); r1 = _mm256_permute2x128_si256(t1_, t3_, 0x20); \
        r2 = _mm256_permute2x128_si256(t0_, t2_, 0x31); r3 = _mm256_permute2x128_si256(t1_, t3_, 0x31); \
    } while (0)

QS_TARGET static void QS_FN(qs_low2)(uint64_t *a, size_t n, size_t g0, const uint64_t (*lt)[4096], int inverse) {
    const QS_V C1 = _mm256_set_epi64x((long long)QS_LAM(3), (long long)QS_LAM(2), (long long)QS_LAM(1), 0);
    const QS_V Ca = _mm256_set_epi64x((long long)QS_LAM(6), (long long)QS_LAM(4), (long long)QS_LAM(2), 0);
    const QS_V Cb = _mm256_set_epi64x((long long)QS_LAM(7), (long long)QS_LAM(5), (long long)QS_LAM(3),
                                      (long long)QS_LAM(1));
    for (size_t w = 0; w < n; w += 16) {
        size_t g = g0 + w / 4;
        QS_V Li = QS_X(QS_SET1(QS_LAM(g)), C1), l2 = QS_SET1(QS_LAM(2 * g));
        QS_V La = QS_X(l2, Ca), Lb = QS_X(l2, Cb);
        QS_V x[4] = {QS_LD(a + w), QS_LD(a + w + 4), QS_LD(a + w + 8), QS_LD(a + w + 12)};
        QS_T4(x[0], x[1], x[2], x[3]);
        QS_RADIX4(QS_FN(qs_bfv), x, Li, La, Lb, inverse);
        QS_T4(x[0], x[1], x[2], x[3]);
        QS_ST(a + w, x[0]); QS_ST(a + w + 4, x[1]); QS_ST(a + w + 8, x[2]); QS_ST(a + w + 12, x[3]);
    }
}
#undef QS_T4
#elif QS_VEC == 1
/* Level 0 of the transform on n words (n even, n >= 4 a multiple of 4): two 2-word blocks at a time,
 * transposed so that each lane holds one block (per-lane twiddles lam(g), lam(g + 1), g even). */
QS_TARGET static void QS_FN(qs_low1)(uint64_t *a, size_t n, size_t g0, const uint64_t (*lt)[4096], int inverse) {
    const QS_V C1 = _mm_set_epi64x((long long)QS_LAM(1), 0);
    for (size_t w = 0; w < n; w += 4) {
        QS_V L = QS_X(QS_SET1(QS_LAM(g0 + w / 2)), C1);
        QS_V r0 = QS_LD(a + w), r1 = QS_LD(a + w + 2);
        QS_V lo = _mm_unpacklo_epi64(r0, r1), hi = _mm_unpackhi_epi64(r0, r1);
        QS_FN(qs_bfv)(&lo, &hi, L, inverse);
        QS_ST(a + w, _mm_unpacklo_epi64(lo, hi)); QS_ST(a + w + 2, _mm_unpackhi_epi64(lo, hi));
    }
}
#endif

/* Forward additive FFT (Lin-Chung-Han 2014, novel polynomial basis over the Cantor basis, offset 0) of the
 * block a[0 .. 2^(i+1)) whose index at level i is B: levels i .. 0, depth first so that blocks that fit in
 * the cache are finished there. Level l, block index b has twiddle lam(b) = s_l(offset of the block) =
 * sum_{bit t of b} v_(t+1) (s_l(v_m) = v_(m-l) for the Cantor basis), independent of l. */
QS_TARGET static void QS_FN(qs_afft_rec)(uint64_t *a, unsigned i, size_t B, const uint64_t (*lt)[4096]) {
    size_t h = (size_t)1 << i;
    if (h <= QS_FFT_CACHE_WORDS) {          /* in cache: breadth first inside the block */
        int lowest = 0;
#if QS_VEC == 2
        if (i >= 3) lowest = 2;             /* levels 1 and 0 by qs_low2 */
#elif QS_VEC == 1
        if (i >= 1) lowest = 1;             /* level 0 by qs_low1 */
#endif
        for (int l = (int)i; l >= lowest; l--) {
            size_t hl = (size_t)1 << l, nb = (size_t)1 << (i - l);
            for (size_t b = 0; b < nb; b++) {
                size_t gb = (B << (i - l)) + b;
                QS_FN(qs_row)(a + 2 * hl * b, a + 2 * hl * b + hl, hl, QS_LAM(gb), 0);
            }
        }
#if QS_VEC == 2
        if (lowest) QS_FN(qs_low2)(a, 2 * h, B << (i - 1), lt, 0);
#elif QS_VEC == 1
        if (lowest) QS_FN(qs_low1)(a, 2 * h, B << i, lt, 0);
#endif
        return;
    }
    /* levels i and i-1 fused */
    QS_FN(qs_row4)(a, h / 2, QS_LAM(B), QS_LAM(2 * B), QS_LAM(2 * B + 1), 0);
    if (i >= 2) {
        for (size_t c = 0; c < 4; c++) QS_FN(qs_afft_rec)(a + c * (h / 2), i - 2, 4 * B + c, lt);
    }
}

QS_TARGET static void QS_FN(qs_aifft_rec)(uint64_t *a, unsigned i, size_t B, const uint64_t (*lt)[4096]) {
    size_t h = (size_t)1 << i;
    if (h <= QS_FFT_CACHE_WORDS) {
        unsigned lowest = 0;
#if QS_VEC == 2
        if (i >= 3) { lowest = 2; QS_FN(qs_low2)(a, 2 * h, B << (i - 1), lt, 1); }
#elif QS_VEC == 1
        if (i >= 1) { lowest = 1; QS_FN(qs_low1)(a, 2 * h, B << i, lt, 1); }
#endif
        for (unsigned l = lowest; l <= i; l++) {
            size_t hl = (size_t)1 << l, nb = (size_t)1 << (i - l);
            for (size_t b = 0; b < nb; b++) {
                size_t gb = (B << (i - l)) + b;
                QS_FN(qs_row)(a + 2 * hl * b, a + 2 * hl * b + hl, hl, QS_LAM(gb), 1);
            }
        }
        return;
    }
    if (i >= 2) {
        for (size_t c = 0; c < 4; c++) QS_FN(qs_aifft_rec)(a + c * (h / 2), i - 2, 4 * B + c, lt);
    }
    QS_FN(qs_row4)(a, h / 2, QS_LAM(B), QS_LAM(2 * B), QS_LAM(2 * B + 1), 1);
}

/* Transform of length 2^k of which only a[0 .. nz) may be non-zero: while the data fit in the lower half of
 * every block, a level is a copy (lo is unchanged as hi = 0, then hi = lo), so the first c levels become
 * 2^c - 1 copies of the first block. */
QS_TARGET static void QS_FN(qs_afft)(uint64_t *a, unsigned k, const uint64_t (*lt)[4096], size_t nz) {
    unsigned c = 0;
    while (c + 1 < k && nz <= ((size_t)1 << (k - c - 1))) c++;
    size_t blk = (size_t)1 << (k - c);
    for (size_t b = 1; b < ((size_t)1 << c); b++) memcpy(a + b * blk, a, blk * sizeof(uint64_t));
    for (size_t b = 0; b < ((size_t)1 << c); b++) QS_FN(qs_afft_rec)(a + b * blk, k - c - 1, b, lt);
}

QS_TARGET static void QS_FN(qs_aifft)(uint64_t *a, unsigned k, const uint64_t (*lt)[4096]) {
    QS_FN(qs_aifft_rec)(a, k - 1, 0, lt);
}

/* c[u] ^= a[u] * b[u] in GF(2^64). */
QS_TARGET static void QS_FN(qs_pointwise_acc)(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n) {
    size_t u = 0;
#if QS_VEC
    for (; u + QS_W <= n; u += QS_W) QS_ST(c + u, QS_X(QS_LD(c + u), QS_FN(qs_mulv)(QS_LD(a + u), QS_LD(b + u))));
#endif
    for (; u < n; u++) c[u] ^= QS_FN(qs_gf64_mul)(a[u], b[u]);
}

/* g[u - d[q]] ^= g[u] for u in [t0, t1) and every shift d[q] (the ranges are disjoint from [t0, t1)), in
 * pieces of 512 words so that the source stays in L1 while it is added at every shift. */
QS_TARGET static void QS_FN(qs_xor_shifts)(uint64_t *g, size_t t0, size_t t1, const size_t *d, int m) {
    for (size_t p0 = t0; p0 < t1; p0 += 512) {
        size_t len = t1 - p0 < 512 ? t1 - p0 : 512;
        const uint64_t *src = g + p0;
        for (int q = 0; q < m; q++) {
            uint64_t *dst = g + p0 - d[q];
            size_t u = 0;
#if QS_VEC
            for (; u + QS_W <= len; u += QS_W) QS_ST(dst + u, QS_X(QS_LD(dst + u), QS_LD(src + u)));
#endif
            for (; u < len; u++) dst[u] ^= src[u];
        }
    }
}

#undef QS_LAM
#if QS_VEC
#undef QS_V
#undef QS_W
#undef QS_LD
#undef QS_ST
#undef QS_X
#undef QS_SET1
#undef QS_CLMUL_V
#undef QS_UNPLO
#undef QS_UNPHI
#undef QS_SRL
#undef QS_SLL
#endif

/* c[u] = a[u] * b[u] in GF(2^64). */
QS_TARGET static void QS_FN(qs_pointwise)(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n) {
    for (size_t u = 0; u < n; u++) c[u] = QS_FN(qs_gf64_mul)(a[u], b[u]);
}

#undef QS_FN
#undef QS_CAT
#undef QS_CAT_
