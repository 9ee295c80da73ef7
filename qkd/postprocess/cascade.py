"""Cascade information reconciliation over a :class:`ClassicalChannel`, in named variants.

Bob (holding the noisy key) drives; Alice answers parity questions about her key. The kernels
(shuffles, prefix parities, batched bisections, cascading, sub-block reuse) are in
:mod:`qkd._native.cascade`; this module holds the variants, the message protocol and the report.

Variants (block sizes k_i as functions of the estimated QBER p and key length n; names and values as
in Martinez-Mateo, Pacher, Peev, Ciurana, Martin, "Demystifying the information reconciliation
protocol Cascade", Quantum Inf. Comput. 15, 453 (2015) [MPPCM15], Table 1):

=========  ======  ==================================================  ===============
name       passes  block sizes                                         sub-block reuse
=========  ======  ==================================================  ===============
original   4       k1 = ⌈0.73/p⌉, k_i = 2 k_{i-1} (Brassard–Salvail)  no
biconf     2 + B   k1 = ⌈0.92/p⌉, k2 = 3 k1, then BICONF rounds until  no
                   10 in a row find no error ([MPPCM15] mod. (1))
yanetal    10      k1 = ⌈0.8/p⌉, k2 = 5 k1, k_i = n/2 (Yan et al. 2008) no
option3    16      k1 = ⌈1/p⌉, k2 = 2 k1, k_i = n/2 ([MPPCM15] (3))    no
option4    16      as option3 ([MPPCM15] (4))                          yes
option7    14      k1 = 2^⌈log2 1/p⌉, k2 = 4 k1, k_i = n/2 ((7))       yes
option8    14      α = log2(1/p) − ½: k1 = 2^⌈α⌉, k2 = 2^⌈(α+12)/2⌉,   yes
                   k3 = 4096, k_i = n/2 ((8))
=========  ======  ==================================================  ===============

``default`` is option7 below 4 % QBER and option8 above, the more efficient of the two at each
operating point in our measurements (``bench/qkd_postprocess.py`` prints the table), followed by
``DEFAULT_TAIL_PASSES`` more k = n/2 passes (named e.g. ``option7+tail``) wherever they cost at most
``TAIL_MAX_COST`` of the Shannon bound n·h(p): a pass that finds no error discloses one parity bit, and
each one more gives residual errors a chance to be found. Measured on the 10 km SNSPD link's blocks
(n ≈ 62,000, QBER ≈ 1 %, 60,000 blocks each): frame error rate 2.5·10^-4 for option7 alone, 8.3·10^-5
with 4 more passes, 1.7·10^-5 with 8, for ~10 more disclosed bits a block (+0.2 %).

Protocol (frames; disclosed bits in brackets): Bob → ``cascade.start`` (public seed, plan) [0];
Bob → ``cascade.open`` (pass range); Alice → ``cascade.parities`` (top-level block parities; in
every pass after the first the last block's parity follows from the key parity revealed by pass 1
and is not sent) [bits sent]; then per bisection round Bob → ``cascade.ask`` (all left-half ranges
of the round) and Alice → ``cascade.answer`` [one bit per range]; Bob → ``cascade.done``.
Round trips = ``open`` exchanges + ``ask`` exchanges. The ledger of the channel sees exactly the
disclosed bits the report states (tests assert it).
"""

from __future__ import annotations

import math
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qkd._native.cascade import HALVES, AliceOracle, BobSearches, PassPlan, pass_kind
from qkd.errors import QkdError
from qkd.postprocess.channel import ClassicalChannel
from qkd.postprocess.offload import run_step

