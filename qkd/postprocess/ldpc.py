"""Rate-adaptive LDPC reconciliation (one-way syndrome, blind retries) over a :class:`ClassicalChannel`.

The alternative to Cascade (:mod:`qkd.postprocess.cascade`) for links with a long classical round trip:
Cascade needs hundreds of round trips per block, this needs one, plus one per retry.

Scheme (Elkouss, Martinez-Mateo, Martin, "Information reconciliation for quantum key distribution",
Quantum Inf. Comput. 11, 226 (2011) [EMM11]; Elkouss, Martinez-Mateo, Lancho, Martin, "Rate compatible
protocol for information reconciliation: an application to QKD", ITW 2010 [EMLM10]; blind retries from
Martinez-Mateo, Elkouss, Martin, "Blind reconciliation", Quantum Inf. Comput. 12, 791 (2012) [MEM12], as
used by Kiktenko et al., "Symmetric blind information reconciliation for QKD", Phys. Rev. A 95 (2017)):

* **Codes.** A family of quasi-cyclic codes of N = 12 000, 122 800 and 491 600 bits at mother rates
  R₀ ∈ {0.50, 0.55 … 0.90} (:mod:`qkd.postprocess.ldpc_codes`, built deterministically in code; the long ones
  from the BSC-optimised degree distributions of Elkouss et al., ISIT 2009, for the sum-product and φ-sum
  decoders; the min-sum decoders work with a low-degree family, on which they decode; the plan names the family).
* **Frames.** The block of n key bits is cut into F frames of k ≈ n/F key bits each. A frame is a word of
  N bits: k key bits, p *punctured* bits (fresh secret random bits of Alice's, never sent; the
  untainted positions of the code) and s = N − k − p *shortened* bits (value 0, known to both).
* **Rate from the QBER estimate q.** Leakage of a frame = M − p (syndrome bits minus the punctured,
  random symbols they also cover, [EMM11] eq. (8)), so the frame starts at efficiency
  f₀ = (M − p) / (k·h(q)). The plan (:func:`plan_ldpc`) takes the frame length (491 600 for blocks
  ≥ 450 000 bits, 122 800 for blocks ≥ 50 000 bits, else 1.2·10^4), the fewest frames, and the mother code that
  reaches the target f₀
  (``LdpcPolicy.f_start``, or per code and decoder :data:`F_START` / :data:`F_START_SUM_PRODUCT` /
  :data:`F_START_PHI_SUM` / :data:`F_START_SHORT`, calibrated where its frames start to decode) with
  the least untainted puncturing; p and s per frame follow.
* **Syndrome from Alice, decoding at Bob** (layered decoder, :mod:`qkd._native.ldpc_decode`: the fixed-point
  φ-sum approximation of sum-product by default, float sum-product or normalised min-sum in int16 or int8 lanes,
  ``LdpcPolicy.decoder``;
  GIL released; frames decode in parallel threads with ``workers`` > 1).
* **Blind retries.** For frames Bob fails to decode, Alice reveals the next Δ = ⌈``f_step``·k·h(q)⌉
  bits of the frame — first punctured values (each turns a punctured symbol into a shortened one), then
  key bits — and Bob decodes again, up to ``max_retries`` times ([MEM12]). A frame still undecoded is
  reported (``decoded`` False, ``failed_frames``) and keeps Bob's own bits: verification
  (:mod:`qkd.postprocess.verify`) then rejects the block; a failure is never returned as corrected.

Disclosed bits (what the channel's ledger records, and λ_EC of the finite-key length): the
``ldpc.syndrome`` frame declares Σ_f (M − p_f + 32), the 32 of each frame's check value (a hash of its key bits
under a public salt, :data:`CHECK_BITS`), each ``ldpc.reveal`` frame the number of bits it reveals
(punctured or key: one bit each). Shortened bits are public constants and disclose nothing about the key.
The credit of p_f bits needs the punctured columns of H to be independent, which untainted puncturing
guarantees, and the punctured values to be uniform and secret (``secrets``-seeded).

Protocol (frames; disclosed bits in brackets): Bob → ``ldpc.start`` (JSON plan) [0]; Alice →
``ldpc.syndrome`` (packed syndromes of all frames, salt, check values) [Σ M − p_f + 32]; per retry round Bob →
``ldpc.more``
(indices of failed frames) and Alice → ``ldpc.reveal`` (Δ bits per such frame) [bits revealed]; Bob →
``ldpc.done`` (indices of frames that stayed undecoded). Round trips = 1 + retry rounds.
Efficiency f = disclosed / (n·h(q)) with q the estimate the block was planned with (as Cascade's report).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from qkd._native import ldpc_decode
from qkd.errors import QkdError
from qkd.postprocess.cascade import binary_entropy
from qkd.postprocess.channel import ClassicalChannel
from qkd.postprocess.ldpc_codes import (
    FAMILIES,
    FAMILY_VERSION,
    FRAME_LENGTHS,
    MIN_SUM_FAMILY,
    MOTHER_RATES,
    QCCode,
    family_code,
    family_code_shape,
)

_MIN_Q = 1e-3
#: bits of the per-frame check value Alice sends with the syndromes (a 32-bit BLAKE2b of the frame's key bits under a
#: fresh public salt): a decoding that satisfies the syndrome but lands on another word (a low-weight codeword away)
#: is caught there and retried, as in symmetric blind reconciliation (Kiktenko et al., PRA 95 (2017)); disclosed
CHECK_BITS = 32
_SALT_BYTES = 8
_KNOWN_LLR = 1.0e4      # |LLR| of a bit both ends know (shortened, revealed): nats
LONG_FRAME_FROM = 50_000   # blocks of at least this many bits use the long (122 800-bit) codes
XL_FRAME_FROM = 450_000    # blocks of at least this many bits use the extra-long (491 600-bit) codes


class LdpcError(QkdError):
    """Invalid LDPC reconciliation parameters or a protocol violation by the peer."""


#: first-attempt efficiency f₀ per mother rate of the long (122 800-bit) codes when the policy leaves it open, per
#: decoder and its code family: about where half the first attempts decode (``bench/qkd_ldpc.py --only threshold``,
#: n = 10^5), so that the blind retries add little on average. Min-sum (family qc2m, the low-degree codes of the
#: former family qc1): the qc1 calibration.
F_START: dict[float, float] = {0.5: 1.14, 0.55: 1.13, 0.6: 1.12, 0.65: 1.14, 0.7: 1.16, 0.75: 1.18, 0.8: 1.21,
                               0.85: 1.23, 0.9: 1.26}
#: Sum-product (family qc2): about where first attempts at n = 10^5 started to decode — QBER 2 %: rate 0.85 fails at
#: f = 1.09, decodes at 1.12; 3 %: 0.80 a third at 1.08, all at 1.10; 5 %: 0.70 all at 1.08; 8 %: 0.60 all at 1.08;
#: 1 %: 0.90 (built from the rate-0.85 distribution) a third at 1.18, all at 1.20. Family qc3 (its own rate-0.90 and
#: 0.85 distributions, :data:`~qkd.postprocess.ldpc_codes.SEARCHED_LAMBDA`): 1 % on 0.90 half at 1.10, 2 % on 0.85
#: a fifth at 1.08, four in five at 1.10 (φ-sum, 32 frames each). A block ends at the first attempt
#: that decodes, so starting lower would cost decoder time and round trips rather than leakage; starting higher would
#: leak more.
F_START_SUM_PRODUCT: dict[float, float] = {0.5: 1.07, 0.55: 1.07, 0.6: 1.07, 0.65: 1.07, 0.7: 1.07, 0.75: 1.08,
                                           0.8: 1.09, 0.85: 1.09, 0.9: 1.10}
#: φ-sum (family qc2, the fixed-point approximation of sum-product): the sum-product calibration — it decodes the
#: same first attempts within a few iterations of float sum-product (``bench/qkd_ldpc.py --only fer --decoder
#: phi-sum``, 3000 blocks: first attempts failed in 47 % of the blocks at QBER 2 %, 32 % at 5 %; mean f 1.123 and
#: 1.078, float sum-product 1.122 and 1.074 at 20 blocks)
F_START_PHI_SUM: dict[float, float] = dict(F_START_SUM_PRODUCT)
#: how much lower the extra-long (491 600-bit) codes start than the long ones (at least f₀ = 1.03): first attempts at
#: QBER 2 % on the rate-0.85 code (phi-sum, 4 frames each) decoded 1, 3, 4, 4 of 4 at f = 1.07, 1.09, 1.10, 1.12,
#: where the 122 800-bit code decoded half at 1.11
F_START_XL_GAIN = 0.02
#: f₀ of the extra-long codes where the gain above does not hold: family qc3's rate-0.85 extra-long code keeps the
#: published distribution (its long one is the searched one), which starts to decode at f ≈ 1.09 (first attempts at
#: QBER 2 %: 5 of 8 at 1.09, 8 of 8 at 1.10); started at 1.07, every first attempt failed (3000 blocks, 3.3 round
#: trips). Rate 0.70 (qc2's extra-long code) gains nothing over its long code: first attempts at QBER 5 % on
#: 470 000-bit blocks decoded 0, 1, 8, 8 of 8 at f = 1.05, 1.06, 1.07, 1.08 (φ-sum); started at 1.05, every first
#: attempt failed (3000 blocks, 3.2 round trips)
F_START_XL: dict[float, float] = {0.7: 1.07, 0.85: 1.09}
#: the share of ``LdpcPolicy.f_step`` each retry of an extra-long frame reveals
XL_STEP_SHARE = 0.5
#: f₀ of the short (1.2·10^4-bit) codes, either decoder: where the blind protocol reached with them (min-sum)
F_START_SHORT: dict[float, float] = {0.5: 1.14, 0.55: 1.13, 0.6: 1.12, 0.65: 1.14, 0.7: 1.16, 0.75: 1.18, 0.8: 1.21,
                                     0.85: 1.23, 0.9: 1.26}
#: the min-sum family's plans take one frame more where their frames puncture more than this share of their length
#: and one more frame cuts the puncturing to :data:`MIN_SUM_SPLIT_GAIN` of it or less: min-sum loses its threshold to
#: puncturing faster than the φ-sum. Int8 min-sum, first attempts and CPU both ends (:func:`reconcile_local_ldpc` on
#: BSC blocks): 3.19 Mbit at QBER 1.1 %, f₀ 1.4: seven rate-0.85 frames punctured by 3.7 % took 85 iterations a
#: frame and 4 round trips, eight rate-0.90 frames punctured by 0.1 % 15 iterations and 1 (2.2× less CPU); at the
#: calibrated start, QBER 1.1 / 2 / 3 %: f 1.36 / 1.26 / 1.25 → 1.27 / 1.25 / 1.22 with 2.5–3.3× fewer round trips;
#: 318 kbit at QBER 1.1 %, f₀ 1.4: three rate-0.85 frames punctured by 4.4 % (97 iterations, 3.5 round trips) →
#: four rate-0.90 ones by 2.1 % (23, 1; 2.8× less CPU)
MIN_SUM_MAX_PUNCTURED_SHARE = 0.02
#: ... where one more frame punctures at most this fraction of what the fewest frames do (a smaller cut costs more
#: decoding of shortened bits than it gains: 318 kbit at QBER 2 %, 5.2 % → 3.7 % punctured: 77 → 94 ms a block)
MIN_SUM_SPLIT_GAIN = 0.7
#: ... in blocks of at least this many frames, where one more frame shortens each by at most a quarter: a block of
#: one frame cut in two halves (each then mostly shortened) decoded at a worse f and a higher CPU cost (10⁵ bits,
#: QBER 5 %: f 1.198 → 1.236; 4.7·10⁵ bits, QBER 3 %, f₀ 1.4: 17 → 25 ms a block)
MIN_SUM_SPLIT_FROM = 3
Decoder = Literal["min-sum", "sum-product", "phi-sum", "min-sum-8"]
DECODERS: tuple[Decoder, ...] = ("min-sum", "sum-product", "phi-sum", "min-sum-8")


@dataclass(frozen=True)
class LdpcPolicy:
    """Rate policy and decoder settings (efficiencies are f = leaked / (k·h(q)), dimensionless).

    ``f_start``: efficiency of the first attempt (``None``: each mother code's :data:`F_START` — about where
    its frames start to decode, so that few attempts fail); ``f_step``: what each retry reveals, in the same units;
    ``max_retries``: retry rounds before a frame is given up; ``alpha``: min-sum normalisation;
    ``max_iter``: decoder iterations per attempt; ``patience``: a frame's first attempt stops early after this many
    iterations without a new minimum of unsatisfied checks (0: never); ``patience_growth``: each later attempt of
    the same frame waits this many iterations longer (at most ``max_iter``), so that the rare frame the early stop
    gives up on while it still converges slowly gets patient attempts, and the many frames that decode at their
    first attempts pay nothing for them; ``workers``: decoding threads at Bob;
    ``decoder``: Bob's check-node update — "phi-sum" (the default: the fixed-point φ-sum approximation of
    belief propagation, :mod:`qkd._native.ldpc_decode`, on the BSC-optimised codes; within about 0.01 of
    sum-product's efficiency at 2–5 % QBER and several times faster), "sum-product" (float belief propagation:
    closest to capacity, slowest), "min-sum" (normalised by ``alpha``, on its own low-degree codes; fast per
    iteration, leaks the most) or "min-sum-8" (the same in int8 lanes, twice as many checks per instruction: about
    1.5× the int16 min-sum's speed, its first attempts decoding about as often — a few more failures near the
    threshold at QBER 5–8 %). ``alpha`` is used by the min-sums only."""

    f_start: float | None = None
    f_step: float = 0.02
    max_retries: int = 20
    alpha: float = 0.8
    max_iter: int = 100
    patience: int = 12
    patience_growth: int = 4
    workers: int = 1
    decoder: Decoder = "phi-sum"

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise LdpcError(f"unknown LDPC decoder {self.decoder!r} (expected one of {', '.join(DECODERS)})")
        if self.patience < 0 or self.patience_growth < 0 or self.max_iter <= 0:
            raise LdpcError(f"LDPC decoder settings out of range: max_iter {self.max_iter}, patience "
                            f"{self.patience}, patience_growth {self.patience_growth}")

    def patience_at(self, attempt: int) -> int:
        """Early-stop patience (iterations) of a frame's ``attempt``-th decode (0: its first); 0 means never."""
        if self.patience == 0:
            return 0
        return min(self.patience + self.patience_growth * attempt, self.max_iter)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LdpcPlan:
    """How a block of ``n_bits`` is reconciled: the code, the frames' (key bits, punctured bits), and the
    reveal step Δ (bits per failed frame per retry)."""

    rate: float
    frame_length: int
    frames: tuple[tuple[int, int], ...]
    reveal_step: int
    max_retries: int
    family: str = FAMILY_VERSION

    @property
    def n_bits(self) -> int:
        return sum(k for k, _ in self.frames)

    @property
    def code(self) -> QCCode:
        return family_code(self.rate, self.frame_length, self.family)

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "N": self.frame_length, "frames": [list(f) for f in self.frames],
                "step": self.reveal_step, "retries": self.max_retries, "family": self.family}

    @classmethod
    def from_json(cls, obj: Any) -> LdpcPlan:
        try:
            plan = cls(float(obj["rate"]), int(obj["N"]), tuple((int(k), int(p)) for k, p in obj["frames"]),
                       int(obj["step"]), int(obj["retries"]), str(obj.get("family", FAMILY_VERSION)))
        except (KeyError, TypeError, ValueError) as e:
            raise LdpcError(f"malformed ldpc.start plan: {e!r}") from None
        if plan.family not in FAMILIES:
            raise LdpcError(f"ldpc.start: unknown code family {plan.family!r}")
        code = plan.code    # raises for codes outside the family
        for k, p in plan.frames:
            if not (0 < k and 0 <= p <= code.max_punctured and k + p <= code.n):
                raise LdpcError(f"ldpc.start: frame of {k} key and {p} punctured bits does not fit {code.name}")
        if plan.reveal_step <= 0 or not 0 <= plan.max_retries <= 1000:
            raise LdpcError(f"ldpc.start: bad reveal step {plan.reveal_step} or retries {plan.max_retries}")
        return plan


