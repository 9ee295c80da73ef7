# cython: language_level=3
"""Alice's end of Cascade: the parity oracle.

Alice's key never changes. For every opened pass she answers "what is the parity of your bits at positions
[s, e) of pass j?" (Brassard & Salvail's BINARY asks these of the halves of an odd block). She answers from
packed *exclusive prefix parities* of her key in pass order (bit t = parity of her bits at positions [0, t)),
so a range parity is two bit reads: O(1) per question. HALVES passes need no layout: their questions name
key indices and a member mask, and she answers with AND + popcount over her packed key.
"""

import numpy as np
cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint32_t, uint64_t

from qkd._native.cascade_passes cimport (
    MAX_PASSES,
    PASS_HALVES,
    PASS_IDENTITY,
    QUESTION_BYTES,
    PassPlan,
    is_halves_question,
    load_be32,
    question_block,
    question_pass,
)
from qkd._native.cascade_pool cimport give, take_secret
from qkd._native.packed_bits cimport qs_bit_get, qs_member_parity, qs_words_and_parity, qs_words_for_bits

from qkd._native.bitops import pack_bits

cnp.import_array()


cdef class AliceOracle:
    """Alice's side: parities of ranges of her fixed key in each pass's order."""

    cdef object bits, key_packed, plans, prefix_parity_arrays
    cdef list pooled                              # pooled buffers of this oracle (given back on deallocation)
    cdef uint64_t *prefix_parity[MAX_PASSES]      # packed: bit t = parity of her bits [0, t) in pass order
    cdef uint64_t *halves_mask[MAX_PASSES]        # HALVES passes: the block-0 member mask
    cdef uint64_t seed
    cdef public Py_ssize_t n
    cdef int total_parity
    cdef Py_ssize_t passes_opened
    cdef uint64_t *key                            # her packed key

    def __init__(self, const uint8_t[::1] bits, uint64_t seed):
        self.bits = np.asarray(bits, dtype=np.uint8)
        self.key_packed = pack_bits(self.bits)
        self.key = <uint64_t *>cnp.PyArray_DATA(self.key_packed)
        self.passes_opened = 0
        self.pooled = []
        self.seed = seed
        self.n = bits.shape[0]
        self.plans = []
        self.prefix_parity_arrays = []
        self.total_parity = int(np.bitwise_xor.reduce(self.bits)) if self.n else 0

    def open_pass(self, int j, Py_ssize_t block_bits):
        """Parities of the top-level blocks of pass ``j`` (uint8, one per block)."""
        if j != len(self.plans) or j >= MAX_PASSES:
            raise ValueError(f"pass {j} opened out of order (next is {len(self.plans)})")
        cdef PassPlan plan = PassPlan(self.n, self.seed, j, block_bits, self.pooled)
        self.plans.append(plan)
        self.passes_opened = j + 1
        self.prefix_parity_arrays.append(None)
        self.prefix_parity[j] = NULL
        self.halves_mask[j] = NULL
        if plan.kind == PASS_HALVES:
            self.halves_mask[j] = <uint64_t *>cnp.PyArray_DATA(plan.mask)
            if plan.n_blocks == 1:
                return np.array([self.total_parity], dtype=np.uint8)
            p0 = qs_words_and_parity(self.key, self.halves_mask[j], qs_words_for_bits(self.n))
            return np.array([p0, p0 ^ self.total_parity], dtype=np.uint8)
        self._lay_out(j)
        cdef const uint64_t *prefix = self.prefix_parity[j]
        cdef Py_ssize_t n_blocks = plan.n_blocks, b, s, e, k = plan.block_bits, n = self.n
        out = np.empty(n_blocks, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        for b in range(n_blocks):
            s = b * k
            e = n if b == n_blocks - 1 else s + k
            o[b] = qs_bit_get(prefix, s) ^ qs_bit_get(prefix, e)
        return out

    cdef _lay_out(self, int j):
        """Her exclusive prefix parities in the order of pass ``j`` (the order itself is not kept)."""
        cdef PassPlan plan = self.plans[j]
        scratch = []
        cdef bint identity = plan.kind == PASS_IDENTITY
        if not identity:                  # the identity pass reads her packed key directly
            plan.lay_out(self.seed, j, scratch)
        cdef const uint32_t *order = NULL if identity else <uint32_t *>cnp.PyArray_DATA(plan.order)
        cdef const uint64_t *key = self.key
        cdef Py_ssize_t n = self.n, n_words = n // 64 + 1      # bit n (the parity of all n bits) included
        prefix_array = take_secret(self.pooled, n_words, np.uint64)
        cdef uint64_t *prefix = <uint64_t *>cnp.PyArray_DATA(prefix_array)
        cdef uint64_t x, y, carry = 0
        cdef uint32_t i
        cdef Py_ssize_t w, b, top
        with nogil:
            # her bits in pass order, 64 at a time, turned into exclusive prefix parities word by word
            for w in range(n_words):
                top = min(64, n - 64 * w)
                if identity:
                    x = key[w] if top > 0 else 0     # natural order: her packed key (zero-padded)
                else:
                    x = 0
                    for b in range(top):
                        i = order[64 * w + b]
                        x |= <uint64_t>qs_bit_get(key, i) << b
                # inclusive prefix XOR within the word (bit i: parity of x bits 0..i) by doubling shifts
                y = x ^ (x << 1)
                y ^= y << 2
                y ^= y << 4
                y ^= y << 8
                y ^= y << 16
                y ^= y << 32
                prefix[w] = (y << 1) ^ (0 - carry)      # exclusive, plus the parity of all earlier words
                carry ^= y >> 63
        plan.order = None          # Alice answers from the prefix parities only
        give(scratch)
        self.prefix_parity_arrays[j] = prefix_array
        self.prefix_parity[j] = prefix

    def __dealloc__(self):
        give(self.pooled)

    cdef int _parity(self, Py_ssize_t i, uint8_t code, uint32_t s, uint32_t e) except -1:
        """Parity of question ``i``: positions ``[s, e)`` of the pass named by ``code``."""
        cdef int j
        if e <= s or e > self.n:
            raise ValueError(f"parity question {i}: range [{s}, {e}) outside 0..{self.n}")
        if is_halves_question(code):
            # positions are key indices, members by mask
            j = question_pass(code)
            if j >= self.passes_opened or self.halves_mask[j] == NULL:
                raise ValueError(f"parity question {i} names pass {j} as a halves pass")
            return qs_member_parity(self.key, self.halves_mask[j], question_block(code), s, e)
        if code >= self.passes_opened:
            raise ValueError(f"parity question {i} names pass {code}, not opened")
        if self.prefix_parity[code] == NULL:
            self._lay_out(code)
        return qs_bit_get(self.prefix_parity[code], s) ^ qs_bit_get(self.prefix_parity[code], e)

    def answer(self, const uint8_t[::1] passes, const uint32_t[::1] starts, const uint32_t[::1] ends):
        """Parity of Alice's bits at positions ``[starts[i], ends[i])`` of pass ``passes[i]``."""
        cdef Py_ssize_t m = passes.shape[0], i
        if starts.shape[0] != m or ends.shape[0] != m:
            raise ValueError(f"{m} pass codes, {starts.shape[0]} starts, {ends.shape[0]} ends")
        out = np.empty(m, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        for i in range(m):
            o[i] = <uint8_t>self._parity(i, passes[i], starts[i], ends[i])
        return out

    def answer_wire(self, body):
        """The ``cascade.answer`` body for a ``cascade.ask`` body (see :meth:`BobSearches.ask`): the parities,
        bit i of byte i // 8 (LSB first), ⌈m/8⌉ bytes for m questions."""
        if type(body) is not bytes:
            body = bytes(body)
        cdef Py_ssize_t n_bytes = PyBytes_GET_SIZE(body), m = n_bytes // QUESTION_BYTES, i
        if n_bytes % QUESTION_BYTES:
            raise ValueError(f"cascade.ask body of {n_bytes} bytes is not {QUESTION_BYTES} bytes per question")
        out = PyBytes_FromStringAndSize(NULL, (m + 7) // 8)
        cdef uint8_t *o = <uint8_t *>PyBytes_AS_STRING(out)
        if m == 0:
            return out
        cdef const uint8_t *codes = <const uint8_t *>PyBytes_AS_STRING(body)
        cdef const uint8_t *starts = codes + m
        cdef const uint8_t *ends = codes + 5 * m
        cdef uint8_t acc = 0
        for i in range(m):
            acc |= <uint8_t>(self._parity(i, codes[i], load_be32(starts + 4 * i), load_be32(ends + 4 * i))
                             << (i & 7))
            if (i & 7) == 7:
                o[i >> 3] = acc
                acc = 0
        if m & 7:
            o[m >> 3] = acc
        return out
