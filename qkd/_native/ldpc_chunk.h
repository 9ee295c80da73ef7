/* One chunk of one layer of the layered LDPC decoder with compressed check messages (ldpc_layer.h), for one value
 * type. No include guard: ldpc_layer.h includes this file three times, for float values in LDPC_W lanes (normalised
 * min-sum), for int16 fixed-point values in 2·LDPC_W lanes (normalised min-sum, or the φ-sum approximation of
 * sum-product) and for int8 fixed-point values in 4·LDPC_W lanes (normalised min-sum), with
 *   LDPC_CV       the value vector (float or int16 lanes), LDPC_CM the integer vector of the same lanes holding
 *                 its bits (masks, signs, edge indices), LDPC_CN the lanes,
 *   LDPC_CE       the element of L, tb, cm1, cm2 (float or int16_t), LDPC_CS the integer element of the same size,
 *   LDPC_CP(name) the lane helpers of ldpc_lanes.h for LDPC_CS, LDPC_CF(name) this instantiation's names,
 *   LDPC_CQ       1 for the int16 fixed-point build (magnitudes clamped to LDPC_Q_MAX, α in sixteenths), 2 for the
 *                 int8 one (min-sum only: values in [−127, 127], differences and sums saturating, α in sixteenths
 *                 applied in int16 lanes), 0 for float;
 * all undefined at the end.
 *
 * Compressed messages (the classic layered min-sum state): per check two magnitudes — o2 sent to one edge (its
 * argmin), o1 to all others — the argmin and the sign product (syndrome included); per edge only its last input t,
 * whose sign is the one used (the φ-sum keeps φ(|t|) instead, as φ or its complement ~φ when t < 0: the sign and
 * what the edge's correction needs). The message check → edge k is sel(k == argmin, o2, o1) with sign (product ⊕ sign t_k):
 * the same values a per-edge store would hold, without storing magnitudes.
 *   min-sum (Chen & Fossorier, IEEE Trans. Commun. 50 (2002)): o1 = α·min₁, o2 = α·min₂ over the inputs |t_j|;
 *   φ-sum (fixed point only; the approximate-min* rule of Jones, Vallés, Smith, Villasenor, "Approximate-MIN*
 *   constraint node updating for LDPC code decoding", MILCOM 2003, taken to the φ domain of sum-product,
 *   φ(x) = −ln tanh(x/2)): with Σ' = Σ_{j≠argmin} φ(|t_j|) (φ by the table ldpc_phi_table), o2 = φ(Σ') — the exact
 *   sum-product message of the argmin edge, up to quantisation — and o1 = φ(Σ) with Σ = Σ' + φ(min₁), the message of
 *   all inputs; an edge k other than the argmin receives o1 corrected to first order for its own term,
 *   φ(Σ − φ(|t_k|)) ≈ o1 + φ(|t_k|)/sinh(Σ) (LDPC_FN(q_tangent); the per-check slope G is kept in cg, and the message
 *   is rebuilt from it and the edge's stored input at the next iteration). The two φ⁻¹ = φ per check and the slope
 *   are looked up by the int16 sum (LDPC_FN(q_phi_out): a table filled from their float evaluation). o1 and o2
 *   are bounded by the smallest other input (min₁ resp. min₂), as every sum-product message is: inputs above
 *   ~10 nat have φ = 0 in the table, and a check of such inputs would otherwise send the 20 nat cap —
 *   overconfident messages that left 4 wrong bits stuck (QBER 8 %, rate 0.6) or made a decoding diverge one
 *   iteration before it converged (QBER 4 %, rate 0.7). */

LDPC_LINLINE LDPC_CV LDPC_CF(ld)(const LDPC_CE *p) { return (LDPC_CV)LDPC_CP(ld)((const LDPC_CS *)p); }

LDPC_LINLINE void LDPC_CF(st)(LDPC_CE *p, LDPC_CV v) { LDPC_CP(st)((LDPC_CS *)p, (LDPC_CM)v); }

LDPC_LINLINE LDPC_CV LDPC_CF(ld_rot)(const LDPC_CE *x, int p, int Z) {
    return (LDPC_CV)LDPC_CP(ld_rot)((const LDPC_CS *)x, p, Z);
}

