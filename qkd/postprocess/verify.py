"""Verification of reconciled keys with an ε-universal polynomial hash over GF(2^128).

The hash family is polynomial evaluation (Carter & Wegman; den Boer / Bernstein's "polynomial
evaluation" MAC family): the key bits, packed into 128-bit blocks m_1 … m_L (zero padded), and their
length give ``h_k(m) = Σ_i m_i k^(L+2-i) + |m| k`` in GF(2^128) = GF(2)[x]/(x^128 + x^7 + x^2 + x + 1)
(Horner evaluation in :func:`qkd._native.gf2.gf128_polyhash`). For two different keys m ≠ m' of at
most L blocks, h_k(m) − h_k(m') is a non-zero polynomial in k of degree ≤ L+1, so it vanishes for at
most L+1 of the 2^128 values of k: a wrong key passes verification with probability

    ε_ver ≤ (L + 1) / 2^128 ≤ 2^-64   for L < 2^64 - 1 blocks,

when k is drawn fresh and uniformly after the keys are fixed (:func:`verify_sender` draws it from
the OS RNG per block). ε_ver is the ε_cor of the finite-key analysis. The tag (128 bits) is disclosed
and counted as leakage; the hash key is independent of the key and discloses nothing.

A block that fails verification is discarded by both ends and counted; it is never delivered.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qkd._native import gf2
from qkd._native.bitops import pack_bits

if TYPE_CHECKING:
    from qkd.postprocess.channel import ClassicalChannel

TAG_BITS = 128


class PolyHash128:
    """h_k over GF(2^128) with a fixed 16-byte key (little-endian: byte 0 holds x^0…x^7)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError(f"GF(2^128) hash key must be 16 bytes, got {len(key)}")
        self._k = np.frombuffer(key, dtype="<u8").astype(np.uint64)

    def digest_words(self, words: np.ndarray, n_bits: int) -> bytes:
        h = gf2.gf128_polyhash(self._k, np.ascontiguousarray(words, dtype=np.uint64), n_bits)
        return h.astype("<u8").tobytes()

    def digest(self, data: bytes) -> bytes:
        pad = (-len(data)) % 16
        words = np.frombuffer(data + b"\0" * pad, dtype="<u8").astype(np.uint64)
        return self.digest_words(words, 8 * len(data))

    def digest_bits(self, bits: np.ndarray) -> bytes:
        return self.digest_words(pack_bits(bits), int(np.asarray(bits).size))


def collision_bound(n_bits: int) -> float:
    """ε_ver = (L+1)/2^128 for a key of ``n_bits`` bits (L = ⌈n/128⌉ blocks)."""
    blocks = max(1, math.ceil(n_bits / 128))
    return (blocks + 1) / 2.0**128


@dataclass(frozen=True)
class VerificationResult:
    """``ok``: tags equal; ``disclosed_bits``: the tag length; ``eps_ver``: collision bound."""

    ok: bool
    disclosed_bits: int
    eps_ver: float


async def verify_sender(channel: ClassicalChannel, bits: np.ndarray) -> VerificationResult:
    """Alice's side: draw a fresh hash key, send it with her tag, receive Bob's verdict."""
    key = secrets.token_bytes(16)
    tag = PolyHash128(key).digest_bits(bits)
    await channel.send("verify.tag", key + tag, disclosed_bits=TAG_BITS)
    _, verdict = await channel.recv("verify.verdict")
    return VerificationResult(verdict == b"\x01", TAG_BITS, collision_bound(int(np.asarray(bits).size)))


async def verify_receiver(channel: ClassicalChannel, bits: np.ndarray) -> VerificationResult:
    """Bob's side: compare Alice's tag with his own (constant time) and send the verdict."""
    import hmac

    _, body = await channel.recv("verify.tag")
    key, tag = body[:16], body[16:]
    ok = hmac.compare_digest(PolyHash128(key).digest_bits(bits), tag)
    await channel.send("verify.verdict", b"\x01" if ok else b"\x00")
    return VerificationResult(ok, TAG_BITS, collision_bound(int(np.asarray(bits).size)))


__all__ = ["PolyHash128", "TAG_BITS", "VerificationResult", "collision_bound", "verify_receiver",
           "verify_sender"]