def code_family(policy: LdpcPolicy) -> str:
    """The code family a decoder works with: the min-sums (int16 and int8) the low-degree one, sum-product and the
    φ-sum the BSC-optimised one."""
    return MIN_SUM_FAMILY if policy.decoder in ("min-sum", "min-sum-8") else FAMILY_VERSION


def _f_start(policy: LdpcPolicy, rate: float, N: int) -> float:
    if policy.f_start is not None:
        return policy.f_start
    if N == FRAME_LENGTHS[0]:
        return F_START_SHORT[rate]
    f0 = {"sum-product": F_START_SUM_PRODUCT, "phi-sum": F_START_PHI_SUM}.get(policy.decoder, F_START)[rate]
    if N != FRAME_LENGTHS[-1]:
        return f0
    own = F_START_XL.get(rate) if code_family(policy) == FAMILY_VERSION else None
    return own if own is not None else max(1.03, f0 - F_START_XL_GAIN)


def _frame_options(k: int, N: int, h: float, policy: LdpcPolicy) -> list[tuple[int, float]]:
    """(p, mother rate) of every code of length N that carries k key bits at leakage M − p = f·k·h."""
    out = []
    for rate in MOTHER_RATES:
        code = family_code_shape(rate, N, code_family(policy))
        p = code.m - math.ceil(_f_start(policy, rate, N) * h * k)
        if 0 <= p <= code.max_punctured and k + p <= N:
            out.append((p, rate))
    return out


