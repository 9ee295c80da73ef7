# cython: language_level=3
"""Kernels of rate-adaptive LDPC reconciliation over quasi-cyclic (QC) codes: syndromes and a layered decoder
(normalised min-sum, sum-product, or the fixed-point φ-sum approximation of sum-product). The codes, the rate
policy and the protocol are in :mod:`qkd.postprocess.ldpc`.

A QC code is a base matrix of ``mb`` rows × ``nb`` columns lifted by ``Z``: base entry (r, j) with shift s
is the Z×Z circulant permutation joining check ``r·Z + z`` to variable ``j·Z + (z + s) mod Z``. The rows of
the base matrix are given CSR-style: entries ``row_start[r] … row_start[r+1]-1`` with column ``ent_col[e]``
and shift ``ent_shift[e]``; a base row holds each column at most once, so the Z checks of a row touch
every variable at most once and form one *layer* of the decoder.

Decoder (``ldpc_minsum.h``): layered schedule (Hocevar, "A reduced complexity decoder architecture via layered
decoding of LDPC codes", SiPS 2004); check update either normalised min-sum (Chen & Fossorier, "Near optimum
universal belief propagation based decoding of LDPC codes", IEEE Trans. Commun. 50 (2002)) or sum-product in the
φ domain (φ(x) = −ln tanh(x/2); Richardson & Urbanke, *Modern Coding Theory* (2008)). Syndrome decoding as in
Elkouss, Martinez-Mateo, Martin, "Information reconciliation for QKD", Quantum Inf. Comput. 11 (2011): the target
syndrome bit of a check flips the sign of every message it sends. Values are log-likelihood ratios
log(P(x=0)/P(x=1)) in nats, float32 (min-sum: int16 fixed point, 1/8 nat). The φ-sum (``algorithm="phi-sum"``)
keeps min-sum's compressed messages but sums the inputs in the φ domain (a 128-entry table, int16, 1/16 nat; the
approximate-min* rule of Jones et al., MILCOM 2003, with a first-order correction for each edge's own term): it
decodes the BSC-optimised codes within a few iterations of float sum-product, several times faster (ldpc_chunk.h).
A layer is processed 8 or 16 checks
(int16 fixed point: 16 or 32; int8 min-sum: 32 or 64) at a time in SIMD lanes over contiguous (rotated) slices,
by the build for the CPU's widest vectors (AVX-512, AVX2 or the x86-64 baseline); the decoder runs without the GIL,
so frames decode in parallel from threads.
"""

import numpy as np
cimport numpy as cnp
from libc.stdlib cimport malloc, free
from libc.string cimport memset

cnp.import_array()
ldpc_phi_out_init()     # the φ-sum's message / slope table, before any decoder runs (ldpc_minsum.h)

ctypedef unsigned char u8

cdef extern from "ldpc_minsum.h" nogil:
    ctypedef int int32_t
    int LDPC_WMAX
    int ldpc_lanes()
    int LDPC_MIN_SUM_Q
    int LDPC_SUM_PRODUCT
    int LDPC_MIN_SUM_F
    int LDPC_PHI_SUM_Q
    int LDPC_MIN_SUM_Q8
    int LDPC_PHI_N
    const short* ldpc_phi_table
    void ldpc_phi_lookup(int lanes, const short* mag, short* out, Py_ssize_t n)
    void ldpc_phi_out_init()
    void ldpc_syndrome(const int32_t* row_start, const int32_t* ent_col, const int32_t* ent_shift, int mb, int Z,
                       const u8* x, u8* out)
    int ldpc_phi_out_entry(int y)
    int ldpc_decode_layered(int lanes, int algorithm, const int32_t* row_start, const int32_t* ent_col,
                            const int32_t* ent_shift, int mb, int Z, Py_ssize_t n, const float* llr, const u8* syn,
                            u8* out, float alpha, int max_iter, int patience, float* L, float* R, int32_t* sb,
                            float* cm1, float* cm2, int32_t* cidx, int32_t* csg, int32_t* cg, float* tb, float* pb,
                            int32_t* synm, u8* hard, u8* acc, float q8_scale)


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


def syndrome(const int32_t[::1] row_start, const int32_t[::1] ent_col, const int32_t[::1] ent_shift, int Z,
             const u8[::1] x) -> np.ndarray:
    """H·x over GF(2) for a word ``x`` of 0/1 bytes (length nb·Z): ``mb·Z`` syndrome bits as 0/1 bytes."""
    cdef Py_ssize_t mb = row_start.shape[0] - 1
    out = np.empty(mb * Z, dtype=np.uint8)
    cdef u8[::1] o = out
    _check_code(row_start, ent_col, ent_shift, Z, x.shape[0], mb * Z)
    with nogil:
        ldpc_syndrome(&row_start[0], &ent_col[0], &ent_shift[0], <int>mb, Z, &x[0], &o[0])
    return out


