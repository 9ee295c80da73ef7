/* Lane helpers of the layered LDPC decoder (ldpc_layer.h) for one integer lane type. No include guard: ldpc_layer.h
 * includes this file once per lane type, with LDPC_LT (the element: int32_t for the float decoders, whose values
 * move as their bit patterns, int16_t or int8_t for the fixed-point ones; LDPC_LSAT defined adds the saturating
 * add and subtract of the 8-bit lanes), LDPC_LN (lanes), LDPC_LP(name) (this
 * instantiation's name of `name`) and LDPC_LINLINE (inline, with the build's target attribute) defined. It defines
 * the vector type LDPC_LP(v) and the functions below, and undefines LDPC_LT, LDPC_LN and LDPC_LP at the end.
 *
 * Loads and stores are single unaligned vector moves through a may_alias type (a memcpy of a whole vector may be
 * split into narrower moves under generic tuning, and the reassembly then stalls store forwarding). Rotated access
 * (lane i is element (p + i) mod Z of a column of Z elements) is one load, or in the one chunk per edge that wraps
 * around Z two loads blended by lane; stores that must not touch every lane read, blend and write back, so the lanes
 * they keep are rewritten with the value just read, in the same thread. */

typedef LDPC_LT LDPC_LP(v) __attribute__((vector_size(LDPC_LN * sizeof(LDPC_LT))));
typedef LDPC_LT LDPC_LP(vu) __attribute__((vector_size(LDPC_LN * sizeof(LDPC_LT)), aligned(sizeof(LDPC_LT)),
                                           may_alias));

LDPC_LINLINE LDPC_LP(v) LDPC_LP(splat)(int x) {
    LDPC_LP(v) v = {0};
    return v + (LDPC_LT)x;
}

/* 0, 1, …, LDPC_LN − 1 */
LDPC_LINLINE LDPC_LP(v) LDPC_LP(iota)(void) {
    LDPC_LP(v) v;
    for (int i = 0; i < LDPC_LN; i++) v[i] = (LDPC_LT)i;
    return v;
}

LDPC_LINLINE LDPC_LP(v) LDPC_LP(ld)(const LDPC_LT *p) { return *(const LDPC_LP(vu) *)p; }

LDPC_LINLINE void LDPC_LP(st)(LDPC_LT *p, LDPC_LP(v) v) { *(LDPC_LP(vu) *)p = v; }

/* mask ? a : b, lane by lane (mask lanes all ones or all zeros) */
LDPC_LINLINE LDPC_LP(v) LDPC_LP(sel)(LDPC_LP(v) mask, LDPC_LP(v) a, LDPC_LP(v) b) {
    return (a & mask) | (b & ~mask);
}

/* lane-wise minimum, maximum and |x| (one instruction on AVX2 / AVX-512 for each lane type; a compare and a blend
 * on the baseline) */
LDPC_LINLINE LDPC_LP(v) LDPC_LP(min)(LDPC_LP(v) a, LDPC_LP(v) b) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_LP(v))(sizeof(LDPC_LT) == 1 ? _mm512_min_epi8((__m512i)a, (__m512i)b)
          : sizeof(LDPC_LT) == 2 ? _mm512_min_epi16((__m512i)a, (__m512i)b)
                                              : _mm512_min_epi32((__m512i)a, (__m512i)b));
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_LP(v))(sizeof(LDPC_LT) == 1 ? _mm256_min_epi8((__m256i)a, (__m256i)b)
          : sizeof(LDPC_LT) == 2 ? _mm256_min_epi16((__m256i)a, (__m256i)b)
                                              : _mm256_min_epi32((__m256i)a, (__m256i)b));
#else
    return LDPC_LP(sel)(a < b, a, b);
#endif
}

