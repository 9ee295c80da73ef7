"""Plain numpy twins of the LDPC kernels (:mod:`qkd._native.ldpc_decode`): the syndrome, and a flooding
normalised min-sum (or sum-product) decoder over the expanded edge list of a :class:`QCCode`.

They are the baseline of ``bench/qkd_ldpc.py`` (the compiled layered decoder against "a plain numpy
min-sum in the same run", issue 20) and a cross-check of the compiled kernels in the tests. Flooding
schedule: all checks, then all variables, per iteration (Gallager's schedule; the compiled decoder is
layered and needs about half the iterations). LLRs log(P(0)/P(1)) in nats.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qkd.postprocess.ldpc_codes import QCCode


class EdgeList:
    """The edges of a code sorted by check: ``check``, ``var`` (int64), segment starts per check."""

    def __init__(self, code: QCCode) -> None:
        cv = code.check_neighbours()
        order = np.lexsort((cv[:, 1], cv[:, 0]))
        self.check = cv[order, 0]
        self.var = cv[order, 1]
        self.n, self.m = code.n, code.m
        self.starts = np.flatnonzero(np.r_[True, self.check[1:] != self.check[:-1]])


def syndrome_reference(edges: EdgeList, x: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """H·x over GF(2), one byte per check."""
    return np.bitwise_xor.reduceat(x[edges.var].astype(np.uint8), edges.starts).astype(np.uint8)


def decode_flooding(edges: EdgeList, llr: npt.NDArray[np.float32], syndrome: npt.NDArray[np.uint8],
                    alpha: float = 0.8, max_iter: int = 100,
                    sum_product: bool = False) -> tuple[npt.NDArray[np.uint8], int]:
    """Flooding min-sum (``alpha``-normalised) or sum-product decoding towards ``syndrome``.

    Returns ``(bits, iterations)`` with iterations < 0 when no word satisfying the syndrome was found
    (same convention as the compiled decoder)."""
    var, starts = edges.var, edges.starts
    counts = np.diff(np.r_[starts, var.size])
    syn_sign = np.repeat(1.0 - 2.0 * syndrome.astype(np.float64), counts)
    llr64 = llr.astype(np.float64)
    r = np.zeros(var.size)
    total = llr64.copy()
    hard = (total < 0).astype(np.uint8)
    for it in range(1, max_iter + 1):
        q = total[var] - r
        if sum_product:
            th = np.tanh(np.clip(q, -30, 30) / 2)
            th = np.where(np.abs(th) < 1e-12, 1e-12, th)
            # product of the others = product of all / own (own never 0 after the clamp)
            logabs = np.log(np.abs(th))
            neg = (th < 0).astype(np.int64)
            tot_log = np.add.reduceat(logabs, starts)
            tot_neg = np.add.reduceat(neg, starts)
            prod_abs = np.exp(np.repeat(tot_log, counts) - logabs)
            sign = np.where((np.repeat(tot_neg, counts) - neg) % 2, -1.0, 1.0)
            val = np.clip(prod_abs, 0, 1 - 1e-12)
            r = syn_sign * sign * 2 * np.arctanh(val)
        else:
            mag = np.abs(q)
            min1 = np.minimum.reduceat(mag, starts)
            rep1 = np.repeat(min1, counts)
            is_min = mag == rep1
            # the first minimum of each check is excluded from its own second-minimum
            first = np.zeros(var.size, bool)
            cand = np.flatnonzero(is_min)
            seg = np.searchsorted(starts, cand, side="right") - 1
            _, first_idx = np.unique(seg, return_index=True)
            first[cand[first_idx]] = True
            mag2 = np.where(first, np.inf, mag)
            min2 = np.minimum.reduceat(mag2, starts)
            neg = (q < 0).astype(np.int64)
            tot_neg = np.add.reduceat(neg, starts)
            sign = np.where((np.repeat(tot_neg, counts) - neg) % 2, -1.0, 1.0)
            r = alpha * syn_sign * sign * np.where(first, np.repeat(min2, counts), rep1)
        total = llr64 + np.bincount(var, weights=r, minlength=edges.n)
        hard = (total < 0).astype(np.uint8)
        if np.array_equal(syndrome_reference(edges, hard), syndrome):
            return hard, it
    return hard, -max_iter


__all__ = ["EdgeList", "decode_flooding", "syndrome_reference"]