LDPC_LINLINE void LDPC_CF(st_rot)(LDPC_CE *x, int p, int nl, int Z, LDPC_CV v) {
    LDPC_CP(st_rot)((LDPC_CS *)x, p, nl, Z, (LDPC_CM)v);
}

LDPC_LINLINE void LDPC_CF(st_part)(LDPC_CE *x, int nl, LDPC_CV v) { LDPC_CP(st_part)((LDPC_CS *)x, nl, (LDPC_CM)v); }

LDPC_LINLINE LDPC_CV LDPC_CF(sel)(LDPC_CM mask, LDPC_CV a, LDPC_CV b) {
    return (LDPC_CV)LDPC_CP(sel)(mask, (LDPC_CM)a, (LDPC_CM)b);
}

/* Per-edge words (sb: the edge's last input t, or the φ-sum's φ(|t|) with t's sign) are stored chunk-major: the
 * chunk of checks z0 … z0 + LDPC_CN − 1 of base row r (entries e0 … e0 + deg − 1) holds its deg vectors one after
 * another at sb + e0·Zp + (z0 / LDPC_CN)·deg·LDPC_CN, Zp = Z rounded up to whole chunks, so that a layer reads and
 * writes them as one sequential stream (stored edge-major, e·Z + z0, a chunk touched deg streams Z words apart and
 * the loads missed the caches: 29 % of the φ-sum's cycles at deg ≈ 23). Lanes past a partial chunk are scratch.
 * sb holds E·Zp words (E base entries). */
LDPC_LINLINE ptrdiff_t LDPC_CF(padded)(int Z) { return (ptrdiff_t)(Z + LDPC_CN - 1) / LDPC_CN * LDPC_CN; }

/* |v|, and the magnitude m with the sign bit of s */
#if LDPC_CQ
LDPC_LINLINE LDPC_CV LDPC_CF(abs)(LDPC_CV v) { return LDPC_CP(abs)(v); }

LDPC_LINLINE LDPC_CV LDPC_CF(signed)(LDPC_CV m, LDPC_CM s) { return LDPC_CF(sel)(s < LDPC_CP(splat)(0), -m, m); }

/* v clamped to ±lim */
LDPC_LINLINE LDPC_CV LDPC_CF(clamp)(LDPC_CV v, int lim) {
    const LDPC_CV qmax = LDPC_CP(splat)(lim);
    return LDPC_CP(max)(LDPC_CP(min)(v, qmax), -qmax);
}
#if LDPC_CQ == 2
/* α·m rounded to nearest, for magnitudes m in [0, 127] and α in 64ths (0 … 64): the product in int16 lanes (at
 * most 8128), back in [0, 127] */
LDPC_LINLINE LDPC_CV LDPC_CF(scaled)(LDPC_CV m, LDPC_CV a64) {
    typedef int16_t wide __attribute__((vector_size(LDPC_CN * sizeof(int16_t))));
    return __builtin_convertvector((__builtin_convertvector(m, wide) * __builtin_convertvector(a64, wide) + 32) >> 6,
                                   LDPC_CV);
}
#endif
#else
LDPC_LINLINE LDPC_CV LDPC_CF(abs)(LDPC_CV v) { return (LDPC_CV)((LDPC_CM)v & LDPC_ABS); }

LDPC_LINLINE LDPC_CV LDPC_CF(signed)(LDPC_CV m, LDPC_CM s) { return (LDPC_CV)((LDPC_CM)m | (s & LDPC_SIGN)); }

LDPC_LINLINE LDPC_CV LDPC_CF(clamp)(LDPC_CV v, int lim) {         /* float: no range to keep */
    (void)lim;
    return v;
}
#endif

/* One chunk (checks c0 … c0+nl−1 = r·Z+z0 …, base row entries e0 … e0+deg−1; s0: their syndrome bits as sign bits).
 * `scale`: α (float), or α in sixteenths (fixed point); `phisum`: the φ-sum rule instead of min-sum (fixed point
 * only; a compile-time constant where this is inlined). tb: deg·LDPC_CN scratch values. Returns the checks the new
 * signs leave unsatisfied. pb: deg·LDPC_CN scratch values (the φ-sum's φ of each input). */
