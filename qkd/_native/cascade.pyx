# cython: language_level=3
"""Cascade kernels: pass structure, Alice's parity oracle, Bob's batched binary searches.

The protocol (Brassard & Salvail, EUROCRYPT '93; variants compared by Martinez-Mateo, Pacher, Peev,
Ciurana & Martin, "Demystifying the information reconciliation protocol Cascade", QIC 15 (2015))
runs in passes. Pass ``j`` reorders the key, cuts it into top-level blocks of ``k_j`` bits and
compares block parities; a block whose parities differ holds an odd number of errors and is bisected
(BINARY) until one error is found and flipped. Each flip toggles the parity of one block in every
other opened pass, which may start new bisections there (the "cascade").

Pass kinds (both ends derive them from the public seed and the block-size plan):

* ``IDENTITY`` (pass 0): natural order, blocks of ``k_0``.
* ``SHUFFLED``: Fisher–Yates permutation driven by SplitMix64(seed, pass), blocks of ``k_j``.
* ``HALVES`` (block size >= n/2, Demystifying options (3)–(8) and Yan et al.): a pseudo-random subset
  (one SplitMix64 bit per key bit) is block 0, its complement block 1, each in natural order. Block
  parities come from AND + popcount on bit-packed keys; the pass is only laid out (order, prefix
  parities) if one of its blocks must be bisected, which at the operating point is rare.

Everything is iterative and batched: :class:`BobSearches` holds every running bisection, emits the
range-parity questions of one round as one ``cascade.ask`` wire body (:meth:`BobSearches.ask`), and
consumes Alice's packed answers for all of them at once (:meth:`BobSearches.take_answers`,
:meth:`AliceOracle.answer_wire`), so a pass costs one round trip per bisection level and a round costs
no Python object per question. Keys are bit-packed at both ends: Alice answers from packed prefix
parities of her key in pass order (O(1) per range); Bob from his packed bits in pass order (popcount
over at most SHORT_RANGE/64 words) or, for longer ranges, prefix parities plus a Fenwick tree of his
later corrections (O(log n)). The identity pass reads the packed keys directly (no arrays).

Sub-block reuse (Demystifying, options (4), (7), (8)): Bob remembers Alice's parity of every node a
bisection revealed (asked, or inferred as parent XOR sibling). When a flip makes a block odd again,
the new bisection starts at the smallest known node containing the flipped bit. Nodes are numbered
per block as in a heap (root 1, children 2h and 2h + 1; the split ``mid = start + (end - start) // 2``
is deterministic), two bits each (known, parity) in a per-pass bit array: n/2 bytes for power-of-two
blocks, and the nodes of one block share one or two cache lines.

Work buffers of laid-out passes come from a small pool shared by all oracles and searches of the
process (a fresh multi-megabyte array costs page faults on first touch, more than the pass itself);
buffers that held key bits are wiped when they return to the pool.

Speed notes (2-core VM, n = 10^6, QBER 2 %): the pass-1 permutation (Rao–Sandelius, ~6 ns per bit,
once per end) and the random accesses of Bob's position array are the largest remaining costs.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

cnp.import_array()

cdef extern from *:
    """
    #include <stdint.h>
    static inline uint64_t qs_mulhi64(uint64_t a, uint64_t b) {
        return (uint64_t)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
    }
    static inline void qs_store_be32(uint8_t *w, uint32_t v) {
        w[0] = (uint8_t)(v >> 24); w[1] = (uint8_t)(v >> 16); w[2] = (uint8_t)(v >> 8); w[3] = (uint8_t)v;
    }
    static inline uint32_t qs_load_be32(const uint8_t *r) {
        return ((uint32_t)r[0] << 24) | ((uint32_t)r[1] << 16) | ((uint32_t)r[2] << 8) | (uint32_t)r[3];
    }
    static inline void qs_prefetch_w(const void *p) { __builtin_prefetch(p, 1, 3); }
    static inline void qs_prefetch_r(const void *p) { __builtin_prefetch(p, 0, 3); }
    __attribute__((target("popcnt")))
    static inline int qs_popcount64(uint64_t x) { return __builtin_popcountll(x); }

    /* bits of word w selected by the member mask of block b (b = 0: mask, b = 1: complement), within [s, e) */
    static inline uint64_t qs_sel(const uint64_t *mask, int b, size_t w, size_t s, size_t e) {
        uint64_t m = b ? ~mask[w] : mask[w];
        size_t lo = w * 64, hi = lo + 64;
        if (s > lo) m &= ~((((uint64_t)1) << (s - lo)) - 1);
        if (e < hi) m &= (((uint64_t)1) << (e - lo)) - 1;
        return m;
    }

    /* parity of key bits that are members of block b, at indices [s, e) */
    __attribute__((target("popcnt")))
    static int qs_member_parity(const uint64_t *key, const uint64_t *mask, int b, size_t s, size_t e) {
        if (e <= s) return 0;
        uint64_t acc = 0;
        size_t w0 = s >> 6, w1 = (e - 1) >> 6;
        for (size_t w = w0; w <= w1; w++) acc ^= key[w] & qs_sel(mask, b, w, s, e);
        return __builtin_popcountll(acc) & 1;
    }

    /* popcount of nw words; parity of the AND of two word arrays (POPCNT inlined: this file is built
       without -mpopcnt, so a plain __builtin_popcountll would be a library call per word) */
    __attribute__((target("popcnt")))
    static size_t qs_words_popcount(const uint64_t *w, size_t nw) {
        size_t c = 0;
        for (size_t i = 0; i < nw; i++) c += (size_t)__builtin_popcountll(w[i]);
        return c;
    }
    __attribute__((target("popcnt")))
    static int qs_words_and_parity(const uint64_t *a, const uint64_t *m, size_t nw) {
        uint64_t acc = 0;
        for (size_t i = 0; i < nw; i++) acc ^= a[i] & m[i];
        return __builtin_popcountll(acc) & 1;
    }

    /* parity of bits [s, e) of a packed word array */
    __attribute__((target("popcnt")))
    static inline int qs_range_parity(const uint64_t *w, size_t s, size_t e) {
        if (e <= s) return 0;
        size_t w0 = s >> 6, w1 = (e - 1) >> 6;
        uint64_t lo = ~(uint64_t)0 << (s & 63), hi = ~(uint64_t)0 >> (63 - ((e - 1) & 63));
        if (w0 == w1) return __builtin_popcountll(w[w0] & lo & hi) & 1;
        uint64_t acc = (w[w0] & lo) ^ (w[w1] & hi);
        for (size_t i = w0 + 1; i < w1; i++) acc ^= w[i];
        return __builtin_popcountll(acc) & 1;
    }

    /* number of members of block b at indices [s, e), stopping early once it exceeds 1;
       *first receives the first member's index */
    __attribute__((target("popcnt")))
    static size_t qs_member_count2(const uint64_t *mask, int b, size_t s, size_t e, size_t *first) {
        size_t c = 0;
        if (e <= s) return 0;
        size_t w0 = s >> 6, w1 = (e - 1) >> 6;
        for (size_t w = w0; w <= w1 && c < 2; w++) {
            uint64_t m = qs_sel(mask, b, w, s, e);
            if (m && c == 0) *first = w * 64 + (size_t)__builtin_ctzll(m);
            c += (size_t)__builtin_popcountll(m);
        }
        return c;
    }
    """
    uint64_t qs_mulhi64(uint64_t a, uint64_t b) nogil
    void qs_prefetch_w(const void *p) nogil
    void qs_store_be32(uint8_t *w, uint32_t v) nogil
    uint32_t qs_load_be32(const uint8_t *r) nogil
    void qs_prefetch_r(const void *p) nogil
    int qs_popcount64(uint64_t x) nogil
    int qs_range_parity(const uint64_t *w, size_t s, size_t e) nogil
    size_t qs_words_popcount(const uint64_t *w, size_t nw) nogil
    int qs_words_and_parity(const uint64_t *a, const uint64_t *m, size_t nw) nogil
    int qs_member_parity(const uint64_t *key, const uint64_t *mask, int b, size_t s, size_t e) nogil
    size_t qs_member_count2(const uint64_t *mask, int b, size_t s, size_t e, size_t *first) nogil

DEF MAXP = 64
DEF FY_MAX = 1 << 18       # plain Fisher–Yates while the permutation (4 bytes per bit) fits in L2
DEF WC_LANES = 16         # shuffle scatter: indices buffered per bucket (one 64-byte line)
DEF SHORT_RANGE = 2048   # Bob's range parities up to this length: direct XOR of his bits in pass order

IDENTITY = 0
SHUFFLED = 1
HALVES = 2


cdef inline uint64_t _splitmix64(uint64_t *state) noexcept nogil:
    state[0] += <uint64_t>0x9E3779B97F4A7C15
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline uint64_t _pass_state(uint64_t seed, int pass_index) noexcept nogil:
    return seed ^ (<uint64_t>pass_index * <uint64_t>0xD1B54A32D192ED03)


def pass_kind(Py_ssize_t n, int pass_index, Py_ssize_t block_bits):
    """IDENTITY for pass 0, HALVES when ``2 * block_bits >= n``, SHUFFLED otherwise."""
    if pass_index == 0:
        return IDENTITY
    if 2 * block_bits >= n:
        return HALVES
    return SHUFFLED


def shuffle_into(uint32_t[::1] p, uint64_t seed, int pass_index):
    """Fill ``p`` with a uniformly random permutation of ``range(len(p))`` (position -> bit index).

    Rao–Sandelius two-stage shuffle (uniform, like Fisher–Yates, but cache friendly for large n):
    every index draws one of 256 buckets, buckets are laid out in order (a stable counting sort),
    then each bucket is Fisher–Yates shuffled in cache. Randomness: SplitMix64 seeded from
    (seed, pass); bounded draws by Lemire's multiply-shift (bias < n / 2^64).
    """
    cdef Py_ssize_t n = p.shape[0], i, j, b, lo, hi
    cdef uint64_t st = _pass_state(seed, pass_index), r = 0
    cdef uint32_t t
    cdef Py_ssize_t cnt[257]
    cdef Py_ssize_t off[256]
    if n <= FY_MAX:
        with nogil:
            for i in range(n):
                p[i] = <uint32_t>i
            i = n - 1
            while i > 0:
                j = <Py_ssize_t>qs_mulhi64(_splitmix64(&st), <uint64_t>(i + 1))
                t = p[i]
                p[i] = p[j]
                p[j] = t
                i -= 1
        return
    cdef uint32_t *out = &p[0]
    cdef uint64_t st0 = st
    cdef uint32_t *wc = <uint32_t *>malloc(256 * WC_LANES * sizeof(uint32_t))
    cdef uint8_t fill[256]
    cdef Py_ssize_t tag, nxt
    if wc == NULL:
        raise MemoryError("shuffle buffers")
    with nogil:
        # tags: one byte of SplitMix64 output per index, counted first (bucket sizes)...
        for b in range(257):
            cnt[b] = 0
        for i in range(n):
            if (i & 7) == 0:
                r = _splitmix64(&st)
            cnt[(r & 255) + 1] += 1
            r >>= 8
        for b in range(256):
            cnt[b + 1] += cnt[b]
            off[b] = cnt[b]
            fill[b] = 0
        for b in range(256):
            qs_prefetch_w(out + off[b])
            qs_prefetch_w(out + off[b] + WC_LANES - 1)
        # ...then drawn again from the same state (no n-byte tag array) and scattered stably into their
        # buckets through per-bucket write-combining buffers of WC_LANES indices (256 sequential
        # output streams would otherwise miss the cache and TLB on nearly every store)
        st = st0
        for i in range(n):
            if (i & 7) == 0:
                r = _splitmix64(&st)
            tag = <Py_ssize_t>(r & 255)
            r >>= 8
            wc[tag * WC_LANES + fill[tag]] = <uint32_t>i
            fill[tag] += 1
            if fill[tag] == WC_LANES:
                memcpy(out + off[tag], wc + tag * WC_LANES, WC_LANES * sizeof(uint32_t))
                off[tag] += WC_LANES
                fill[tag] = 0
                qs_prefetch_w(out + off[tag] + WC_LANES - 1)   # the next flush's lines, long before it
        for b in range(256):
            memcpy(out + off[b], wc + b * WC_LANES, fill[b] * sizeof(uint32_t))
        free(wc)
        # each bucket Fisher–Yates shuffled in cache; the next bucket's lines are prefetched meanwhile
        # (its first touches would otherwise be random misses)
        for b in range(256):
            lo = cnt[b]
            hi = cnt[b + 1]
            i = hi - 1
            nxt = hi
            while i > lo:
                if nxt < cnt[b + 2 if b < 255 else 256] and ((hi - 1 - i) & 3) == 0:
                    qs_prefetch_w(out + nxt)
                    nxt += 16
                j = lo + <Py_ssize_t>qs_mulhi64(_splitmix64(&st), <uint64_t>(i - lo + 1))
                t = out[i]
                out[i] = out[j]
                out[j] = t
                i -= 1


def halves_mask(Py_ssize_t n, uint64_t seed, int pass_index, out=None):
    """Packed membership mask of block 0 of a HALVES pass (bit i set: key bit i is in block 0)."""
    cdef Py_ssize_t nw = (n + 63) // 64, w
    if out is None:
        out = np.empty(nw, dtype=np.uint64)
    cdef uint64_t[::1] m = out
    cdef uint64_t st = _pass_state(seed, pass_index)
    with nogil:
        for w in range(nw):
            m[w] = _splitmix64(&st)
        if n % 64:
            m[nw - 1] &= ((<uint64_t>1) << (n % 64)) - 1
    return out


def halves_order(const uint64_t[::1] mask, Py_ssize_t n, out=None):
    """Order of a HALVES pass: members of block 0 ascending, then the rest ascending; and |block 0|."""
    if out is None:
        out = np.empty(n, dtype=np.uint32)
    cdef uint32_t[::1] o = out
    cdef Py_ssize_t i, a = 0, k = 0, b
    with nogil:
        for i in range(n):
            k += (mask[i >> 6] >> (i & 63)) & 1
        b = k
        for i in range(n):
            if (mask[i >> 6] >> (i & 63)) & 1:
                o[a] = <uint32_t>i
                a += 1
            else:
                o[b] = <uint32_t>i
                b += 1
    return out, k


def _popcount_words(const uint64_t[::1] words):
    if words.shape[0] == 0:
        return 0
    return qs_words_popcount(&words[0], words.shape[0])


def masked_parity(const uint64_t[::1] packed, const uint64_t[::1] mask):
    """Parity of the bits of ``packed`` selected by ``mask`` (both packed, same length)."""
    if packed.shape[0] != mask.shape[0]:
        raise ValueError(f"key of {packed.shape[0]} words, mask of {mask.shape[0]}")
    if packed.shape[0] == 0:
        return 0
    return qs_words_and_parity(&packed[0], &mask[0], packed.shape[0])


def pack_bits(const uint8_t[::1] bits):
    """Pack 0/1 bytes, bit i -> bit i%64 of word i//64 (little-endian order)."""
    cdef Py_ssize_t n = bits.shape[0]
    packed = np.packbits(np.asarray(bits), bitorder="little")
    out = np.zeros((n + 63) // 64, dtype=np.uint64)
    out.view(np.uint8)[:packed.size] = packed
    return out


# Work buffers of laid-out passes (n-sized orders, positions, bits in pass order, known-node tables) are
# reused across blocks: a fresh multi-megabyte array is a fresh mmap, and its first touches are page
# faults that cost more than the pass itself (about a quarter of a 10^6-bit run). Buffers that held key
# bits are wiped when returned; the pool keeps at most _POOL_LIMIT bytes.
DEF POOL_MIN = 1 << 16
DEF POOL_LIMIT = 1 << 27
cdef list _POOL = []
cdef Py_ssize_t _POOL_BYTES = 0


cdef object _take(list owner, Py_ssize_t count, object dtype, bint zero):
    """An array of ``count`` items of ``dtype`` on a pooled buffer (recorded in ``owner`` for :func:`_give`)."""
    global _POOL_BYTES
    cdef Py_ssize_t item = np.dtype(dtype).itemsize
    cdef Py_ssize_t need = ((count * item + 63) // 64) * 64, size, best = -1, best_size = 0, i
    cdef object buf = None
    if need >= POOL_MIN:
        for i in range(len(_POOL)):
            size = (<cnp.ndarray>_POOL[i]).shape[0]
            if need <= size <= 2 * need and (best < 0 or size < best_size):
                best, best_size = i, size
        if best >= 0:
            buf = _POOL.pop(best)
            _POOL_BYTES -= best_size
    if buf is None:
        buf = np.empty(max(need, 64), dtype=np.uint8)
    if zero:
        memset(cnp.PyArray_DATA(buf), 0, need)
    owner.append((buf, False))
    return buf[:count * item].view(dtype)


cdef object _take_secret(list owner, Py_ssize_t count, object dtype):
    """As :func:`_take`, for a buffer that will hold key bits: wiped when given back."""
    arr = _take(owner, count, dtype, False)
    owner[len(owner) - 1] = (owner[len(owner) - 1][0], True)
    return arr


cdef void _give(list owner):
    """Return the buffers of ``owner`` to the pool (key-bearing ones wiped first)."""
    global _POOL_BYTES
    cdef Py_ssize_t size
    if owner is None or _POOL is None:    # _POOL is None only while the module is torn down
        return
    for buf, secret in owner:
        size = (<cnp.ndarray>buf).shape[0]
        if secret:
            memset(cnp.PyArray_DATA(buf), 0, size)
        if size >= POOL_MIN and _POOL_BYTES + size <= POOL_LIMIT:
            _POOL.append(buf)
            _POOL_BYTES += size
    del owner[:]


_IDENTITY_CACHE: dict = {}


def _identity(Py_ssize_t n):
    """A shared read-only arange(n) (pass 0's order), cached for the last few key lengths."""
    arr = _IDENTITY_CACHE.get(n)
    if arr is None:
        if len(_IDENTITY_CACHE) > 4:
            _IDENTITY_CACHE.clear()
        arr = np.arange(n, dtype=np.uint32)
        arr.setflags(write=False)
        _IDENTITY_CACHE[n] = arr
    return arr


cdef inline void _bit_put(uint64_t *w, size_t i, uint8_t v) noexcept nogil:
    w[i >> 6] = (w[i >> 6] & ~((<uint64_t>1) << (i & 63))) | ((<uint64_t>(v & 1)) << (i & 63))


cdef inline uint8_t _bit_get(const uint64_t *w, size_t i) noexcept nogil:
    return <uint8_t>((w[i >> 6] >> (i & 63)) & 1)


cdef class PassPlan:
    """The layout of one pass: kind, block size, number of blocks and (when laid out) its order."""
    cdef public int kind
    cdef public Py_ssize_t k, nb, n
    cdef public object order       # uint32[n] or None until laid out
    cdef public object mask        # uint64 packed, HALVES only

    def __init__(self, Py_ssize_t n, uint64_t seed, int pass_index, Py_ssize_t block_bits, list owner=None):
        """``owner``: a list that receives the pooled buffers the plan's arrays live on (see ``_take``)."""
        self.n = n
        self.kind = pass_kind(n, pass_index, block_bits)
        self.order = None
        self.mask = None
        if self.kind == HALVES:
            self.mask = halves_mask(n, seed, pass_index,
                                    None if owner is None else _take(owner, (n + 63) // 64, np.uint64, False))
            k = qs_words_popcount(<uint64_t *>cnp.PyArray_DATA(self.mask), (n + 63) // 64)
            self.k = max(k, 1)
            self.nb = 2 if 0 < k < n else 1
            if self.nb == 1:
                self.k = n
        else:
            self.k = min(max(block_bits, 1), n)
            self.nb = (n + self.k - 1) // self.k

    def lay_out(self, uint64_t seed, int pass_index, list owner=None):
        if self.order is not None:
            return
        if self.kind == IDENTITY:
            self.order = _identity(self.n)
            return
        out = np.empty(self.n, dtype=np.uint32) if owner is None else _take(owner, self.n, np.uint32, False)
        if self.kind == SHUFFLED:
            shuffle_into(out, seed, pass_index)
            self.order = out
        else:
            self.order, _ = halves_order(self.mask, self.n, out)


cdef class AliceOracle:
    """Alice's side: parities of ranges of her fixed key in each pass's order."""

    cdef object bits, packed, plans, pp
    cdef list pooled              # pooled buffers of this oracle (returned on deallocation)
    cdef uint64_t *pp_p[MAXP]     # packed prefix parities: bit t = parity of her bits [0, t) in pass order
    cdef uint64_t *amask_p[MAXP]
    cdef uint64_t seed
    cdef public Py_ssize_t n
    cdef int total_parity
    cdef Py_ssize_t npl           # passes opened
    cdef uint64_t *key_p          # her packed key

    def __init__(self, const uint8_t[::1] bits, uint64_t seed):
        self.bits = np.asarray(bits, dtype=np.uint8)
        self.packed = pack_bits(bits)
        self.key_p = <uint64_t *>cnp.PyArray_DATA(self.packed)
        self.npl = 0
        self.pooled = []
        self.seed = seed
        self.n = bits.shape[0]
        self.plans = []
        self.pp = []
        self.total_parity = int(np.bitwise_xor.reduce(self.bits)) if self.n else 0

    def open_pass(self, int j, Py_ssize_t block_bits):
        """Parities of the top-level blocks of pass ``j`` (uint8, one per block)."""
        if j != len(self.plans) or j >= MAXP:
            raise ValueError(f"pass {j} opened out of order (next is {len(self.plans)})")
        plan = PassPlan(self.n, self.seed, j, block_bits, self.pooled)
        self.plans.append(plan)
        self.npl = j + 1
        self.pp.append(None)
        self.pp_p[j] = NULL
        self.amask_p[j] = NULL
        if plan.kind == HALVES:
            self.amask_p[j] = <uint64_t *>cnp.PyArray_DATA(plan.mask)
            if plan.nb == 1:
                return np.array([self.total_parity], dtype=np.uint8)
            p0 = qs_words_and_parity(<uint64_t *>cnp.PyArray_DATA(self.packed),
                                         <uint64_t *>cnp.PyArray_DATA(plan.mask), (self.n + 63) // 64)
            return np.array([p0, p0 ^ self.total_parity], dtype=np.uint8)
        self._lay_out(j)
        cdef const uint64_t *ppv = self.pp_p[j]
        cdef Py_ssize_t nb = plan.nb, b, s, e, k = plan.k, n = self.n
        out = np.empty(nb, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        for b in range(nb):
            s = b * k
            e = n if b == nb - 1 else s + k
            o[b] = _bit_get(ppv, s) ^ _bit_get(ppv, e)
        return out

    cdef _lay_out(self, int j):
        plan = self.plans[j]
        scratch = []
        cdef bint ident = plan.kind == IDENTITY
        if not ident:                  # the identity pass reads her packed key directly
            plan.lay_out(self.seed, j, scratch)
        cdef const uint32_t *order = NULL if ident else <uint32_t *>cnp.PyArray_DATA(plan.order)
        cdef const uint64_t *key = self.key_p
        cdef Py_ssize_t t, n = self.n, nw = n // 64 + 1
        pp = _take_secret(self.pooled, nw, np.uint64)
        cdef uint64_t *ppv = <uint64_t *>cnp.PyArray_DATA(pp)
        cdef uint64_t x, y, carry = 0
        cdef uint32_t i
        cdef Py_ssize_t w, b, top
        with nogil:
            # her bits in pass order, 64 at a time, turned into exclusive prefix parities word by word
            for w in range(nw):
                top = min(64, n - 64 * w)
                if ident:
                    x = key[w] if top > 0 else 0     # natural order: her packed key (zero-padded)
                else:
                    x = 0
                    for b in range(top):
                        i = order[64 * w + b]
                        x |= ((key[i >> 6] >> (i & 63)) & 1) << b
                y = x ^ (x << 1)
                y ^= y << 2
                y ^= y << 4
                y ^= y << 8
                y ^= y << 16
                y ^= y << 32          # bit i: parity of x bits 0..i
                ppv[w] = (y << 1) ^ (0 - carry)
                carry ^= y >> 63
        plan.order = None          # Alice answers from the prefix parities only
        _give(scratch)
        self.pp[j] = pp
        self.pp_p[j] = ppv

    def __dealloc__(self):
        _give(self.pooled)

    cdef int _parity(self, Py_ssize_t i, uint8_t code, uint32_t s, uint32_t e) except -1:
        """Parity of question ``i``: positions ``[s, e)`` of the pass named by ``code``."""
        cdef int pj
        if e <= s or e > self.n:
            raise ValueError(f"parity question {i}: range [{s}, {e}) outside 0..{self.n}")
        if code & 0x80:
            # HALVES pass: bit 7 set, bit 6 = block; positions are key indices, members by mask
            pj = code & 63
            if pj >= self.npl or self.amask_p[pj] == NULL:
                raise ValueError(f"parity question {i} names pass {pj} as a halves pass")
            return qs_member_parity(self.key_p, self.amask_p[pj], (code >> 6) & 1, s, e)
        if code >= self.npl:
            raise ValueError(f"parity question {i} names pass {code}, not opened")
        if self.pp_p[code] == NULL:
            self._lay_out(code)
        return _bit_get(self.pp_p[code], s) ^ _bit_get(self.pp_p[code], e)

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
        cdef Py_ssize_t nb = PyBytes_GET_SIZE(body), m = nb // 9, i
        if nb % 9:
            raise ValueError(f"cascade.ask body of {nb} bytes is not 9 bytes per question")
        out = PyBytes_FromStringAndSize(NULL, (m + 7) // 8)
        cdef uint8_t *o = <uint8_t *>PyBytes_AS_STRING(out)
        if m == 0:
            return out
        cdef const uint8_t *r = <const uint8_t *>PyBytes_AS_STRING(body)
        cdef uint8_t acc = 0
        for i in range(m):
            acc |= <uint8_t>(self._parity(i, r[i], qs_load_be32(r + m + 4 * i), qs_load_be32(r + 5 * m + 4 * i))
                             << (i & 7))
            if (i & 7) == 7:
                o[i >> 3] = acc
                acc = 0
        if m & 7:
            o[m >> 3] = acc
        return out


cdef class BobSearches:
    """Bob's side: his key (corrected in place), the opened passes and every running bisection.

    Per pass ``j``: ``open_pass(j, k_j, alice_block_parities)``; then repeat ``body = ask()`` /
    ``take_answers(alice.answer_wire(body))`` until ``ask()`` returns b"" (``questions()`` shows the
    running questions as arrays, for tests against Alice's array form ``answer()``).
    """

    cdef object packed, plans, rows
    cdef list pooled              # pooled buffers of this search (returned on deallocation)
    cdef uint64_t seed
    cdef Py_ssize_t n
    cdef int npass
    cdef bint reuse
    # per-pass raw pointers into the numpy buffers kept alive by self.rows
    cdef int kind[MAXP]
    cdef Py_ssize_t ksz[MAXP]
    cdef Py_ssize_t nbl[MAXP]
    cdef bint laid[MAXP]
    cdef bint ident[MAXP]      # identity order: pos and order are the shared arange, bo is the packed key
    cdef bint longr[MAXP]      # pass has blocks longer than SHORT_RANGE: keeps prefix parities + Fenwick
    cdef uint32_t *order_p[MAXP]
    cdef uint32_t *pos_p[MAXP]
    cdef uint8_t *bpp_p[MAXP]
    cdef uint64_t *bo_p[MAXP]   # his bits in pass order, packed (pass 0: his packed key itself)
    cdef uint8_t *fen_p[MAXP]
    # Known nodes (sub-block reuse): per block a heap-numbered tree (root 1, children 2h, 2h + 1; node h
    # at depth d splits at mid = start + len // 2), T = 2^(depth + 1) nodes: bits [b 2T, b 2T + T) say
    # "Alice's parity of node h is known", bits [b 2T + T, b 2T + 2T) hold it. Depths above 23 are
    # not recorded.
    cdef uint64_t *kn_p[MAXP]
    cdef size_t knT[MAXP]
    cdef uint8_t *apar_p[MAXP]
    cdef uint8_t *mism_p[MAXP]
    cdef uint8_t *ins_p[MAXP]
    cdef uint64_t *mask_p[MAXP]
    # running searches
    cdef object s_pass, s_start, s_end, s_depth, s_apar, s_blk, s_done, s_node
    cdef Py_ssize_t ns, scap
    cdef uint8_t *sp_
    cdef uint32_t *ss_
    cdef uint32_t *se_
    cdef uint8_t *sd_
    cdef uint8_t *sa_
    cdef uint32_t *sb_
    cdef uint8_t *sdn_
    cdef uint32_t *sh_          # heap index of the running node in its block's tree
    cdef object cand_pass, cand_bit
    cdef Py_ssize_t ncand, ccap
    cdef uint8_t *cp_
    cdef uint32_t *cb_
    cdef int total_parity
    cdef public long long corrections
    cdef public long long passes_laid_out

    def __init__(self, const uint8_t[::1] bits, uint64_t seed, bint sub_block_reuse=True):
        self.packed = pack_bits(bits)     # his key, corrected in place; ``bits`` unpacks it
        self.seed = seed
        self.n = bits.shape[0]
        self.npass = 0
        self.reuse = sub_block_reuse
        self.plans = []
        self.rows = []
        self.pooled = []
        cap = 1024
        self.s_pass = np.empty(cap, dtype=np.uint8)
        self.s_start = np.empty(cap, dtype=np.uint32)
        self.s_end = np.empty(cap, dtype=np.uint32)
        self.s_depth = np.empty(cap, dtype=np.uint8)
        self.s_apar = np.empty(cap, dtype=np.uint8)
        self.s_blk = np.empty(cap, dtype=np.uint32)
        self.s_done = np.empty(cap, dtype=np.uint8)
        self.s_node = np.empty(cap, dtype=np.uint32)
        self.ns = 0
        self.scap = cap
        self.cand_pass = np.empty(cap, dtype=np.uint8)
        self.cand_bit = np.empty(cap, dtype=np.uint32)
        self.ncand = 0
        self.ccap = cap
        self._repoint()
        self.total_parity = _popcount_words(self.packed) & 1
        self.corrections = 0
        self.passes_laid_out = 0

    def __dealloc__(self):
        _give(self.pooled)

    @property
    def bits(self):
        """Bob's key as corrected so far (uint8 0/1, a new array)."""
        return np.unpackbits(self.packed.view(np.uint8), count=self.n, bitorder="little")

    cdef void _repoint(self):
        self.sp_ = <uint8_t *>cnp.PyArray_DATA(self.s_pass)
        self.ss_ = <uint32_t *>cnp.PyArray_DATA(self.s_start)
        self.se_ = <uint32_t *>cnp.PyArray_DATA(self.s_end)
        self.sd_ = <uint8_t *>cnp.PyArray_DATA(self.s_depth)
        self.sa_ = <uint8_t *>cnp.PyArray_DATA(self.s_apar)
        self.sb_ = <uint32_t *>cnp.PyArray_DATA(self.s_blk)
        self.sdn_ = <uint8_t *>cnp.PyArray_DATA(self.s_done)
        self.sh_ = <uint32_t *>cnp.PyArray_DATA(self.s_node)
        self.cp_ = <uint8_t *>cnp.PyArray_DATA(self.cand_pass)
        self.cb_ = <uint32_t *>cnp.PyArray_DATA(self.cand_bit)

    @property
    def passes_opened(self):
        return self.npass

    def open_pass(self, int j, Py_ssize_t block_bits, const uint8_t[::1] alice_block_parities):
        """Open pass ``j``; start a bisection in every block whose parity differs from Alice's."""
        if j != self.npass or j >= MAXP:
            raise ValueError(f"pass {j} opened out of order (next is {self.npass})")
        plan = PassPlan(self.n, self.seed, j, block_bits, self.pooled)
        cdef Py_ssize_t nb = plan.nb, b, s, e, k = plan.k, n = self.n
        if alice_block_parities.shape[0] != nb:
            raise ValueError(f"pass {j}: {alice_block_parities.shape[0]} block parities for {nb} blocks")
        self.plans.append(plan)
        apar = np.array(alice_block_parities, dtype=np.uint8, copy=True)
        mism = np.empty(nb, dtype=np.uint8)
        ins = np.zeros(nb, dtype=np.uint8)
        row = {"apar": apar, "mism": mism, "ins": ins}
        self.rows.append(row)
        self.kind[j] = plan.kind
        self.ksz[j] = k
        self.nbl[j] = nb
        self.laid[j] = False
        self.apar_p[j] = <uint8_t *>cnp.PyArray_DATA(apar)
        self.mism_p[j] = <uint8_t *>cnp.PyArray_DATA(mism)
        self.ins_p[j] = <uint8_t *>cnp.PyArray_DATA(ins)
        self.mask_p[j] = NULL
        self.npass = j + 1
        cdef uint8_t[::1] mv = mism
        cdef int p0, tot
        if plan.kind == HALVES:
            row["mask"] = plan.mask
            self.mask_p[j] = <uint64_t *>cnp.PyArray_DATA(plan.mask)
            tot = self.total_parity
            if nb == 1:
                mv[0] = tot ^ alice_block_parities[0]
            else:
                p0 = qs_words_and_parity(<uint64_t *>cnp.PyArray_DATA(self.packed),
                                         <uint64_t *>cnp.PyArray_DATA(plan.mask), (self.n + 63) // 64)
                mv[0] = p0 ^ alice_block_parities[0]
                mv[1] = p0 ^ tot ^ alice_block_parities[1]
        else:
            self._lay_out(j)
            for b in range(nb):
                s = b * k
                e = n if b == nb - 1 else s + k
                mv[b] = self._range(j, s, e) ^ alice_block_parities[b]
        for b in range(nb):
            if mv[b] and plan.kind == HALVES:
                self._hpush(j, b, alice_block_parities[b])
            elif mv[b]:
                s = b * k
                e = n if b == nb - 1 else s + k
                if e - s == 1:
                    # a one-bit block with the wrong parity: the bit itself is wrong
                    self._flip(self._at(j, s))
                else:
                    self._push(j, s, e, 0, alice_block_parities[b], b)
        self._check_candidates()

    cdef _lay_out(self, int j):
        plan = self.plans[j]
        cdef bint ident = self.kind[j] == IDENTITY    # identity: position = index, no order arrays
        if not ident:
            plan.lay_out(self.seed, j, self.pooled)
        row = self.rows[j]
        cdef Py_ssize_t n = self.n, t
        cdef bint long_ranges = self.ksz[j] > SHORT_RANGE
        cdef list own = self.pooled
        pos = None if ident else _take(own, n, np.uint32, False)
        # prefix parities and the Fenwick tree only serve ranges longer than SHORT_RANGE bits
        bpp = _take_secret(own, n + 1 if long_ranges else 1, np.uint8)
        fen = _take(own, n + 1 if long_ranges else 1, np.uint8, True)
        cdef Py_ssize_t depth = 0, k = self.ksz[j]
        while (<Py_ssize_t>1 << depth) < k:
            depth += 1
        cdef size_t T = (<size_t>1) << (min(depth, 23) + 1)
        kn = _take(own, (self.nbl[j] * 2 * T + 63) // 64 if self.reuse else 1, np.uint64, True)
        cdef Py_ssize_t nw = (n + 63) // 64
        # his bits in pass order, packed; in the identity pass that is his key itself (no copy)
        bo = self.packed if ident else _take_secret(own, nw + 1, np.uint64)
        row.update(order=plan.order, pos=pos, bpp=bpp, fen=fen, kn=kn, bo=bo)
        cdef uint64_t *bov = <uint64_t *>cnp.PyArray_DATA(bo)
        cdef const uint64_t *key = <uint64_t *>cnp.PyArray_DATA(self.packed)
        cdef uint32_t *pv = NULL if ident else <uint32_t *>cnp.PyArray_DATA(pos)
        cdef const uint32_t *o = NULL if ident else <uint32_t *>cnp.PyArray_DATA(plan.order)
        cdef uint8_t[::1] bv = bpp
        cdef uint8_t acc = 0, bit
        cdef uint32_t x
        cdef uint64_t word
        cdef Py_ssize_t w, b, top
        with nogil:
            bv[0] = 0
            if not ident:
                for w in range(nw):
                    word = 0
                    top = min(64, n - 64 * w)
                    for b in range(top):
                        x = o[64 * w + b]
                        pv[x] = <uint32_t>(64 * w + b)
                        word |= ((key[x >> 6] >> (x & 63)) & 1) << b
                    bov[w] = word
            if long_ranges:
                for t in range(n):
                    x = <uint32_t>t if ident else o[t]
                    acc ^= (key[x >> 6] >> (x & 63)) & 1
                    bv[t + 1] = acc
        self.order_p[j] = NULL if ident else <uint32_t *>cnp.PyArray_DATA(plan.order)
        self.pos_p[j] = NULL if ident else <uint32_t *>cnp.PyArray_DATA(pos)
        self.bpp_p[j] = <uint8_t *>cnp.PyArray_DATA(bpp)
        self.fen_p[j] = <uint8_t *>cnp.PyArray_DATA(fen)
        self.bo_p[j] = bov
        self.ident[j] = ident
        self.kn_p[j] = <uint64_t *>cnp.PyArray_DATA(kn)
        self.knT[j] = T
        self.laid[j] = True
        self.longr[j] = long_ranges
        self.passes_laid_out += 1

    cdef inline uint8_t _prefix(self, int j, Py_ssize_t i) noexcept:
        cdef uint8_t r = self.bpp_p[j][i]
        cdef uint8_t *fen = self.fen_p[j]
        while i > 0:
            r ^= fen[i]
            i -= i & (-i)
        return r

    cdef inline uint8_t _range(self, int j, Py_ssize_t s, Py_ssize_t e) noexcept:
        """Bob's current parity of positions [s, e) of pass j: popcount over his packed bits in pass order
        for short ranges, prefix parity + Fenwick tree of corrections for long ones."""
        if e - s > SHORT_RANGE:
            return self._prefix(j, s) ^ self._prefix(j, e)
        return <uint8_t>qs_range_parity(self.bo_p[j], s, e)

    cdef inline Py_ssize_t _pos(self, int j, Py_ssize_t bit) noexcept:
        """Position of key bit ``bit`` in laid-out pass ``j``."""
        return bit if self.ident[j] else self.pos_p[j][bit]

    cdef inline Py_ssize_t _at(self, int j, Py_ssize_t t) noexcept:
        """Key bit at position ``t`` of laid-out pass ``j``."""
        return t if self.ident[j] else self.order_p[j][t]

    cdef inline Py_ssize_t _block_of(self, int j, Py_ssize_t bit) noexcept:
        cdef Py_ssize_t b
        if self.kind[j] == HALVES:  # HALVES passes are never laid out: membership by mask
            return 0 if (self.mask_p[j][bit >> 6] >> (bit & 63)) & 1 else 1
        b = self._pos(j, bit) // self.ksz[j]
        if b >= self.nbl[j]:
            b = self.nbl[j] - 1
        return b

    cdef void _hpush(self, int j, Py_ssize_t b, uint8_t apar):
        """Bisection of block b of HALVES pass j over key indices [0, n); pass byte 0x80 | b << 6 | j."""
        cdef size_t first = 0
        if qs_member_count2(self.mask_p[j], <int>b, 0, self.n, &first) == 1:
            self._flip(first)
            return
        self._push(j, 0, self.n, 0, apar, b)
        self.sp_[self.ns - 1] = <uint8_t>(0x80 | (b << 6) | j)

    cdef inline uint8_t _hrange(self, uint8_t code, Py_ssize_t s, Py_ssize_t e) noexcept:
        return <uint8_t>qs_member_parity(<uint64_t *>cnp.PyArray_DATA(self.packed), self.mask_p[code & 63],
                                         (code >> 6) & 1, s, e)

    cdef void _push(self, int j, Py_ssize_t s, Py_ssize_t e, int depth, uint8_t apar, Py_ssize_t blk,
                    uint32_t node=1):
        cdef Py_ssize_t cap = self.scap
        if self.ns == cap:
            self.s_pass = np.concatenate([self.s_pass, np.empty(cap, dtype=np.uint8)])
            self.s_start = np.concatenate([self.s_start, np.empty(cap, dtype=np.uint32)])
            self.s_end = np.concatenate([self.s_end, np.empty(cap, dtype=np.uint32)])
            self.s_depth = np.concatenate([self.s_depth, np.empty(cap, dtype=np.uint8)])
            self.s_apar = np.concatenate([self.s_apar, np.empty(cap, dtype=np.uint8)])
            self.s_blk = np.concatenate([self.s_blk, np.empty(cap, dtype=np.uint32)])
            self.s_done = np.empty(2 * cap, dtype=np.uint8)
            self.s_node = np.concatenate([self.s_node, np.empty(cap, dtype=np.uint32)])
            self.scap = 2 * cap
            self._repoint()
        cdef Py_ssize_t i = self.ns
        self.sp_[i] = j
        self.ss_[i] = s
        self.se_[i] = e
        self.sd_[i] = depth
        self.sa_[i] = apar
        self.sb_[i] = blk
        self.sh_[i] = node
        self.ins_p[j][blk] = 1
        self.ns += 1

    cdef void _cand(self, int j, Py_ssize_t bit):
        cdef Py_ssize_t cap = self.ccap
        if self.ncand == cap:
            self.cand_pass = np.concatenate([self.cand_pass, np.empty(cap, dtype=np.uint8)])
            self.cand_bit = np.concatenate([self.cand_bit, np.empty(cap, dtype=np.uint32)])
            self.ccap = 2 * cap
            self._repoint()
        self.cp_[self.ncand] = j
        self.cb_[self.ncand] = bit
        self.ncand += 1

    def questions(self):
        """(passes uint8, starts uint32, ends uint32): left halves of every running bisection."""
        cdef Py_ssize_t m = self.ns
        st = self.s_start[:m].copy()
        en = self.s_end[:m]
        mid = (st + (en - st) // 2).astype(np.uint32)
        return self.s_pass[:m].copy(), st, mid

    def ask(self):
        """The ``cascade.ask`` body of this round (b"" when no bisection runs): for every running bisection
        the pass code (1 byte), then all range starts, then all range ends of the left halves (big-endian
        u32 each), 9 bytes per question."""
        cdef Py_ssize_t m = self.ns, i
        body = PyBytes_FromStringAndSize(NULL, 9 * m)
        cdef uint8_t *w = <uint8_t *>PyBytes_AS_STRING(body)
        cdef uint32_t s, e
        memcpy(w, self.sp_, m)
        for i in range(m):
            s = self.ss_[i]
            e = self.se_[i]
            qs_store_be32(w + m + 4 * i, s)
            qs_store_be32(w + 5 * m + 4 * i, s + (e - s) // 2)
        return body

    def take_answers(self, packed_answers):
        """Consume the ``cascade.answer`` body (Alice's left-half parities, bit i of byte i // 8, LSB first,
        for the questions of the last :meth:`ask`). Returns the flips made."""
        cdef Py_ssize_t m = self.ns
        if type(packed_answers) is not bytes:
            packed_answers = bytes(packed_answers)
        if PyBytes_GET_SIZE(packed_answers) != (m + 7) // 8:
            raise ValueError(f"{PyBytes_GET_SIZE(packed_answers)} answer bytes for {m} questions")
        if m == 0:
            return 0
        return self._advance(<const uint8_t *>PyBytes_AS_STRING(packed_answers))

    cdef Py_ssize_t _advance(self, const uint8_t *alice_left):
        """Consume Alice's packed parities of the left halves (bit i of the body answers question i):
        advance, correct, cascade. Returns the flips made."""
        cdef Py_ssize_t m = self.ns, i, s, e, mid, keep = 0, nflip = 0, bit
        cdef uint8_t *sp = self.sp_
        cdef uint32_t *ss = self.ss_
        cdef uint32_t *se = self.se_
        cdef uint8_t *sd = self.sd_
        cdef uint8_t *sa = self.sa_
        cdef uint32_t *sb = self.sb_
        cdef uint8_t *dn = self.sdn_
        cdef uint32_t *sh = self.sh_
        cdef uint32_t h
        cdef size_t T, base
        cdef int j, d
        cdef uint8_t al, ar, bl
        cdef uint64_t *kn
        cdef uint8_t code
        cdef size_t first = 0, cnt
        for i in range(m):
            code = sp[i]
            s = ss[i]
            e = se[i]
            d = sd[i]
            mid = s + (e - s) // 2
            al = (alice_left[i >> 3] >> (i & 7)) & 1
            dn[i] = 0
            ar = sa[i] ^ al
            if code & 0x80:
                if self._hrange(code, s, mid) != al:
                    e = mid
                    sa[i] = al
                else:
                    s = mid
                    sa[i] = ar
                cnt = qs_member_count2(self.mask_p[code & 63], (code >> 6) & 1, s, e, &first)
                if cnt == 1:
                    s = first
                    e = first + 1
                    dn[i] = 1
                ss[i] = s
                se[i] = e
                sd[i] = d + 1
                continue
            j = code
            h = sh[i]
            if self.reuse and d + 1 < 24:
                kn = self.kn_p[j]
                T = self.knT[j]
                base = <size_t>sb[i] * 2 * T
                _bit_put(kn, base + 2 * h, 1)
                _bit_put(kn, base + T + 2 * h, al)
                _bit_put(kn, base + 2 * h + 1, 1)
                _bit_put(kn, base + T + 2 * h + 1, ar)
            bl = self._range(j, s, mid)
            if bl != al:
                e = mid
                sa[i] = al
                sh[i] = 2 * h
            else:
                s = mid
                sa[i] = ar
                sh[i] = 2 * h + 1
            ss[i] = s
            se[i] = e
            sd[i] = d + 1
            if e - s == 1:
                dn[i] = 1
        # apply the flips found this round (a bit found by two passes at once is flipped once)
        for i in range(m):
            if dn[i]:
                code = sp[i]
                j = code & 63
                self.ins_p[j][sb[i]] = 0
                if code & 0x80:
                    bit = ss[i]
                    if self._hrange(code, ss[i], se[i]) != sa[i]:
                        self._flip(bit)
                        nflip += 1
                else:
                    bit = self._at(j, ss[i])
                    if self._range(j, ss[i], se[i]) != sa[i]:
                        self._flip(bit)
                        nflip += 1
                self._cand(j, bit)
        # keep running searches whose range is still odd; re-check the blocks of dropped ones
        for i in range(m):
            if dn[i]:
                continue
            code = sp[i]
            j = code & 63
            if code & 0x80:
                if self._hrange(code, ss[i], se[i]) == sa[i]:
                    self.ins_p[j][sb[i]] = 0
                    self._cand(j, ss[i])
                    continue
            elif self._range(j, ss[i], se[i]) == sa[i]:
                self.ins_p[j][sb[i]] = 0
                self._cand(j, self._at(j, ss[i]))
                continue
            sp[keep] = sp[i]; ss[keep] = ss[i]; se[keep] = se[i]
            sd[keep] = sd[i]; sa[keep] = sa[i]; sb[keep] = sb[i]; sh[keep] = sh[i]
            keep += 1
        self.ns = keep
        self._check_candidates()
        return nflip

    cdef void _flip(self, Py_ssize_t bit):
        cdef uint64_t *packed = <uint64_t *>cnp.PyArray_DATA(self.packed)
        cdef Py_ssize_t i, n = self.n
        cdef int j
        cdef uint8_t *fen
        self.total_parity ^= 1
        packed[bit >> 6] ^= (<uint64_t>1) << (bit & 63)
        self.corrections += 1
        cdef Py_ssize_t b
        for j in range(self.npass):
            b = self._block_of(j, bit)
            self.mism_p[j][b] ^= 1
            if self.laid[j]:
                if not self.ident[j]:      # the identity pass reads the packed key, flipped above
                    i = self._pos(j, bit)
                    self.bo_p[j][i >> 6] ^= (<uint64_t>1) << (i & 63)
                if self.longr[j]:
                    fen = self.fen_p[j]
                    i = self._pos(j, bit) + 1
                    while i <= n:
                        fen[i] ^= 1
                        i += i & (-i)
            if self.mism_p[j][b] and not self.ins_p[j][b]:
                self._cand(j, bit)

    cdef void _check_candidates(self):
        cdef Py_ssize_t p, k, b, s, e, mid, n = self.n, c, bit
        cdef int j, d
        cdef uint8_t a
        cdef uint64_t *kn
        cdef uint32_t h, child
        cdef size_t T, base
        while self.ncand:
            self.ncand -= 1
            c = self.ncand
            j = self.cp_[c]
            bit = self.cb_[c]
            b = self._block_of(j, bit)
            if self.ins_p[j][b] or not self.mism_p[j][b]:
                continue
            if self.kind[j] == HALVES:
                self._hpush(j, b, self.apar_p[j][b])
                continue
            k = self.ksz[j]
            s = b * k
            e = n if b == self.nbl[j] - 1 else s + k
            a = self.apar_p[j][b]
            d = 0
            h = 1
            if self.reuse:
                p = self._pos(j, bit)
                kn = self.kn_p[j]
                T = self.knT[j]
                base = <size_t>b * 2 * T
                while d + 1 < 24 and e - s > 1:
                    mid = s + (e - s) // 2
                    child = 2 * h if p < mid else 2 * h + 1
                    if not _bit_get(kn, base + child):
                        break
                    if p < mid:
                        e = mid
                    else:
                        s = mid
                    a = _bit_get(kn, base + T + child)
                    h = child
                    d += 1
                if self._range(j, s, e) == a:
                    s = b * k
                    e = n if b == self.nbl[j] - 1 else s + k
                    a = self.apar_p[j][b]
                    d = 0
                    h = 1
            if e - s == 1:
                # a single bit whose correct value is already known: flip it without asking
                self._flip(self._at(j, s))
                continue
            self._push(j, s, e, d, a, b, h)