cdef int _outside(const long long[::1] positions, Py_ssize_t at, Py_ssize_t n, str what) except -1:
    """Raise for ``positions[at]``, which is outside 0 … n−1 (the loops below check every position as they use it:
    a predictable branch beside a scatter or gather that costs a memory access anyway)."""
    raise ValueError(f"{what} position {positions[at]} (entry {at}) outside a frame of {n} bits")


def frame_llr(const u8[::1] bits, const long long[::1] key, const long long[::1] shortened, Py_ssize_t n,
              float magnitude, float known) -> np.ndarray:
    """Bob's channel values of a frame of ``n`` bits (float32, nats): ±``magnitude`` at ``key[i]`` for his bit
    ``bits[i]`` = 0 / 1 (0/1 bytes), +``known`` at the ``shortened`` positions (zero bits both ends know), 0 elsewhere
    (punctured: nothing known). One pass without the GIL in place of numpy's scatter and temporaries."""
    if bits.shape[0] != key.shape[0]:
        raise ValueError(f"{bits.shape[0]} bits for {key.shape[0]} key positions")
    out = np.zeros(n, dtype=np.float32)
    cdef float[::1] o = out
    cdef float value[2]
    value[0], value[1] = magnitude, -magnitude
    cdef Py_ssize_t i, bad_short = -1, bad_key = -1
    cdef long long p
    with nogil:
        for i in range(shortened.shape[0]):
            p = shortened[i]
            if <unsigned long long>p >= <unsigned long long>n:
                bad_short = i
                break
            o[p] = known
        if bad_short < 0:
            for i in range(key.shape[0]):
                p = key[i]
                if <unsigned long long>p >= <unsigned long long>n:
                    bad_key = i
                    break
                o[p] = value[bits[i] & 1]     # by index, not a branch: the bits are random
    if bad_short >= 0:
        _outside(shortened, bad_short, n, "shortened")
    if bad_key >= 0:
        _outside(key, bad_key, n, "key")
    return out


def frame_word(const u8[::1] bits, const long long[::1] key, Py_ssize_t n) -> np.ndarray:
    """A frame's word of ``n`` 0/1 bytes holding ``bits[i]`` at ``key[i]``, zero elsewhere."""
    if bits.shape[0] != key.shape[0]:
        raise ValueError(f"{bits.shape[0]} bits for {key.shape[0]} key positions")
    out = np.zeros(n, dtype=np.uint8)
    cdef u8[::1] o = out
    cdef Py_ssize_t i, bad = -1
    cdef long long p
    with nogil:
        for i in range(key.shape[0]):
            p = key[i]
            if <unsigned long long>p >= <unsigned long long>n:
                bad = i
                break
            o[p] = bits[i]
    if bad >= 0:
        _outside(key, bad, n, "key")
    return out


def take_bits(const u8[::1] word, const long long[::1] positions) -> np.ndarray:
    """``word[positions]`` (0/1 bytes) without the GIL: a frame's key bits out of its word."""
    out = np.empty(positions.shape[0], dtype=np.uint8)
    cdef u8[::1] o = out
    cdef Py_ssize_t i, bad = -1, n = word.shape[0]
    cdef long long p
    with nogil:
        for i in range(positions.shape[0]):
            p = positions[i]
            if <unsigned long long>p >= <unsigned long long>n:
                bad = i
                break
            o[i] = word[p]
    if bad >= 0:
        _outside(positions, bad, n, "key")
    return out


def lanes() -> int:
    """Checks the decoder processes together on this CPU: 16 with AVX-512, else 8."""
    return ldpc_lanes()


#: the decoder's check-node rules by name (``decode(algorithm=…)``)
ALGORITHMS = ("min-sum", "min-sum-float", "sum-product", "phi-sum", "min-sum-8")


def phi_table() -> np.ndarray:
    """The φ-sum decoder's table (int16): entry i = min(32767, round(8192·φ((2i + ½)/16))), φ(x) = −ln tanh(x/2), for
    input magnitudes 2i/16 and (2i + 1)/16 nat (larger ones take the last entry, 0)."""
    return np.array([ldpc_phi_table[i] for i in range(LDPC_PHI_N)], dtype=np.int16)


