# cython: language_level=3
"""Cascade pass structure shared by both ends (cascade_passes.pyx): pass kinds, the pass plan, the codes
that name a pass in a parity question on the wire, and the kernels' sizes."""

from libc.stdint cimport uint8_t, uint32_t


cdef enum:
    MAX_PASSES = 64           # passes one reconciliation may open (a pass index fits 6 bits of a question code)
    # Bob's parities of ranges up to this many positions are a direct XOR of his packed bits in pass order;
    # longer ones use prefix parities and a Fenwick tree of his corrections
    SHORT_RANGE = 2048

cdef enum PassKind:
    PASS_IDENTITY = 0         # pass 0: natural order, blocks of k_0
    PASS_SHUFFLED = 1         # a pseudo-random permutation, blocks of k_j
    PASS_HALVES = 2           # block size >= n/2: a pseudo-random half of the key and its complement

# A parity question names its pass in one byte (the "pass code"): for an ordinary pass, the pass index; for a
# HALVES pass, QUESTION_HALVES | block << QUESTION_BLOCK_SHIFT | index, its range then being in key indices.
cdef enum:
    QUESTION_HALVES = 0x80
    QUESTION_BLOCK_SHIFT = 6
    QUESTION_PASS_MASK = 0x3F
    # a question on the wire: its pass code (1 byte), range start and end (big-endian uint32 each); a body
    # holds all codes, then all starts, then all ends
    QUESTION_BYTES = 9


cdef inline uint8_t halves_question_code(int pass_index, Py_ssize_t block) noexcept nogil:
    return <uint8_t>(QUESTION_HALVES | (block << QUESTION_BLOCK_SHIFT) | pass_index)


cdef inline bint is_halves_question(uint8_t code) noexcept nogil:
    return (code & QUESTION_HALVES) != 0


cdef inline int question_pass(uint8_t code) noexcept nogil:
    return code & QUESTION_PASS_MASK


cdef inline int question_block(uint8_t code) noexcept nogil:
    """The HALVES block a question asks about (0: the mask's members, 1: the rest)."""
    return (code >> QUESTION_BLOCK_SHIFT) & 1


cdef inline void store_be32(uint8_t *w, uint32_t v) noexcept nogil:
    w[0] = <uint8_t>(v >> 24)
    w[1] = <uint8_t>(v >> 16)
    w[2] = <uint8_t>(v >> 8)
    w[3] = <uint8_t>v


cdef inline uint32_t load_be32(const uint8_t *r) noexcept nogil:
    return (<uint32_t>r[0] << 24) | (<uint32_t>r[1] << 16) | (<uint32_t>r[2] << 8) | <uint32_t>r[3]


cdef class PassPlan:
    cdef public int kind
    cdef public Py_ssize_t block_bits, n_blocks, n
    cdef public object order       # uint32[n] (position -> key index) or None until laid out
    cdef public object mask        # uint64 packed block-0 membership, HALVES only