_MIN_P = 1e-5
#: k = n/2 passes the ``default`` variant adds after option7's or option8's fixed passes (module docstring) ...
DEFAULT_TAIL_PASSES = 8
#: ... where their parities cost at most this fraction of n·h(p) (not on short keys: 8 bits are 1 % at 10^4, 1 %)
TAIL_MAX_COST = 0.005
#: the ``default`` variant's look-ahead (:meth:`BobSearches.set_lookahead`) on keys that get the tail: extra
#: questions up to this fraction of n·h(p), in rounds with at most LOOKAHEAD_RUNNING bisections running, at most
#: LOOKAHEAD_QUESTIONS a round, LOOKAHEAD_LEVELS levels deep. Measured with the local driver at 1 % QBER
#: (3.2·10^6 bits, 2 blocks): 479 → 414 round trips for f 1.0355 → 1.0385; at 3 %, 723 → 633 (1 block). The long
#: chains of cascaded corrections that end pass 2 step through one small known node a round, which look-ahead
#: cannot shorten; it saves the rounds of the searches that start at larger nodes (3.2·10^5 bits: 408 → 404 only).
#: Opening the k = n/2 passes while those chains run (so that their corrections start new fronts) was measured and
#: left out: 426 → 368 round trips at 3.2·10^6 bits, but each early search over a k = n/2 block costs ~1 ms of range
#: parities at each end, and the pipelined link ends got slower (keep-up 0.97 → 0.76).
LOOKAHEAD_COST = 0.004
LOOKAHEAD_RUNNING = 8
LOOKAHEAD_QUESTIONS = 64
LOOKAHEAD_LEVELS = 5


class CascadeError(QkdError):
    """Invalid Cascade parameters or a protocol violation by the peer."""


def binary_entropy(p: float) -> float:
    """h(p) = −p log2 p − (1−p) log2(1−p) (bits)."""
    if p <= 0 or p >= 1:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


@dataclass(frozen=True)
class Variant:
    """A Cascade variant: ``block_sizes(p, n)`` for the fixed passes, then optional BICONF rounds."""

    name: str
    block_sizes: Callable[[float, int], list[int]]
    sub_block_reuse: bool
    biconf_streak: int = 0          # BICONF rounds in a row without a correction that end the run
    max_passes: int = 64
    lookahead_cost: Callable[[float, int], float] = lambda p, n: 0.0   # look-ahead budget / (n·h(p))

    def start_searches(self, bits: np.ndarray, seed: int, qber: float) -> BobSearches:
        """Bob's searches for ``bits`` (uint8 0/1) with this variant's sub-block reuse and look-ahead."""
        bob = BobSearches(bits, seed, self.sub_block_reuse)
        cost = self.lookahead_cost(qber, int(bits.size))
        if cost > 0:
            bob.set_lookahead(int(cost * bits.size * binary_entropy(_p(qber))), LOOKAHEAD_RUNNING,
                              LOOKAHEAD_QUESTIONS, LOOKAHEAD_LEVELS)
        return bob


def _p(p: float) -> float:
    return max(p, _MIN_P)


