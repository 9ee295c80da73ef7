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
#if QS_VEC
QS_TARGET static inline __m128i QS_FN(qs_mulv)(__m128i x, __m128i L) {
    __m128i p0 = _mm_clmulepi64_si128(x, L, 0x00), p1 = _mm_clmulepi64_si128(x, L, 0x01);
    __m128i lo = _mm_unpacklo_epi64(p0, p1), hi = _mm_unpackhi_epi64(p0, p1);
    __m128i t = _mm_xor_si128(_mm_xor_si128(hi, _mm_srli_epi64(hi, 63)),
                              _mm_xor_si128(_mm_srli_epi64(hi, 61), _mm_srli_epi64(hi, 60)));
    __m128i r = _mm_xor_si128(_mm_xor_si128(lo, t), _mm_slli_epi64(t, 1));
    return _mm_xor_si128(r, _mm_xor_si128(_mm_slli_epi64(t, 3), _mm_slli_epi64(t, 4)));
}
#define QS_LD(p) _mm_loadu_si128((const __m128i *)(p))
#define QS_ST(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define QS_X(a, b) _mm_xor_si128((a), (b))
#endif

QS_TARGET static void QS_FN(qs_fwd_row)(uint64_t *lo, uint64_t *hp, size_t h, uint64_t lam) {
    size_t j = 0;
    if (lam == 0) { for (; j < h; j++) hp[j] ^= lo[j]; return; }
#if QS_VEC
    __m128i L = _mm_set1_epi64x((long long)lam);
    for (; j + 2 <= h; j += 2) {
        __m128i x = QS_X(QS_LD(lo + j), QS_FN(qs_mulv)(QS_LD(hp + j), L));
        QS_ST(lo + j, x);
        QS_ST(hp + j, QS_X(QS_LD(hp + j), x));
    }
#endif
    for (; j < h; j++) { uint64_t x = lo[j] ^ QS_FN(qs_gf64_mul)(lam, hp[j]); lo[j] = x; hp[j] ^= x; }
}

QS_TARGET static void QS_FN(qs_inv_row)(uint64_t *lo, uint64_t *hp, size_t h, uint64_t lam) {
    size_t j = 0;
    if (lam == 0) { for (; j < h; j++) hp[j] ^= lo[j]; return; }
#if QS_VEC
    __m128i L = _mm_set1_epi64x((long long)lam);
    for (; j + 2 <= h; j += 2) {
        __m128i y = QS_X(QS_LD(hp + j), QS_LD(lo + j));
        QS_ST(hp + j, y);
        QS_ST(lo + j, QS_X(QS_LD(lo + j), QS_FN(qs_mulv)(y, L)));
    }
#endif
    for (; j < h; j++) { uint64_t y = hp[j] ^ lo[j]; hp[j] = y; lo[j] ^= QS_FN(qs_gf64_mul)(lam, y); }
}

QS_TARGET static void QS_FN(qs_fwd_row4)(uint64_t *a, size_t q, uint64_t li, uint64_t la, uint64_t lb) {
    uint64_t *a0 = a, *a1 = a + q, *a2 = a + 2 * q, *a3 = a + 3 * q;
    size_t j = 0;
#if QS_VEC
    __m128i Li = _mm_set1_epi64x((long long)li), La = _mm_set1_epi64x((long long)la),
            Lb = _mm_set1_epi64x((long long)lb);
    for (; j + 2 <= q; j += 2) {
        __m128i x0 = QS_LD(a0 + j), x1 = QS_LD(a1 + j), x2 = QS_LD(a2 + j), x3 = QS_LD(a3 + j);
        x0 = QS_X(x0, QS_FN(qs_mulv)(x2, Li)); x2 = QS_X(x2, x0);
        x1 = QS_X(x1, QS_FN(qs_mulv)(x3, Li)); x3 = QS_X(x3, x1);
        x0 = QS_X(x0, QS_FN(qs_mulv)(x1, La)); x1 = QS_X(x1, x0);
        x2 = QS_X(x2, QS_FN(qs_mulv)(x3, Lb)); x3 = QS_X(x3, x2);
        QS_ST(a0 + j, x0); QS_ST(a1 + j, x1); QS_ST(a2 + j, x2); QS_ST(a3 + j, x3);
    }
#endif
    for (; j < q; j++) {
        uint64_t x0 = a0[j], x1 = a1[j], x2 = a2[j], x3 = a3[j];
        x0 ^= QS_FN(qs_gf64_mul)(li, x2); x2 ^= x0;
        x1 ^= QS_FN(qs_gf64_mul)(li, x3); x3 ^= x1;
        x0 ^= QS_FN(qs_gf64_mul)(la, x1); x1 ^= x0;
        x2 ^= QS_FN(qs_gf64_mul)(lb, x3); x3 ^= x2;
        a0[j] = x0; a1[j] = x1; a2[j] = x2; a3[j] = x3;
    }
}