def phi_out_table() -> np.ndarray:
    """The φ-sum's message and slope per φ-domain sum y = 0 … 32767 (2^−13 nat), as its decoder looks them up:
    int16 columns (φ(y) in 1/16 nat, G = min(round(256·e^−y / (1 − e^−2y)), 32767)), filled at import from the float
    evaluation. For the tests."""
    out = np.empty((32768, 2), dtype=np.int16)
    cdef int y, e
    for y in range(32768):
        e = ldpc_phi_out_entry(y)
        out[y, 0] = <short>(e & 0xffff)
        out[y, 1] = <short>(e >> 16)
    return out


def phi_lookup(const short[::1] magnitudes, int lanes=0) -> np.ndarray:
    """The φ-sum decoder's table lookup as its compiled loop runs it on this CPU (``lanes`` as in :func:`decode`):
    φ of each magnitude (int16, 1/16 nat, 0 … 32767) in 2^−13 nat — entry ``min(m >> 1, 127)`` of :func:`phi_table`.
    For the tests; the length must be a multiple of 32."""
    cdef Py_ssize_t n = magnitudes.shape[0], i
    if n % 32:
        raise ValueError(f"{n} magnitudes: not a multiple of 32")
    for i in range(n):
        if magnitudes[i] < 0:
            raise ValueError(f"magnitude {magnitudes[i]} at {i} is negative")
    if lanes not in (0, 8, 16) or (lanes == 16 and ldpc_lanes() < 16):
        raise ValueError(f"lanes must be 0, 8 or (with AVX-512) 16, got {lanes}")
    out = np.empty(n, dtype=np.int16)
    cdef short[::1] o = out
    if n:
        ldpc_phi_lookup(ldpc_lanes() if lanes == 0 else lanes, &magnitudes[0], &o[0], n)
    return out


