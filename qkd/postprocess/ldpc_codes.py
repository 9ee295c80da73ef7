"""The family of quasi-cyclic LDPC codes used by rate-adaptive reconciliation (:mod:`qkd.postprocess.ldpc`).

Every code is built here, deterministically, from its name: no matrix is downloaded or stored. A code is
a *protograph* (base matrix, ``mb`` × ``nb``, entries 0/1) lifted by circulant permutations of size ``Z``
(a quasi-cyclic code of length N = nb·Z with M = mb·Z checks; Thorpe, "Low-density parity-check (LDPC)
codes constructed from protographs", IPN PR 42-154 (2003); Fossorier, "Quasi-cyclic LDPC codes from
circulant permutation matrices", IEEE Trans. Inf. Theory 50 (2004)).

Construction of a code of mother rate R₀ (see :func:`build_code`):

1. **Degree profile.** Variable-node degrees 2, 3 and ``d_high`` with edge fractions λ₂, λ₃, λ_high
   (irregular codes as in Richardson, Shokrollahi, Urbanke, IEEE Trans. Inf. Theory 47 (2001), and the
   BSC-optimised families of Elkouss, Leverrier, Alléaume, Boutros, ISIT 2009 that Elkouss,
   Martinez-Mateo, Martin, QIC 11 (2011) puncture and shorten). λ₂ stays below the stability bound
   λ₂ ρ'(1) < 1/B, B = 2√(p(1−p)) the Bhattacharyya parameter of the BSC at the code's threshold; check
   degrees are concentrated (two consecutive values).
2. **Base matrix.** The degree-2 columns form a staircase (column t joins rows t and t+1, as the
   accumulator of IRA codes): a tree, so no cycle of degree-2 variables alone. The other columns pick
   their rows greedily, highest remaining check capacity first (ties broken by a generator seeded from
   the code's name), so check degrees differ by at most one.
3. **Lifting.** Each base entry becomes a Z×Z circulant with a shift drawn from the seeded generator,
   redrawn (a bounded number of times) while it closes a 4-cycle in the lifted graph
   (s₁ − s₂ + s₃ − s₄ ≢ 0 mod Z, Fossorier 2004).

Puncturing: :attr:`QCCode.puncture_order` lists variables that can be punctured together such that every
check has at most one punctured neighbour ("untainted" puncturing, Elkouss, Martinez-Mateo, Martin,
"Untainted puncturing for irregular low-density parity-check codes", IEEE Wireless Commun. Lett. 1 (2012)):
whole base columns with pairwise disjoint row sets, low degree first. Any prefix of it is untainted, so
the number punctured can be chosen per frame. Such a set has full column rank in H (each punctured
column owns checks no other punctured column touches), which is what lets the syndrome's leakage be
credited with one bit per punctured (random, undisclosed) symbol.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from qkd.errors import QkdError

#: mother rates of the family (design rates of the base matrices)
MOTHER_RATES: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)
#: frame lengths N of the family (bits) and the protograph width they are lifted from
FRAME_LENGTHS: tuple[int, ...] = (12_000, 120_000)
BASE_COLUMNS = 200
FAMILY_VERSION = "qc1"


class LdpcCodeError(QkdError):
    """An LDPC code of the family cannot be built or is asked for by an unknown name."""


@dataclass(frozen=True)
class DegreeProfile:
    """Node-perspective variable degrees: degree 2 on as many columns as the staircase holds (mb − 1) up to
    ``v2`` of them, ``v_high`` of the columns on degree ``d_high``, the rest degree 3."""

    v2: float
    v_high: float
    d_high: int


def bsc_capacity_qber(rate: float) -> float:
    """The QBER p with 1 − h(p) = ``rate`` (the Shannon limit of a code of that rate on the BSC)."""
    lo, hi = 1e-9, 0.5
    for _ in range(80):
        mid = (lo + hi) / 2
        h = -mid * math.log2(mid) - (1 - mid) * math.log2(1 - mid)
        lo, hi = (mid, hi) if 1 - h > rate else (lo, mid)
    return (lo + hi) / 2


def _from_edges(lambda2: float, lambda3: float, d_high: int) -> DegreeProfile:
    """Node fractions of the edge-perspective distribution λ₂ x + λ₃ x² + (1 − λ₂ − λ₃) x^(d_high − 1)."""
    w = {2: lambda2 / 2, 3: lambda3 / 3, d_high: (1 - lambda2 - lambda3) / d_high}
    tot = sum(w.values())
    return DegreeProfile(w[2] / tot, w[d_high] / tot, d_high)


#: degree profiles of the family by mother rate: edge fractions (λ₂, λ₃, λ₈) chosen by density evolution
#: of normalised min-sum (α = 0.8) over the BSC (population dynamics), then checked by simulation
#: (``bench/qkd_ldpc.py``); rate 0.5 is close to Richardson–Shokrollahi–Urbanke's d_v ≤ 8 ensemble.
#: Measured (N = 1.2·10^5, layered min-sum, unpunctured): half the frames decode at f ≈ 1.17 (rate 0.5) and
#: f ≈ 1.29 (rate 0.9) — min-sum loses most at the high check degrees (≈ 45) of the high rates.
PROFILES: dict[float, DegreeProfile] = {
    0.5: DegreeProfile(0.5, 0.2, 8),
    0.6: _from_edges(0.16, 0.45, 8),
    0.7: _from_edges(0.12, 0.50, 8),
    0.8: _from_edges(0.09, 0.45, 8),
    0.9: _from_edges(0.069, 0.40, 8),
}


def default_profile(rate: float) -> DegreeProfile:
    """The degree profile of the family's code of mother rate ``rate`` (the nearest in :data:`PROFILES`)."""
    return PROFILES[min(PROFILES, key=lambda r: abs(r - rate))]