def plan_ldpc(n_bits: int, qber: float, policy: LdpcPolicy | None = None) -> LdpcPlan:
    """Choose code, frames and puncturing for ``n_bits`` key bits at estimated QBER ``qber`` ([EMM11] §4).

    Frame length: the extra-long codes for blocks of ≥ ``XL_FRAME_FROM`` bits where they hold the block in as few
    frames as their length allows, the long ones from ``LONG_FRAME_FROM``, else the short ones. The block
    is cut into the fewest frames F whose k = ⌈n/F⌉ key bits fit some mother code with
    p = M − f_start·k·h(q) punctured bits (0 ≤ p ≤ the code's untainted maximum, k + p ≤ N; the rest of the
    frame shortened). Among fitting codes the one puncturing least is taken: puncturing costs decoding
    threshold (a rate-0.7 code punctured by 11 % needs f ≈ 1.33 where the rate-0.8 code barely punctured
    needs 1.23, at 3 % QBER), more than retries that reveal key bits instead of punctured values lose.
    Where no code reaches f_start, the frames leak more: at high QBER the lowest-rate
    code unpunctured, at low QBER or for short blocks the highest-rate code fully punctured. The min-sum family's
    plans of :data:`MIN_SUM_SPLIT_FROM` frames or more take one frame more where the fewest frames puncture more than
    :data:`MIN_SUM_MAX_PUNCTURED_SHARE` of a frame and one more cuts that well down (min-sum loses more to
    puncturing than the φ-sum)."""
    policy = policy or LdpcPolicy()
    if n_bits <= 0:
        raise LdpcError(f"cannot reconcile a key of {n_bits} bits")
    q = min(max(qber, _MIN_Q), 0.5 - 1e-9)
    h = binary_entropy(q)
    if n_bits >= XL_FRAME_FROM:
        plan = _plan_frames(n_bits, FRAME_LENGTHS[2], h, qber, policy, math.ceil(n_bits / FRAME_LENGTHS[2]))
        if plan is not None:
            return plan
        # no whole extra-long frames at f₀ (high QBER: the frames split into punctured high-rate ones): long codes
    plan = _plan_frames(n_bits, FRAME_LENGTHS[1] if n_bits >= LONG_FRAME_FROM else FRAME_LENGTHS[0], h, qber, policy)
    assert plan is not None
    return plan


