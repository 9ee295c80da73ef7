"""A numpy model of the compiled int8 layered min-sum (``ldpc_decode.decode(algorithm="min-sum-8")``), written from
its specification in ``qkd/_native/ldpc_chunk.h`` (LDPC_CQ == 2) so that the tests can hold the SIMD kernel to it bit
for bit: a layer's Z checks are independent (a base row holds each column once), so one numpy operation over the
Z checks of a layer does what the kernel does 32 or 64 lanes at a time.

Values are int8 in [−127, 127]: L = round(LLR · scale) (half away from zero, in float32 as the C code does);
a check's extrinsic input t = max(sat(L − R_old), −127); its two smallest magnitudes, scaled by α in 64ths with
rounding, ``(m·a + 32) >> 6``, are the messages; L = max(sat(t + R_new), −127); sat() saturates at [−128, 127].
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qkd.postprocess.ldpc_codes import QCCode


def _sat(x: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    return np.clip(x, -128, 127)


def _signed(mag: npt.NDArray[np.int16], negative: npt.NDArray[np.bool_]) -> npt.NDArray[np.int16]:
    return np.where(negative, -mag, mag)


def decode_int8(code: QCCode, llr: npt.NDArray[np.float32], syndrome: npt.NDArray[np.uint8], alpha: float,
                max_iter: int, scale: float) -> tuple[npt.NDArray[np.uint8], int]:
    """``(bits, iterations)`` as ``decode(…, algorithm="min-sum-8", patience=0, q8_scale=scale)`` returns them."""
    Z, mb = code.Z, len(code.row_start) - 1
    v = llr.astype(np.float32) * np.float32(scale)
    v = np.clip(v, np.float32(-127), np.float32(127))
    L = np.trunc(np.where(v >= 0, v + np.float32(0.5), v - np.float32(0.5))).astype(np.int16)
    a = np.int16(min(max(int(alpha * np.float32(64.0) + np.float32(0.5)), 0), 64))
    syn_neg = syndrome.astype(bool).reshape(mb, Z)
    a1 = np.zeros((mb, Z), np.int16)
    a2 = np.zeros((mb, Z), np.int16)
    idx = np.zeros((mb, Z), np.int16)
    sg_neg = np.zeros((mb, Z), bool)              # sign of the check's product (syndrome included)
    n_edges = int(code.row_start[-1])
    t_neg = np.zeros((n_edges, Z), bool)          # sign of each edge's last input
    z = np.arange(Z)
    for it in range(1, max_iter + 1):
        bad = 0
        for r in range(mb):
            e0, e1 = int(code.row_start[r]), int(code.row_start[r + 1])
            cols = [int(code.ent_col[e]) * Z + (z + int(code.ent_shift[e])) % Z for e in range(e0, e1)]
            m1 = np.full(Z, 127, np.int16)
            m2 = np.full(Z, 127, np.int16)
            amin = np.full(Z, -1, np.int16)
            neg = syn_neg[r].copy()
            ts = []
            for k, pos in enumerate(cols):
                rold = _signed(np.where(idx[r] == k, a2[r], a1[r]), sg_neg[r] ^ t_neg[e0 + k])
                t = np.maximum(_sat(L[pos] - rold), -127)
                ts.append(t)
                t_neg[e0 + k] = t < 0
                neg ^= t < 0
                mag = np.abs(t)
                lt = mag < m1
                m2 = np.minimum(np.where(lt, m1, mag), m2)
                m1 = np.where(lt, mag, m1)
                amin = np.where(lt, np.int16(k), amin)
            n1 = (m1 * a + 32) >> 6
            n2 = (m2 * a + 32) >> 6
            par = syn_neg[r].copy()
            for k, pos in enumerate(cols):
                rm = np.where(amin == k, n2, n1)
                ln = np.maximum(_sat(ts[k] + _signed(rm, neg ^ (ts[k] < 0))), -127)
                L[pos] = ln
                par ^= ln < 0
            a1[r], a2[r], idx[r], sg_neg[r] = n1, n2, amin, neg
            bad += int(par.sum())
        hard = (L < 0).astype(np.uint8)
        if bad == 0 and _syndrome_bad(code, hard, syndrome) == 0:
            return hard, it
    return (L < 0).astype(np.uint8), -max_iter


def _syndrome_bad(code: QCCode, hard: npt.NDArray[np.uint8], syndrome: npt.NDArray[np.uint8]) -> int:
    Z, mb = code.Z, len(code.row_start) - 1
    z = np.arange(Z)
    bad = 0
    for r in range(mb):
        acc = syndrome[r * Z:(r + 1) * Z].copy()
        for e in range(int(code.row_start[r]), int(code.row_start[r + 1])):
            acc ^= hard[int(code.ent_col[e]) * Z + (z + int(code.ent_shift[e])) % Z]
        bad += int(acc.sum())
    return bad
