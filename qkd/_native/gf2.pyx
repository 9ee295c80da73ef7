# cython: language_level=3
"""GF(2)[x] kernels on bit-packed words: carry-less products, GF(2^128) polynomial hash, Toeplitz hashing.

Bit convention everywhere: bit ``i`` of a packed array is bit ``i % 64`` (least significant first) of
word ``i // 64``, i.e. ``numpy.packbits(bits, bitorder="little")`` viewed as little-endian ``uint64``.
A GF(2)[x] polynomial stores the coefficient of ``x^i`` in bit ``i``.

* ``clmul_poly(a, b)``: the product in GF(2)[x], Karatsuba on 64-bit ``PCLMULQDQ`` carry-less products
  (product-scanning schoolbook up to 32 words). Exact integer arithmetic: no floating-point rounding at any size.
* ``toeplitz_middle(seed, x, n_bits, out_bits)``: the Toeplitz hash ``y = T x`` with ``T[i, j] =
  seed[i - j + n - 1]`` (an ``out_bits x n_bits`` matrix given by ``n_bits + out_bits - 1`` seed bits),
  computed as coefficients ``n-1 … n-1+out_bits-1`` of the product ``seed(x) * x(x)``.
* ``gf128_mul`` / ``gf128_polyhash``: arithmetic in GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1)
  (the GCM polynomial, in plain not bit-reflected order) and the polynomial (Horner) hash
  ``h_k(m) = sum_i m_i k^(L-i+2) + len(m) k`` of Carter–Wegman / Bernstein's "polynomial evaluation"
  family: two distinct messages of at most L blocks collide for at most (L+1) keys k out of 2^128.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy

cnp.import_array()

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <immintrin.h>

    __attribute__((target("pclmul,sse4.1")))
    static inline void qs_clmul64(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi) {
        __m128i va = _mm_cvtsi64_si128((long long)a);
        __m128i vb = _mm_cvtsi64_si128((long long)b);
        __m128i r = _mm_clmulepi64_si128(va, vb, 0x00);
        *lo = (uint64_t)_mm_cvtsi128_si64(r);
        *hi = (uint64_t)_mm_extract_epi64(r, 1);
    }

    /* r[0 .. 2n) = a[0..n) * b[0..n) (schoolbook by product scanning: every output word pair is
       accumulated in a register; r must not alias a or b). */
    __attribute__((target("pclmul,sse4.1")))
    static void qs_mul_base(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n) {
        __m128i carry = _mm_setzero_si128();
        for (size_t k = 0; k + 1 < 2 * n; k++) {
            size_t lo = k + 1 > n ? k + 1 - n : 0, hi = k < n ? k : n - 1;
            __m128i acc = _mm_setzero_si128();
            for (size_t i = lo; i <= hi; i++) {
                __m128i va = _mm_loadl_epi64((const __m128i *)(a + i));
                __m128i vb = _mm_loadl_epi64((const __m128i *)(b + k - i));
                acc = _mm_xor_si128(acc, _mm_clmulepi64_si128(va, vb, 0x00));
            }
            /* word k gets acc.lo ^ previous acc.hi */
            acc = _mm_xor_si128(acc, carry);
            r[k] = (uint64_t)_mm_cvtsi128_si64(acc);
            carry = _mm_srli_si128(acc, 8);
        }
        r[2 * n - 1] = (uint64_t)_mm_cvtsi128_si64(carry);
    }

    /* Scratch words needed by qs_kara for size n. */
    static size_t qs_kara_scratch(size_t n) {
        size_t s = 0;
        while (n > 32) { size_t h = (n + 1) / 2; s += 4 * h; n = h; }
        return s + 8;
    }

    /* r[0 .. 2n) = a * b, Karatsuba with split h = ceil(n/2); scratch from qs_kara_scratch(n). */
    static void qs_kara(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n, uint64_t *t) {
        if (n <= 32) { qs_mul_base(r, a, b, n); return; }
        size_t h = (n + 1) / 2, l = n - h;  /* l <= h */
        uint64_t *sa = t, *sb = t + h, *pm = t + 2 * h, *rest = t + 4 * h;
        /* p0 -> r[0..2h), p2 -> r[2h .. 2h+2l) = r[2h .. 2n) */
        qs_kara(r, a, b, h, rest);
        if (l == h) {
            qs_kara(r + 2 * h, a + h, b + h, l, rest);
        } else {
            /* pad a1, b1 to h words in sa/sb temporarily */
            memcpy(sa, a + h, l * sizeof(uint64_t)); memset(sa + l, 0, (h - l) * sizeof(uint64_t));
            memcpy(sb, b + h, l * sizeof(uint64_t)); memset(sb + l, 0, (h - l) * sizeof(uint64_t));
            qs_kara(pm, sa, sb, h, rest);              /* 2h words, top 2(h-l) are zero */
            memcpy(r + 2 * h, pm, 2 * l * sizeof(uint64_t));
        }
        for (size_t i = 0; i < h; i++) {
            sa[i] = a[i] ^ (i < l ? a[h + i] : 0);
            sb[i] = b[i] ^ (i < l ? b[h + i] : 0);
        }
        qs_kara(pm, sa, sb, h, rest);
        /* pm ^= p0 ^ p2 */
        for (size_t i = 0; i < 2 * h; i++) pm[i] ^= r[i];
        for (size_t i = 0; i < 2 * l; i++) pm[i] ^= r[2 * h + i];
        for (size_t i = 0; i < 2 * h; i++) r[h + i] ^= pm[i];
    }

    /* r[0 .. na+nb) = a[0..na) * b[0..nb), unbalanced: cut the longer operand into pieces. */
    static int qs_mul(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
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
            size_t lim = m + nb;
            for (size_t i = 0; i < lim; i++) r[off + i] ^= prod[i];
        }
        free(t);
        return 0;
    }

    /* GF(2^128) multiply, modulus x^128 + x^7 + x^2 + x + 1, plain polynomial order. */
    __attribute__((target("pclmul,sse4.1")))
    static void qs_gf128_mul(const uint64_t *a, const uint64_t *b, uint64_t *out) {
        uint64_t l0, h0, l1, h1, l2, h2, l3, h3;
        qs_clmul64(a[0], b[0], &l0, &h0);
        qs_clmul64(a[1], b[1], &l3, &h3);
        qs_clmul64(a[0], b[1], &l1, &h1);
        qs_clmul64(a[1], b[0], &l2, &h2);
        uint64_t w0 = l0, w1 = h0 ^ l1 ^ l2, w2 = h1 ^ h2 ^ l3, w3 = h3;
        /* fold w3 (x^192..) and w2 (x^128..): x^128 = x^7 + x^2 + x + 1 */
        uint64_t c3 = (w3 >> 63) ^ (w3 >> 62) ^ (w3 >> 57);      /* overflow of w3 above 2^64 */
        w2 ^= c3;
        w1 ^= w3 ^ (w3 << 1) ^ (w3 << 2) ^ (w3 << 7);
        uint64_t c2 = (w2 >> 63) ^ (w2 >> 62) ^ (w2 >> 57);
        w1 ^= c2;
        w0 ^= w2 ^ (w2 << 1) ^ (w2 << 2) ^ (w2 << 7);
        out[0] = w0; out[1] = w1;
    }
    """
    void qs_mul_base(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n) nogil
    int qs_mul(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) nogil
    void qs_gf128_mul(const uint64_t *a, const uint64_t *b, uint64_t *out) nogil