@dataclass(frozen=True, eq=False)
class QCCode:
    """A quasi-cyclic LDPC code: base rows in CSR form (``row_start``, ``ent_col``, ``ent_shift``) lifted by ``Z``.

    Check ``r·Z + z`` joins variable ``j·Z + (z + s) mod Z`` for every base entry (r, j, s). Lengths in bits."""

    name: str
    rate: float
    nb: int
    mb: int
    Z: int
    row_start: npt.NDArray[np.int32]
    ent_col: npt.NDArray[np.int32]
    ent_shift: npt.NDArray[np.int32]
    col_degree: npt.NDArray[np.int32]
    punctured_columns: tuple[int, ...]
    four_cycles: int
    puncture_order: npt.NDArray[np.int64] = field(repr=False)

    @property
    def n(self) -> int:
        """Frame length N (variables)."""
        return self.nb * self.Z

    @property
    def m(self) -> int:
        """Syndrome length M (checks)."""
        return self.mb * self.Z

    @property
    def edges(self) -> int:
        return int(self.ent_col.size) * self.Z

    @property
    def max_punctured(self) -> int:
        return int(self.puncture_order.size)

    def check_neighbours(self) -> npt.NDArray[np.int64]:
        """The Tanner graph as an (edges, 2) array of (check, variable) pairs (tests, numpy reference)."""
        rows = np.repeat(np.arange(self.mb), np.diff(self.row_start))
        z = np.arange(self.Z)
        checks = (rows[:, None] * self.Z + z[None, :]).ravel()
        var = (self.ent_col[:, None].astype(np.int64) * self.Z
               + (z[None, :] + self.ent_shift[:, None]) % self.Z).ravel()
        return np.stack([checks, var], axis=1)


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"qshift-ldpc/{name}".encode()).digest()[:8], "little")


def _degrees(nb: int, mb: int, profile: DegreeProfile) -> list[int]:
    """Column degrees (descending) of a ``mb`` × ``nb`` base matrix with the node fractions of ``profile``."""
    n2 = int(round(profile.v2 * nb))
    nh = int(round(profile.v_high * nb))
    n3 = nb - n2 - nh
    if n3 < 0 or profile.d_high > mb:
        raise LdpcCodeError(f"degree profile {profile} does not fit a {mb}×{nb} base matrix")
    return [profile.d_high] * nh + [3] * n3 + [2] * n2


