"""Pure-Python reference for multiplication in GF(2^n): the carry-less product of two ints, bit by bit, reduced
modulo x^n + r(x). The compiled field arithmetic (qkd._native.gf2) is checked against it."""

from __future__ import annotations

#: r(x) of the GF(2^64) modulus x^64 + x^4 + x^3 + x + 1 (the Toeplitz/FFT field of gf2_clmul.h).
GF64_LOW = 0b11011
#: r(x) of the GF(2^128) modulus x^128 + x^7 + x^2 + x + 1 (the polynomial hash of verification).
GF128_LOW = 0x87


def gf2n_mul_reference(a: int, b: int, n: int, low: int) -> int:
    """a·b in GF(2^n) with modulus x^n + ``low`` (a, b < 2^n)."""
    p = 0
    for i in range(n):
        if (b >> i) & 1:
            p ^= a << i
    for i in range(2 * n - 1, n - 1, -1):
        if (p >> i) & 1:
            p ^= ((1 << n) | low) << (i - n)
    return p