def _plan_frames(n_bits: int, N: int, h: float, qber: float, policy: LdpcPolicy,
                 max_frames: int | None = None) -> LdpcPlan | None:
    """:func:`plan_ldpc` for frames of N bits (h = h(q) of the estimate); None where the fewest frames that fit
    are more than ``max_frames``."""
    chosen: tuple[float, int] | None = None
    n_frames = max(1, math.ceil(n_bits / N))
    while chosen is None:
        k = math.ceil(n_bits / n_frames)
        opts = _frame_options(k, N, h, policy)
        if opts:
            chosen = min(opts)[1], n_frames                # the least puncturing
        else:
            fam = code_family(policy)
            need = [(family_code_shape(r, N, fam),
                     family_code_shape(r, N, fam).m - math.ceil(_f_start(policy, r, N) * h * k)) for r in MOTHER_RATES]
            if all(p > code.max_punctured for code, p in need):
                chosen = MOTHER_RATES[-1], n_frames     # low QBER or a short block: highest rate, fully punctured
            elif need[0][1] < 0 and k <= N:
                chosen = MOTHER_RATES[0], n_frames      # high QBER: lowest rate, unpunctured (leaks more)
            elif n_frames >= n_bits:
                raise LdpcError(f"no code of the family reconciles {n_bits} bits at QBER {qber}")
            else:
                n_frames += 1                           # frames too full for the puncturing they need
    rate, n_frames = chosen
    if max_frames is not None and n_frames > max_frames:
        return None
    if code_family(policy) == MIN_SUM_FAMILY and MIN_SUM_SPLIT_FROM <= n_frames < n_bits:
        rate, n_frames = _less_punctured(n_bits, N, h, policy, rate, n_frames)
    code = family_code_shape(rate, N, code_family(policy))
    base, extra = divmod(n_bits, n_frames)
    frames = []
    for i in range(n_frames):
        k = base + (1 if i < extra else 0)
        p = int(min(max(code.m - math.ceil(_f_start(policy, rate, N) * h * k), 0), code.max_punctured, N - k))
        frames.append((k, p))
    # the extra-long frames reveal half the step: their threshold is sharper (decoded 1, 3, 4 of 4 at f = 1.07, 1.09,
    # 1.10 at QBER 2 %), so a finer retry lands closer to it
    step = max(1, math.ceil(policy.f_step * base * h * (XL_STEP_SHARE if N == FRAME_LENGTHS[2] else 1.0)))
    return LdpcPlan(rate, N, tuple(frames), step, policy.max_retries, code_family(policy))


