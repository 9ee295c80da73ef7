# cython: language_level=3
"""Kernels of rate-adaptive LDPC reconciliation over quasi-cyclic (QC) codes: syndromes and a layered,
normalised min-sum decoder. The codes, the rate policy and the protocol are in :mod:`qkd.postprocess.ldpc`.

A QC code is a base matrix of ``mb`` rows × ``nb`` columns lifted by ``Z``: base entry (r, j) with shift s
is the Z×Z circulant permutation joining check ``r·Z + z`` to variable ``j·Z + (z + s) mod Z``. The rows of
the base matrix are given CSR-style: entries ``row_start[r] … row_start[r+1]-1`` with column ``ent_col[e]``
and shift ``ent_shift[e]``; a base row holds each column at most once, so the Z checks of a row touch
every variable at most once and form one *layer* of the decoder.

Decoder (``ldpc_minsum.h``: layered normalised min-sum; Chen & Fossorier, "Near optimum universal belief propagation based
decoding of LDPC codes", IEEE Trans. Commun. 50 (2002) for the normalisation; Hocevar, "A reduced
complexity decoder architecture via layered decoding of LDPC codes", SiPS 2004 for the schedule). Syndrome
decoding as in Elkouss, Martinez-Mateo, Martin, "Information reconciliation for QKD", Quantum Inf. Comput.
11 (2011): the target syndrome bit of a check flips the sign of every message it sends. Values are
log-likelihood ratios log(P(x=0)/P(x=1)) in nats, float32. Every layer is processed Z checks at a time
over contiguous (rotated) slices, so the inner loops are plain vector loops; the decoder runs without the
GIL, so frames decode in parallel from threads.
"""

import numpy as np
cimport numpy as cnp
from libc.stdlib cimport malloc, free
from libc.string cimport memset

cnp.import_array()

ctypedef unsigned char u8

cdef extern from "ldpc_minsum.h" nogil:
    ctypedef int int32_t
    int ldpc_decode_layered(const int32_t* row_start, const int32_t* ent_col, const int32_t* ent_shift, int mb,
                            int Z, Py_ssize_t n, const float* llr, const u8* syn, u8* out, float alpha,
                            int max_iter, int patience, float* L, float* R, float* t, float* min1, float* min2, int32_t* idx,
                            float* sgn, u8* hard, u8* acc)


cdef int _check_code(const int32_t[::1] row_start, const int32_t[::1] ent_col, const int32_t[::1] ent_shift,
                     int Z, Py_ssize_t n, Py_ssize_t m) except -1:
    cdef Py_ssize_t mb = row_start.shape[0] - 1, e
    if Z <= 0 or mb <= 0:
        raise ValueError(f"bad QC code: Z = {Z}, {mb} base rows")
    if m != mb * Z:
        raise ValueError(f"syndrome of {m} bits for a code of {mb * Z} checks")
    if row_start[0] != 0 or row_start[mb] != ent_col.shape[0] or ent_shift.shape[0] != ent_col.shape[0]:
        raise ValueError("bad QC code: row_start does not index ent_col / ent_shift")
    for e in range(ent_col.shape[0]):
        if ent_col[e] < 0 or (ent_col[e] + 1) * <Py_ssize_t>Z > n or ent_shift[e] < 0 or ent_shift[e] >= Z:
            raise ValueError(f"bad QC code entry {e}: column {ent_col[e]}, shift {ent_shift[e]} (Z = {Z}, n = {n})")
    return 0


cdef void _syndrome(const int32_t* row_start, const int32_t* ent_col, const int32_t* ent_shift, int mb, int Z,
                    const u8* x, u8* out) noexcept nogil:
    cdef int r, e, z, s
    cdef const u8* col
    cdef u8* acc
    for r in range(mb):
        acc = out + <Py_ssize_t>r * Z
        memset(acc, 0, Z)
        for e in range(row_start[r], row_start[r + 1]):
            col = x + <Py_ssize_t>ent_col[e] * Z
            s = ent_shift[e]
            for z in range(Z - s):
                acc[z] ^= col[z + s]
            for z in range(Z - s, Z):
                acc[z] ^= col[z + s - Z]


