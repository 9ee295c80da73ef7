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

The kernels, one concept per module (this module re-exports their public names):

* :mod:`qkd._native.cascade_passes` — pass kinds, :class:`PassPlan`, the pass codes of parity questions;
* :mod:`qkd._native.cascade_shuffle` — the pseudo-random pass orders (Rao–Sandelius shuffle, HALVES masks);
* :mod:`qkd._native.cascade_pool` — the work-buffer pool;
* :mod:`qkd._native.cascade_alice` — :class:`AliceOracle`, Alice's parity oracle;
* :mod:`qkd._native.cascade_bob` — :class:`BobSearches`, Bob's key, bisections and cascade;
* ``splitmix64.h`` and ``packed_bits.h`` — the generator and the packed-bit operations they share.

Speed notes (2-core VM, n = 10^6, QBER 2 %): the pass-1 permutation (Rao–Sandelius, ~6 ns per bit,
once per end) and the random accesses of Bob's position array are the largest remaining costs.
"""

from qkd._native.cascade_alice import AliceOracle
from qkd._native.cascade_bob import BobSearches
from qkd._native.cascade_passes import HALVES, IDENTITY, SHUFFLED, PassPlan, pass_kind
from qkd._native.cascade_shuffle import halves_mask, halves_order, shuffle_into

__all__ = ["HALVES", "IDENTITY", "SHUFFLED", "AliceOracle", "BobSearches", "PassPlan", "halves_mask",
           "halves_order", "pass_kind", "shuffle_into"]