def _less_punctured(n_bits: int, N: int, h: float, policy: LdpcPolicy, rate: float, n_frames: int
                    ) -> tuple[float, int]:
    """(rate, frames) for the min-sum family: one frame more where the chosen frames puncture more than
    :data:`MIN_SUM_MAX_PUNCTURED_SHARE` of their length and one more frame cuts that to
    :data:`MIN_SUM_SPLIT_GAIN` or less."""
    code = family_code_shape(rate, N, code_family(policy))
    p = code.m - math.ceil(_f_start(policy, rate, N) * h * math.ceil(n_bits / n_frames))
    if p <= MIN_SUM_MAX_PUNCTURED_SHARE * N:
        return rate, n_frames
    opts = _frame_options(math.ceil(n_bits / (n_frames + 1)), N, h, policy)
    return (min(opts)[1], n_frames + 1) if opts and min(opts)[0] <= MIN_SUM_SPLIT_GAIN * p else (rate, n_frames)


@dataclass(frozen=True)
class FrameLayout:
    """Positions of a frame's key bits, punctured and shortened bits, and the order of blind reveals."""

    key: npt.NDArray[np.int64]
    punctured: npt.NDArray[np.int64]
    shortened: npt.NDArray[np.int64]
    reveal: npt.NDArray[np.int64]


@lru_cache(maxsize=64)
def frame_layout(rate: float, frame_length: int, k: int, p: int, family: str = FAMILY_VERSION) -> FrameLayout:
    """The layout of a frame of ``k`` key bits and ``p`` punctured bits in the family's code: punctured =
    the first p untainted positions; key = the first k of the rest in a fixed pseudo-random order (seeded
    by the code's name), shortened = the remaining ones; reveals go punctured first, then key bits."""
    code = family_code(rate, frame_length, family)
    punct = code.puncture_order[:p]
    free = np.ones(code.n, bool)
    free[punct] = False
    perm = np.random.default_rng(int.from_bytes(code.name.encode(), "little") % 2**63).permutation(code.n)
    rest = perm[free[perm]]
    key = np.sort(rest[:k])
    return FrameLayout(key, punct, np.sort(rest[k:]), np.concatenate([punct, rest[:k]]))


@dataclass
class LdpcReport:
    """Per-block statistics (bits unless stated). ``disclosed_bits`` = ``syndrome_bits`` −
    ``punctured_bits`` + ``check_bits`` + ``revealed_bits``; ``efficiency`` f = disclosed / (n h(q)) at the
    estimate q; ``efficiency_realised`` at q = corrections / n; ``decoded``: every frame satisfied its syndrome and
    its check value (``failed_frames`` lists those that did not); ``iterations``: decoder iterations over all
    attempts; ``wrong_words``: attempts that satisfied the syndrome with a word failing the check (then retried)."""

    code: str
    n_bits: int
    qber_estimate: float
    frames: int
    frame_length: int
    mother_rate: float
    syndrome_bits: int
    punctured_bits: int
    shortened_bits: int
    revealed_bits: int
    disclosed_bits: int
    round_trips: int
    retries: int
    iterations: int
    decodes: int
    decoded: bool
    failed_frames: list[int]
    corrections: int
    efficiency: float
    efficiency_realised: float
    seconds: float
    decode_seconds: float
    check_bits: int = 0
    wrong_words: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _efficiency(disclosed: int, n: int, p: float) -> float:
    h = binary_entropy(p)
    return disclosed / (n * h) if h > 0 else float("inf") if disclosed else 1.0