LDPC_LINLINE int LDPC_CF(chunk)(const int32_t *restrict ent_col, const int32_t *restrict ent_shift, int32_t e0,
                               int32_t deg, int Z, int z0, int nl, ptrdiff_t c0, LDPC_CM s0, LDPC_CV scale,
                               int phisum, LDPC_CE *restrict L, LDPC_CS *restrict sb, LDPC_CE *restrict cm1,
                               LDPC_CE *restrict cm2, LDPC_CS *restrict cidx, LDPC_CS *restrict csg,
                               LDPC_CS *restrict cg, LDPC_CE *restrict tb, LDPC_CE *restrict pb) {
    LDPC_CV o1 = LDPC_CF(ld)(cm1 + c0), o2 = LDPC_CF(ld)(cm2 + c0);
    LDPC_CM oi = LDPC_CP(ld)(cidx + c0), os = LDPC_CP(ld)(csg + c0);
#if LDPC_CQ == 1
    LDPC_CV og = phisum ? LDPC_CP(ld)(cg + c0) : LDPC_CP(splat)(0), G = og;
    LDPC_CV m1 = LDPC_CP(splat)(32767), m2 = m1;
    LDPC_CV sx = LDPC_CP(splat)(0), pm1 = sx;      /* φ-sum: Σ φ over the inputs but the minimum, φ(minimum) */
#elif LDPC_CQ == 2
    LDPC_CV m1 = LDPC_CP(splat)(127), m2 = m1;
    (void)phisum;
    (void)cg;
    (void)pb;
#else
    LDPC_CV m1 = (LDPC_CV){0} + 3.0e38f, m2 = m1;
    (void)phisum;
    (void)cg;
#endif
    LDPC_CM idx = LDPC_CP(splat)(-1), sg = s0;
    /* this chunk's per-edge words, edge after edge (chunk-major; see the layout note above) */
    LDPC_CS *sc = sb + (ptrdiff_t)e0 * LDPC_CF(padded)(Z) + (ptrdiff_t)(z0 / LDPC_CN) * deg * LDPC_CN;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = LDPC_FN(rot)(ent_shift, e, z0, Z);
        LDPC_CM kk = LDPC_CP(splat)(k);
        LDPC_CS *se = sc + (ptrdiff_t)k * LDPC_CN;
        LDPC_CM told = LDPC_CP(ld)(se);                 /* the edge's last input t (φ-sum: its φ, with t's sign) */
        LDPC_CV rmag = LDPC_CF(sel)(oi == kk, o2, o1);
#if LDPC_CQ == 1
        if (phisum)
            rmag = LDPC_CF(sel)(oi == kk, o2,
                                LDPC_FN(q_tangent)(o1, og, told ^ (told >> 15)));   /* φ(|t|) from ±φ */
#endif
        LDPC_CV rold = LDPC_CF(signed)(rmag, os ^ told);
#if LDPC_CQ == 2
        /* saturating, then −128 lifted to −127: |t| <= 127 keeps magnitudes signed */
        LDPC_CV t = LDPC_CP(max)(LDPC_CP(subs)(LDPC_CF(ld_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, Z), rold),
                                 LDPC_CP(splat)(-127));
#else
        LDPC_CV t = LDPC_CF(ld_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, Z) - rold;
#endif
        /* min-sum: the edge's stored input is t itself, and the second pass reads it back from there; the φ-sum
         * stores φ(|t|) there and keeps t in the scratch tb */
        if (phisum)
            LDPC_CF(st)(tb + (ptrdiff_t)k * LDPC_CN, t);
        else
            LDPC_CP(st)(se, (LDPC_CM)t);
        LDPC_CV mag = LDPC_CF(abs)(t);
#if LDPC_CQ == 1
        mag = LDPC_CP(min)(mag, LDPC_CP(splat)(LDPC_Q_MAX));
#endif
        sg ^= (LDPC_CM)t;
        LDPC_CM lt = mag < m1;
#if LDPC_CQ == 1
        if (phisum) {
            LDPC_CV ph = LDPC_FN(q_phi_in)(mag);
            LDPC_CF(st)(pb + (ptrdiff_t)k * LDPC_CN, ph);
            LDPC_CP(st)(se, ph ^ (t >> 15));                  /* ~ph where t < 0: sign bit set iff t < 0 (ph >= 0) */
            LDPC_CV v = LDPC_CF(sel)(lt, pm1, ph);                       /* the old minimum joins the others */
            sx = LDPC_FN(h_adds)(sx, v);
            pm1 = LDPC_CF(sel)(lt, ph, pm1);
        }
#endif
#if LDPC_CQ
        /* the larger of (m1, mag) is what m2 may take, the smaller is the new m1: min / max, single instructions off
         * the compare, so the running minimum is a one-cycle chain (the same values as selecting by lt) */
        m2 = LDPC_CP(min)(LDPC_CP(max)(m1, mag), m2);
        m1 = LDPC_CP(min)(m1, mag);
#else
        LDPC_CV hi = LDPC_CF(sel)(lt, m1, mag);
        m2 = LDPC_CF(sel)(hi < m2, hi, m2);
        m1 = LDPC_CF(sel)(lt, mag, m1);
#endif
        idx = LDPC_CP(sel)(lt, kk, idx);
    }
    LDPC_CV a1, a2;
