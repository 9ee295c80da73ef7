# cython: language_level=3
"""Bob's end of Cascade: his key, corrected in place, and every running bisection.

Per pass ``j`` Bob compares his top-level block parities with Alice's; a block whose parities differ holds
an odd number of errors and is bisected (BINARY, Brassard & Salvail 1993) until one error is found and
flipped. Each flip toggles the parity of one block in every other opened pass, which may start new
bisections there (the "cascade").

Batched rounds: :class:`BobSearches` holds every running bisection as a struct of arrays, emits the
range-parity questions of one round as one ``cascade.ask`` body (:meth:`BobSearches.ask`) and consumes
Alice's packed answers for all of them at once (:meth:`BobSearches.take_answers`), so a pass costs one round
trip per bisection level and a round costs no Python object per question. After a round's flips, the blocks
they made odd are *rechecked* (a queue of (pass, bit)) and new bisections start there.

His range parities: popcount over his packed bits in pass order for ranges up to SHORT_RANGE positions, else
prefix parities of his original bits plus a Fenwick tree of his corrections (O(log n)). The identity pass
reads his packed key directly.

Sub-block reuse (Martinez-Mateo et al., "Demystifying the information reconciliation protocol Cascade",
QIC 15 (2015), options (4), (7), (8)): Bob remembers Alice's parity of every node a bisection revealed
(asked, or inferred as parent XOR sibling). When a flip makes a block odd again, the new bisection starts at
the smallest known node containing the flipped bit. Nodes are numbered per block as in a heap (root 1,
children 2h and 2h + 1; node h splits at ``mid = start + (end - start) // 2``); per block, a table of
2·T bits (T = 2^(depth + 1) nodes): bits [0, T) say "Alice's parity of node h is known", bits [T, 2T) hold
it. Node depths from KNOWN_DEPTHS on are not recorded.
"""

import numpy as np
cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy

from qkd._native.cascade_passes cimport (
    MAX_PASSES,
    PASS_HALVES,
    PASS_IDENTITY,
    QUESTION_BYTES,
    SHORT_RANGE,
    PassPlan,
    halves_question_code,
    is_halves_question,
    question_block,
    question_pass,
    store_be32,
)
from qkd._native.cascade_pool cimport give, take, take_secret
from qkd._native.packed_bits cimport (
    qs_bit_flip,
    qs_bit_get,
    qs_bit_put,
    qs_member_count_upto2,
    qs_member_parity,
    qs_range_parity,
    qs_words_and_parity,
    qs_words_for_bits,
    qs_words_popcount,
)

from qkd._native.bitops import pack_bits, unpack_bits

cnp.import_array()

cdef enum:
    KNOWN_DEPTHS = 24             # known-node tables record node depths 0 .. KNOWN_DEPTHS - 1
    INITIAL_CAPACITY = 1024       # running searches and rechecks held before the arrays first grow


