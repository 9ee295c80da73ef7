# cython: language_level=3
"""Cascade pass structure shared by both ends: which kind each pass is and how it is laid out.

Pass ``j`` of Cascade (Brassard & Salvail 1993) reorders the key and cuts it into top-level blocks of ``k_j``
bits. Both ends derive every pass from the public seed and the block-size plan alone:

* ``IDENTITY`` (pass 0): natural order, blocks of ``k_0``.
* ``SHUFFLED``: a uniform permutation (:func:`qkd._native.cascade_shuffle.shuffle_into`), blocks of ``k_j``.
* ``HALVES`` (block size >= n/2; Demystifying options (3)–(8), Yan et al.): a pseudo-random subset (one
  SplitMix64 bit per key bit) is block 0, its complement block 1, each in natural order.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint64_t

from qkd._native.cascade_pool cimport take
from qkd._native.packed_bits cimport qs_words_for_bits, qs_words_popcount

from qkd._native.cascade_shuffle import halves_mask, halves_order, shuffle_into

cnp.import_array()

IDENTITY = PASS_IDENTITY
SHUFFLED = PASS_SHUFFLED
HALVES = PASS_HALVES


def pass_kind(Py_ssize_t n, int pass_index, Py_ssize_t block_bits):
    """IDENTITY for pass 0, HALVES when ``2 * block_bits >= n``, SHUFFLED otherwise."""
    if pass_index == 0:
        return PASS_IDENTITY
    if 2 * block_bits >= n:
        return PASS_HALVES
    return PASS_SHUFFLED


_IDENTITY_CACHE: dict = {}


def identity_order(Py_ssize_t n):
    """A shared read-only arange(n) (pass 0's order), cached for the last few key lengths."""
    arr = _IDENTITY_CACHE.get(n)
    if arr is None:
        if len(_IDENTITY_CACHE) > 4:
            _IDENTITY_CACHE.clear()
        arr = np.arange(n, dtype=np.uint32)
        arr.setflags(write=False)
        _IDENTITY_CACHE[n] = arr
    return arr


cdef class PassPlan:
    """The layout of one pass: kind, block size, number of blocks and (when laid out) its order."""

    def __init__(self, Py_ssize_t n, uint64_t seed, int pass_index, Py_ssize_t block_bits, list owner=None):
        """``owner``: a list that receives the pooled buffers the plan's arrays live on (see ``cascade_pool``)."""
        self.n = n
        self.kind = pass_kind(n, pass_index, block_bits)
        self.order = None
        self.mask = None
        cdef Py_ssize_t members
        if self.kind == PASS_HALVES:
            self.mask = halves_mask(n, seed, pass_index,
                                    None if owner is None else take(owner, qs_words_for_bits(n), np.uint64, False))
            members = qs_words_popcount(<uint64_t *>cnp.PyArray_DATA(self.mask), qs_words_for_bits(n))
            self.block_bits = max(members, 1)
            self.n_blocks = 2 if 0 < members < n else 1
            if self.n_blocks == 1:
                self.block_bits = n
        else:
            self.block_bits = min(max(block_bits, 1), n)
            self.n_blocks = (n + self.block_bits - 1) // self.block_bits

    def lay_out(self, uint64_t seed, int pass_index, list owner=None):
        """Compute the pass's order (position -> key index), once."""
        if self.order is not None:
            return
        if self.kind == PASS_IDENTITY:
            self.order = identity_order(self.n)
            return
        out = np.empty(self.n, dtype=np.uint32) if owner is None else take(owner, self.n, np.uint32, False)
        if self.kind == PASS_SHUFFLED:
            shuffle_into(out, seed, pass_index)
            self.order = out
        else:
            self.order, _ = halves_order(self.mask, self.n, out)