#if LDPC_CQ == 2
    a1 = LDPC_CF(scaled)(m1, scale);
    a2 = LDPC_CF(scaled)(m2, scale);
#elif LDPC_CQ
    m2 = LDPC_CP(min)(m2, LDPC_CP(splat)(LDPC_Q_MAX));                                   /* degree 1: no m2 */
    if (phisum) {
        /* a sum-product message never exceeds the smallest other input (φ(Σ') <= φ(φ(m)) = m for any other input
         * m): the bound keeps inputs whose φ rounds to 0 (above ~10 nat) from making a message of the cap */
        a1 = LDPC_FN(q_phi_out)(LDPC_FN(h_adds)(sx, pm1), &G);
        a1 = LDPC_CP(min)(a1, m1);
        a2 = LDPC_FN(q_phi_out)(sx, NULL);
        a2 = LDPC_CP(min)(a2, m2);
    } else {
        a1 = (m1 * scale) >> 4;                                  /* <= 2047 · 16: inside int16 */
        a2 = (m2 * scale) >> 4;
    }
#else
    a1 = m1 * scale;
    a2 = m2 * scale;
#endif
    LDPC_CM par = s0;
    for (int32_t k = 0; k < deg; k++) {
        int32_t e = e0 + k;
        int p = LDPC_FN(rot)(ent_shift, e, z0, Z);
        LDPC_CV t = phisum ? LDPC_CF(ld)(tb + (ptrdiff_t)k * LDPC_CN)
                           : (LDPC_CV)LDPC_CP(ld)(sc + (ptrdiff_t)k * LDPC_CN);
        LDPC_CV rm = LDPC_CF(sel)(idx == LDPC_CP(splat)(k), a2, a1);
#if LDPC_CQ == 1
        if (phisum)
            rm = LDPC_CF(sel)(idx == LDPC_CP(splat)(k), a2,
                              LDPC_FN(q_tangent)(a1, G, LDPC_CF(ld)(pb + (ptrdiff_t)k * LDPC_CN)));
#endif
#if LDPC_CQ == 2
        /* saturated at +127 already: only −128 needs lifting */
        LDPC_CV ln = LDPC_CP(max)(LDPC_CP(adds)(t, LDPC_CF(signed)(rm, sg ^ (LDPC_CM)t)), LDPC_CP(splat)(-127));
#else
        /* int16: |ln| <= 3·LDPC_Q_MAX (min-sum), LDPC_PHI_Q_MAX + 2·336 (φ-sum) before the clamp */
        LDPC_CV ln = LDPC_CF(clamp)(t + LDPC_CF(signed)(rm, sg ^ (LDPC_CM)t), phisum ? LDPC_PHI_Q_MAX : LDPC_Q_MAX);
#endif
        LDPC_CF(st_rot)(L + (ptrdiff_t)ent_col[e] * Z, p, nl, Z, ln);
        par ^= (LDPC_CM)ln;
    }
    LDPC_CF(st_part)(cm1 + c0, nl, a1);
    LDPC_CF(st_part)(cm2 + c0, nl, a2);
    LDPC_CP(st_part)(cidx + c0, nl, idx);
    LDPC_CP(st_part)(csg + c0, nl, sg);
#if LDPC_CQ == 1
    if (phisum) LDPC_CP(st_part)(cg + c0, nl, G);
#endif
    return LDPC_CP(count_neg)(par, nl);
}

#undef LDPC_CV
#undef LDPC_CM
#undef LDPC_CN
#undef LDPC_CE
#undef LDPC_CS
#undef LDPC_CP
#undef LDPC_CF
#undef LDPC_CQ