LDPC_LINLINE LDPC_LP(v) LDPC_LP(max)(LDPC_LP(v) a, LDPC_LP(v) b) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_LP(v))(sizeof(LDPC_LT) == 1 ? _mm512_max_epi8((__m512i)a, (__m512i)b)
          : sizeof(LDPC_LT) == 2 ? _mm512_max_epi16((__m512i)a, (__m512i)b)
                                              : _mm512_max_epi32((__m512i)a, (__m512i)b));
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_LP(v))(sizeof(LDPC_LT) == 1 ? _mm256_max_epi8((__m256i)a, (__m256i)b)
          : sizeof(LDPC_LT) == 2 ? _mm256_max_epi16((__m256i)a, (__m256i)b)
                                              : _mm256_max_epi32((__m256i)a, (__m256i)b));
#else
    return LDPC_LP(sel)(a > b, a, b);
#endif
}

LDPC_LINLINE LDPC_LP(v) LDPC_LP(abs)(LDPC_LP(v) a) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_LP(v))(sizeof(LDPC_LT) == 1 ? _mm512_abs_epi8((__m512i)a)
          : sizeof(LDPC_LT) == 2 ? _mm512_abs_epi16((__m512i)a) : _mm512_abs_epi32((__m512i)a));
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_LP(v))(sizeof(LDPC_LT) == 1 ? _mm256_abs_epi8((__m256i)a)
          : sizeof(LDPC_LT) == 2 ? _mm256_abs_epi16((__m256i)a) : _mm256_abs_epi32((__m256i)a));
#else
    return LDPC_LP(sel)(a < LDPC_LP(splat)(0), -a, a);
#endif
}

#ifdef LDPC_LSAT
#if LDPC_ISA_LEVEL != 2 && LDPC_ISA_LEVEL != 3
/* the baseline's saturation: int16 lanes clamped to [−128, 127] and narrowed */
typedef int16_t LDPC_LP(wide) __attribute__((vector_size(LDPC_LN * sizeof(int16_t))));
LDPC_LINLINE LDPC_LP(v) LDPC_LP(narrow_sat)(LDPC_LP(wide) r) {
    LDPC_LP(wide) hi = (LDPC_LP(wide)){0} + 127, lo = (LDPC_LP(wide)){0} - 128, over = r > hi, under = r < lo;
    r = (hi & over) | (r & ~over);
    r = (lo & under) | (r & ~under);
    return __builtin_convertvector(r, LDPC_LP(v));
}
#endif

/* a + b and a − b saturating at the lane type's range (vpaddsb / vpsubsb on AVX2 / AVX-512; the 8-bit lanes only) */
LDPC_LINLINE LDPC_LP(v) LDPC_LP(adds)(LDPC_LP(v) a, LDPC_LP(v) b) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_LP(v))_mm512_adds_epi8((__m512i)a, (__m512i)b);
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_LP(v))_mm256_adds_epi8((__m256i)a, (__m256i)b);
#else
    LDPC_LP(wide) r = __builtin_convertvector(a, LDPC_LP(wide)) + __builtin_convertvector(b, LDPC_LP(wide));
    return LDPC_LP(narrow_sat)(r);
#endif
}

LDPC_LINLINE LDPC_LP(v) LDPC_LP(subs)(LDPC_LP(v) a, LDPC_LP(v) b) {
#if LDPC_ISA_LEVEL == 3
    return (LDPC_LP(v))_mm512_subs_epi8((__m512i)a, (__m512i)b);
#elif LDPC_ISA_LEVEL == 2
    return (LDPC_LP(v))_mm256_subs_epi8((__m256i)a, (__m256i)b);
#else
    LDPC_LP(wide) r = __builtin_convertvector(a, LDPC_LP(wide)) - __builtin_convertvector(b, LDPC_LP(wide));
    return LDPC_LP(narrow_sat)(r);
#endif
}
#endif

/* lanes i < nl (all ones) */
LDPC_LINLINE LDPC_LP(v) LDPC_LP(first)(int nl) { return LDPC_LP(iota)() < LDPC_LP(splat)(nl); }

