# cython: language_level=3
"""Compiled kernels of sifting: tag → slot assignment with multi-click resolution, and basis sifting with
per-(basis, intensity) counting. Called by ``qkd.postprocess.sift``; numpy twins live in
``qkd.postprocess.sift_reference`` for tests and the benchmark baseline.

:func:`sift_fused_array` and :func:`sift_fused_philox` run the whole pass (assignment, Alice's record,
multi-click choice, sifting, QBER sample, counts) in one C function over blocks of 256 tags (``qs_sift``
below): an AVX2 slot assignment when the CPU has it (chosen at run time; the portable scalar path computes
the same doubles and gives the same results), the stored record read with a prefetch or Philox4x32-10 in
SIMD lanes, and a branch-free sifting loop whose QBER-sample draws (the SplitMix64 stream that
:func:`sift_count` draws one by one) are precomputed 64 at a time. :func:`assign_slots` and
:func:`sift_count` remain for the two-party sifting and for records of other kinds.
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport floor
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

cnp.import_array()


from qkd._native.splitmix64 cimport qs_splitmix64_next


def assign_slots(const int64_t[::1] t_ps, const uint8_t[::1] channel, const uint8_t[::1] chan_code,
                 double offset_ps, double period_ps, double window_ps, uint64_t seed):
    """Assign time tags to slots: slot k = round((t − offset)/period) when |residual| ≤ window/2.

    ``t_ps`` must be non-decreasing. ``chan_code[c]`` maps detector channel c to basis·2 + bit (0..3) or
    255 (ignored channel). Several tags in one slot (a multi-click) are resolved by picking one of the
    distinct detectors that clicked uniformly at random (squashing-model practice: a double click gets a
    random value), with the draw keyed by (seed, slot) so that it does not depend on the tags' order.
    Returns (slots int64, code uint8, n_outside_window, n_multi_click_slots, n_ignored)."""
    cdef Py_ssize_t n = t_ps.shape[0], i, m = 0
    slots = np.empty(n, dtype=np.int64)
    codes = np.empty(n, dtype=np.uint8)
    cdef int64_t[::1] so = slots
    cdef uint8_t[::1] co = codes
    cdef double x, inv = 1.0 / period_ps, half = 0.5 * window_ps / period_ps, r
    cdef int64_t k
    cdef uint8_t c, mask = 0
    cdef Py_ssize_t n_out = 0, n_multi = 0, n_ign = 0, group = 0
    if channel.shape[0] != n:
        raise ValueError(f"t_ps and channel differ in length: {n} and {channel.shape[0]}")
    if chan_code.shape[0] < 256:
        raise ValueError("chan_code must have 256 entries")
    with nogil:
        for i in range(n):
            c = chan_code[channel[i]]
            if c == 255:
                n_ign += 1
                continue
            x = (t_ps[i] - offset_ps) * inv
            k = <int64_t>(x + 0.5)
            if x + 0.5 < k:          # truncation rounds towards zero: fix negative x
                k -= 1
            r = x - k
            if r > half or r < -half:
                n_out += 1
                continue
            if m > 0 and so[m - 1] == k:
                group += 1
                if group == 1:
                    n_multi += 1
                mask |= <uint8_t>(1 << c)
                continue
            if group > 0:
                co[m - 1] = qs_pick_code(mask, so[m - 1], seed)
            group = 0
            mask = <uint8_t>(1 << c)
            so[m] = k
            co[m] = c
            m += 1
        if group > 0:
            co[m - 1] = qs_pick_code(mask, so[m - 1], seed)
    return slots[:m], codes[:m], n_out, n_multi, n_ign


def sift_count(const uint8_t[::1] a_basis, const uint8_t[::1] a_bit, const uint8_t[::1] a_int,
               const uint8_t[::1] b_code, int n_int, double z_sample_fraction, uint64_t seed):
    """Basis sifting and counting.

    For every detection: sifted if Alice's basis equals Bob's (code >> 1). Z-basis sifted detections go
    to the disclosed QBER sample with probability ``z_sample_fraction`` (all of them when it is ≥ 1), else to
    the key; X-basis sifted
    detections are all disclosed (phase-error estimation). Returns (key_mask uint8 over detections,
    sifted[2, n_int], disclosed[2, n_int], errors[2, n_int], detected[n_int]) as int64 arrays; errors are
    counted on disclosed detections only."""
    cdef Py_ssize_t n = a_basis.shape[0], i
    key = np.zeros(n, dtype=np.uint8)
    sifted = np.zeros((2, n_int), dtype=np.int64)
    disclosed = np.zeros((2, n_int), dtype=np.int64)
    errors = np.zeros((2, n_int), dtype=np.int64)
    detected = np.zeros(n_int, dtype=np.int64)
    cdef uint8_t[::1] km = key
    cdef int64_t[:, ::1] sf = sifted, dc = disclosed, er = errors
    cdef int64_t[::1] dt = detected
    cdef uint8_t bb, ab, it
    cdef uint64_t rs = seed
    cdef uint64_t thr = <uint64_t>(z_sample_fraction * 18446744073709551615.0) if z_sample_fraction < 1 else 0xFFFFFFFFFFFFFFFFULL
    if a_bit.shape[0] != n or a_int.shape[0] != n or b_code.shape[0] != n:
        raise ValueError("sift_count: input arrays differ in length")
    with nogil:
        for i in range(n):
            it = a_int[i]
            if it >= n_int:
                continue
            dt[it] += 1
            bb = b_code[i] >> 1
            ab = a_basis[i]
            if ab != bb:
                continue
            sf[ab, it] += 1
            if ab == 0 and z_sample_fraction < 1 and qs_splitmix64_next(&rs) >= thr:
                km[i] = 1
                continue
            dc[ab, it] += 1
            er[ab, it] += (a_bit[i] ^ b_code[i]) & 1
    return key, sifted, disclosed, errors, detected


cdef extern from *:
    r"""
    /* Fused sifting pass over time tags (qkd._native.sift_kernels). Plain C99 with an optional AVX2 path
       for the slot assignment, selected at run time (__builtin_cpu_supports), so that the shipped build
       needs no -march flag. */
    #include <stdint.h>
    #include <string.h>
    #if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
    #include <immintrin.h>
    #define QS_HAVE_AVX2_PATH 1
    #endif

    #include "philox_lanes.h"   /* qs_philox_lanes: Philox4x32-10 in SIMD lanes */
    #include "splitmix64.h"     /* SplitMix64: the QBER-sample draws and the multi-click choice */

    #define QS_BLOCK 256
    #define QS_PREFETCH_SLOTS 2048

    typedef struct {
        /* inputs */
        const int64_t *t; const uint8_t *ch; const uint8_t *cc; int64_t n;
        double offset_ps, period_ps, window_ps; int64_t n_slots;
        const uint8_t *packed;              /* stored record, one byte per slot; NULL: Philox */
        uint32_t k0, k1, stream, z_thr; uint32_t cum[8]; int n_int;
        double z_sample_fraction; uint64_t seed; int64_t n_sync; int use_simd;
        /* outputs: hist[(rec << 2) | code][0] assigned detections, [1] those that became key bits; the key
       entries: Alice's bit, Bob's bit, slot, intensity class */
        int64_t *hist;                      /* [1024][2]: detections, key bits */
        uint8_t *ka, *kb, *ki; int64_t *ks;
        int64_t nk, n_out, n_multi, n_ign;
    } qs_sift_args;

    /* the multi-click choice: a uniformly random one of the distinct codes (0..3) set in mask, the draw keyed
       by (seed, slot) (the first output of stream `slot` of `seed`), so that the choice depends on which
       detectors clicked in the slot, not on the order of their tags */
    static inline uint8_t qs_pick_code(uint8_t mask, int64_t slot, uint64_t seed) {
        unsigned n = (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1);
        uint64_t r = 0;
        if (n > 1) {
            uint64_t state = qs_stream_seed(seed, (uint64_t)slot);
            r = qs_splitmix64_next(&state) % n;
        }
        for (uint8_t c = 0; c < 4; c++) {
            if ((mask >> c) & 1) {
                if (r == 0)
                    return c;
                r--;
            }
        }
        return 0;
    }


    /* The QBER-sample draws, precomputed 64 at a time: bit b of the word for draws j0..j0+63 is
       [SplitMix64 output j0+b ≥ thr], output j = mix64(seed + (j + 1)·γ) (Steele, Lea, Flood, OOPSLA 2014):
       the stream qs_splitmix64_next draws one by one (sift_count), independent of the data, so it can be
       computed ahead. */
    #define QS_GAMMA QS_SPLITMIX64_GAMMA
    static uint64_t qs_draws_scalar(uint64_t seed, uint64_t j0, uint64_t thr) {
        uint64_t w = 0, s = seed + (j0 + 1) * QS_GAMMA;
        for (int b = 0; b < 64; b++, s += QS_GAMMA)
            w |= (uint64_t)(qs_splitmix64_mix(s) >= thr) << b;
        return w;
    }

    #ifdef QS_HAVE_AVX2_PATH
    __attribute__((target("avx2")))
    static inline __m256i qs_mul64_avx2(__m256i a, __m256i c_lo, __m256i c_hi) {
        /* a·c mod 2^64 in 4 lanes: lo(a)lo(c) + ((hi(a)lo(c) + lo(a)hi(c)) << 32) */
        __m256i lo = _mm256_mul_epu32(a, c_lo);
        __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c_lo), _mm256_mul_epu32(a, c_hi));
        return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
    }

    __attribute__((target("avx2")))
    static uint64_t qs_draws_avx2(uint64_t seed, uint64_t j0, uint64_t thr) {
        /* qs_splitmix64_mix in 4 lanes */
        const __m256i c1_lo = _mm256_set1_epi64x((int64_t)(QS_SPLITMIX64_MUL1 & 0xFFFFFFFFu));
        const __m256i c1_hi = _mm256_set1_epi64x((int64_t)(QS_SPLITMIX64_MUL1 >> 32));
        const __m256i c2_lo = _mm256_set1_epi64x((int64_t)(QS_SPLITMIX64_MUL2 & 0xFFFFFFFFu));
        const __m256i c2_hi = _mm256_set1_epi64x((int64_t)(QS_SPLITMIX64_MUL2 >> 32));
        const __m256i sign = _mm256_set1_epi64x((int64_t)0x8000000000000000ULL);
        const __m256i vthr = _mm256_xor_si256(_mm256_set1_epi64x((int64_t)thr), sign);
        const __m256i step = _mm256_set1_epi64x((int64_t)(4 * QS_GAMMA));
        uint64_t s0 = seed + (j0 + 1) * QS_GAMMA, w = 0;
        __m256i s = _mm256_set_epi64x((int64_t)(s0 + 3 * QS_GAMMA), (int64_t)(s0 + 2 * QS_GAMMA),
                                      (int64_t)(s0 + QS_GAMMA), (int64_t)s0);
        for (int b = 0; b < 64; b += 4) {
            __m256i z = _mm256_xor_si256(s, _mm256_srli_epi64(s, 30));
            z = qs_mul64_avx2(z, c1_lo, c1_hi);
            z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 27));
            z = qs_mul64_avx2(z, c2_lo, c2_hi);
            z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
            /* z < thr (unsigned) ⇔ thr^sign > z^sign (signed); the draw is z ≥ thr */
            __m256i lt = _mm256_cmpgt_epi64(vthr, _mm256_xor_si256(z, sign));
            w |= (uint64_t)(~_mm256_movemask_pd(_mm256_castsi256_pd(lt)) & 0xF) << b;
            s = _mm256_add_epi64(s, step);
        }
        return w;
    }
    #endif


    #ifdef QS_HAVE_AVX2_PATH
    /* the 32×32 → 64-bit products of 8 uint32 lanes by m: high and low halves, each as 8 uint32 lanes */
    __attribute__((target("avx2")))
    static inline void qs_mulhilo8(__m256i c, __m256i m, __m256i *hi, __m256i *lo) {
        __m256i pe = _mm256_mul_epu32(c, m);                             /* lanes 0, 2, 4, 6 */
        __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);      /* lanes 1, 3, 5, 7 */
        *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
        *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    }

    /* Philox4x32-10 (Salmon et al., SC'11) of counters (slot mod 2^32, slot div 2^32, stream, 0) for the
       slots be[j] >> 2, 8 lanes at a time, mapped to the packed record byte as qkd._native.philox.slot_record
       does (basis: w0 ≥ z_thr; bit: top bit of w1; class: number of cumulative thresholds ≤ w2). */
    __attribute__((target("avx2")))
    static void qs_philox_records_avx2(const int64_t *be, int64_t m, uint32_t k0, uint32_t k1, uint32_t stream,
                                       uint32_t z_thr, const uint32_t *cum, int n_int, uint32_t *rec) {
        const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u), m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
        const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
        const __m256i vz = _mm256_xor_si256(_mm256_set1_epi32((int)z_thr), sign);
        const __m256i idx_lo = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        for (int64_t j = 0; j < m; j += 8) {
            /* slots of lanes j..j+7 as low and high 32-bit words */
            __m256i a0 = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(be + j)), 2);
            __m256i a1 = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(be + j + 4)), 2);
            a0 = _mm256_permutevar8x32_epi32(a0, idx_lo);   /* lo0 lo1 lo2 lo3 | hi0 hi1 hi2 hi3 */
            a1 = _mm256_permutevar8x32_epi32(a1, idx_lo);
            __m256i c0 = _mm256_permute2x128_si256(a0, a1, 0x20);
            __m256i c1 = _mm256_permute2x128_si256(a0, a1, 0x31);
            __m256i c2 = _mm256_set1_epi32((int)stream), c3 = _mm256_setzero_si256();
            uint32_t ka = k0, kb = k1;
            for (int r = 0; r < 10; r++) {
                __m256i hi0, lo0, hi1, lo1;
                qs_mulhilo8(c0, m0, &hi0, &lo0);
                qs_mulhilo8(c2, m1, &hi1, &lo1);
                c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)ka));
                c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)kb));
                c1 = lo1;
                c3 = lo0;
                ka += 0x9E3779B9u;
                kb += 0xBB67AE85u;
            }
            /* basis = [w0 ≥ z_thr] = not (z_thr > w0), unsigned compares through the sign flip */
            __m256i basis = _mm256_andnot_si256(_mm256_cmpgt_epi32(vz, _mm256_xor_si256(c0, sign)),
                                                _mm256_set1_epi32(1));
            __m256i r8 = _mm256_or_si256(basis, _mm256_slli_epi32(_mm256_srli_epi32(c1, 31), 1));
            __m256i it = _mm256_setzero_si256(), w2 = _mm256_xor_si256(c2, sign);
            for (int q = 0; q < n_int - 1; q++) {
                __m256i lt = _mm256_cmpgt_epi32(_mm256_xor_si256(_mm256_set1_epi32((int)cum[q]), sign), w2);
                it = _mm256_sub_epi32(it, _mm256_andnot_si256(lt, _mm256_set1_epi32(-1)));   /* +1 if w2 ≥ cum */
            }
            r8 = _mm256_or_si256(r8, _mm256_slli_epi32(it, 2));
            _mm256_storeu_si256((__m256i *)(rec + j), r8);
        }
    }
    #endif

    static const uint8_t qs_pc4[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};

    /* (A) slot of tags [i0, i1): k = round((t − offset)/period) kept when |residual| ≤ window/2 and
       0 ≤ k < n_slots; the kept ones appended to be[] as k << 2 | code. Returns the new length. */
    static inline int64_t qs_assign_scalar(const qs_sift_args *a, int64_t i0, int64_t i1, double inv, double half,
                                           int64_t *restrict be, int64_t m, int64_t *n_ign, int64_t *n_out) {
        for (int64_t i = i0; i < i1; i++) {
            uint8_t c = a->cc[a->ch[i]];
            double x = (a->t[i] - a->offset_ps) * inv;
            int64_t k = (int64_t)(x + 0.5);
            k -= (int64_t)(x + 0.5 < k);          /* truncation rounds towards zero: fix negative x */
            double r = x - k;
            int ign = c == 255;
            int ok = (ign ^ 1) & (r <= half) & (r >= -half) & (k >= 0) & (k < a->n_slots);
            *n_ign += ign;
            *n_out += (ign ^ 1) - ok;
            be[m] = (int64_t)(((uint64_t)k << 2) | (c & 3u));
            m += ok;
        }
        return m;
    }

    #ifdef QS_HAVE_AVX2_PATH
    static const int32_t qs_compact_lut[16][8] = {{0,0,0,0,0,0,0,0}, {0,1,0,0,0,0,0,0}, {2,3,0,0,0,0,0,0}, {0,1,2,3,0,0,0,0}, {4,5,0,0,0,0,0,0}, {0,1,4,5,0,0,0,0}, {2,3,4,5,0,0,0,0}, {0,1,2,3,4,5,0,0}, {6,7,0,0,0,0,0,0}, {0,1,6,7,0,0,0,0}, {2,3,6,7,0,0,0,0}, {0,1,2,3,6,7,0,0}, {4,5,6,7,0,0,0,0}, {0,1,4,5,6,7,0,0}, {2,3,4,5,6,7,0,0}, {0,1,2,3,4,5,6,7}};

    /* (A) four tags at a time, the same double arithmetic as qs_assign_scalar lane by lane: int64 ↔ double
       through the 2^52 + 2^51 bias (exact for |v| < 2^51; other tags take the scalar path), floor(x + 0.5)
       equals the scalar truncate-and-fix, then a compaction of the kept lanes by permutation. */
    __attribute__((target("avx2"), always_inline))
    static inline int64_t qs_assign_avx2_impl(const qs_sift_args *a, int64_t i0, int64_t i1, double inv,
                                              double half, int64_t *restrict be, int64_t m, int64_t *n_ign,
                                              int64_t *n_out, const int identity) {
        const __m256d voff = _mm256_set1_pd(a->offset_ps), vinv = _mm256_set1_pd(inv);
        const __m256d vhalf = _mm256_set1_pd(half), vnhalf = _mm256_set1_pd(-half), vp5 = _mm256_set1_pd(0.5);
        const __m256d vzero = _mm256_setzero_pd(), vns = _mm256_set1_pd((double)a->n_slots);
        const __m256d magic_d = _mm256_set1_pd(6755399441055744.0);            /* 2^52 + 2^51 */
        const __m256i magic_i = _mm256_castpd_si256(magic_d);
        const __m256i bias51 = _mm256_set1_epi64x((int64_t)1 << 51), c255 = _mm256_set1_epi64x(255);
        const __m256i three = _mm256_set1_epi64x(3);
        const uint8_t *cc = a->cc, *ch = a->ch;
        const int64_t m0 = m;
        int64_t ign_total = 0, out_total = 0, i = i0;
        for (; i + 4 <= i1; i += 4) {
            __m256i ti = _mm256_loadu_si256((const __m256i *)(a->t + i));
            __m256i hi = _mm256_srli_epi64(_mm256_add_epi64(ti, bias51), 52);
            if (!_mm256_testz_si256(hi, hi)) {                              /* |t| ≥ 2^51: scalar */
                m = qs_assign_scalar(a, i, i + 4, inv, half, be, m, &ign_total, &out_total);
                continue;
            }
            __m256d td = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(ti, magic_i)), magic_d);
            __m256d x = _mm256_mul_pd(_mm256_sub_pd(td, voff), vinv);
            __m256d kd = _mm256_floor_pd(_mm256_add_pd(x, vp5));
            __m256d r = _mm256_sub_pd(x, kd);
            __m256d ok = _mm256_and_pd(_mm256_cmp_pd(r, vhalf, _CMP_LE_OQ), _mm256_cmp_pd(r, vnhalf, _CMP_GE_OQ));
            ok = _mm256_and_pd(ok, _mm256_and_pd(_mm256_cmp_pd(kd, vzero, _CMP_GE_OQ),
                                                 _mm256_cmp_pd(kd, vns, _CMP_LT_OQ)));
            __m256i cv;
            int ign;
            if (identity) {                 /* channels 0..3 are codes 0..3, the others ignored */
                uint32_t w;
                memcpy(&w, ch + i, 4);
                cv = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128((int)w));
                ign = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(cv, three)));
            } else {
                uint32_t c4 = (uint32_t)cc[ch[i]] | ((uint32_t)cc[ch[i + 1]] << 8) | ((uint32_t)cc[ch[i + 2]] << 16)
                              | ((uint32_t)cc[ch[i + 3]] << 24);
                cv = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128((int)c4));
                ign = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(cv, c255)));
            }
            int keep = _mm256_movemask_pd(ok) & ~ign & 0xF;
            ign_total += qs_pc4[ign];
            /* kd is an integer in [0, n_slots) in the kept lanes; n_slots ≤ 2^51 (checked by the caller) */
            __m256i kv = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(kd, magic_d)), magic_i);
            __m256i ev = _mm256_or_si256(_mm256_slli_epi64(kv, 2), _mm256_and_si256(cv, three));
            __m256i perm = _mm256_loadu_si256((const __m256i *)qs_compact_lut[keep]);
            _mm256_storeu_si256((__m256i *)(be + m), _mm256_permutevar8x32_epi32(ev, perm));
            m += qs_pc4[keep];
        }
        int64_t m_vec = m;
        m = qs_assign_scalar(a, i, i1, inv, half, be, m, &ign_total, &out_total);
        (void)m_vec;
        *n_ign += ign_total;
        *n_out += (i1 - i0) - ign_total - (m - m0);   /* every tag is ignored, kept or outside */
        return m;
    }

    /* the AVX2 assignment, compiled once for the identity channel map and once for a general one */
    __attribute__((target("avx2")))
    static int64_t qs_assign_avx2(const qs_sift_args *a, int64_t i0, int64_t i1, double inv, double half,
                                  int64_t *restrict be, int64_t m, int64_t *n_ign, int64_t *n_out, int identity) {
        if (identity)
            return qs_assign_avx2_impl(a, i0, i1, inv, half, be, m, n_ign, n_out, 1);
        return qs_assign_avx2_impl(a, i0, i1, inv, half, be, m, n_ign, n_out, 0);
    }
    #endif

    /* the whole pass: (A) slots of a block of tags, (B) Alice's record at them (loads from the stored record,
       independent of each other; or Philox in SIMD lanes) combined with Bob's code into idx = record << 2 | code,
       (C) multi-click groups and sifting in tag order, branch-free: a histogram increment over idx and a key
       entry written unconditionally, the write position advancing only for key bits. */
    __attribute__((always_inline))
    static inline void qs_sift_impl(qs_sift_args *a, const int simd) {
        const double inv = 1.0 / a->period_ps, half = 0.5 * a->window_ps / a->period_ps;
        const uint64_t thr = a->z_sample_fraction < 1 ? (uint64_t)(a->z_sample_fraction * 18446744073709551615.0)
                                                       : 0xFFFFFFFFFFFFFFFFULL;
        const uint64_t pick_seed = a->seed ^ 0xA5A5A5A5A5A5A5A5ULL;
        const int frac_all = a->z_sample_fraction >= 1, n_int = a->n_int;
        /* idx → [valid class, bases match, Z basis, sample not all]; entry 1024: the no-slot-yet sentinel */
        uint8_t zlut[1025], zero_lut[1025];
        uint64_t hist[1025];                /* per idx: assigned detections + 2^32 · key bits among them */
        int64_t since_flush = 0;
        uint64_t ring[16];                  /* QBER-sample draw bits jd.. (a ring of 1024), produced ahead */
        int64_t be[QS_BLOCK + 8] = {0};
        uint16_t bi[QS_BLOCK + 8];
        uint32_t c0[QS_BLOCK + 8], c1[QS_BLOCK], c2[QS_BLOCK], c3[QS_BLOCK];
        uint64_t jd = 0, produced = 0;
        int64_t cur = -1, nk = 0, n_multi = 0, n_ign = 0, n_out = 0, sync_left = a->n_sync;
        unsigned cur_idx = 1024, mask = 0;
        int64_t *restrict ks = a->ks;
        const uint8_t *packed = a->packed;
        uint8_t *restrict kr = a->ka;       /* key entry bytes first (see QS_FINISH), split at the end */
        int identity = 1;                   /* channels 0..3 are codes 0..3, the others ignored */
        for (int c = 0; c < 256; c++)
            identity &= a->cc[c] == (c < 4 ? c : 255);
        for (int idx = 0; idx < 1024; idx++) {
            unsigned rec = (unsigned)idx >> 2, code = (unsigned)idx & 3u, ab = rec & 1u;
            zlut[idx] = (uint8_t)(((int)(rec >> 2) < n_int) & (ab == (code >> 1)) & (ab == 0) & (frac_all ^ 1));
        }
        zlut[1024] = 0;
        memset(zero_lut, 0, sizeof zero_lut);
        memset(hist, 0, sizeof hist);
        /* finish the slot cur: the multi-click choice if several detectors fired, then the key decision (a Z
           sifted detection outside the sync sample takes the next draw) and the key entry: slot and idx */
    #define QS_FINISH(ZL) do {                                                                            \
            unsigned idx_ = cur_idx;                                                                  \
            if (__builtin_expect(mask != 0, 0)) {                                                     \
                idx_ = (idx_ & ~3u) | qs_pick_code((uint8_t)mask, cur, pick_seed);                    \
                mask = 0;                                                                             \
            }                                                                                         \
            uint64_t zs_ = (ZL)[idx_];                                                                \
            uint64_t key_ = zs_ & (ring[(jd >> 6) & 15] >> (jd & 63));                                \
            jd += zs_;                                                                                \
            hist[idx_] += 1 + (key_ << 32);                                                           \
            kr[nk] = (uint8_t)idx_;                                                                   \
            ks[nk] = cur;                                                                             \
            nk += (int64_t)key_;                                                                      \
        } while (0)
    #define QS_PHASE_C(ZL, SYNC, IDX, PREFETCH) do {                                                      \
            for (int64_t j = 0; j < m; j++) {                                                         \
                int64_t k_ = be[j] >> 2;                                                              \
                PREFETCH;                                                                             \
                if (__builtin_expect(k_ == cur, 0)) {   /* another tag in the slot: a multi-click */  \
                    if (mask == 0) {                                                                  \
                        n_multi++;                                                                    \
                        mask = 1u << (cur_idx & 3u);                                                  \
                    }                                                                                 \
                    mask |= 1u << (be[j] & 3);                                                        \
                    continue;                                                                         \
                }                                                                                     \
                QS_FINISH(ZL);                                                                        \
                SYNC;                                                                                 \
                cur = k_;                                                                             \
                cur_idx = (IDX);                                                                      \
            }                                                                                         \
        } while (0)
        for (int64_t i0 = 0; i0 < a->n; i0 += QS_BLOCK) {
            int64_t i1 = a->n - i0 > QS_BLOCK ? i0 + QS_BLOCK : a->n, m;
    #ifdef QS_HAVE_AVX2_PATH
            if (simd)
                m = qs_assign_avx2(a, i0, i1, inv, half, be, 0, &n_ign, &n_out, identity);
            else
    #endif
                m = qs_assign_scalar(a, i0, i1, inv, half, be, 0, &n_ign, &n_out);
            if (a->packed) {
                /* the stored record is read in phase C */
            } else
    #ifdef QS_HAVE_AVX2_PATH
            if (simd) {
                qs_philox_records_avx2(be, m, a->k0, a->k1, a->stream, a->z_thr, a->cum, n_int, c0);
                for (int64_t j = 0; j < m; j++)
                    bi[j] = (uint16_t)((c0[j] << 2) | (unsigned)(be[j] & 3));
            } else
    #endif
            {
                for (int64_t j = 0; j < m; j++) {
                    uint64_t k = (uint64_t)be[j] >> 2;
                    c0[j] = (uint32_t)k;
                    c1[j] = (uint32_t)(k >> 32);
                    c2[j] = a->stream;
                    c3[j] = 0;
                }
                qs_philox_lanes(c0, c1, c2, c3, (int)m, a->k0, a->k1);
                for (int64_t j = 0; j < m; j++) {
                    unsigned it = 0;
                    for (int q = 0; q < n_int - 1; q++)
                        it += (unsigned)(c2[j] >= a->cum[q]);
                    unsigned rec = (unsigned)(c0[j] >= a->z_thr) | ((c1[j] >> 31) << 1) | (it << 2);
                    bi[j] = (uint16_t)((rec << 2) | (unsigned)(be[j] & 3));
                }
            }
            since_flush += m;
            if (since_flush > ((int64_t)1 << 30)) {     /* fold the packed counts before they can overflow */
                for (int idx = 0; idx < 1024; idx++) {
                    a->hist[2 * idx] += (int64_t)(hist[idx] & 0xFFFFFFFFu);
                    a->hist[2 * idx + 1] += (int64_t)(hist[idx] >> 32);
                    hist[idx] = 0;
                }
                since_flush = 0;
            }
            while (produced < jd + (uint64_t)m + 1) {   /* each slot takes at most one draw */
    #ifdef QS_HAVE_AVX2_PATH
                ring[(produced >> 6) & 15] = simd ? qs_draws_avx2(a->seed, produced, thr)
                                                  : qs_draws_scalar(a->seed, produced, thr);
    #else
                ring[(produced >> 6) & 15] = qs_draws_scalar(a->seed, produced, thr);
    #endif
                produced += 64;
            }
            /* the first n_sync assigned detections (the disclosed clock-sync sample): never key, no draw; the
               sentinel finish (cur < 0) does not count. The stored record is read here, prefetched ahead. */
    #define QS_SYNC_ZL (sync_left > 0 ? zero_lut : zlut)
    #define QS_SYNC_STEP if (cur >= 0 && sync_left > 0) sync_left--
    #define QS_STORED_IDX ((unsigned)packed[k_] << 2) | (unsigned)(be[j] & 3)
    #define QS_STORED_PF __builtin_prefetch(packed + k_ + QS_PREFETCH_SLOTS)
            if (packed && sync_left > 0)
                QS_PHASE_C(QS_SYNC_ZL, QS_SYNC_STEP, QS_STORED_IDX, QS_STORED_PF);
            else if (packed)
                QS_PHASE_C(zlut, (void)0, QS_STORED_IDX, QS_STORED_PF);
            else if (sync_left > 0)
                QS_PHASE_C(QS_SYNC_ZL, QS_SYNC_STEP, bi[j], (void)0);
            else
                QS_PHASE_C(zlut, (void)0, bi[j], (void)0);
    #undef QS_SYNC_ZL
    #undef QS_SYNC_STEP
    #undef QS_STORED_IDX
    #undef QS_STORED_PF
        }
        QS_FINISH(sync_left > 0 ? zero_lut : zlut);
    #undef QS_PHASE_C
    #undef QS_FINISH
        /* split the key entry bytes (in place into ka) into Alice's bits, Bob's bits and the classes: a key
           bit's idx is class << 4 | Alice's bit << 3 | Bob's bit (Z basis at both ends), whose low byte holds
           the class when there are at most 16; with more (a stored record only) the class is read again */
        uint8_t *restrict kb = a->kb, *restrict ki = a->ki;
        if (n_int <= 16) {
            for (int64_t j = 0; j < nk; j++) {
                uint8_t e = kr[j];
                kb[j] = e & 1;
                ki[j] = e >> 4;
                kr[j] = (e >> 3) & 1;
            }
        } else {
            for (int64_t j = 0; j < nk; j++) {
                uint8_t e = kr[j];
                kb[j] = e & 1;
                ki[j] = packed[ks[j]] >> 2;
                kr[j] = (e >> 3) & 1;
            }
        }
        for (int idx = 0; idx < 1024; idx++) {
            a->hist[2 * idx] += (int64_t)(hist[idx] & 0xFFFFFFFFu);
            a->hist[2 * idx + 1] += (int64_t)(hist[idx] >> 32);
        }
        a->nk = nk;
        a->n_out = n_out;
        a->n_multi = n_multi;
        a->n_ign = n_ign;
    }

    #ifdef QS_HAVE_AVX2_PATH
    /* the pass compiled for CPUs with AVX2 and BMI1/2 (no FMA: the double arithmetic stays that of the scalar
       path, bit for bit) and for the baseline ISA; chosen at run time */
    __attribute__((target("avx2,bmi,bmi2")))
    static void qs_sift_avx2(qs_sift_args *a) {
        qs_sift_impl(a, 1);
    }
    #endif

    static void qs_sift_portable(qs_sift_args *a) {
        qs_sift_impl(a, 0);
    }

    static void qs_sift(qs_sift_args *a) {
    #ifdef QS_HAVE_AVX2_PATH
        __builtin_cpu_init();
        if (a->use_simd && a->n_slots <= ((int64_t)1 << 51) && __builtin_cpu_supports("avx2")
                && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")) {
            qs_sift_avx2(a);
            return;
        }
    #endif
        qs_sift_portable(a);
    }
    """
    ctypedef struct qs_sift_args:
        const int64_t *t
        const uint8_t *ch
        const uint8_t *cc
        int64_t n
        double offset_ps, period_ps, window_ps
        int64_t n_slots
        const uint8_t *packed
        uint32_t k0, k1, stream, z_thr
        uint32_t cum[8]
        int n_int
        double z_sample_fraction
        uint64_t seed
        int64_t n_sync
        int use_simd
        int64_t *hist
        uint8_t *ka
        uint8_t *kb
        uint8_t *ki
        int64_t *ks
        int64_t nk, n_out, n_multi, n_ign
    void qs_sift(qs_sift_args *a) noexcept nogil
    uint8_t qs_pick_code(uint8_t mask, int64_t slot, uint64_t seed) noexcept nogil


cdef tuple _sift_run(const int64_t[::1] t_ps, const uint8_t[::1] channel, const uint8_t[::1] chan_code,
                     double offset_ps, double period_ps, double window_ps, int64_t n_slots, const uint8_t* packed,
                     uint32_t k0, uint32_t k1, uint32_t stream, uint32_t z_threshold, const uint32_t* cum,
                     int n_int, double z_sample_fraction, uint64_t seed, Py_ssize_t n_sync, bint simd):
    """Run ``qs_sift`` and reduce its histogram over (record byte, Bob's code) to the counts."""
    cdef Py_ssize_t n = t_ps.shape[0], idx, q
    cdef qs_sift_args a
    cdef int64_t cnt, kc
    cdef unsigned rec, code, ab, bit, it
    if channel.shape[0] != n or chan_code.shape[0] < 256:
        raise ValueError("t_ps/channel lengths differ or chan_code is not 256 long")
    if n_int < 1:
        raise ValueError(f"n_int must be ≥ 1, got {n_int}")
    if n_slots < 0 or n_slots > (1 << 61):
        raise ValueError(f"n_slots must be in [0, 2^61], got {n_slots}")
    alice = np.empty(n, dtype=np.uint8)
    bob = np.empty(n, dtype=np.uint8)
    kslots = np.empty(n, dtype=np.int64)
    kint = np.empty(n, dtype=np.uint8)
    hist_arr = np.zeros(2048, dtype=np.int64)
    sifted = np.zeros((2, n_int), dtype=np.int64)
    disclosed = np.zeros((2, n_int), dtype=np.int64)
    errors = np.zeros((2, n_int), dtype=np.int64)
    detected = np.zeros(n_int, dtype=np.int64)
    cdef uint8_t[::1] ka = alice, kb = bob, ki = kint
    cdef int64_t[::1] ks = kslots, hist = hist_arr
    cdef int64_t[:, ::1] sf = sifted, dc = disclosed, er = errors
    cdef int64_t[::1] dt = detected
    a.nk = a.n_out = a.n_multi = a.n_ign = 0
    if n > 0:
        a.t = &t_ps[0]
        a.ch = &channel[0]
        a.cc = &chan_code[0]
        a.n = n
        a.offset_ps = offset_ps
        a.period_ps = period_ps
        a.window_ps = window_ps
        a.n_slots = n_slots
        a.packed = packed
        a.k0 = k0
        a.k1 = k1
        a.stream = stream
        a.z_thr = z_threshold
        for q in range(8):
            a.cum[q] = cum[q] if cum != NULL and q < n_int - 1 else 0
        a.n_int = n_int
        a.z_sample_fraction = z_sample_fraction
        a.seed = seed
        a.n_sync = n_sync
        a.use_simd = simd
        a.hist = &hist[0]
        a.ka = &ka[0]
        a.kb = &kb[0]
        a.ki = &ki[0]
        a.ks = &ks[0]
        with nogil:
            qs_sift(&a)
    # hist[idx, 0]: assigned detections with record byte idx >> 2 and Bob's code idx & 3; hist[idx, 1]: key bits
    for idx in range(1024):
        cnt = hist[2 * idx]
        if cnt == 0:
            continue
        rec = <unsigned>idx >> 2
        code = <unsigned>idx & 3
        it = rec >> 2
        if it >= <unsigned>n_int:
            continue
        ab = rec & 1
        bit = (rec >> 1) & 1
        kc = hist[2 * idx + 1]
        dt[it] += cnt
        if ab == (code >> 1):
            sf[ab, it] += cnt
            dc[ab, it] += cnt - kc
            er[ab, it] += (cnt - kc) * ((bit ^ code) & 1)
    return (alice[:a.nk], bob[:a.nk], kslots[:a.nk], kint[:a.nk], sifted, disclosed, errors, detected, a.n_out,
            a.n_multi, a.n_ign)


def sift_fused_array(const int64_t[::1] t_ps, const uint8_t[::1] channel, const uint8_t[::1] chan_code,
                     double offset_ps, double period_ps, double window_ps, const uint8_t[::1] tx_packed,
                     int n_int, double z_sample_fraction, uint64_t seed, Py_ssize_t n_sync, bint simd=True):
    """One pass over time tags against a stored transmitter record, packed one byte per slot
    (bit 0 basis, bit 1 bit value, bits 2..7 intensity class; see ``ArrayTransmitterRecord.packed``): slot
    assignment and multi-click choice as :func:`assign_slots`, lookup, sifting and counting as
    :func:`sift_count` (detections whose intensity class is ≥ ``n_int`` are skipped). The first ``n_sync``
    assigned detections (the disclosed clock-sync sample) are counted as disclosed, never key. Slots outside
    the record are dropped (counted in n_outside). ``simd=False`` forces the portable scalar path (the AVX2
    path, used when the CPU has it, computes the same results). Returns (alice_key, bob_key, key_slots,
    key_intensity, sifted, disclosed, errors, detected, n_outside, n_multi, n_ignored)."""
    if tx_packed.shape[0] == 0:
        raise ValueError("empty transmitter record")
    if n_int > 64:
        raise ValueError(f"at most 64 intensity classes fit the packed record, got {n_int}")
    return _sift_run(t_ps, channel, chan_code, offset_ps, period_ps, window_ps, tx_packed.shape[0], &tx_packed[0],
                     0, 0, 0, 0, NULL, n_int, z_sample_fraction, seed, n_sync, simd)


def sift_fused_philox(const int64_t[::1] t_ps, const uint8_t[::1] channel, const uint8_t[::1] chan_code,
                      double offset_ps, double period_ps, double window_ps, int64_t n_slots, uint32_t k0,
                      uint32_t k1, uint32_t stream, uint32_t z_threshold, const uint32_t[::1] cum_thresholds,
                      double z_sample_fraction, uint64_t seed, Py_ssize_t n_sync, bint simd=True):
    """:func:`sift_fused_array` with the transmitter record of an emulated (Philox) transmitter of
    ``n_slots`` slots: Alice's (basis, bit, intensity) at each assigned slot is Philox4x32-10 keyed by the
    slot, the mapping of ``qkd._native.philox.tx_record_at`` (``z_threshold``, ``cum_thresholds`` as there;
    the thresholds must be non-decreasing), computed in SIMD lanes over each block's slots. Same outputs."""
    cdef int n_int = cum_thresholds.shape[0] + 1, q
    cdef uint32_t cum[8]
    if n_int > 8:
        raise ValueError(f"at most 8 intensity classes, got {n_int}")
    for q in range(8):
        cum[q] = cum_thresholds[q] if q < n_int - 1 else 0
        if 0 < q < n_int - 1 and cum[q] < cum[q - 1]:
            raise ValueError("cum_thresholds must be non-decreasing")
    return _sift_run(t_ps, channel, chan_code, offset_ps, period_ps, window_ps, n_slots, NULL, k0, k1, stream,
                     z_threshold, cum, n_int, z_sample_fraction, seed, n_sync, simd)