def syndrome(const int32_t[::1] row_start, const int32_t[::1] ent_col, const int32_t[::1] ent_shift, int Z,
             const u8[::1] x) -> np.ndarray:
    """H·x over GF(2) for a word ``x`` of 0/1 bytes (length nb·Z): ``mb·Z`` syndrome bits as 0/1 bytes."""
    cdef Py_ssize_t mb = row_start.shape[0] - 1
    out = np.empty(mb * Z, dtype=np.uint8)
    cdef u8[::1] o = out
    _check_code(row_start, ent_col, ent_shift, Z, x.shape[0], mb * Z)
    with nogil:
        _syndrome(&row_start[0], &ent_col[0], &ent_shift[0], <int>mb, Z, &x[0], &o[0])
    return out


def decode(const int32_t[::1] row_start, const int32_t[::1] ent_col, const int32_t[::1] ent_shift, int Z,
           const float[::1] llr, const u8[::1] syndrome, float alpha=0.8, int max_iter=60,
           int patience=0):
    """Layered normalised min-sum decoding of the word whose syndrome is ``syndrome``.

    ``llr``: per variable log(P(0)/P(1)) (nats; 0 for a punctured bit, ±large for a known one). Returns
    ``(bits, iterations)``: ``iterations`` > 0 when ``bits`` satisfy the syndrome (found after that many
    iterations); ``-iterations run`` when no such word was found — after ``max_iter`` iterations, or earlier
    when ``patience`` > 0 and the count of unsatisfied checks reached no new minimum for ``patience``
    iterations (a stalled decoding). ``bits`` is then the last hard decision and must not be used as a
    correction."""
    cdef Py_ssize_t mb = row_start.shape[0] - 1, n = llr.shape[0]
    _check_code(row_start, ent_col, ent_shift, Z, n, syndrome.shape[0])
    if n != (n // Z) * Z:
        raise ValueError(f"word of {n} bits is not a multiple of Z = {Z}")
    if max_iter <= 0 or patience < 0:
        raise ValueError(f"max_iter must be positive and patience non-negative, got {max_iter}, {patience}")
    cdef Py_ssize_t n_edges = row_start[mb], max_deg = 0, r
    for r in range(mb):
        if row_start[r + 1] - row_start[r] > max_deg:
            max_deg = row_start[r + 1] - row_start[r]
    out = np.empty(n, dtype=np.uint8)
    cdef u8[::1] o = out
    cdef float* L = <float*>malloc(n * sizeof(float))
    cdef float* R = <float*>malloc(n_edges * Z * sizeof(float))
    cdef float* t = <float*>malloc(max_deg * Z * sizeof(float))
    cdef float* min1 = <float*>malloc(Z * sizeof(float))
    cdef float* min2 = <float*>malloc(Z * sizeof(float))
    cdef int32_t* idx = <int32_t*>malloc(Z * sizeof(int32_t))
    cdef float* sgn = <float*>malloc(Z * sizeof(float))
    cdef u8* hard = <u8*>malloc(n)
    cdef u8* acc = <u8*>malloc(Z)
    cdef int its = 0
    try:
        if not (L and R and t and min1 and min2 and idx and sgn and hard and acc):
            raise MemoryError("LDPC decoder buffers")
        with nogil:
            its = ldpc_decode_layered(&row_start[0], &ent_col[0], &ent_shift[0], <int>mb, Z, n, &llr[0], &syndrome[0], &o[0],
                          alpha, max_iter, patience, L, R, t, min1, min2, idx, sgn, hard, acc)
    finally:
        free(L); free(R); free(t); free(min1); free(min2); free(idx); free(sgn); free(hard); free(acc)
    return out, its