def clmul_poly(const uint64_t[::1] a, const uint64_t[::1] b):
    """Product of two GF(2)[x] polynomials (packed words): ``len(a) + len(b)`` words."""
    cdef Py_ssize_t na = a.shape[0], nb = b.shape[0]
    out = np.zeros(na + nb, dtype=np.uint64)
    cdef uint64_t[::1] r = out
    cdef int rc = 0
    if na == 0 or nb == 0:
        return out
    with nogil:
        rc = qs_mul(&r[0], &a[0], na, &b[0], nb)
    if rc != 0:
        raise MemoryError(f"clmul_poly: no scratch memory for {na} x {nb} words")
    return out


def clmul_poly_schoolbook(const uint64_t[::1] a, const uint64_t[::1] b):
    """Reference product (schoolbook, equal word counts only): for tests and the benchmark baseline."""
    cdef Py_ssize_t n = a.shape[0]
    if b.shape[0] != n:
        raise ValueError(f"schoolbook product needs equal lengths, got {n} and {b.shape[0]} words")
    out = np.zeros(2 * n, dtype=np.uint64)
    cdef uint64_t[::1] r = out
    if n:
        with nogil:
            qs_mul_base(&r[0], &a[0], &b[0], n)
    return out


def extract_bits(const uint64_t[::1] words, Py_ssize_t start_bit, Py_ssize_t n_bits):
    """Bits ``start_bit … start_bit+n_bits-1`` of a packed array, repacked from bit 0 (packed words)."""
    cdef Py_ssize_t n_out = (n_bits + 63) // 64, w, src
    cdef int sh = start_bit % 64
    cdef Py_ssize_t base = start_bit // 64, nw = words.shape[0]
    if start_bit < 0 or n_bits < 0 or start_bit + n_bits > nw * 64:
        raise ValueError(f"bit range {start_bit}+{n_bits} outside {nw * 64} bits")
    out = np.zeros(n_out, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    cdef uint64_t lo, hi
    with nogil:
        for w in range(n_out):
            src = base + w
            lo = words[src] if src < nw else 0
            if sh == 0:
                o[w] = lo
            else:
                hi = words[src + 1] if src + 1 < nw else 0
                o[w] = (lo >> sh) | (hi << (64 - sh))
        if n_bits % 64:
            o[n_out - 1] &= ((<uint64_t>1) << (n_bits % 64)) - 1
    return out


def gf128_mul(const uint64_t[::1] a, const uint64_t[::1] b):
    """Product in GF(2^128) of two elements given as 2 little-endian words each."""
    out = np.zeros(2, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    if a.shape[0] != 2 or b.shape[0] != 2:
        raise ValueError("GF(2^128) elements are 2 words")
    qs_gf128_mul(&a[0], &b[0], &o[0])
    return out


def gf128_polyhash(const uint64_t[::1] key, const uint64_t[::1] message, unsigned long long n_bits):
    """Polynomial hash of ``message`` (packed, ``n_bits`` long, zero padded to 128-bit blocks) under ``key``.

    Horner evaluation ``h <- (h + m_i) * k`` over the blocks, then ``h <- (h + n_bits) * k`` so that
    messages of different lengths are distinct polynomials. Returns 2 words.
    """
    cdef Py_ssize_t nw = message.shape[0], i
    cdef uint64_t h[2]
    cdef uint64_t blk[2]
    if key.shape[0] != 2:
        raise ValueError("GF(2^128) key is 2 words")
    if <unsigned long long>nw * 64 < n_bits:
        raise ValueError(f"message has {nw * 64} bits, fewer than n_bits={n_bits}")
    h[0] = 0
    h[1] = 0
    with nogil:
        i = 0
        while i < nw:
            blk[0] = h[0] ^ message[i]
            blk[1] = h[1] ^ (message[i + 1] if i + 1 < nw else 0)
            qs_gf128_mul(blk, &key[0], h)
            i += 2
        blk[0] = h[0] ^ <uint64_t>n_bits
        blk[1] = h[1]
        qs_gf128_mul(blk, &key[0], h)
    return np.array([h[0], h[1]], dtype=np.uint64)