QS_TARGET static void QS_FN(qs_inv_row4)(uint64_t *a, size_t q, uint64_t li, uint64_t la, uint64_t lb) {
    uint64_t *a0 = a, *a1 = a + q, *a2 = a + 2 * q, *a3 = a + 3 * q;
    size_t j = 0;
#if QS_VEC
    __m128i Li = _mm_set1_epi64x((long long)li), La = _mm_set1_epi64x((long long)la),
            Lb = _mm_set1_epi64x((long long)lb);
    for (; j + 2 <= q; j += 2) {
        __m128i x0 = QS_LD(a0 + j), x1 = QS_LD(a1 + j), x2 = QS_LD(a2 + j), x3 = QS_LD(a3 + j);
        x1 = QS_X(x1, x0); x0 = QS_X(x0, QS_FN(qs_mulv)(x1, La));
        x3 = QS_X(x3, x2); x2 = QS_X(x2, QS_FN(qs_mulv)(x3, Lb));
        x2 = QS_X(x2, x0); x0 = QS_X(x0, QS_FN(qs_mulv)(x2, Li));
        x3 = QS_X(x3, x1); x1 = QS_X(x1, QS_FN(qs_mulv)(x3, Li));
        QS_ST(a0 + j, x0); QS_ST(a1 + j, x1); QS_ST(a2 + j, x2); QS_ST(a3 + j, x3);
    }
#endif
    for (; j < q; j++) {
        uint64_t x0 = a0[j], x1 = a1[j], x2 = a2[j], x3 = a3[j];
        x1 ^= x0; x0 ^= QS_FN(qs_gf64_mul)(la, x1);
        x3 ^= x2; x2 ^= QS_FN(qs_gf64_mul)(lb, x3);
        x2 ^= x0; x0 ^= QS_FN(qs_gf64_mul)(li, x2);
        x3 ^= x1; x1 ^= QS_FN(qs_gf64_mul)(li, x3);
        a0[j] = x0; a1[j] = x1; a2[j] = x2; a3[j] = x3;
    }
}

#define QS_LAM(B) (lt[0][(B) & 4095] ^ lt[1][((B) >> 12) & 4095] ^ lt[2][(B) >> 24])

/* Forward additive FFT (Lin-Chung-Han 2014, novel polynomial basis over the Cantor basis, offset 0) of the
 * block a[0 .. 2^(i+1)) whose index at level i is B: levels i .. 0, depth first so that blocks that fit in
 * the cache are finished there. Level l, block index b has twiddle lam(b) = s_l(offset of the block) =
 * sum_{bit t of b} v_(t+1) (s_l(v_m) = v_(m-l) for the Cantor basis), independent of l. */
QS_TARGET static void QS_FN(qs_afft_rec)(uint64_t *a, unsigned i, size_t B, const uint64_t (*lt)[4096]) {
    size_t h = (size_t)1 << i;
    if (h <= QS_FFT_CACHE_WORDS) {          /* in cache: breadth first inside the block */
        for (int l = (int)i; l >= 0; l--) {
            size_t hl = (size_t)1 << l, nb = (size_t)1 << (i - l);
            for (size_t b = 0; b < nb; b++) {
                size_t gb = (B << (i - l)) + b;
                QS_FN(qs_fwd_row)(a + 2 * hl * b, a + 2 * hl * b + hl, hl, QS_LAM(gb));
            }
        }
        return;
    }
    /* levels i and i-1 fused */
    QS_FN(qs_fwd_row4)(a, h / 2, QS_LAM(B), QS_LAM(2 * B), QS_LAM(2 * B + 1));
    if (i >= 2) {
        for (size_t c = 0; c < 4; c++) QS_FN(qs_afft_rec)(a + c * (h / 2), i - 2, 4 * B + c, lt);
    }
}

QS_TARGET static void QS_FN(qs_aifft_rec)(uint64_t *a, unsigned i, size_t B, const uint64_t (*lt)[4096]) {
    size_t h = (size_t)1 << i;
    if (h <= QS_FFT_CACHE_WORDS) {
        for (unsigned l = 0; l <= i; l++) {
            size_t hl = (size_t)1 << l, nb = (size_t)1 << (i - l);
            for (size_t b = 0; b < nb; b++) {
                size_t gb = (B << (i - l)) + b;
                QS_FN(qs_inv_row)(a + 2 * hl * b, a + 2 * hl * b + hl, hl, QS_LAM(gb));
            }
        }
        return;
    }
    if (i >= 2) {
        for (size_t c = 0; c < 4; c++) QS_FN(qs_aifft_rec)(a + c * (h / 2), i - 2, 4 * B + c, lt);
    }
    QS_FN(qs_inv_row4)(a, h / 2, QS_LAM(B), QS_LAM(2 * B), QS_LAM(2 * B + 1));
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

#undef QS_LAM
#if QS_VEC
#undef QS_LD
#undef QS_ST
#undef QS_X
#endif

/* c[u] ^= a[u] * b[u] in GF(2^64). */
QS_TARGET static void QS_FN(qs_pointwise_acc)(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n) {
    for (size_t u = 0; u < n; u++) c[u] ^= QS_FN(qs_gf64_mul)(a[u], b[u]);
}

/* c[u] = a[u] * b[u] in GF(2^64). */
QS_TARGET static void QS_FN(qs_pointwise)(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n) {
    for (size_t u = 0; u < n; u++) c[u] = QS_FN(qs_gf64_mul)(a[u], b[u]);
}

#undef QS_FN
#undef QS_CAT
#undef QS_CAT_