cdef class BobSearches:
    """Bob's side: his key (corrected in place), the opened passes and every running bisection.

    Per pass ``j``: ``open_pass(j, k_j, alice_block_parities)``; then repeat ``body = ask()`` /
    ``take_answers(alice.answer_wire(body))`` until ``ask()`` returns b"" (``questions()`` shows the
    running questions as arrays, for tests against Alice's array form ``answer()``).
    """

    cdef object key_packed, plans, pass_arrays
    cdef list pooled              # pooled buffers of this search (given back on deallocation)
    cdef uint64_t seed
    cdef Py_ssize_t n
    cdef int n_passes
    cdef bint reuse
    # per pass: raw pointers into the numpy buffers kept alive by self.pass_arrays
    cdef int kind[MAX_PASSES]
    cdef Py_ssize_t block_bits[MAX_PASSES]
    cdef Py_ssize_t n_blocks[MAX_PASSES]
    cdef bint laid_out[MAX_PASSES]
    cdef bint identity[MAX_PASSES]        # identity order: position = key index, bits_in_order = the packed key
    cdef bint long_ranges[MAX_PASSES]     # blocks longer than SHORT_RANGE: keeps prefix parities + Fenwick tree
    cdef uint32_t *order[MAX_PASSES]      # position -> key index
    cdef uint32_t *position[MAX_PASSES]   # key index -> position
    cdef uint8_t *prefix_parity[MAX_PASSES]   # [t] = parity of his original bits at positions [0, t)
    cdef uint8_t *fenwick[MAX_PASSES]         # his corrections since: parity over positions, Fenwick tree
    cdef uint64_t *bits_in_order[MAX_PASSES]  # his current bits in pass order, packed
    cdef uint64_t *known_nodes[MAX_PASSES]    # sub-block reuse tables (module docstring)
    cdef size_t known_tree_nodes[MAX_PASSES]  # T of the pass's tables
    cdef uint8_t *alice_block_parity[MAX_PASSES]
    cdef uint8_t *block_odd[MAX_PASSES]       # his block parity differs from Alice's
    cdef uint8_t *block_searching[MAX_PASSES]  # a bisection runs in the block
    cdef uint64_t *halves_mask[MAX_PASSES]    # HALVES passes: the block-0 member mask
    # running searches, one entry per bisection: its pass code (see cascade_passes), range [start, end) in
    # positions (key indices for HALVES), depth, Alice's parity of the range, block, heap node; "found" is
    # this round's scratch (the range is down to one bit)
    cdef object run_code_array, run_start_array, run_end_array, run_depth_array
    cdef object run_alice_parity_array, run_block_array, run_found_array, run_node_array, run_levels_array
    cdef Py_ssize_t n_running, run_capacity
    cdef uint8_t *run_code
    cdef uint32_t *run_start
    cdef uint32_t *run_end
    cdef uint8_t *run_depth
    cdef uint8_t *run_alice_parity
    cdef uint32_t *run_block
    cdef uint8_t *run_found
    cdef uint32_t *run_node
    cdef uint8_t *run_levels      # bisection levels the last ask() put to the search (look-ahead, see ask)
    cdef Py_ssize_t asked         # questions of the last ask() (-1: none since the last answers)
    # look-ahead: extra questions (disclosed bits) allowed and spent, and when a round may use them
    cdef public long long lookahead_budget, lookahead_spent
    cdef public int lookahead_max_running, lookahead_max_questions, lookahead_max_levels
    # blocks to recheck after flips: (pass, a key bit in the block)
    cdef object recheck_pass_array, recheck_bit_array
    cdef Py_ssize_t n_recheck, recheck_capacity
    cdef uint8_t *recheck_pass
    cdef uint32_t *recheck_bit
    cdef int total_parity
    cdef public long long corrections
    cdef public long long passes_laid_out

    def __init__(self, const uint8_t[::1] bits, uint64_t seed, bint sub_block_reuse=True):
        self.key_packed = pack_bits(np.asarray(bits))     # his key, corrected in place; ``bits`` unpacks it
        self.seed = seed
        self.n = bits.shape[0]
        self.n_passes = 0
        self.reuse = sub_block_reuse
        self.plans = []
        self.pass_arrays = []
        self.pooled = []
        cap = INITIAL_CAPACITY
        self.run_code_array = np.empty(cap, dtype=np.uint8)
        self.run_start_array = np.empty(cap, dtype=np.uint32)
        self.run_end_array = np.empty(cap, dtype=np.uint32)
        self.run_depth_array = np.empty(cap, dtype=np.uint8)
        self.run_alice_parity_array = np.empty(cap, dtype=np.uint8)
        self.run_block_array = np.empty(cap, dtype=np.uint32)
        self.run_found_array = np.empty(cap, dtype=np.uint8)
        self.run_node_array = np.empty(cap, dtype=np.uint32)
        self.run_levels_array = np.ones(cap, dtype=np.uint8)
        self.asked = -1
        self.lookahead_budget = 0
        self.lookahead_spent = 0
        self.lookahead_max_running = 0
        self.lookahead_max_questions = 0
        self.lookahead_max_levels = 1
        self.n_running = 0
        self.run_capacity = cap
        self.recheck_pass_array = np.empty(cap, dtype=np.uint8)
        self.recheck_bit_array = np.empty(cap, dtype=np.uint32)
        self.n_recheck = 0
        self.recheck_capacity = cap
        self._repoint()
        self.total_parity = qs_words_popcount(self._key(), qs_words_for_bits(self.n)) & 1
        self.corrections = 0
        self.passes_laid_out = 0

    def __dealloc__(self):
        give(self.pooled)

    @property
    def bits(self):
        """Bob's key as corrected so far (uint8 0/1, a new array)."""
        return unpack_bits(self.key_packed, self.n)

    cdef inline uint64_t *_key(self) noexcept:
        return <uint64_t *>cnp.PyArray_DATA(self.key_packed)

    cdef void _repoint(self):
        self.run_code = <uint8_t *>cnp.PyArray_DATA(self.run_code_array)
        self.run_start = <uint32_t *>cnp.PyArray_DATA(self.run_start_array)
        self.run_end = <uint32_t *>cnp.PyArray_DATA(self.run_end_array)
        self.run_depth = <uint8_t *>cnp.PyArray_DATA(self.run_depth_array)
        self.run_alice_parity = <uint8_t *>cnp.PyArray_DATA(self.run_alice_parity_array)
        self.run_block = <uint32_t *>cnp.PyArray_DATA(self.run_block_array)
        self.run_found = <uint8_t *>cnp.PyArray_DATA(self.run_found_array)
        self.run_node = <uint32_t *>cnp.PyArray_DATA(self.run_node_array)
        self.run_levels = <uint8_t *>cnp.PyArray_DATA(self.run_levels_array)
        self.recheck_pass = <uint8_t *>cnp.PyArray_DATA(self.recheck_pass_array)
        self.recheck_bit = <uint32_t *>cnp.PyArray_DATA(self.recheck_bit_array)

    @property
    def passes_opened(self):
        return self.n_passes

    def open_pass(self, int j, Py_ssize_t block_bits, const uint8_t[::1] alice_block_parities):
        """Open pass ``j``; start a bisection in every block whose parity differs from Alice's."""
        if j != self.n_passes or j >= MAX_PASSES:
            raise ValueError(f"pass {j} opened out of order (next is {self.n_passes})")
        cdef PassPlan plan = PassPlan(self.n, self.seed, j, block_bits, self.pooled)
        cdef Py_ssize_t nb = plan.n_blocks, b, s, e, k = plan.block_bits, n = self.n
        if alice_block_parities.shape[0] != nb:
            raise ValueError(f"pass {j}: {alice_block_parities.shape[0]} block parities for {nb} blocks")
        self.plans.append(plan)
        alice_parity = np.array(alice_block_parities, dtype=np.uint8, copy=True)
        odd = np.empty(nb, dtype=np.uint8)
        searching = np.zeros(nb, dtype=np.uint8)
        arrays = {"alice_parity": alice_parity, "odd": odd, "searching": searching}
        self.pass_arrays.append(arrays)
        self.kind[j] = plan.kind
        self.block_bits[j] = k
        self.n_blocks[j] = nb
        self.laid_out[j] = False
        self.alice_block_parity[j] = <uint8_t *>cnp.PyArray_DATA(alice_parity)
        self.block_odd[j] = <uint8_t *>cnp.PyArray_DATA(odd)
        self.block_searching[j] = <uint8_t *>cnp.PyArray_DATA(searching)
        self.halves_mask[j] = NULL
        self.n_passes = j + 1
        cdef uint8_t[::1] odd_view = odd
        cdef int p0, total
        if plan.kind == PASS_HALVES:
            arrays["mask"] = plan.mask
            self.halves_mask[j] = <uint64_t *>cnp.PyArray_DATA(plan.mask)
            total = self.total_parity
            if nb == 1:
                odd_view[0] = total ^ alice_block_parities[0]
            else:
                p0 = qs_words_and_parity(self._key(), self.halves_mask[j], qs_words_for_bits(self.n))
                odd_view[0] = p0 ^ alice_block_parities[0]
                odd_view[1] = p0 ^ total ^ alice_block_parities[1]
        else:
            self._lay_out(j)
            for b in range(nb):
                s = b * k
                e = n if b == nb - 1 else s + k
                odd_view[b] = self._range(j, s, e) ^ alice_block_parities[b]
        for b in range(nb):
            if odd_view[b] and plan.kind == PASS_HALVES:
                self._push_halves(j, b, alice_block_parities[b])
            elif odd_view[b]:
                s = b * k
                e = n if b == nb - 1 else s + k
                if e - s == 1:
                    # a one-bit block with the wrong parity: the bit itself is wrong
                    self._flip(self._at(j, s))
                else:
                    self._push(j, s, e, 0, alice_block_parities[b], b)
        self._recheck_blocks()

    cdef _lay_out(self, int j):
        """Positions, his bits in pass order (packed), and for long blocks prefix parities and a Fenwick tree."""
        cdef PassPlan plan = self.plans[j]
        cdef bint identity = self.kind[j] == PASS_IDENTITY    # identity: position = index, no order arrays
        if not identity:
            plan.lay_out(self.seed, j, self.pooled)
        arrays = self.pass_arrays[j]
        cdef Py_ssize_t n = self.n, t
        cdef bint long_ranges = self.block_bits[j] > SHORT_RANGE
        cdef list own = self.pooled
        position = None if identity else take(own, n, np.uint32, False)
        # prefix parities and the Fenwick tree only serve ranges longer than SHORT_RANGE positions
        prefix = take_secret(own, n + 1 if long_ranges else 1, np.uint8)
        fenwick = take(own, n + 1 if long_ranges else 1, np.uint8, True)
        cdef Py_ssize_t depth = 0, k = self.block_bits[j]
        while (<Py_ssize_t>1 << depth) < k:
            depth += 1
        cdef size_t tree_nodes = (<size_t>1) << (min(depth, KNOWN_DEPTHS - 1) + 1)
        known = take(own, (self.n_blocks[j] * 2 * tree_nodes + 63) // 64 if self.reuse else 1, np.uint64, True)
        cdef Py_ssize_t n_words = qs_words_for_bits(n)
        # his bits in pass order, packed; in the identity pass that is his key itself (no copy)
        in_order = self.key_packed if identity else take_secret(own, n_words + 1, np.uint64)
        arrays.update(order=plan.order, position=position, prefix=prefix, fenwick=fenwick, known=known,
                      in_order=in_order)
        cdef uint64_t *in_order_p = <uint64_t *>cnp.PyArray_DATA(in_order)
        cdef const uint64_t *key = self._key()
        cdef uint32_t *position_p = NULL if identity else <uint32_t *>cnp.PyArray_DATA(position)
        cdef const uint32_t *order_p = NULL if identity else <uint32_t *>cnp.PyArray_DATA(plan.order)
        cdef uint8_t[::1] prefix_view = prefix
        cdef uint8_t acc = 0
        cdef uint32_t x
        cdef uint64_t word
        cdef Py_ssize_t w, b, top
        with nogil:
            prefix_view[0] = 0
            if not identity:
                for w in range(n_words):
                    word = 0
                    top = min(64, n - 64 * w)
                    for b in range(top):
                        x = order_p[64 * w + b]
                        position_p[x] = <uint32_t>(64 * w + b)
                        word |= <uint64_t>qs_bit_get(key, x) << b
                    in_order_p[w] = word
            if long_ranges:
                for t in range(n):
                    x = <uint32_t>t if identity else order_p[t]
                    acc ^= qs_bit_get(key, x)
                    prefix_view[t + 1] = acc
        self.order[j] = NULL if identity else <uint32_t *>cnp.PyArray_DATA(plan.order)
        self.position[j] = position_p
        self.prefix_parity[j] = <uint8_t *>cnp.PyArray_DATA(prefix)
        self.fenwick[j] = <uint8_t *>cnp.PyArray_DATA(fenwick)
        self.bits_in_order[j] = in_order_p
        self.identity[j] = identity
        self.known_nodes[j] = <uint64_t *>cnp.PyArray_DATA(known)
        self.known_tree_nodes[j] = tree_nodes
        self.laid_out[j] = True
        self.long_ranges[j] = long_ranges
        self.passes_laid_out += 1

    cdef inline uint8_t _prefix(self, int j, Py_ssize_t i) noexcept:
        """Parity of his current bits at positions [0, i) of pass j: original prefix ^ Fenwick prefix."""
        cdef uint8_t r = self.prefix_parity[j][i]
        cdef uint8_t *fenwick = self.fenwick[j]
        while i > 0:
            r ^= fenwick[i]
            i -= i & (-i)
        return r

    cdef inline uint8_t _range(self, int j, Py_ssize_t s, Py_ssize_t e) noexcept:
        """Bob's current parity of positions [s, e) of pass j: popcount over his packed bits in pass order
        for short ranges, prefix parity + Fenwick tree of corrections for long ones."""
        if e - s > SHORT_RANGE:
            return self._prefix(j, s) ^ self._prefix(j, e)
        return <uint8_t>qs_range_parity(self.bits_in_order[j], s, e)

    cdef inline Py_ssize_t _pos(self, int j, Py_ssize_t bit) noexcept:
        """Position of key bit ``bit`` in laid-out pass ``j``."""
        return bit if self.identity[j] else self.position[j][bit]

    cdef inline Py_ssize_t _at(self, int j, Py_ssize_t t) noexcept:
        """Key bit at position ``t`` of laid-out pass ``j``."""
        return t if self.identity[j] else self.order[j][t]

    cdef inline Py_ssize_t _block_of(self, int j, Py_ssize_t bit) noexcept:
        cdef Py_ssize_t b
        if self.kind[j] == PASS_HALVES:  # HALVES passes are never laid out: membership by mask
            return 0 if qs_bit_get(self.halves_mask[j], bit) else 1
        b = self._pos(j, bit) // self.block_bits[j]
        if b >= self.n_blocks[j]:
            b = self.n_blocks[j] - 1
        return b

    cdef void _push_halves(self, int j, Py_ssize_t b, uint8_t alice_parity):
        """Bisection of block b of HALVES pass j over key indices [0, n) (its members by mask)."""
        cdef size_t first = 0
        if qs_member_count_upto2(self.halves_mask[j], <int>b, 0, self.n, &first) == 1:
            self._flip(first)
            return
        self._push(j, 0, self.n, 0, alice_parity, b)
        self.run_code[self.n_running - 1] = halves_question_code(j, b)

    cdef inline uint8_t _halves_range(self, uint8_t code, Py_ssize_t s, Py_ssize_t e) noexcept:
        """His parity of the members of the HALVES block named by ``code`` at key indices [s, e)."""
        return <uint8_t>qs_member_parity(self._key(), self.halves_mask[question_pass(code)], question_block(code),
                                         s, e)

    cdef void _push(self, int j, Py_ssize_t s, Py_ssize_t e, int depth, uint8_t alice_parity, Py_ssize_t block,
                    uint32_t node=1):
        cdef Py_ssize_t cap = self.run_capacity
        if self.n_running == cap:
            self.run_code_array = np.concatenate([self.run_code_array, np.empty(cap, dtype=np.uint8)])
            self.run_start_array = np.concatenate([self.run_start_array, np.empty(cap, dtype=np.uint32)])
            self.run_end_array = np.concatenate([self.run_end_array, np.empty(cap, dtype=np.uint32)])
            self.run_depth_array = np.concatenate([self.run_depth_array, np.empty(cap, dtype=np.uint8)])
            self.run_alice_parity_array = np.concatenate([self.run_alice_parity_array,
                                                          np.empty(cap, dtype=np.uint8)])
            self.run_block_array = np.concatenate([self.run_block_array, np.empty(cap, dtype=np.uint32)])
            self.run_found_array = np.empty(2 * cap, dtype=np.uint8)
            self.run_node_array = np.concatenate([self.run_node_array, np.empty(cap, dtype=np.uint32)])
            self.run_levels_array = np.ones(2 * cap, dtype=np.uint8)
            self.run_capacity = 2 * cap
            self._repoint()
        cdef Py_ssize_t i = self.n_running
        self.run_code[i] = j
        self.run_start[i] = s
        self.run_end[i] = e
        self.run_depth[i] = depth
        self.run_alice_parity[i] = alice_parity
        self.run_block[i] = block
        self.run_node[i] = node
        self.block_searching[j][block] = 1
        self.n_running += 1

    cdef void _queue_recheck(self, int j, Py_ssize_t bit):
        cdef Py_ssize_t cap = self.recheck_capacity
        if self.n_recheck == cap:
            self.recheck_pass_array = np.concatenate([self.recheck_pass_array, np.empty(cap, dtype=np.uint8)])
            self.recheck_bit_array = np.concatenate([self.recheck_bit_array, np.empty(cap, dtype=np.uint32)])
            self.recheck_capacity = 2 * cap
            self._repoint()
        self.recheck_pass[self.n_recheck] = j
        self.recheck_bit[self.n_recheck] = bit
        self.n_recheck += 1

    def questions(self):
        """(passes uint8, starts uint32, ends uint32): left halves of every running bisection."""
        cdef Py_ssize_t m = self.n_running
        starts = self.run_start_array[:m].copy()
        ends = self.run_end_array[:m]
        mid = (starts + (ends - starts) // 2).astype(np.uint32)
        return self.run_code_array[:m].copy(), starts, mid

    def set_lookahead(self, long long budget_bits, int max_running=32, int max_questions=64, int max_levels=4):
        """Let rounds with few running bisections ask several levels at once: with at most ``max_running``
        searches running, a search of a range of L positions asks the left halves of every node of its subtree
        ``d`` levels deep (2^d − 1 questions, d ≤ min(``max_levels``, log2 L)) and advances d levels on one
        answer, with at most ``max_questions`` questions a round and ``budget_bits`` extra disclosed bits
        (questions beyond one per search) in all. The long chains of cascaded corrections at the end of a
        pass — a few searches a round for hundreds of rounds in 10^6-bit blocks — then take a fraction of the
        round trips. Alice answers any range, so the wire protocol is the same; every question is a disclosed
        bit in both ends' ledgers. ``budget_bits`` 0 turns it off (one level a round, as published)."""
        if budget_bits < 0 or max_running < 0 or max_questions < 0 or not 1 <= max_levels <= 8:
            raise ValueError(f"look-ahead: budget {budget_bits}, max_running {max_running}, "
                             f"max_questions {max_questions}, max_levels {max_levels}")
        self.lookahead_budget = budget_bits
        self.lookahead_max_running = max_running
        self.lookahead_max_questions = max_questions
        self.lookahead_max_levels = max_levels

    cdef int _round_levels(self) noexcept:
        """The look-ahead depth of this round (1: none), see :meth:`set_lookahead`."""
        cdef Py_ssize_t m = self.n_running
        cdef long long left = self.lookahead_budget - self.lookahead_spent
        cdef int d = self.lookahead_max_levels
        if m == 0 or m > self.lookahead_max_running or left <= 0:
            return 1
        while d > 1 and (m * ((1 << d) - 1) > self.lookahead_max_questions or m * ((1 << d) - 2) > left):
            d -= 1
        return d

    def ask(self):
        """The ``cascade.ask`` body of this round (b"" when no bisection runs): for every question the pass code
        (1 byte), then all range starts, then all range ends (big-endian u32 each), 9 bytes per question.
        One question per running bisection (the left half of its range), or with look-ahead
        (:meth:`set_lookahead`) the left halves of every node of its subtree, heap order, 2^d − 1 of them."""
        cdef Py_ssize_t m = self.n_running, i, q = 0, total = 0, s, e, ns, ne, mid
        cdef int d_round = self._round_levels(), levels, t
        cdef uint32_t sub, n_sub
        cdef uint8_t code
        for i in range(m):
            levels = 1
            if d_round > 1 and not is_halves_question(self.run_code[i]):
                levels = d_round
                while levels > 1 and (<Py_ssize_t>self.run_end[i] - <Py_ssize_t>self.run_start[i]) < (1 << levels):
                    levels -= 1
            self.run_levels[i] = levels
            total += (1 << levels) - 1
        body = PyBytes_FromStringAndSize(NULL, QUESTION_BYTES * total)
        cdef uint8_t *w = <uint8_t *>PyBytes_AS_STRING(body)
        for i in range(m):
            code = self.run_code[i]
            n_sub = (<uint32_t>1 << self.run_levels[i]) - 1
            for sub in range(1, n_sub + 1):
                s = self.run_start[i]
                e = self.run_end[i]
                t = 30
                while not (sub >> t) & 1:
                    t -= 1
                while t > 0:          # walk from the search's node down to subtree node ``sub`` (heap order)
                    t -= 1
                    mid = s + (e - s) // 2
                    if (sub >> t) & 1:
                        s = mid
                    else:
                        e = mid
                w[q] = code
                store_be32(w + total + 4 * q, <uint32_t>s)
                store_be32(w + 5 * total + 4 * q, <uint32_t>(s + (e - s) // 2))
                q += 1
        self.lookahead_spent += total - m
        self.asked = total
        return body

    def take_answers(self, packed_answers):
        """Consume the ``cascade.answer`` body (Alice's left-half parities, bit i of byte i // 8, LSB first,
        for the questions of the last :meth:`ask`). Returns the flips made."""
        cdef Py_ssize_t m = self.n_running, i, q = self.asked
        if q < 0:                     # answers to the one-level questions of :meth:`questions`
            q = m
            for i in range(m):
                self.run_levels[i] = 1
        if type(packed_answers) is not bytes:
            packed_answers = bytes(packed_answers)
        if PyBytes_GET_SIZE(packed_answers) != (q + 7) // 8:
            raise ValueError(f"{PyBytes_GET_SIZE(packed_answers)} answer bytes for {q} questions")
        self.asked = -1
        if m == 0:
            return 0
        return self._advance(<const uint8_t *>PyBytes_AS_STRING(packed_answers))

    cdef Py_ssize_t _advance(self, const uint8_t *alice_left):
        """Consume Alice's packed parities of the left halves (bit i of the body answers question i):
        advance, correct, cascade. Returns the flips made."""
        cdef Py_ssize_t m = self.n_running, i, s, e, mid, keep = 0, n_flips = 0, bit
        cdef uint8_t *code_of = self.run_code
        cdef uint32_t *start = self.run_start
        cdef uint32_t *end = self.run_end
        cdef uint8_t *depth = self.run_depth
        cdef uint8_t *alice_parity = self.run_alice_parity
        cdef uint32_t *block = self.run_block
        cdef uint8_t *found = self.run_found
        cdef uint32_t *node = self.run_node
        cdef uint32_t h
        cdef size_t tree_nodes, base
        cdef int j, d
        cdef uint8_t alice_left_parity, alice_right_parity, bob_left_parity
        cdef uint64_t *known
        cdef uint8_t code
        cdef size_t first = 0, members
        cdef Py_ssize_t q = 0, a
        cdef int level, levels
        cdef uint32_t sub
        # one bisection step for every running search (or ``run_levels`` steps: look-ahead, see ask)
        for i in range(m):
            code = code_of[i]
            s = start[i]
            e = end[i]
            d = depth[i]
            found[i] = 0
            if is_halves_question(code):
                mid = s + (e - s) // 2
                alice_left_parity = (alice_left[q >> 3] >> (q & 7)) & 1
                q += 1
                alice_right_parity = alice_parity[i] ^ alice_left_parity
                if self._halves_range(code, s, mid) != alice_left_parity:
                    e = mid
                    alice_parity[i] = alice_left_parity
                else:
                    s = mid
                    alice_parity[i] = alice_right_parity
                members = qs_member_count_upto2(self.halves_mask[question_pass(code)], question_block(code), s, e,
                                                &first)
                if members == 1:
                    s = first
                    e = first + 1
                    found[i] = 1
                start[i] = s
                end[i] = e
                depth[i] = d + 1
                continue
            j = code
            h = node[i]
            levels = self.run_levels[i]
            sub = 1
            for level in range(levels):
                mid = s + (e - s) // 2
                a = q + sub - 1
                alice_left_parity = (alice_left[a >> 3] >> (a & 7)) & 1
                alice_right_parity = alice_parity[i] ^ alice_left_parity
                if self.reuse and d + 1 < KNOWN_DEPTHS:
                    # both children's parities are now known: the left asked, the right inferred
                    known = self.known_nodes[j]
                    tree_nodes = self.known_tree_nodes[j]
                    base = <size_t>block[i] * 2 * tree_nodes
                    qs_bit_put(known, base + 2 * h, 1)
                    qs_bit_put(known, base + tree_nodes + 2 * h, alice_left_parity)
                    qs_bit_put(known, base + 2 * h + 1, 1)
                    qs_bit_put(known, base + tree_nodes + 2 * h + 1, alice_right_parity)
                bob_left_parity = self._range(j, s, mid)
                if bob_left_parity != alice_left_parity:
                    e = mid
                    alice_parity[i] = alice_left_parity
                    h = 2 * h
                    sub = 2 * sub
                else:
                    s = mid
                    alice_parity[i] = alice_right_parity
                    h = 2 * h + 1
                    sub = 2 * sub + 1
                d += 1
                if e - s == 1:
                    found[i] = 1
                    break
            q += (1 << levels) - 1
            node[i] = h
            start[i] = s
            end[i] = e
            depth[i] = d
        # apply the flips found this round (a bit found by two passes at once is flipped once)
        for i in range(m):
            if found[i]:
                code = code_of[i]
                j = question_pass(code)
                self.block_searching[j][block[i]] = 0
                if is_halves_question(code):
                    bit = start[i]
                    if self._halves_range(code, start[i], end[i]) != alice_parity[i]:
                        self._flip(bit)
                        n_flips += 1
                else:
                    bit = self._at(j, start[i])
                    if self._range(j, start[i], end[i]) != alice_parity[i]:
                        self._flip(bit)
                        n_flips += 1
                self._queue_recheck(j, bit)
        # keep running searches whose range is still odd; recheck the blocks of dropped ones
        for i in range(m):
            if found[i]:
                continue
            code = code_of[i]
            j = question_pass(code)
            if is_halves_question(code):
                if self._halves_range(code, start[i], end[i]) == alice_parity[i]:
                    self.block_searching[j][block[i]] = 0
                    self._queue_recheck(j, start[i])
                    continue
            elif self._range(j, start[i], end[i]) == alice_parity[i]:
                self.block_searching[j][block[i]] = 0
                self._queue_recheck(j, self._at(j, start[i]))
                continue
            code_of[keep] = code_of[i]; start[keep] = start[i]; end[keep] = end[i]
            depth[keep] = depth[i]; alice_parity[keep] = alice_parity[i]; block[keep] = block[i]
            node[keep] = node[i]
            keep += 1
        self.n_running = keep
        self._recheck_blocks()
        return n_flips

    cdef void _flip(self, Py_ssize_t bit):
        """Correct key bit ``bit``: his key, his bits in every laid-out pass's order, and the odd/even state
        of the bit's block in every pass (a block made odd and not being searched is queued for a recheck)."""
        cdef Py_ssize_t i, n = self.n
        cdef int j
        cdef uint8_t *fenwick
        self.total_parity ^= 1
        qs_bit_flip(self._key(), bit)
        self.corrections += 1
        cdef Py_ssize_t b
        for j in range(self.n_passes):
            b = self._block_of(j, bit)
            self.block_odd[j][b] ^= 1
            if self.laid_out[j]:
                if not self.identity[j]:      # the identity pass reads the packed key, flipped above
                    qs_bit_flip(self.bits_in_order[j], self._pos(j, bit))
                if self.long_ranges[j]:
                    fenwick = self.fenwick[j]
                    i = self._pos(j, bit) + 1
                    while i <= n:
                        fenwick[i] ^= 1
                        i += i & (-i)
            if self.block_odd[j][b] and not self.block_searching[j][b]:
                self._queue_recheck(j, bit)

    cdef void _recheck_blocks(self):
        """Start a bisection in every queued block that is odd and not being searched, at the smallest known
        node (sub-block reuse) that contains the queued bit and is still odd."""
        cdef Py_ssize_t p, k, b, s, e, mid, n = self.n, c, bit
        cdef int j, d
        cdef uint8_t a
        cdef uint64_t *known
        cdef uint32_t h, child
        cdef size_t tree_nodes, base
        while self.n_recheck:
            self.n_recheck -= 1
            c = self.n_recheck
            j = self.recheck_pass[c]
            bit = self.recheck_bit[c]
            b = self._block_of(j, bit)
            if self.block_searching[j][b] or not self.block_odd[j][b]:
                continue
            if self.kind[j] == PASS_HALVES:
                self._push_halves(j, b, self.alice_block_parity[j][b])
                continue
            k = self.block_bits[j]
            s = b * k
            e = n if b == self.n_blocks[j] - 1 else s + k
            a = self.alice_block_parity[j][b]
            d = 0
            h = 1
            if self.reuse:
                # descend through known nodes towards the bit
                p = self._pos(j, bit)
                known = self.known_nodes[j]
                tree_nodes = self.known_tree_nodes[j]
                base = <size_t>b * 2 * tree_nodes
                while d + 1 < KNOWN_DEPTHS and e - s > 1:
                    mid = s + (e - s) // 2
                    child = 2 * h if p < mid else 2 * h + 1
                    if not qs_bit_get(known, base + child):
                        break
                    if p < mid:
                        e = mid
                    else:
                        s = mid
                    a = qs_bit_get(known, base + tree_nodes + child)
                    h = child
                    d += 1
                if self._range(j, s, e) == a:
                    # that node is even now: search the whole block
                    s = b * k
                    e = n if b == self.n_blocks[j] - 1 else s + k
                    a = self.alice_block_parity[j][b]
                    d = 0
                    h = 1
            if e - s == 1:
                # a single bit whose correct value is already known: flip it without asking
                self._flip(self._at(j, s))
                continue
            self._push(j, s, e, d, a, b, h)