def _base_matrix(nb: int, mb: int, degs: list[int], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """Degree-2 columns (the last ones) in a staircase as far as it reaches (mb − 1 columns), every other
    column on the rows of highest remaining capacity (so that row degrees differ by at most one)."""
    base = np.zeros((mb, nb), np.uint8)
    n_stair = min(degs.count(2), mb - 1)
    for t in range(n_stair):
        base[t, nb - n_stair + t] = base[t + 1, nb - n_stair + t] = 1
    cap = sum(degs) / mb - base.sum(axis=1).astype(float)
    for j, d in enumerate(degs[:nb - n_stair]):
        rows = np.argsort(-(cap + rng.random(mb) * 1e-3))[:d]
        base[rows, j] = 1
        cap[rows] -= 1
    return base


def _lift(base: npt.NDArray[np.uint8], Z: int, rng: np.random.Generator,
          tries: int = 40) -> tuple[npt.NDArray[np.int32], int]:
    """Circulant shifts for every base entry avoiding lifted 4-cycles; returns (shifts (−1 = none), 4-cycles left)."""
    mb, nb = base.shape
    shift = np.full((mb, nb), -1, np.int64)
    left = 0
    rows_of = [np.flatnonzero(base[:, j]) for j in range(nb)]
    for r in range(mb):
        for j in np.flatnonzero(base[r]):
            # 4-cycles through (r, j): rows r2 ≠ r of column j and columns j2 ≠ j of row r with (r2, j2) present
            cols_r = np.flatnonzero(shift[r] >= 0)
            bad: set[int] = set()
            for r2 in rows_of[j]:
                if r2 == r or shift[r2, j] < 0:
                    continue
                both = cols_r[(shift[r2, cols_r] >= 0) & (cols_r != j)]
                # s(r,j) ≡ s(r,j2) − s(r2,j2) + s(r2,j) closes a 4-cycle
                bad.update(((shift[r, both] - shift[r2, both] + shift[r2, j]) % Z).tolist())
            for _ in range(tries):
                s = int(rng.integers(Z))
                if s not in bad:
                    break
            else:
                left += 1
            shift[r, j] = s
    return shift.astype(np.int32), left


def _untainted_columns(base: npt.NDArray[np.uint8]) -> list[int]:
    """Base columns with pairwise disjoint row sets, lowest degree first (staircase columns in order)."""
    used = np.zeros(base.shape[0], bool)
    deg = base.sum(axis=0)
    chosen = []
    for j in sorted(range(base.shape[1]), key=lambda j: (deg[j], j)):
        rows = base[:, j].astype(bool)
        if not (used & rows).any():
            chosen.append(j)
            used |= rows
    return chosen


def code_name(rate: float, n: int) -> str:
    """The family's name of the code of mother rate ``rate`` and length ``n`` (e.g. ``qc1-r0.70-n100000``)."""
    return f"{FAMILY_VERSION}-r{rate:.2f}-n{n}"


@lru_cache(maxsize=16)
def build_code(rate: float, n: int, nb: int = BASE_COLUMNS, profile: DegreeProfile | None = None) -> QCCode:
    """Build (and cache) the family's code of mother rate ``rate`` and length ``n`` = nb·Z bits."""
    if n % nb:
        raise LdpcCodeError(f"frame length {n} is not a multiple of the {nb} base columns")
    Z = n // nb
    mb = int(round((1 - rate) * nb))
    if not 0 < mb < nb:
        raise LdpcCodeError(f"mother rate {rate} gives {mb} base rows of {nb} columns")
    name = code_name(rate, n)
    rng = np.random.default_rng(_seed(name))
    degs = _degrees(nb, mb, profile or default_profile(rate))
    base = _base_matrix(nb, mb, degs, rng)
    shift, left = _lift(base, Z, rng)
    rows, cols = np.nonzero(base)             # row-major: entries of each row by increasing column
    row_start = np.zeros(mb + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=mb), out=row_start[1:])
    punct_cols = _untainted_columns(base)
    order = (np.asarray(punct_cols, np.int64)[:, None] * Z + np.arange(Z)[None, :]).ravel()
    return QCCode(name, 1 - mb / nb, nb, mb, Z, row_start, cols.astype(np.int32),
                  shift[rows, cols].astype(np.int32), base.sum(axis=0).astype(np.int32), tuple(punct_cols), left,
                  order)


def family_code(rate: float, n: int) -> QCCode:
    """A code of the family by (mother rate, length); raises :class:`LdpcCodeError` for others."""
    if n not in FRAME_LENGTHS or not any(abs(rate - r) < 1e-9 for r in MOTHER_RATES):
        raise LdpcCodeError(f"no code of rate {rate} and length {n} in family {FAMILY_VERSION} "
                            f"(rates {MOTHER_RATES}, lengths {FRAME_LENGTHS})")
    return build_code(round(rate, 2), n)


__all__ = ["BASE_COLUMNS", "FAMILY_VERSION", "FRAME_LENGTHS", "MOTHER_RATES", "DegreeProfile", "LdpcCodeError",
           "QCCode", "bsc_capacity_qber", "build_code", "code_name", "default_profile", "family_code"]