def _half(n: int) -> int:
    """The "k = n/2" block size of the later passes, rounded up: two blocks for odd n too (rounding
    down would leave a third, one-bit block and a full shuffled layout of the pass)."""
    return max((n + 1) // 2, 1)


VARIANTS: dict[str, Variant] = {
    "original": Variant("original", lambda p, n: [math.ceil(0.73 / _p(p)) * 2**i for i in range(4)], False),
    "biconf": Variant("biconf", lambda p, n: [math.ceil(0.92 / _p(p)), 3 * math.ceil(0.92 / _p(p))], False,
                      biconf_streak=10),
    "yanetal": Variant("yanetal", lambda p, n: [math.ceil(0.8 / _p(p)), 5 * math.ceil(0.8 / _p(p))] + [_half(n)] * 8,
                       False),
    "option3": Variant("option3", lambda p, n: [math.ceil(1 / _p(p)), 2 * math.ceil(1 / _p(p))] + [_half(n)] * 14,
                       False),
    "option4": Variant("option4", lambda p, n: [math.ceil(1 / _p(p)), 2 * math.ceil(1 / _p(p))] + [_half(n)] * 14,
                       True),
    "option7": Variant("option7", lambda p, n: [2 ** math.ceil(math.log2(1 / _p(p))),
                                                4 * 2 ** math.ceil(math.log2(1 / _p(p)))] + [_half(n)] * 12, True),
    "option8": Variant("option8", lambda p, n: [2 ** math.ceil(math.log2(1 / _p(p)) - 0.5),
                                                2 ** math.ceil((math.log2(1 / _p(p)) - 0.5 + 12) / 2), 4096]
                       + [_half(n)] * 11, True),
}


def variant(name: str, qber: float) -> Variant:
    """The variant called ``name``; ``default`` resolves by QBER (see the module docstring)."""
    if name == "default":
        base = VARIANTS["option7" if qber < 0.04 else "option8"]
        return Variant(f"{base.name}+tail", lambda p, n: base.block_sizes(p, n) + [_half(n)] * _tail(p, n),
                       base.sub_block_reuse, lookahead_cost=lambda p, n: LOOKAHEAD_COST if _tail(p, n) else 0.0)
    try:
        return VARIANTS[name]
    except KeyError:
        raise CascadeError(f"unknown Cascade variant {name!r}; known: default, {', '.join(VARIANTS)}") from None


def _tail(p: float, n: int) -> int:
    """How many k = n/2 passes the ``default`` variant adds to a key of ``n`` bits at QBER ``p``."""
    return DEFAULT_TAIL_PASSES if TAIL_MAX_COST * n * binary_entropy(_p(p)) >= DEFAULT_TAIL_PASSES else 0


def plan(v: Variant, qber: float, n: int) -> list[int]:
    """Block sizes of the fixed passes for a key of ``n`` bits (clipped to 1 … n)."""
    if n <= 0:
        raise CascadeError(f"cannot reconcile a key of {n} bits")
    return [min(max(int(k), 1), n) for k in v.block_sizes(qber, n)]


@dataclass(frozen=True)
class CascadeReport:
    """Per-block statistics. ``efficiency`` f = disclosed / (n h(p)) with p the QBER estimate the
    run was planned with; ``efficiency_realised`` uses p = corrections / n instead."""

    variant: str
    n_bits: int
    qber_estimate: float
    disclosed_bits: int
    round_trips: int
    passes: int
    corrections: int
    efficiency: float
    efficiency_realised: float
    seconds: float
    passes_laid_out: int = 0
    gave_up: bool = False
    alice_cpu_seconds: float = 0.0   # reconcile_local(time_ends=True) only: time of each end's work
    bob_cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _efficiency(disclosed: int, n: int, p: float) -> float:
    h = binary_entropy(p)
    return disclosed / (n * h) if h > 0 else float("inf") if disclosed else 1.0


_START = struct.Struct(">QIB16s")  # seed, n, reuse, variant name


async def reconcile_bob(channel: ClassicalChannel, bits: np.ndarray, qber_estimate: float,
                        variant_name: str = "default", max_disclosed_fraction: float = 0.6
                        ) -> tuple[np.ndarray, CascadeReport]:
    """Bob's side: correct ``bits`` towards Alice's key. Returns (corrected bits, report).

    Bob stops asking once the disclosed bits would exceed ``max_disclosed_fraction`` · n (no key can
    survive such leakage; it happens when the QBER estimate is far too low); the report says
    ``gave_up`` and verification then rejects the block."""
    t0 = time.perf_counter()
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    n = int(bits.size)
    v = variant(variant_name, qber_estimate)
    sizes = plan(v, qber_estimate, n)
    seed = secrets.randbits(64)
    start_ledger = channel.ledger.disclosed_bits
    head = _START.pack(seed, n, int(v.sub_block_reuse), v.name.encode()[:16].ljust(16, b"\0"))
    await channel.send("cascade.start", head + np.asarray(sizes, dtype=">u4").tobytes())
    bob = v.start_searches(bits, seed, qber_estimate)
    rounds = 0
    gave_up = False

    async def open_passes(first: int, sizes_chunk: list[int]) -> None:
        nonlocal rounds
        await channel.send("cascade.open", struct.pack(">II", first, len(sizes_chunk))
                           + np.asarray(sizes_chunk, dtype=">u4").tobytes())
        _, body = await channel.recv("cascade.parities")
        rounds += 1
        sent = np.unpackbits(np.frombuffer(body, dtype=np.uint8), bitorder="little")
        at = 0
        for j, k in enumerate(sizes_chunk, start=first):
            nb = _n_blocks(n, j, k, seed)
            n_sent = nb if j == 0 else nb - 1
            par = np.empty(nb, dtype=np.uint8)
            par[:n_sent] = sent[at:at + n_sent]
            at += n_sent
            if j > 0:
                par[nb - 1] = (total_parity ^ int(np.bitwise_xor.reduce(par[:nb - 1]))) if nb > 1 else total_parity
            if j == 0:
                _set_total(int(np.bitwise_xor.reduce(par)))
            await run_pass(j, k, par)

    total_parity = 0

    def _set_total(p: int) -> None:
        nonlocal total_parity
        total_parity = p

    cap = max_disclosed_fraction * n

    async def run_pass(j: int, k: int, par: np.ndarray) -> None:
        nonlocal rounds, gave_up
        await run_step(n, bob.open_pass, j, k, par)     # the pass's shuffle and layout: O(n), GIL released
        while True:
            ask = bob.ask()
            if not ask or gave_up:
                return
            if channel.ledger.disclosed_bits - start_ledger + len(ask) // 9 > cap:
                gave_up = True   # the QBER estimate is far off: stop; verification will reject the block
                return
            await channel.send("cascade.ask", ask)
            _, body = await channel.recv("cascade.answer")
            rounds += 1
            try:
                bob.take_answers(body)
            except ValueError as e:
                raise CascadeError(f"malformed cascade.answer from Alice: {e}") from None

    # Cascade opens the fixed passes one after another, but Alice's block parities do not depend on
    # Bob's progress, so all of them travel in one exchange.
    await open_passes(0, sizes)
    j = len(sizes)
    if v.biconf_streak:
        streak = 0
        while streak < v.biconf_streak and j < v.max_passes and not gave_up:
            before = bob.corrections
            await open_passes(j, [_half(n)])
            j += 1
            streak = streak + 1 if bob.corrections == before else 0
    await channel.send("cascade.done", b"")
    disclosed = channel.ledger.disclosed_bits - start_ledger
    corr = int(bob.corrections)
    report = CascadeReport(v.name, n, qber_estimate, disclosed, rounds, j, corr,
                           _efficiency(disclosed, n, qber_estimate), _efficiency(disclosed, n, corr / n if n else 0),
                           time.perf_counter() - t0, int(bob.passes_laid_out), gave_up)
    return bob.bits, report


def _n_blocks(n: int, j: int, k: int, seed: int) -> int:
    if pass_kind(n, j, k) == HALVES:
        return int(PassPlan(n, seed, j, k).n_blocks)
    k = min(max(k, 1), n)
    return (n + k - 1) // k


def _open_passes(alice: AliceOracle, first: int, block_bits: np.ndarray) -> np.ndarray:
    """Alice's top-level block parities of passes ``first, first + 1, …`` (block sizes ``block_bits``), as
    sent: in every pass after the first the last block's parity is left out (Bob infers it)."""
    out = []
    for j, k in enumerate(block_bits, start=first):
        par = alice.open_pass(j, int(k))
        out.append(par if j == 0 else par[:-1])
    return np.concatenate(out) if out else np.zeros(0, np.uint8)


async def reconcile_alice(channel: ClassicalChannel, bits: np.ndarray) -> int:
    """Alice's side: answer Bob's questions until ``cascade.done``. Returns the bits she disclosed."""
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    _, body = await channel.recv("cascade.start")
    seed, n, _reuse, _name = _START.unpack_from(body)
    if n != bits.size:
        raise CascadeError(f"Bob reconciles {n} bits, Alice holds {bits.size}")
    alice = AliceOracle(bits, seed)
    disclosed = 0
    while True:
        kind, body = await channel.recv()
        if kind == "cascade.done":
            return disclosed
        if kind == "cascade.open":
            first, count = struct.unpack_from(">II", body)
            ks = np.frombuffer(body, dtype=">u4", offset=8, count=count)
            flat = await run_step(n * count, _open_passes, alice, first, ks)
            await channel.send("cascade.parities", np.packbits(flat, bitorder="little").tobytes(),
                               disclosed_bits=int(flat.size))
            disclosed += int(flat.size)
        elif kind == "cascade.ask":
            m = len(body) // 9
            try:
                answer = alice.answer_wire(body)
            except ValueError as e:
                raise CascadeError(f"malformed cascade.ask from Bob: {e}") from None
            await channel.send("cascade.answer", answer, disclosed_bits=m)
            disclosed += m
        else:
            raise CascadeError(f"unexpected {kind!r} frame during Cascade")


def reconcile_local(alice_bits: np.ndarray, bob_bits: np.ndarray, qber_estimate: float,
                    variant_name: str = "default", seed: int | None = None, *,
                    time_ends: bool = False) -> tuple[np.ndarray, CascadeReport]:
    """Both ends in one call, no channel (benchmarks, frame-error-rate studies). Same kernels and the
    same disclosed-bit accounting as the channel protocol.

    ``time_ends``: also time each end's work (``alice_cpu_seconds``, ``bob_cpu_seconds``; single-threaded,
    so wall time per call stands for CPU time). Off by default: two clock reads per kernel call cost
    several µs each on a virtual machine, a large share of a 10^5-bit run."""
    t0 = time.perf_counter()
    n = int(bob_bits.size)
    v = variant(variant_name, qber_estimate)
    sizes = plan(v, qber_estimate, n)
    seed = secrets.randbits(64) if seed is None else seed
    clock = time.perf_counter if time_ends else None
    spent = [0.0, 0.0]   # alice, bob

    def timed(end: int, fn: Callable[..., Any], *args: Any) -> Any:
        if clock is None:
            return fn(*args)
        t = clock()
        out = fn(*args)
        spent[end] += clock() - t
        return out

    alice = timed(0, AliceOracle, np.ascontiguousarray(alice_bits, dtype=np.uint8), seed)
    bob = timed(1, v.start_searches, np.ascontiguousarray(bob_bits, dtype=np.uint8), seed, qber_estimate)
    disclosed, rounds, j = 0, 1, 0

    def run(j: int, k: int) -> None:
        nonlocal disclosed, rounds
        par = timed(0, alice.open_pass, j, k)
        disclosed += par.size - (1 if j > 0 else 0)
        timed(1, bob.open_pass, j, k, par)
        # the bisection rounds exchange the wire bodies of cascade.ask / cascade.answer, as over a channel
        if clock is None:
            ask, answer, take = bob.ask, alice.answer_wire, bob.take_answers
            while ask_body := ask():
                disclosed += len(ask_body) // 9
                rounds += 1
                take(answer(ask_body))
            return
        while ask_body := timed(1, bob.ask):
            ans = timed(0, alice.answer_wire, ask_body)
            disclosed += len(ask_body) // 9
            rounds += 1
            timed(1, bob.take_answers, ans)

    for j, k in enumerate(sizes):
        run(j, k)
    j = len(sizes)
    if v.biconf_streak:
        streak = 0
        while streak < v.biconf_streak and j < v.max_passes:
            before = bob.corrections
            rounds += 1
            run(j, _half(n))
            j += 1
            streak = streak + 1 if bob.corrections == before else 0
    corr = int(bob.corrections)
    return bob.bits, CascadeReport(v.name, n, qber_estimate, disclosed, rounds, j, corr,
                                   _efficiency(disclosed, n, qber_estimate),
                                   _efficiency(disclosed, n, corr / n if n else 0),
                                   time.perf_counter() - t0, int(bob.passes_laid_out),
                                   alice_cpu_seconds=spent[0], bob_cpu_seconds=spent[1])


__all__ = ["CascadeError", "CascadeReport", "VARIANTS", "Variant", "binary_entropy", "plan", "reconcile_alice",
           "reconcile_bob", "reconcile_local", "variant"]
