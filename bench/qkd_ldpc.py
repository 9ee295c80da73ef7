"""Benchmark of rate-adaptive LDPC reconciliation against Cascade, in the same run (issue 20 items 2 and 3).

    python bench/qkd_ldpc.py [--quick] [--blocks B] [--decoder min-sum|sum-product|phi-sum|min-sum-8]
                             [--only efficiency|throughput|latency|threshold|fer] [--frames F] [--qber Q ...]

* ``efficiency``: blocks of n = 10^5 bits with exactly round(q·n) errors at QBER q ∈ {1, 2, 3, 5, 8, 11} %;
  LDPC (blind retries) and Cascade (default variant) on the same pairs. Mean efficiency f =
  disclosed / (n·h(q)) of each, ratio LDPC / Cascade; frame error rate after retries with its 95 %
  Clopper–Pearson upper bound; share of blocks that needed a retry; mean round trips.
* ``fer``: the acceptance run of issue 20 — ``--frames`` blocks (default 3000) of n = 10^5 bits per QBER
  (``--qber``, default 1, 2, 3, 5, 8 %) through the blind protocol: frame error rate after retries (a block
  whose output differs from Alice's) with its exact Clopper–Pearson interval (two-sided 95 %, and the one-sided
  95 % upper bound: 0 failures in ≥ 2995 frames put it below 10^-3), mean efficiency with its 95 % interval,
  first-attempt failure rate, mean round trips.
* ``threshold``: where the codes start to decode — first attempts only, at each QBER of a grid, frames planned at
  first-attempt efficiency f₀ on a grid; prints the share decoded per (QBER, code, f₀) and, per mother code,
  the smallest f₀ at which at least half the frames decoded (the calibration of ``ldpc.F_START*``).
* ``throughput``: at QBER 2 %, the same frames (min-sum family codes, planned at f = 1.35: first attempts decode)
  decoded by the compiled layered decoder (min-sum in int16 and int8 lanes, sum-product; the fastest of 5 passes)
  and by the plain numpy flooding min-sum (``qkd.postprocess.ldpc_reference``): Mbit/s of key per CPU-second on one
  core, ratio compiled / numpy. Then each
  decoder at its own operating point (its family, its first-attempt efficiency; failed attempts included); the
  φ-sum's (the default decoder's) frames are also decoded by the numpy min-sum (3 of them; it runs to its iteration
  cap there: min-sum does not decode the BSC-optimised codes), its baseline.
  And whole reconciliation (both ends, one core) LDPC vs Cascade, Mbit/s.
* ``latency``: both ends over the in-process classical channel (Wegman–Carter per-frame authentication)
  wrapped in a transport that delivers every frame after RTT/2 (asyncio timers), RTT ∈ {0, 1, 10} ms: round
  trips and wall time per 10^5-bit block at QBER 3 % for Cascade and LDPC.

The load average before and after is recorded with the results (and in each figure's params); the machine
counts as idle when the 1-minute load average stayed below 0.5. Writes bench/results/qkd_ldpc.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, BenchResult, write_results  # noqa: E402,I001

from qkd._native import ldpc_decode  # noqa: E402
from qkd.postprocess.cascade import reconcile_alice, reconcile_bob, reconcile_local  # noqa: E402
from qkd.postprocess.channel import ClassicalChannel, Transport, WegmanCarterAuth, in_process_transports  # noqa: E402
from qkd.postprocess.cascade import binary_entropy  # noqa: E402
from qkd.postprocess.ldpc import (  # noqa: E402
    DECODERS,
    AliceFrames,
    BobFrames,
    LdpcPlan,
    LdpcPolicy,
    plan_ldpc,
    reconcile_alice_ldpc,
    reconcile_bob_ldpc,
    reconcile_local_ldpc,
)
from qkd.postprocess.ldpc_reference import EdgeList, decode_flooding  # noqa: E402

N_BLOCK = 100_000


def bsc_exact(n: int, q: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    a = rng.integers(0, 2, n, dtype=np.uint8)
    flips = np.zeros(n, np.uint8)
    flips[rng.choice(n, int(round(q * n)), replace=False)] = 1
    return a, a ^ flips


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p), summed in log space (n up to 10^5 without overflow)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp
                                 + (n - i) * lq) for i in range(k + 1)))


def clopper_pearson_upper(k: int, n: int, conf: float = 0.95, one_sided: bool = False) -> float:
    """Upper end of the exact (Clopper–Pearson) interval for k failures in n trials: two-sided at ``conf`` (the
    upper tail gets (1 − conf)/2), or the one-sided upper bound at ``conf``. Bisection on the binomial CDF."""
    if k >= n:
        return 1.0
    tail = (1 - conf) if one_sided else (1 - conf) / 2
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _binom_cdf(k, n, mid) > tail else (lo, mid)
    return hi


def clopper_pearson_lower(k: int, n: int, conf: float = 0.95) -> float:
    """Lower end of the two-sided Clopper–Pearson interval (0 when no failure was seen)."""
    if k <= 0:
        return 0.0
    tail = (1 - conf) / 2
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        # P(X ≥ k) = 1 − P(X ≤ k − 1) grows with p
        lo, hi = (mid, hi) if 1 - _binom_cdf(k - 1, n, mid) < tail else (lo, mid)
    return lo


def _load() -> float:
    return os.getloadavg()[0]


def efficiency(blocks: int, qbers: list[float], policy: LdpcPolicy) -> tuple[list[BenchResult], list[dict[str, Any]]]:
    results, rows = [], []
    for q in qbers:
        load0 = _load()
        rng = np.random.default_rng(int(q * 1e4))
        f_l, f_c, trips_l, trips_c, failed, retried, secs_l, secs_c = [], [], [], [], 0, 0, 0.0, 0.0
        for b in range(blocks):
            a, bob = bsc_exact(N_BLOCK, q, rng)
            t = time.process_time()
            out, rep = reconcile_local_ldpc(a, bob, q, policy, seed=b)
            secs_l += time.process_time() - t
            ok = rep.decoded and np.array_equal(out, a)
            failed += not ok
            retried += rep.retries > 0
            f_l.append(rep.efficiency)
            trips_l.append(rep.round_trips)
            t = time.process_time()
            outc, repc = reconcile_local(a, bob, q, "default", seed=b)
            secs_c += time.process_time() - t
            f_c.append(repc.efficiency)
            trips_c.append(repc.round_trips)
        fl, fc = float(np.mean(f_l)), float(np.mean(f_c))
        row = {"qber": q, "blocks": blocks, "n": N_BLOCK, "ldpc_f_mean": fl, "ldpc_f_max": float(np.max(f_l)),
               "cascade_f_mean": fc, "ldpc_fer_after_retries": failed / blocks,
               "ldpc_fer_upper95": clopper_pearson_upper(failed, blocks), "ldpc_blocks_with_retry": retried / blocks,
               "ldpc_round_trips_mean": float(np.mean(trips_l)), "cascade_round_trips_mean": float(np.mean(trips_c)),
               "ldpc_cpu_s_per_block": secs_l / blocks, "cascade_cpu_s_per_block": secs_c / blocks,
               "code": rep.code, "decoder": policy.decoder, "f_step": policy.f_step, "load1": [load0, _load()]}
        rows.append(row)
        results.append(BenchResult(f"ldpc.efficiency.q{q:g}", fl, "f", "cascade default f", fc, row))
        print(json.dumps(row), flush=True)
    return results, rows


def _frames_at(plan: LdpcPlan, policy: LdpcPolicy, q: float, count: int, rng: np.random.Generator
               ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``count`` single-frame blocks of ``plan`` at QBER q: Bob's channel LLRs, Alice's syndrome, Alice's word."""
    work = []
    for i in range(count):
        a, b = bsc_exact(plan.n_bits, q, rng)
        alice = AliceFrames(plan, a, np.random.default_rng(i))
        syn, _ = alice.syndromes()
        bob = BobFrames(plan, b, q, policy)
        bob.take_syndromes(np.packbits(syn, bitorder="little").tobytes() + alice.checks()[0])
        work.append((bob.llrs[0], bob.syndromes[0], alice.words[0]))
    return work


