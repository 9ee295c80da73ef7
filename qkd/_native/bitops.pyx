# cython: language_level=3
"""Bit-level kernels over numpy arrays of 0/1 bytes.

``count_bit_differences`` is the Hamming distance used to estimate the quantum bit error rate (QBER)
on disclosed sample bits; ``parity`` is the XOR of a bit array (Cascade block parities).
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