/* lane i: x[(p + i) mod Z], 0 <= p < Z, Z >= LDPC_LN (lanes past a partial chunk read real but unused elements) */
LDPC_LINLINE LDPC_LP(v) LDPC_LP(ld_rot)(const LDPC_LT *x, int p, int Z) {
    if (p + LDPC_LN <= Z) return LDPC_LP(ld)(x + p);
    return LDPC_LP(sel)(LDPC_LP(first)(Z - p), LDPC_LP(ld)(x + p), LDPC_LP(ld)(x + p - Z));
}

/* x[i] = v[i] for lanes i < nl */
LDPC_LINLINE void LDPC_LP(st_part)(LDPC_LT *x, int nl, LDPC_LP(v) v) {
    if (nl == LDPC_LN) {
        LDPC_LP(st)(x, v);
        return;
    }
    LDPC_LP(st)(x, LDPC_LP(sel)(LDPC_LP(first)(nl), v, LDPC_LP(ld)(x)));
}

/* x[(p + i) mod Z] = v[i] for lanes i < nl; nothing else changes */
LDPC_LINLINE void LDPC_LP(st_rot)(LDPC_LT *x, int p, int nl, int Z, LDPC_LP(v) v) {
    if (nl == LDPC_LN && p + LDPC_LN <= Z) {
        LDPC_LP(st)(x + p, v);
        return;
    }
    int cut = Z - p < nl ? Z - p : nl;                       /* lanes [0, cut) at x + p …, [cut, nl) at x + p − Z … */
    LDPC_LP(st)(x + p, LDPC_LP(sel)(LDPC_LP(first)(cut), v, LDPC_LP(ld)(x + p)));
    if (cut < nl) {
        LDPC_LP(v) in = ~LDPC_LP(first)(cut) & LDPC_LP(first)(nl);
        LDPC_LP(st)(x + p - Z, LDPC_LP(sel)(in, v, LDPC_LP(ld)(x + p - Z)));
    }
}

/* lanes i < nl whose sign bit is set */
LDPC_LINLINE int LDPC_LP(count_neg)(LDPC_LP(v) v, int nl) {
#if LDPC_ISA_LEVEL == 3 || LDPC_ISA_LEVEL == 2
    /* the sign bits as a bit mask, counted: one mask move and a popcount (a lane-by-lane sum of 32 or 64 lanes
     * costs more than the chunk's stores) */
#if LDPC_ISA_LEVEL == 3
    unsigned long long bits = sizeof(LDPC_LT) == 1 ? _mm512_movepi8_mask((__m512i)v)
                              : sizeof(LDPC_LT) == 2 ? _mm512_movepi16_mask((__m512i)v)
                                                     : _mm512_movepi32_mask((__m512i)v);
#else
    /* vpmovmskb: one bit per byte, the sign bit of a lane in its highest byte's bit */
    unsigned long long bits = (unsigned)_mm256_movemask_epi8((__m256i)v);
    if (sizeof(LDPC_LT) > 1) bits &= sizeof(LDPC_LT) == 2 ? 0xaaaaaaaaULL : 0x88888888ULL;
#endif
    if (sizeof(LDPC_LT) > 1 && LDPC_ISA_LEVEL == 2) {
        /* bit 8i + 8·size − 1 ↔ lane i: keep the lanes below nl */
        int shift = nl * (int)sizeof(LDPC_LT);
        if (shift < 32) bits &= (1ULL << shift) - 1;
    } else if (nl < 64) {
        bits &= (1ULL << nl) - 1;
    }
    return __builtin_popcountll(bits);
#else
    LDPC_LP(v) neg = (v < LDPC_LP(splat)(0)) & LDPC_LP(first)(nl);
    int c = 0;
    for (int i = 0; i < LDPC_LN; i++) c -= neg[i];
    return c;
#endif
}

#undef LDPC_LT
#undef LDPC_LN
#undef LDPC_LP
#undef LDPC_LSAT
