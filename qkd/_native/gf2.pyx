# cython: language_level=3
"""GF(2)[x] kernels on bit-packed words: carry-less products, GF(2^128) polynomial hash, Toeplitz hashing.

Bit convention everywhere: bit ``i`` of a packed array is bit ``i % 64`` (least significant first) of
word ``i // 64``, i.e. ``numpy.packbits(bits, bitorder="little")`` viewed as little-endian ``uint64``.
A GF(2)[x] polynomial stores the coefficient of ``x^i`` in bit ``i``.

* ``clmul_poly(a, b)``: the product in GF(2)[x]: Karatsuba on 64-bit carry-less products (``PCLMULQDQ``
  when the CPU has it, else portable code; product-scanning schoolbook up to 32 words), and for long operands
  the additive FFT over GF(2^64) of Lin, Chung and Han (2014) on Cantor's basis (see ``gf2_clmul.h``).
  Exact finite-field arithmetic: no floating-point rounding at any size.
* ``toeplitz_fft(x, n_bits, seed, out_bits)``: the Toeplitz hash ``y = T x`` with ``T[i, j] =
  seed[i - j + n - 1]`` (an ``out_bits x n_bits`` matrix given by ``n_bits + out_bits - 1`` seed bits), the
  coefficients ``n-1 … n-1+out_bits-1`` of ``seed(x) * x(x)``, by the additive FFT with the input cut into
  pieces whose products are summed in the transform domain.
* Hardware: PCLMULQDQ (SSE) and, for the FFT kernels, VPCLMULQDQ + AVX2 are used when the CPU has them
  (``__builtin_cpu_supports``, checked once); otherwise, and on non-x86 builds, portable shift-and-xor code.
  :func:`use_hardware_clmul` caps the level so the tests compare all of them.
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

# Cantor basis, twiddle tables and the CPU's hardware level are set once here, under the GIL, before any
# product runs without it.
qs_fft_init()
qs_set_hardware(2)

cdef extern from "gf2_clmul.h":
    void qs_mul_base(uint64_t *r, const uint64_t *a, const uint64_t *b, size_t n) nogil
    int qs_mul(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) nogil
    int qs_mul_karatsuba(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) nogil
    int qs_mul_fft(uint64_t *r, const uint64_t *a, size_t na, const uint64_t *b, size_t nb) nogil
    void qs_gf128_mul(const uint64_t *a, const uint64_t *b, uint64_t *out) nogil
    uint64_t qs_gf64_mul(uint64_t a, uint64_t b) nogil
    int qs_set_hardware(int allow) nogil
    int qs_fft_init() nogil
    int qs_toeplitz_fft(uint64_t *y, const uint64_t *x, size_t n, const uint64_t *s, size_t ell,
                        size_t pieces) nogil
    size_t qs_toeplitz_pieces(size_t n, size_t ell) nogil
    size_t qs_fft_threshold


cdef _product(const uint64_t[::1] a, const uint64_t[::1] b, int method):
    cdef Py_ssize_t na = a.shape[0], nb = b.shape[0]
    out = np.zeros(na + nb, dtype=np.uint64)
    cdef uint64_t[::1] r = out
    cdef int rc = 0
    if na == 0 or nb == 0:
        return out
    with nogil:
        if method == 0:
            rc = qs_mul(&r[0], &a[0], na, &b[0], nb)
        elif method == 1:
            rc = qs_mul_karatsuba(&r[0], &a[0], na, &b[0], nb)
        else:
            rc = qs_mul_fft(&r[0], &a[0], na, &b[0], nb)
    if rc == -1:
        raise MemoryError(f"GF(2)[x] product: no memory for {na} x {nb} words")
    if rc != 0:
        raise ValueError(f"GF(2)[x] product of {na} x {nb} words: FFT failed (code {rc})")
    return out


def clmul_poly(const uint64_t[::1] a, const uint64_t[::1] b):
    """Product of two GF(2)[x] polynomials (packed words): ``len(a) + len(b)`` words.

    Karatsuba on carry-less 64-bit products while the shorter operand has fewer than
    :func:`fft_threshold` words, the additive FFT over GF(2^64) from there on; both exact."""
    return _product(a, b, 0)


def clmul_poly_karatsuba(const uint64_t[::1] a, const uint64_t[::1] b):
    """The product by Karatsuba over carry-less 64-bit products at every size (tests, benchmark)."""
    return _product(a, b, 1)


def clmul_poly_fft(const uint64_t[::1] a, const uint64_t[::1] b):
    """The product by the additive FFT over GF(2^64) (Lin-Chung-Han 2014, Cantor basis) at every size."""
    return _product(a, b, 2)


def toeplitz_fft(const uint64_t[::1] x, Py_ssize_t n_bits, const uint64_t[::1] seed, Py_ssize_t out_bits,
                 Py_ssize_t pieces=0):
    """Toeplitz hash ``y = T x`` (``T[i, j] = seed[i - j + n - 1]``) by the additive FFT over GF(2^64).

    ``x``: ``ceil(n/64)`` words, ``seed``: ``ceil((n + l - 1)/64)`` words, both with the bits above their
    length zero; returns ``ceil(l/64)`` words. The input is cut into ``pieces`` pieces (0: the count with
    the smallest estimated cost, :func:`toeplitz_pieces`) whose products with their seed segments are summed
    in the transform domain (2P forward transforms, one inverse)."""
    cdef size_t n = n_bits, ell = out_bits, P = pieces
    if n_bits <= 0 or out_bits <= 0 or pieces < 0:
        raise ValueError(f"Toeplitz FFT needs n > 0, l > 0, pieces >= 0; got {n_bits}, {out_bits}, {pieces}")
    if x.shape[0] < <Py_ssize_t>((n + 63) // 64) or seed.shape[0] < <Py_ssize_t>((n + ell - 1 + 63) // 64):
        raise ValueError(f"Toeplitz FFT: {x.shape[0]} input / {seed.shape[0]} seed words are too few")
    out = np.zeros((ell + 63) // 64, dtype=np.uint64)
    cdef uint64_t[::1] y = out
    cdef int rc
    with nogil:
        rc = qs_toeplitz_fft(&y[0], &x[0], n, &seed[0], ell, P)
    if rc == -1:
        raise MemoryError(f"Toeplitz FFT: no memory for n={n_bits}, l={out_bits}")
    if rc != 0:
        raise ValueError(f"Toeplitz FFT failed for n={n_bits}, l={out_bits} (code {rc})")
    return out


def toeplitz_pieces(Py_ssize_t n_bits, Py_ssize_t out_bits) -> int:
    """The number of input pieces :func:`toeplitz_fft` uses by default for these sizes."""
    return qs_toeplitz_pieces(n_bits, out_bits)


def fft_threshold() -> int:
    """Words of the shorter operand from which :func:`clmul_poly` uses the FFT."""
    return qs_fft_threshold


def set_fft_threshold(Py_ssize_t words) -> int:
    """Set the FFT threshold (words, >= 1); returns the previous value (tests and the benchmark)."""
    global qs_fft_threshold
    if words < 1:
        raise ValueError(f"FFT threshold must be >= 1 word, got {words}")
    old = qs_fft_threshold
    qs_fft_threshold = words
    return old


def use_hardware_clmul(int level=2) -> int:
    """Cap the hardware used: 2 (default) VPCLMULQDQ + AVX2 for the FFT if the CPU has them, 1 PCLMULQDQ
    (SSE), 0 the portable shift-and-xor code that non-x86 builds use. Returns the level in use, so the tests
    can compare every level on one machine."""
    return qs_set_hardware(level)


def gf64_mul(uint64_t a, uint64_t b) -> int:
    """Product in GF(2^64) = GF(2)[t] / (t^64 + t^4 + t^3 + t + 1) (the FFT's field)."""
    return qs_gf64_mul(a, b)


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