def _check(salt: bytes, key_bits: npt.NDArray[np.uint8]) -> bytes:
    """A frame's check value: 32-bit BLAKE2b of its key bits (packed) under the block's salt."""
    return hashlib.blake2b(np.packbits(key_bits).tobytes(), digest_size=CHECK_BITS // 8, salt=salt).digest()


def _pack(bits: npt.NDArray[np.uint8]) -> bytes:
    return np.packbits(bits, bitorder="little").tobytes()


def _unpack(body: bytes, count: int, what: str) -> npt.NDArray[np.uint8]:
    if len(body) != (count + 7) // 8:
        raise LdpcError(f"{what}: {len(body)} bytes for {count} bits")
    return np.unpackbits(np.frombuffer(body, np.uint8), count=count, bitorder="little")


def _frame_slices(plan: LdpcPlan) -> list[slice]:
    out, at = [], 0
    for k, _ in plan.frames:
        out.append(slice(at, at + k))
        at += k
    return out


class AliceFrames:
    """Alice's frames: words (key, secret punctured values, zero shortened bits), syndromes, reveals."""

    def __init__(self, plan: LdpcPlan, bits: npt.NDArray[np.uint8], rng: np.random.Generator | None = None) -> None:
        if bits.size != plan.n_bits:
            raise LdpcError(f"Bob reconciles {plan.n_bits} bits, Alice holds {bits.size}")
        self.plan = plan
        code = plan.code
        rng = rng or np.random.default_rng(secrets.randbits(128))
        self.words: list[npt.NDArray[np.uint8]] = []
        self.layouts = [frame_layout(plan.rate, plan.frame_length, k, p, plan.family) for k, p in plan.frames]
        for lay, sl in zip(self.layouts, _frame_slices(plan), strict=True):
            w = ldpc_decode.frame_word(bits[sl], lay.key, code.n)
            w[lay.punctured] = rng.integers(0, 2, lay.punctured.size, dtype=np.uint8)
            self.words.append(w)
        self.revealed = [0] * len(plan.frames)
        self.salt = rng.bytes(_SALT_BYTES)

    def syndromes(self) -> tuple[npt.NDArray[np.uint8], int]:
        """All frames' syndromes concatenated, and the bits they disclose (Σ M − p_f)."""
        c = self.plan.code
        syn = [ldpc_decode.syndrome(c.row_start, c.ent_col, c.ent_shift, c.Z, w) for w in self.words]
        return np.concatenate(syn), sum(c.m - p for _, p in self.plan.frames)

    def checks(self) -> tuple[bytes, int]:
        """The salt and every frame's check value (:data:`CHECK_BITS` each), and the bits they disclose."""
        return self.salt + b"".join(_check(self.salt, ldpc_decode.take_bits(w, lay.key))
                                    for w, lay in zip(self.words, self.layouts, strict=True)), \
            CHECK_BITS * len(self.words)

    def reveal(self, frame_ids: Sequence[int]) -> npt.NDArray[np.uint8]:
        """The next reveal-step bits of each of ``frame_ids`` (fewer when a frame has none left)."""
        out = []
        for f in frame_ids:
            if not 0 <= f < len(self.words):
                raise LdpcError(f"ldpc.more names frame {f} of {len(self.words)}")
            order = self.layouts[f].reveal
            a = self.revealed[f]
            b = min(a + self.plan.reveal_step, order.size)
            out.append(self.words[f][order[a:b]])
            self.revealed[f] = b
        return np.concatenate(out) if out else np.zeros(0, np.uint8)


class BobFrames:
    """Bob's frames: channel LLRs from his bits, Alice's syndromes, revealed values, the decoder."""

    def __init__(self, plan: LdpcPlan, bits: npt.NDArray[np.uint8], qber: float, policy: LdpcPolicy) -> None:
        self.plan, self.policy = plan, policy
        code = plan.code
        q = min(max(qber, _MIN_Q), 0.5 - 1e-9)
        mag = math.log((1 - q) / q)
        self.bits = bits
        self.slices = _frame_slices(plan)
        self.layouts = [frame_layout(plan.rate, plan.frame_length, k, p, plan.family) for k, p in plan.frames]
        self.llrs: list[npt.NDArray[np.float32]] = []
        for lay, sl in zip(self.layouts, self.slices, strict=True):
            self.llrs.append(ldpc_decode.frame_llr(bits[sl], lay.key, lay.shortened, code.n, mag, _KNOWN_LLR))
        self.syndromes: list[npt.NDArray[np.uint8]] = []
        self.salt = b""
        self.checks: list[bytes] = []
        self.wrong_words = 0
        self.revealed = [0] * len(plan.frames)
        self.decoded: dict[int, npt.NDArray[np.uint8]] = {}
        self.iterations = 0
        self.decodes = 0
        self.attempts = [0] * len(plan.frames)
        self.decode_seconds = 0.0

    def take_syndromes(self, body: bytes) -> None:
        """Alice's ``ldpc.syndrome`` body: packed syndromes of all frames, the salt, one check value per frame."""
        m, nf = self.plan.code.m, len(self.plan.frames)
        n_syn = (m * nf + 7) // 8
        if len(body) != n_syn + _SALT_BYTES + CHECK_BITS // 8 * nf:
            raise LdpcError(f"ldpc.syndrome: {len(body)} bytes for {nf} frames of {m} checks")
        syn = _unpack(body[:n_syn], m * nf, "ldpc.syndrome")
        self.syndromes = [syn[i * m:(i + 1) * m] for i in range(nf)]
        self.salt = body[n_syn:n_syn + _SALT_BYTES]
        at = n_syn + _SALT_BYTES
        self.checks = [body[at + 4 * i:at + 4 * i + 4] for i in range(nf)]

    def take_reveal(self, frame_ids: Sequence[int], body: bytes) -> None:
        counts = []
        for f in frame_ids:
            a = self.revealed[f]
            counts.append(min(a + self.plan.reveal_step, self.layouts[f].reveal.size) - a)
        vals = _unpack(body, sum(counts), "ldpc.reveal")
        at = 0
        for f, c in zip(frame_ids, counts, strict=True):
            pos = self.layouts[f].reveal[self.revealed[f]:self.revealed[f] + c]
            self.llrs[f][pos] = _KNOWN_LLR * (1.0 - 2.0 * vals[at:at + c].astype(np.float32))
            self.revealed[f] += c
            at += c

    def revealed_count(self, frame_ids: Sequence[int]) -> int:
        return sum(min(self.revealed[f] + self.plan.reveal_step, self.layouts[f].reveal.size) - self.revealed[f]
                   for f in frame_ids)

    def decode(self, frame_ids: Sequence[int]) -> list[int]:
        """Decode ``frame_ids``; returns those that failed: no word satisfies the syndrome, or the word found does
        not match Alice's check value (``wrong_words`` counts those)."""
        c, pol = self.plan.code, self.policy
        t0 = time.perf_counter()

        def one(f: int) -> tuple[int, npt.NDArray[np.uint8], int]:
            word, its = ldpc_decode.decode(c.row_start, c.ent_col, c.ent_shift, c.Z, self.llrs[f], self.syndromes[f],
                                           pol.alpha, pol.max_iter, pol.patience_at(self.attempts[f]),
                                           algorithm=pol.decoder)
            return f, word, its

        if pol.workers > 1 and len(frame_ids) > 1:
            with ThreadPoolExecutor(pol.workers) as ex:
                results = list(ex.map(one, frame_ids))
        else:
            results = [one(f) for f in frame_ids]
        failed = []
        for f, word, its in results:
            self.decodes += 1
            self.attempts[f] += 1
            self.iterations += abs(its)
            key = ldpc_decode.take_bits(word, self.layouts[f].key)
            if its > 0 and _check(self.salt, key) == self.checks[f]:
                self.decoded[f] = key
            else:
                self.wrong_words += its > 0
                failed.append(f)
        self.decode_seconds += time.perf_counter() - t0
        return failed

    def corrected(self) -> npt.NDArray[np.uint8]:
        """Bob's bits with every decoded frame replaced by its decoding (undecoded frames keep his bits)."""
        out = self.bits.copy()
        for f, key in self.decoded.items():
            out[self.slices[f]] = key
        return out


def _report(plan: LdpcPlan, bob: BobFrames, qber: float, disclosed: int, revealed: int, rounds: int, retries: int,
            failed: list[int], t0: float) -> tuple[npt.NDArray[np.uint8], LdpcReport]:
    n = plan.n_bits
    code = plan.code
    out = bob.corrected()
    corr = int(np.count_nonzero(out != bob.bits))
    punct = sum(p for _, p in plan.frames)
    return out, LdpcReport(
        code.name, n, qber, len(plan.frames), plan.frame_length, plan.rate, code.m * len(plan.frames), punct,
        sum(code.n - k - p for k, p in plan.frames), revealed, disclosed, rounds, retries, bob.iterations,
        bob.decodes, not failed, sorted(failed), corr, _efficiency(disclosed, n, qber),
        _efficiency(disclosed, n, corr / n if n else 0.0), time.perf_counter() - t0, bob.decode_seconds,
        CHECK_BITS * len(plan.frames), bob.wrong_words)


def _ids(body: bytes, n_frames: int, what: str) -> list[int]:
    if len(body) % 4:
        raise LdpcError(f"{what}: body of {len(body)} bytes is not a list of u32 frame indices")
    ids = np.frombuffer(body, ">u4").astype(np.int64).tolist()
    if any(not 0 <= f < n_frames for f in ids) or len(set(ids)) != len(ids):
        raise LdpcError(f"{what}: frame indices {ids[:8]}… outside 0…{n_frames - 1} or repeated")
    return ids


async def reconcile_bob_ldpc(channel: ClassicalChannel, bits: npt.NDArray[np.uint8], qber_estimate: float,
                             policy: LdpcPolicy | None = None) -> tuple[npt.NDArray[np.uint8], LdpcReport]:
    """Bob's side: plan, receive Alice's syndromes, decode, ask for reveals while frames fail.

    Returns (corrected bits, report). Frames still undecoded after ``max_retries`` keep Bob's bits and are
    listed in ``report.failed_frames`` (``report.decoded`` False): the block must not be used unless
    verification passes, which it then will not (except with probability ≤ ε_ver)."""
    t0 = time.perf_counter()
    policy = policy or LdpcPolicy()
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    plan = plan_ldpc(int(bits.size), qber_estimate, policy)
    start_ledger = channel.ledger.disclosed_bits
    await channel.send("ldpc.start", json.dumps(plan.to_json()).encode())
    bob = BobFrames(plan, bits, qber_estimate, policy)
    _, body = await channel.recv("ldpc.syndrome")
    bob.take_syndromes(body)
    rounds, retries, revealed = 1, 0, 0
    failed = await asyncio.to_thread(bob.decode, list(range(len(plan.frames))))
    while failed and retries < plan.max_retries:
        await channel.send("ldpc.more", np.asarray(failed, ">u4").tobytes())
        _, body = await channel.recv("ldpc.reveal")
        revealed += bob.revealed_count(failed)
        bob.take_reveal(failed, body)
        rounds += 1
        retries += 1
        failed = await asyncio.to_thread(bob.decode, failed)
    await channel.send("ldpc.done", np.asarray(failed, ">u4").tobytes())
    disclosed = channel.ledger.disclosed_bits - start_ledger
    return _report(plan, bob, qber_estimate, disclosed, revealed, rounds, retries, failed, t0)


async def reconcile_alice_ldpc(channel: ClassicalChannel, bits: npt.NDArray[np.uint8]) -> int:
    """Alice's side: send the syndromes of Bob's plan, reveal bits of failed frames until ``ldpc.done``.

    Returns the bits she disclosed."""
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    _, body = await channel.recv("ldpc.start")
    try:
        plan = LdpcPlan.from_json(json.loads(body))
    except ValueError as e:
        raise LdpcError(f"malformed ldpc.start: {e}") from None
    alice = AliceFrames(plan, bits)
    syn, leak = alice.syndromes()
    checks, check_bits = alice.checks()
    leak += check_bits
    await channel.send("ldpc.syndrome", _pack(syn) + checks, disclosed_bits=leak)
    disclosed = leak
    rounds = 0
    while True:
        kind, body = await channel.recv()
        if kind == "ldpc.done":
            _ids(body, len(plan.frames), "ldpc.done")
            return disclosed
        if kind != "ldpc.more":
            raise LdpcError(f"unexpected {kind!r} frame during LDPC reconciliation")
        rounds += 1
        if rounds > plan.max_retries:
            raise LdpcError(f"Bob asks for retry {rounds}, the plan allows {plan.max_retries}")
        vals = alice.reveal(_ids(body, len(plan.frames), "ldpc.more"))
        await channel.send("ldpc.reveal", _pack(vals), disclosed_bits=int(vals.size))
        disclosed += int(vals.size)


def reconcile_local_ldpc(alice_bits: npt.NDArray[np.uint8], bob_bits: npt.NDArray[np.uint8], qber_estimate: float,
                         policy: LdpcPolicy | None = None, seed: int | None = None
                         ) -> tuple[npt.NDArray[np.uint8], LdpcReport]:
    """Both ends in one call, no channel (benchmarks, frame-error-rate studies): the same plan, frames,
    decoder and disclosed-bit accounting as the channel protocol. ``seed`` fixes Alice's punctured values."""
    t0 = time.perf_counter()
    policy = policy or LdpcPolicy()
    bob_bits = np.ascontiguousarray(bob_bits, dtype=np.uint8)
    plan = plan_ldpc(int(bob_bits.size), qber_estimate, policy)
    rng = np.random.default_rng(secrets.randbits(128) if seed is None else seed)
    alice = AliceFrames(plan, np.ascontiguousarray(alice_bits, dtype=np.uint8), rng)
    bob = BobFrames(plan, bob_bits, qber_estimate, policy)
    syn, disclosed = alice.syndromes()
    checks, check_bits = alice.checks()
    disclosed += check_bits
    bob.take_syndromes(_pack(syn) + checks)
    rounds, retries, revealed = 1, 0, 0
    failed = bob.decode(list(range(len(plan.frames))))
    while failed and retries < plan.max_retries:
        vals = alice.reveal(failed)
        revealed += int(vals.size)
        disclosed += int(vals.size)
        bob.take_reveal(failed, _pack(vals))
        rounds += 1
        retries += 1
        failed = bob.decode(failed)
    return _report(plan, bob, qber_estimate, disclosed, revealed, rounds, retries, failed, t0)


__all__ = ["CHECK_BITS", "DECODERS", "F_START", "F_START_PHI_SUM", "F_START_SHORT", "F_START_SUM_PRODUCT",
           "F_START_XL_GAIN", "LONG_FRAME_FROM", "MIN_SUM_MAX_PUNCTURED_SHARE", "MIN_SUM_SPLIT_FROM",
           "MIN_SUM_SPLIT_GAIN", "XL_FRAME_FROM",
           "XL_STEP_SHARE", "AliceFrames", "BobFrames",
           "Decoder", "FrameLayout", "LdpcError", "LdpcPlan", "LdpcPolicy", "LdpcReport", "code_family",
           "frame_layout", "plan_ldpc", "reconcile_alice_ldpc", "reconcile_bob_ldpc", "reconcile_local_ldpc"]