def decode(const int32_t[::1] row_start, const int32_t[::1] ent_col, const int32_t[::1] ent_shift, int Z,
           const float[::1] llr, const u8[::1] syndrome, float alpha=0.8, int max_iter=60,
           int patience=0, bint sum_product=False, int lanes=0, bint fixed_point=True, str algorithm="",
           float q8_scale=3.5):
    """Layered decoding of the word whose syndrome is ``syndrome``: normalised min-sum (messages scaled by
    ``alpha``; in int16 fixed point, 1/8 nat, α in sixteenths, unless ``fixed_point`` is False), or sum-product
    when ``sum_product`` (float; ``alpha`` unused). ``algorithm`` (one of :data:`ALGORITHMS`), when given, names
    the rule instead of the two flags: "phi-sum" is the int16 fixed-point (1/16 nat) φ-sum approximation of
    sum-product with min-sum's compressed messages (``alpha`` unused; see ldpc_minsum.h). "min-sum-8" is the
    normalised min-sum in int8 lanes (twice the int16 lanes in the same registers): values round(LLR·``q8_scale``)
    clamped to ±127 (the default 3.5 per nat saturates at 36 nat; below about 30 nat, saturated a-posteriori values
    cost decodings at QBER 5–8 %), differences and sums saturating, α in 64ths with the product rounded to nearest.
    It needs Z ≥ 32 and base rows of at most 127 entries; elsewhere the int16 min-sum runs instead.

    ``llr``: per variable log(P(0)/P(1)) (nats; 0 for a punctured bit, ±large for a known one). Returns
    ``(bits, iterations)``: ``iterations`` > 0 when ``bits`` satisfy the syndrome (found after that many
    iterations); ``-iterations run`` when no such word was found — after ``max_iter`` iterations, or earlier
    when ``patience`` > 0 and the count of unsatisfied checks reached no new minimum for ``patience``
    iterations (a stalled decoding). ``bits`` is then the last hard decision and must not be used as a
    correction. ``lanes``: SIMD width of the float decoders, 8 or 16 (0: this CPU's best, :func:`lanes`; the
    fixed-point ones run twice as many int16 lanes); every width gives the same result. Needs Z ≥ 8 (a smaller
    width, or the float rule, is taken where Z is below the lanes a build needs)."""
    cdef Py_ssize_t mb = row_start.shape[0] - 1, n = llr.shape[0]
    _check_code(row_start, ent_col, ent_shift, Z, n, syndrome.shape[0])
    if n != (n // Z) * Z:
        raise ValueError(f"word of {n} bits is not a multiple of Z = {Z}")
    if max_iter <= 0 or patience < 0:
        raise ValueError(f"max_iter must be positive and patience non-negative, got {max_iter}, {patience}")
    if lanes not in (0, 8, 16) or (lanes == 16 and ldpc_lanes() < 16):
        raise ValueError(f"lanes must be 0, 8 or (with AVX-512) 16, got {lanes}")
    if Z < 8:
        raise ValueError(f"circulant size Z = {Z} is below the decoder's 8 lanes")
    if algorithm and algorithm not in ALGORITHMS:
        raise ValueError(f"unknown decoder algorithm {algorithm!r} (expected one of {', '.join(ALGORITHMS)})")
    cdef int alg
    if algorithm:
        alg = {"min-sum": LDPC_MIN_SUM_Q, "min-sum-float": LDPC_MIN_SUM_F, "sum-product": LDPC_SUM_PRODUCT,
               "phi-sum": LDPC_PHI_SUM_Q, "min-sum-8": LDPC_MIN_SUM_Q8}[algorithm]
    else:
        alg = LDPC_SUM_PRODUCT if sum_product else (LDPC_MIN_SUM_Q if fixed_point else LDPC_MIN_SUM_F)
    cdef Py_ssize_t n_edges = row_start[mb], max_deg = 0, r
    for r in range(mb):
        if row_start[r + 1] - row_start[r] > max_deg:
            max_deg = row_start[r + 1] - row_start[r]
    cdef int w = ldpc_lanes() if lanes == 0 else lanes
    if alg == LDPC_MIN_SUM_Q8:
        # int8 lanes: 4·w checks a chunk, edge indices below 128; else the int16 min-sum
        if Z < 4 * w:
            w = 8
        if Z < 32 or max_deg > 127:
            alg = LDPC_MIN_SUM_Q
    cdef bint fixed = alg == LDPC_MIN_SUM_Q or alg == LDPC_PHI_SUM_Q
    if fixed and Z < 2 * w:
        w = 8
    if fixed and Z < 16:
        alg = LDPC_MIN_SUM_F if alg == LDPC_MIN_SUM_Q else LDPC_SUM_PRODUCT
    if Z < w:
        w = 8
    out = np.empty(n, dtype=np.uint8)
    cdef u8[::1] o = out
    cdef int sp = 1 if alg == LDPC_SUM_PRODUCT else 0
    cdef Py_ssize_t m = mb * Z
    cdef Py_ssize_t pad = LDPC_WMAX
    cdef float* Lbuf = <float*>malloc((n + 2 * pad) * sizeof(float))
    cdef float* tb = <float*>malloc(max_deg * pad * sizeof(float))
    cdef float* pb = <float*>malloc(max_deg * pad * sizeof(float))
    cdef int32_t* synm = <int32_t*>malloc((m + pad) * sizeof(int32_t))
    cdef u8* hard = <u8*>malloc(n)
    cdef u8* acc = <u8*>malloc(Z)
    # sum-product: per-edge messages; min-sum: compressed (per-edge input signs, per-check minima / argmin / signs)
    cdef float* R = NULL
    cdef int32_t* sb = NULL
    cdef float* cm1 = NULL
    cdef float* cm2 = NULL
    cdef int32_t* cidx = NULL
    cdef int32_t* csg = NULL
    cdef int32_t* cg = NULL
    cdef bint ok
    cdef int its = 0
    try:
        if sp:
            R = <float*>malloc((n_edges * Z + pad) * sizeof(float))
            ok = R != NULL
        else:
            sb = <int32_t*>malloc((n_edges * (Z + pad) + pad) * sizeof(int32_t))
            cm1 = <float*>malloc((m + pad) * sizeof(float))
            cm2 = <float*>malloc((m + pad) * sizeof(float))
            cidx = <int32_t*>malloc((m + pad) * sizeof(int32_t))
            csg = <int32_t*>malloc((m + pad) * sizeof(int32_t))
            ok = sb != NULL and cm1 != NULL and cm2 != NULL and cidx != NULL and csg != NULL
            if alg == LDPC_PHI_SUM_Q:
                cg = <int32_t*>malloc((m + pad) * sizeof(int32_t))
                ok = ok and cg != NULL
        if not (ok and Lbuf != NULL and tb != NULL and pb != NULL and synm != NULL and hard != NULL and acc != NULL):
            raise MemoryError("LDPC decoder buffers")
        memset(Lbuf, 0, (n + 2 * pad) * sizeof(float))
        with nogil:
            its = ldpc_decode_layered(w, alg, &row_start[0], &ent_col[0], &ent_shift[0], <int>mb, Z, n, &llr[0],
                                      &syndrome[0], &o[0], alpha, max_iter, patience, Lbuf + pad, R, sb, cm1, cm2,
                                      cidx, csg, cg, tb, pb, synm, hard, acc, q8_scale)
    finally:
        free(Lbuf); free(tb); free(pb); free(synm); free(hard); free(acc)
        free(R); free(sb); free(cm1); free(cm2); free(cidx); free(csg); free(cg)
    return out, its
