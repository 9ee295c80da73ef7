# cython: language_level=3
"""Compiled kernels of sifting: tag → slot assignment with multi-click resolution, and basis sifting with
per-(basis, intensity) counting. Called by ``qkd.postprocess.sift``; numpy twins live in
``qkd.postprocess.sift_reference`` for tests and the benchmark baseline.
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport floor
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

cnp.import_array()


cdef inline uint64_t splitmix64(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint8_t pick_code(uint8_t mask, int64_t slot, uint64_t seed) noexcept nogil:
    """A uniformly random one of the distinct codes (0..3) set in ``mask``, the draw keyed by (seed, slot):
    the choice depends on which detectors clicked in the slot, not on the order of their tags."""
    cdef uint8_t n = (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1)
    cdef uint64_t s = seed ^ (<uint64_t>slot * 0xD1B54A32D192ED03ULL)
    cdef uint64_t r = 0
    cdef uint8_t c
    if n > 1:
        r = splitmix64(&s) % n
    for c in range(4):
        if (mask >> c) & 1:
            if r == 0:
                return c
            r -= 1
    return 0


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
                co[m - 1] = pick_code(mask, so[m - 1], seed)
            group = 0
            mask = <uint8_t>(1 << c)
            so[m] = k
            co[m] = c
            m += 1
        if group > 0:
            co[m - 1] = pick_code(mask, so[m - 1], seed)
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
            if ab == 0 and z_sample_fraction < 1 and splitmix64(&rs) >= thr:
                km[i] = 1
                continue
            dc[ab, it] += 1
            er[ab, it] += (a_bit[i] ^ b_code[i]) & 1
    return key, sifted, disclosed, errors, detected


cdef extern from *:
    """
    #include <stdint.h>
    /* Philox4x32-10 over n independent counters in struct-of-arrays form; written so that the compiler
       vectorises the lanes; compiled for AVX2 and for the baseline ISA, chosen at load time (ifunc). */
    #if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
    __attribute__((target_clones("avx2", "default")))
    #endif
    static void qs_philox_soa(uint32_t *restrict c0, uint32_t *restrict c1, uint32_t *restrict c2,
                              uint32_t *restrict c3, int n, uint32_t k0, uint32_t k1) {
        for (int r = 0; r < 10; r++) {
            for (int j = 0; j < n; j++) {
                uint64_t p0 = (uint64_t)0xD2511F53u * c0[j];
                uint64_t p1 = (uint64_t)0xCD9E8D57u * c2[j];
                uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0;
                uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
                c1[j] = (uint32_t)p1;
                c3[j] = (uint32_t)p0;
                c0[j] = n0;
                c2[j] = n2;
            }
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
    }
    """
    void qs_philox_soa(uint32_t *c0, uint32_t *c1, uint32_t *c2, uint32_t *c3, int n, uint32_t k0,
                       uint32_t k1) noexcept nogil


DEF LANES = 512


def sift_philox(const int64_t[::1] slots, const uint8_t[::1] b_code, uint32_t k0, uint32_t k1, uint32_t stream,
                uint32_t z_threshold, const uint32_t[::1] cum_thresholds, double z_sample_fraction, uint64_t seed):
    """Fused transmitter lookup + sifting for an emulated (Philox) transmitter: for each assigned detection
    compute Alice's (basis, bit, intensity) with Philox4x32-10 keyed by the slot (same mapping as
    ``qkd._native.philox.tx_record_at``; batches of 512 lanes, vectorised), then sift and count as
    :func:`sift_count`. Returns (key_mask, a_bit, a_int, sifted, disclosed, errors, detected)."""
    cdef Py_ssize_t n = slots.shape[0], i, j, base
    cdef int n_int = cum_thresholds.shape[0] + 1, q
    key = np.zeros(n, dtype=np.uint8)
    abit = np.empty(n, dtype=np.uint8)
    aint = np.empty(n, dtype=np.uint8)
    sifted = np.zeros((2, n_int), dtype=np.int64)
    disclosed = np.zeros((2, n_int), dtype=np.int64)
    errors = np.zeros((2, n_int), dtype=np.int64)
    detected = np.zeros(n_int, dtype=np.int64)
    cdef uint8_t[::1] km = key, av = abit, ai = aint
    cdef int64_t[:, ::1] sf = sifted, dc = disclosed, er = errors
    cdef int64_t[::1] dt = detected
    cdef uint32_t c0[LANES]
    cdef uint32_t c1[LANES]
    cdef uint32_t c2[LANES]
    cdef uint32_t c3[LANES]
    cdef uint8_t ab, bb, it, bit
    cdef uint64_t rs = seed
    cdef uint64_t thr = <uint64_t>(z_sample_fraction * 18446744073709551615.0) if z_sample_fraction < 1 else 0xFFFFFFFFFFFFFFFFULL
    cdef uint32_t cum[8]
    cdef Py_ssize_t m
    if b_code.shape[0] != n:
        raise ValueError("slots and b_code differ in length")
    if n_int > 8:
        raise ValueError("at most 8 intensity classes")
    for q in range(n_int - 1):
        cum[q] = cum_thresholds[q]
    with nogil:
        base = 0
        while base < n:
            m = LANES if n - base >= LANES else n - base
            for j in range(m):
                c0[j] = <uint32_t>(<uint64_t>slots[base + j] & 0xFFFFFFFFu)
                c1[j] = <uint32_t>(<uint64_t>slots[base + j] >> 32)
                c2[j] = stream
                c3[j] = 0
            qs_philox_soa(c0, c1, c2, c3, <int>m, k0, k1)
            for j in range(m):
                i = base + j
                ab = 0 if c0[j] < z_threshold else 1
                bit = c1[j] >> 31
                it = 0
                while it < n_int - 1 and c2[j] >= cum[it]:
                    it += 1
                av[i] = bit
                ai[i] = it
                dt[it] += 1
                bb = b_code[i] >> 1
                if ab != bb:
                    continue
                sf[ab, it] += 1
                if ab == 0 and z_sample_fraction < 1 and splitmix64(&rs) >= thr:
                    km[i] = 1
                    continue
                dc[ab, it] += 1
                er[ab, it] += (bit ^ b_code[i]) & 1
            base += m
    return key, abit, aint, sifted, disclosed, errors, detected


cdef inline void _sift_one(int64_t k, uint8_t code, const uint8_t* tx_packed, int n_int, uint64_t thr,
                           bint sample_all,
                           uint64_t* rs, int64_t* sf, int64_t* dc, int64_t* er, int64_t* dt,
                           uint8_t* ka, uint8_t* kb, int64_t* ks, uint8_t* ki, Py_ssize_t* nk) noexcept nogil:
    cdef uint8_t rec = tx_packed[k]
    cdef uint8_t ab = rec & 1, bit = (rec >> 1) & 1, it = rec >> 2
    cdef Py_ssize_t j
    if it >= n_int:
        return
    dt[it] += 1
    if ab != (code >> 1):
        return
    j = ab * n_int + it
    sf[j] += 1
    if ab == 0 and not sample_all and splitmix64(rs) >= thr:
        ka[nk[0]] = bit
        kb[nk[0]] = code & 1
        ks[nk[0]] = k
        ki[nk[0]] = it
        nk[0] += 1
        return
    dc[j] += 1
    er[j] += (bit ^ code) & 1


def sift_fused_array(const int64_t[::1] t_ps, const uint8_t[::1] channel, const uint8_t[::1] chan_code,
                     double offset_ps, double period_ps, double window_ps, const uint8_t[::1] tx_packed,
                     int n_int, double z_sample_fraction, uint64_t seed, Py_ssize_t n_sync):
    """One pass over time tags against a stored transmitter record, packed one byte per slot
    (bit 0 basis, bit 1 bit value, bits 2..7 intensity class; see ``ArrayTransmitterRecord.packed``): slot assignment and
    multi-click choice as :func:`assign_slots`, lookup, sifting and counting as :func:`sift_count`. The
    first ``n_sync`` assigned detections (the disclosed clock-sync sample) are counted as disclosed, never
    key. Slots outside the record are dropped (counted in n_outside). Returns (alice_key, bob_key,
    key_slots, key_intensity, sifted, disclosed, errors, detected, n_outside, n_multi, n_ignored)."""
    cdef Py_ssize_t n = t_ps.shape[0], i, nk = 0, n_out = 0, n_multi = 0, n_ign = 0, n_assigned = 0
    cdef int64_t n_slots = tx_packed.shape[0], k, cur = -1
    cdef uint8_t c, cur_code = 0, mask = 0
    cdef double x, inv = 1.0 / period_ps, half = 0.5 * window_ps / period_ps, r
    cdef Py_ssize_t group = 0
    cdef uint64_t rs = seed, pick_seed = seed ^ 0xA5A5A5A5A5A5A5A5ULL
    cdef uint64_t thr = <uint64_t>(z_sample_fraction * 18446744073709551615.0) if z_sample_fraction < 1 else 0xFFFFFFFFFFFFFFFFULL
    alice = np.empty(n, dtype=np.uint8)
    bob = np.empty(n, dtype=np.uint8)
    kslots = np.empty(n, dtype=np.int64)
    kint = np.empty(n, dtype=np.uint8)
    sifted = np.zeros((2, n_int), dtype=np.int64)
    disclosed = np.zeros((2, n_int), dtype=np.int64)
    errors = np.zeros((2, n_int), dtype=np.int64)
    detected = np.zeros(n_int, dtype=np.int64)
    cdef uint8_t[::1] ka = alice, kb = bob, ki = kint
    cdef int64_t[::1] ks = kslots
    cdef int64_t[:, ::1] sf = sifted, dc = disclosed, er = errors
    cdef int64_t[::1] dt = detected
    if channel.shape[0] != n or chan_code.shape[0] < 256:
        raise ValueError("t_ps/channel lengths differ or chan_code is not 256 long")
    if n_slots == 0:
        raise ValueError("empty transmitter record")
    if n == 0:
        return (alice, bob, kslots, kint, sifted, disclosed, errors, detected, 0, 0, 0)
    with nogil:
        for i in range(n + 1):
            if i < n:
                c = chan_code[channel[i]]
                if c == 255:
                    n_ign += 1
                    continue
                x = (t_ps[i] - offset_ps) * inv
                k = <int64_t>(x + 0.5)
                if x + 0.5 < k:
                    k -= 1
                r = x - k
                if r > half or r < -half:
                    n_out += 1
                    continue
                if k < 0 or k >= n_slots:
                    n_out += 1
                    continue
                if k == cur:
                    group += 1
                    if group == 1:
                        n_multi += 1
                    mask |= <uint8_t>(1 << c)
                    continue
            # a new slot (or the end): finish the previous group
            if cur >= 0:
                if group > 0:
                    cur_code = pick_code(mask, cur, pick_seed)
                _sift_one(cur, cur_code, &tx_packed[0], n_int, thr,
                          z_sample_fraction >= 1 or n_assigned < n_sync, &rs, &sf[0, 0], &dc[0, 0], &er[0, 0],
                          &dt[0], &ka[0], &kb[0], &ks[0], &ki[0], &nk)
                n_assigned += 1
            if i < n:
                cur = k
                cur_code = c
                group = 0
                mask = <uint8_t>(1 << c)
    return (alice[:nk], bob[:nk], kslots[:nk], kint[:nk], sifted, disclosed, errors, detected, n_out, n_multi,
            n_ign)