def _decode_all(plan: LdpcPlan, policy: LdpcPolicy, work: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                algorithm: str, rounds: int = 1) -> tuple[float, list[int], int]:
    """CPU seconds (one core) to decode every frame of ``work`` once by ``algorithm`` (``ldpc_decode.ALGORITHMS``),
    the fastest of ``rounds`` passes (the same work each time: on a shared machine the fastest pass is the one
    least disturbed); iterations per frame; frames decoded right."""
    code = plan.code
    best = math.inf
    for _ in range(rounds):
        its_all, ok = [], 0
        t = time.process_time()
        for llr, syn, word in work:
            out, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn,
                                          policy.alpha, policy.max_iter, policy.patience, algorithm=algorithm)
            its_all.append(its)
            ok += its > 0 and bool(np.array_equal(out, word))
        best = min(best, time.process_time() - t)
    return best, its_all, ok


#: passes over the same frames per compiled decoder in the throughput section (the fastest counts)
ROUNDS = 5


def throughput(frames: int) -> list[BenchResult]:
    q = 0.02
    rng = np.random.default_rng(2)
    load0 = _load()
    # frames planned at f = 1.35, where the first attempt decodes: decoder speed, not retry policy; codes of the
    # min-sum family, which both the numpy min-sum and the compiled decoders decode
    policy = LdpcPolicy(f_start=1.35, decoder="min-sum")
    plan = plan_ldpc(N_BLOCK, q, policy)
    code = plan.code
    key_bits = plan.frames[0][0]
    work = _frames_at(plan, policy, q, frames, rng)
    cpu_c, its_c, ok_c = _decode_all(plan, policy, work, "min-sum", ROUNDS)
    cpu_8, its_8, ok_8 = _decode_all(plan, policy, work, "min-sum-8", ROUNDS)
    cpu_s, its_s, ok_s = _decode_all(plan, policy, work, "sum-product", ROUNDS)
    edges = EdgeList(code)
    t = time.process_time()
    its_n = []
    ok_n = 0
    for llr, syn, word in work:
        ref, its = decode_flooding(edges, llr, syn, policy.alpha, 2 * policy.max_iter)
        its_n.append(its)
        ok_n += its > 0 and bool(np.array_equal(ref, word))
    cpu_n = time.process_time() - t
    mbps_c = frames * key_bits / cpu_c / 1e6
    mbps_8 = frames * key_bits / cpu_8 / 1e6
    mbps_s = frames * key_bits / cpu_s / 1e6
    mbps_n = frames * key_bits / cpu_n / 1e6
    params = {"qber": q, "frames": frames, "code": code.name, "key_bits_per_frame": key_bits,
              "punctured": plan.frames[0][1], "compiled_iterations": its_c, "numpy_flooding_iterations": its_n,
              "cpu_s_compiled": cpu_c, "cpu_s_numpy": cpu_n, "decoded_compiled": ok_c, "decoded_numpy": ok_n,
              "f_start": policy.f_start, "rounds": ROUNDS,
              "unit_note": "key bits decoded per CPU-second, one core (the fastest of `rounds` passes)",
              "load1": [load0, _load()]}
    figures = [BenchResult("ldpc.decoder_throughput.q0.02", mbps_c, "Mbit/s", "numpy flooding min-sum", mbps_n, params),
               BenchResult("ldpc.decoder_throughput.q0.02.min_sum_8", mbps_8, "Mbit/s", "numpy flooding min-sum",
                           mbps_n, {**params, "compiled_iterations": its_8, "cpu_s_compiled": cpu_8,
                                    "decoded_compiled": ok_8, "decoder": "min-sum-8",
                                    "int16_min_sum_mbps": mbps_c, "ratio_to_int16_min_sum": mbps_8 / mbps_c}),
               BenchResult("ldpc.decoder_throughput.q0.02.sum_product", mbps_s, "Mbit/s", "numpy flooding min-sum",
                           mbps_n, {**params, "compiled_iterations": its_s, "cpu_s_compiled": cpu_s,
                                    "decoded_compiled": ok_s, "decoder": "sum-product"})]
    # at the operating point: frames planned at each decoder's own first-attempt efficiency (failures included)
    for decoder in DECODERS:
        pol = LdpcPolicy(decoder=decoder)
        op = plan_ldpc(N_BLOCK, q, pol)
        work_op = _frames_at(op, pol, q, frames, rng)
        cpu_o, its_o, ok_o = _decode_all(op, pol, work_op, decoder, ROUNDS)
        leak = op.code.m - op.frames[0][1]
        base, base_value, extra = "numpy flooding min-sum (f = 1.35 frames)", mbps_n, {}
        if decoder == "phi-sum":
            # the same operating frames through the plain numpy min-sum (a few: it runs to its iteration cap there)
            edges_op = EdgeList(op.code)
            t = time.process_time()
            its_b = [decode_flooding(edges_op, llr, syn, policy.alpha, pol.max_iter)[1] for llr, syn, _ in
                     work_op[:3]]
            cpu_b = time.process_time() - t
            base, base_value = "numpy flooding min-sum, the same frames", 3 * op.frames[0][0] / cpu_b / 1e6
            extra = {"numpy_frames": 3, "numpy_iterations": its_b, "numpy_cpu_s": cpu_b}
        figures.append(BenchResult(
            f"ldpc.decoder_throughput.q0.02.operating.{decoder}", frames * op.frames[0][0] / cpu_o / 1e6, "Mbit/s",
            base, base_value,
            {"qber": q, "frames": frames, "code": op.code.name, "decoder": decoder,
             "f_first_attempt": leak / (op.frames[0][0] * binary_entropy(q)), "iterations": its_o,
             "decoded": ok_o, "cpu_s": cpu_o, "load1": [load0, _load()], **extra}))
    # whole reconciliation, both ends on one core: LDPC vs Cascade on the same blocks
    t_l = t_c = 0.0
    for i in range(max(2, frames // 2)):
        a, b = bsc_exact(N_BLOCK, q, rng)
        t = time.process_time()
        reconcile_local_ldpc(a, b, q, seed=i)
        t_l += time.process_time() - t
        t = time.process_time()
        reconcile_local(a, b, q, "default", seed=i)
        t_c += time.process_time() - t
    n_rec = max(2, frames // 2)
    figures.append(BenchResult("ldpc.reconcile_throughput.q0.02", n_rec * N_BLOCK / t_l / 1e6, "Mbit/s",
                               "cascade default, both ends", n_rec * N_BLOCK / t_c / 1e6,
                               {"qber": q, "blocks": n_rec, "n": N_BLOCK, "decoder": LdpcPolicy().decoder,
                                "load1": [load0, _load()]}))
    return figures


def threshold(frames: int, qbers: list[float], policy: LdpcPolicy) -> list[BenchResult]:
    """First attempts only: share of ``frames`` frames decoded per (QBER, f₀); per code, the smallest f₀ at which
    half of them decoded."""
    decoder = policy.decoder
    grid = [1.0, 1.03, 1.06, 1.09, 1.12, 1.15, 1.19, 1.24, 1.3]
    rng = np.random.default_rng(5)
    load0 = _load()
    per_rate: dict[float, list[tuple[float, float, float]]] = {}
    for q in qbers:
        streak = 0
        for f0 in grid:
            pol = dataclasses.replace(policy, f_start=f0)
            plan = plan_ldpc(N_BLOCK, q, pol)
            if len(plan.frames) != 1:
                continue
            k, p = plan.frames[0]
            f_real = (plan.code.m - p) / (k * binary_entropy(q))
            work = _frames_at(plan, pol, q, frames, rng)
            cpu, its, ok = _decode_all(plan, pol, work, decoder)
            share = ok / frames
            per_rate.setdefault(plan.rate, []).append((q, f_real, share))
            print(json.dumps({"qber": q, "f0": round(f_real, 4), "code": plan.code.name, "punctured": p,
                              "decoded": share, "iterations": its, "cpu_s_per_frame": cpu / frames}), flush=True)
            streak = streak + 1 if share == 1.0 else 0
            if streak >= 2:
                break
    out = []
    for rate, pts in sorted(per_rate.items()):
        halves = [f for _, f, share in pts if share >= 0.5]
        f50 = min(halves) if halves else float("nan")
        out.append(BenchResult(f"ldpc.threshold.{decoder}.r{rate:.2f}", f50, "f", "issue 20 bar f", 1.10,
                               {"points": [[q, round(f, 4), s] for q, f, s in pts], "frames_per_point": frames,
                                "decoder": decoder, "n": N_BLOCK, "load1": [load0, _load()],
                                "meaning": "smallest first-attempt f at which half the frames decoded"}))
    return out


def _fer_block(q: float, b: int, policy: LdpcPolicy, n: int = N_BLOCK) -> tuple[bool, bool, float, int, str]:
    """Block ``b`` of n bits of the fer section (its own seeded generator): failed, retried, efficiency, round trips,
    code."""
    a, bob = bsc_exact(n, q, np.random.default_rng([int(q * 1e4) + 77, b]))
    res, rep = reconcile_local_ldpc(a, bob, q, policy, seed=b)
    return not (rep.decoded and np.array_equal(res, a)), rep.retries > 0, rep.efficiency, rep.round_trips, rep.code


def fer(frames: int, qbers: list[float], policy: LdpcPolicy, jobs: int = 1, n: int = N_BLOCK) -> list[BenchResult]:
    """The blind protocol on ``frames`` blocks of ``n`` bits per QBER: FER after retries with exact intervals.
    ``jobs`` > 1 reconciles blocks in threads (the decoder releases the GIL); CPU seconds are then per block summed
    over threads."""
    out = []
    for q in qbers:
        load0 = _load()
        t = time.process_time()
        if jobs > 1:
            with ThreadPoolExecutor(jobs) as ex:
                blocks = list(ex.map(_fer_block, [q] * frames, range(frames), [policy] * frames, [n] * frames))
        else:
            blocks = [_fer_block(q, b, policy, n) for b in range(frames)]
        cpu = time.process_time() - t
        failed = sum(bl[0] for bl in blocks)
        first_failed = sum(bl[1] for bl in blocks)
        fs = [bl[2] for bl in blocks]
        trips = [bl[3] for bl in blocks]
        f = np.asarray(fs)
        half = 1.96 * float(f.std(ddof=1)) / math.sqrt(frames) if frames > 1 else float("nan")
        row = {"qber": q, "frames": frames, "n": n, "decoder": policy.decoder, "f_step": policy.f_step,
               "code": blocks[-1][4], "failures_after_retries": failed, "fer": failed / frames, "jobs": jobs,
               "fer_ci95": [clopper_pearson_lower(failed, frames), clopper_pearson_upper(failed, frames)],
               "fer_upper95_one_sided": clopper_pearson_upper(failed, frames, one_sided=True),
               "first_attempt_fer": first_failed / frames, "f_mean": float(f.mean()),
               "f_mean_ci95": [float(f.mean()) - half, float(f.mean()) + half], "f_max": float(f.max()),
               "round_trips_mean": float(np.mean(trips)), "cpu_s_per_block": cpu / frames,
               "load1": [load0, _load()]}
        print(json.dumps(row), flush=True)
        name = f"ldpc.fer.q{q:g}" if n == N_BLOCK else f"ldpc.fer.n{n}.q{q:g}"
        out.append(BenchResult(name, float(f.mean()), "f", "issue 20 bar f", 1.10, row))
    return out


class DelayedTransport:
    """Delivers each frame RTT/2 after it is sent (asyncio timer; order kept), without blocking the sender."""

    def __init__(self, inner: Transport, one_way_s: float) -> None:
        self.inner, self.delay = inner, one_way_s
        self._pending: set[asyncio.Task[None]] = set()

    async def send_bytes(self, data: bytes) -> None:
        if self.delay <= 0:
            await self.inner.send_bytes(data)
            return

        async def later() -> None:
            await asyncio.sleep(self.delay)
            await self.inner.send_bytes(data)

        task = asyncio.ensure_future(later())   # equal delays from increasing send times keep the frame order
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def recv_bytes(self) -> bytes:
        return await self.inner.recv_bytes()

    async def close(self) -> None:
        await self.inner.close()


async def _one_block(kind: str, rtt_s: float, a: np.ndarray, b: np.ndarray, q: float) -> tuple[int, float]:
    ta, tb = in_process_transports()
    psk = secrets.token_bytes(32 + 32 * 8192)
    alice = ClassicalChannel(DelayedTransport(ta, rtt_s / 2), WegmanCarterAuth.from_preshared(psk), initiator=True)
    bob = ClassicalChannel(DelayedTransport(tb, rtt_s / 2), WegmanCarterAuth.from_preshared(psk), initiator=False)
    t = time.perf_counter()
    if kind == "ldpc":
        _, (_, rep) = await asyncio.gather(reconcile_alice_ldpc(alice, a), reconcile_bob_ldpc(bob, b, q))
        trips = rep.round_trips
    else:
        _, (_, repc) = await asyncio.gather(reconcile_alice(alice, a), reconcile_bob(bob, b, q))
        trips = repc.round_trips
    return trips, time.perf_counter() - t


def latency(blocks: int) -> list[BenchResult]:
    q = 0.03
    rng = np.random.default_rng(3)
    pairs = [bsc_exact(N_BLOCK, q, rng) for _ in range(blocks)]
    out = []
    for rtt_ms in (0, 1, 10):
        stats: dict[str, tuple[float, float]] = {}
        for kind in ("cascade", "ldpc"):
            trips, walls = [], []
            for a, b in pairs:
                tr, wall = asyncio.run(_one_block(kind, rtt_ms / 1e3, a, b, q))
                trips.append(tr)
                walls.append(wall)
            stats[kind] = (float(np.mean(trips)), float(np.median(walls)))
        params = {"qber": q, "n": N_BLOCK, "blocks": blocks, "rtt_ms": rtt_ms,
                  "ldpc_round_trips": stats["ldpc"][0], "cascade_round_trips": stats["cascade"][0],
                  "ldpc_wall_s": stats["ldpc"][1], "cascade_wall_s": stats["cascade"][1],
                  "auth": "Wegman-Carter per frame", "transport": "in-process queues + asyncio delay RTT/2"}
        out.append(BenchResult(f"ldpc.latency.rtt{rtt_ms}ms.wall_per_block", stats["ldpc"][1], "s",
                               "cascade wall per block", stats["cascade"][1], params))
        print(json.dumps(params), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="few blocks (a smoke run, FER bounds are loose)")
    ap.add_argument("--blocks", type=int, default=None, help="blocks per QBER for the efficiency section")
    ap.add_argument("--only", choices=["efficiency", "throughput", "latency", "threshold", "fer"], action="append")
    ap.add_argument("--decoder", choices=list(DECODERS), default=None,
                    help="Bob's decoder for efficiency / fer / threshold (default: the policy's)")
    ap.add_argument("--frames", type=int, default=None, help="blocks per QBER for fer (3000) / frames per point for "
                    "threshold (8)")
    ap.add_argument("--qber", type=float, action="append", help="QBER of the fer / threshold sections (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="threads reconciling blocks in the fer section")
    ap.add_argument("--n", type=int, default=N_BLOCK, help="bits per block of the fer section (default 10^5; from "
                    "450 000 the plan takes the 491 600-bit codes)")
    ap.add_argument("--f-step", type=float, default=None, help="what each blind retry reveals (LdpcPolicy.f_step)")
    args = ap.parse_args()
    sections = args.only or ["efficiency", "throughput", "latency"]
    blocks = args.blocks or (5 if args.quick else 100)
    policy = LdpcPolicy(decoder=args.decoder) if args.decoder else LdpcPolicy()
    if args.f_step is not None:
        policy = dataclasses.replace(policy, f_step=args.f_step)
    load_before = os.getloadavg()
    results: list[BenchResult] = []
    if "efficiency" in sections:
        results += efficiency(blocks, [0.01, 0.02, 0.03, 0.05, 0.08, 0.11], policy)[0]
    if "threshold" in sections:
        results += threshold(args.frames or (3 if args.quick else 8),
                             args.qber or [0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1],
                             policy)
    if "fer" in sections:
        results += fer(args.frames or (100 if args.quick else 3000), args.qber or [0.01, 0.02, 0.03, 0.05, 0.08],
                       policy, args.jobs, args.n)
    if "throughput" in sections:
        results += throughput(3 if args.quick else 8)
    if "latency" in sections:
        results += latency(2 if args.quick else 5)
    load_after = os.getloadavg()
    owned = {"efficiency": ("ldpc.efficiency",), "latency": ("ldpc.latency",),
             "throughput": ("ldpc.decoder_throughput", "ldpc.reconcile_throughput"),
             "threshold": (f"ldpc.threshold.{policy.decoder}",),
             "fer": tuple((f"ldpc.fer.q{q:g}" if args.n == N_BLOCK else f"ldpc.fer.n{args.n}.q{q:g}")
                          for q in (args.qber or [0.01, 0.02, 0.03, 0.05, 0.08]))}
    prefixes = tuple(p for section in sections for p in owned[section])
    path = write_results("qkd_ldpc", results, replace_prefixes=prefixes if args.only else None)
    doc = json.loads(path.read_text())
    doc["load_average"] = {"before": list(load_before), "after": list(load_after),
                           "idle": max(load_before[0], load_after[0]) < 0.5, "cores": os.cpu_count()}
    doc["command"] = "python bench/qkd_ldpc.py " + " ".join(sys.argv[1:])
    (RESULTS_DIR / "qkd_ldpc.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"load average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
