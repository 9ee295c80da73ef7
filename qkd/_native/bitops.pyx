# cython: language_level=3
"""Bit-level kernels over numpy arrays of 0/1 bytes, and the one bit packing of the QKD stack.

``count_bit_differences`` is the Hamming distance used to estimate the quantum bit error rate (QBER)
on disclosed sample bits; ``parity`` is the XOR of a bit array (Cascade block parities).

``pack_bits`` / ``unpack_bits`` convert between 0/1 bytes and packed words: bit i is bit i % 64 of uint64
word i // 64 (little-endian bit order, the layout of ``packed_bits.h``), ⌈n/64⌉ words with the bits above n
zero. Cascade's keys, the verification hash's message and the Toeplitz hash's input and seed use it.
"""

import numpy as np
cimport numpy as cnp

cnp.import_array()


def count_bit_differences(const unsigned char[::1] a, const unsigned char[::1] b) -> int:
    """Number of positions where the bit arrays ``a`` and ``b`` (values 0/1, same length) differ."""
    cdef Py_ssize_t n = a.shape[0], i
    cdef long long diff = 0
    if b.shape[0] != n:
        raise ValueError(f"bit arrays differ in length: {n} and {b.shape[0]} bits")
    with nogil:
        for i in range(n):
            diff += (a[i] ^ b[i]) & 1
    return diff


def parity(const unsigned char[::1] bits) -> int:
    """XOR of all bits (values 0/1) of ``bits``: 0 or 1."""
    cdef Py_ssize_t i
    cdef unsigned char p = 0
    with nogil:
        for i in range(bits.shape[0]):
            p ^= bits[i] & 1
    return p


def pack_bits(bits) -> np.ndarray:
    """0/1 bytes → packed uint64 words (bit i = bit i % 64 of word i // 64), ⌈n/64⌉ words, zero above n."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little")
    out = np.zeros((packed.size + 7) // 8, dtype=np.uint64)
    out.view(np.uint8)[:packed.size] = packed
    return out


def unpack_bits(words, Py_ssize_t n_bits) -> np.ndarray:
    """The first ``n_bits`` bits of packed words as 0/1 bytes (the inverse of :func:`pack_bits`)."""
    return np.unpackbits(np.asarray(words, dtype="<u8").view(np.uint8), count=n_bits, bitorder="little")
