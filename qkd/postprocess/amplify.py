"""Privacy amplification by Toeplitz hashing, exact over GF(2) at any size.

A Toeplitz matrix T (ℓ × n) is fixed by n + ℓ − 1 seed bits s: ``T[i, j] = s[i − j + n − 1]``. The
family {x ↦ T x} is 2-universal (Carter & Wegman 1979; Krawczyk, CRYPTO '94), so by the leftover
hash lemma the output is ε-close to uniform given Eve's information when ℓ is the finite-key length
(see :mod:`qkd.postprocess.finite_key`).

Computation: y = T x is the middle of the GF(2)[x] product s(z) · x(z): ``y_i`` is the coefficient of
z^(i+n−1). Two exact methods (finite-field arithmetic on bit-packed 64-bit words, no floating point, so
no rounding at any n), chosen by size (:func:`toeplitz_method`):

* ``"fft"`` (n ≥ 10^5 bits, or ℓ ≤ n/4): the additive FFT over GF(2^64) of Lin, Chung and Han (FOCS 2014) on
  Cantor's basis, as used for long GF(2)[x] products by Chen, Cheng, Kuo, Li and Yang (2017): the input is
  cut into P pieces, each piece's product with its (n/P + ℓ − 1)-bit seed segment is formed from 32-bit
  pieces as elements of GF(2^64), and the P products are summed in the transform domain (2P forward
  transforms, one inverse: :func:`qkd._native.gf2.toeplitz_fft`). Θ(n log n) field operations.
* ``"karatsuba"`` (small n): carry-less 64-bit products (PCLMULQDQ) and Karatsuba
  (:func:`qkd._native.gf2.clmul_poly`); for ℓ ≤ n/2 the matrix is cut into ⌈n/ℓ⌉ square ℓ × ℓ Toeplitz
  blocks, each the middle of a (2ℓ − 1)-bit by ℓ-bit product.

:func:`toeplitz_reference` is the direct GF(2) matrix-vector product the tests compare both with bit for bit.

Seed: Alice draws the n + ℓ − 1 seed bits from the OS RNG for every block and sends them with ℓ;
the seed is public (it is not counted as leakage: it is independent of the key).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qkd._native import gf2
from qkd._native.bitops import pack_bits, unpack_bits
from qkd.errors import QkdError
from qkd.postprocess.offload import run_step

if TYPE_CHECKING:
    from qkd.postprocess.channel import ClassicalChannel


class AmplificationError(QkdError):
    """Invalid sizes for privacy amplification (message names them)."""


def seed_words_needed(n_bits: int, out_bits: int) -> int:
    return (n_bits + out_bits - 1 + 63) // 64


def toeplitz_hash_words(x_words: np.ndarray, n_bits: int, seed_words: np.ndarray, out_bits: int) -> np.ndarray:
    """T x for packed input (``n_bits`` valid bits) and packed seed (≥ n + ℓ − 1 bits): ℓ bits, packed."""
    if out_bits <= 0 or n_bits <= 0:
        raise AmplificationError(f"Toeplitz hash needs n > 0 and ℓ > 0 bits, got n={n_bits}, ℓ={out_bits}")
    if out_bits > n_bits:
        raise AmplificationError(f"output length ℓ={out_bits} exceeds input length n={n_bits}")
    nx = (n_bits + 63) // 64
    ns = seed_words_needed(n_bits, out_bits)
    if x_words.size < nx or seed_words.size < ns:
        raise AmplificationError(f"need {nx} input and {ns} seed words, got {x_words.size} and {seed_words.size}")
    x = np.array(x_words[:nx], dtype=np.uint64)
    if n_bits % 64:
        x[-1] &= np.uint64((1 << (n_bits % 64)) - 1)
    s = np.array(seed_words[:ns], dtype=np.uint64)
    total = n_bits + out_bits - 1
    if total % 64:
        s[-1] &= np.uint64((1 << (total % 64)) - 1)
    if toeplitz_method(n_bits, out_bits) == "fft":
        return gf2.toeplitz_fft(x, n_bits, s, out_bits)
    return _toeplitz_by_karatsuba(x, n_bits, s, out_bits)


#: input length (bits) from which the FFT is used whatever ℓ (measured crossover ~10^5 bits at ℓ = n/2)
FFT_MIN_BITS = 100_000


def toeplitz_method(n_bits: int, out_bits: int) -> str:
    """``"fft"`` or ``"karatsuba"``: the faster exact method for an ℓ × n Toeplitz hash (bench/qkd_postprocess.py
    measures both; the Karatsuba block path loses for ℓ ≤ n/4, where it needs many ℓ × ℓ blocks)."""
    return "fft" if n_bits >= FFT_MIN_BITS or 4 * out_bits <= n_bits else "karatsuba"


def _toeplitz_by_karatsuba(x: np.ndarray, n_bits: int, s: np.ndarray, out_bits: int) -> np.ndarray:
    """T x by carry-less Karatsuba products (masked inputs): square blocks for ℓ ≤ n/2, else one product."""
    if 2 * out_bits <= n_bits:
        return _toeplitz_by_square_blocks(x, n_bits, s, out_bits)
    prod = gf2.clmul_poly(s, x)
    return gf2.extract_bits(prod, n_bits - 1, out_bits)


def _shift_up(words: np.ndarray, shift: int, out_words: int) -> np.ndarray:
    """The packed bit string moved up by ``shift`` bits (``shift`` zero bits below), ``out_words`` long."""
    out = np.zeros(out_words, dtype=np.uint64)
    q, r = divmod(shift, 64)
    m = min(words.size, out_words - q)
    if r == 0:
        out[q:q + m] = words[:m]
    else:
        out[q:q + m] = words[:m] << np.uint64(r)
        hi = words[:min(words.size, out_words - q - 1)] >> np.uint64(64 - r)
        out[q + 1:q + 1 + hi.size] ^= hi
    return out


def _toeplitz_by_square_blocks(x: np.ndarray, n_bits: int, s: np.ndarray, out_bits: int) -> np.ndarray:
    """T x as a sum of ℓ × ℓ Toeplitz blocks, for ℓ ≤ n/2 (masked inputs).

    Pad x to n' = c ℓ bits (c = ⌈n/ℓ⌉ chunks x_t of ℓ bits) and put n' − n zero bits below the seed (s'),
    which leaves T x unchanged. Chunk t sees the 2ℓ − 1 seed bits S_t = s'[n' − (t+1)ℓ, n' − tℓ + ℓ − 1) and
    contributes the middle ℓ bits (from bit ℓ − 1) of S_t · x_t: y_i = Σ_t Σ_u S_t[i + ℓ − 1 − u] x_t[u] =
    Σ_j s'[i − j + n' − 1] x'_j. Cost c · 2 M(ℓ) instead of the full (n + ℓ) × n product, ≈ 2 M(n): fewer
    operations for every ℓ ≤ n/2 (Karatsuba M(n) ~ n^1.58), and far fewer for small ℓ/n."""
    ell = out_bits
    c = -(-n_bits // ell)
    n_pad = c * ell
    s_words = _shift_up(s, n_pad - n_bits, (n_pad + ell - 1 + 63) // 64)
    x_words = np.zeros((n_pad + 63) // 64, dtype=np.uint64)
    x_words[:x.size] = x
    y = np.zeros((ell + 63) // 64, dtype=np.uint64)
    for t in range(c):
        seg = gf2.extract_bits(s_words, n_pad - (t + 1) * ell, 2 * ell - 1)
        chunk = gf2.extract_bits(x_words, t * ell, ell)
        y ^= gf2.extract_bits(gf2.clmul_poly(seg, chunk), ell - 1, ell)
    return y


def toeplitz_hash(bits: np.ndarray, seed_bits: np.ndarray, out_bits: int) -> np.ndarray:
    """T x on 0/1 byte arrays (``seed_bits`` has n + ℓ − 1 entries); returns ℓ bits as 0/1 bytes."""
    n = int(np.asarray(bits).size)
    if np.asarray(seed_bits).size != n + out_bits - 1:
        raise AmplificationError(f"seed has {np.asarray(seed_bits).size} bits, n + ℓ − 1 = {n + out_bits - 1} needed")
    return unpack_bits(toeplitz_hash_words(pack_bits(bits), n, pack_bits(seed_bits), out_bits), out_bits)


def toeplitz_reference(bits: np.ndarray, seed_bits: np.ndarray, out_bits: int) -> np.ndarray:
    """Direct GF(2) matrix-vector product with the explicit ℓ × n Toeplitz matrix (small sizes only)."""
    x = np.asarray(bits, dtype=np.int64)
    s = np.asarray(seed_bits, dtype=np.int64)
    n = x.size
    i = np.arange(out_bits)[:, None]
    j = np.arange(n)[None, :]
    T = s[i - j + n - 1]
    return ((T @ x) % 2).astype(np.uint8)


@dataclass(frozen=True)
class AmplificationResult:
    key_bits: int
    seed_bits: int


async def amplify_sender(channel: ClassicalChannel, bits: np.ndarray, out_bits: int) -> np.ndarray:
    """Alice: draw a fresh seed, send it with ℓ, return her ℓ-bit secret key (packed words)."""
    n = int(np.asarray(bits).size)
    ns = seed_words_needed(n, out_bits)
    seed = np.frombuffer(secrets.token_bytes(8 * ns), dtype="<u8").astype(np.uint64)
    await channel.send("amplify.seed", int(out_bits).to_bytes(8, "big") + seed.astype("<u8").tobytes())
    return await run_step(n, _hash_bits, bits, n, seed, out_bits)


async def amplify_receiver(channel: ClassicalChannel, bits: np.ndarray) -> np.ndarray:
    """Bob: receive the seed and ℓ, return his ℓ-bit secret key (packed words)."""
    _, body = await channel.recv("amplify.seed")
    out_bits = int.from_bytes(body[:8], "big")
    seed = np.frombuffer(body[8:], dtype="<u8").astype(np.uint64)
    n = int(np.asarray(bits).size)
    return await run_step(n, _hash_bits, bits, n, seed, out_bits)


def _hash_bits(bits: np.ndarray, n_bits: int, seed: np.ndarray, out_bits: int) -> np.ndarray:
    """T x for a key as 0/1 bytes (packed first); the step amplification runs off the event loop."""
    return toeplitz_hash_words(pack_bits(bits), n_bits, seed, out_bits)


def words_to_bytes(words: np.ndarray, n_bits: int) -> bytes:
    """Packed key → bytes (little-endian bit order), ⌈n/8⌉ bytes."""
    return np.asarray(words, dtype="<u8").tobytes()[: (n_bits + 7) // 8]


__all__ = ["AmplificationError", "amplify_receiver", "amplify_sender", "toeplitz_hash", "toeplitz_hash_words",
           "toeplitz_method", "toeplitz_reference", "words_to_bytes"]
