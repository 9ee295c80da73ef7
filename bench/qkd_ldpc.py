"""Benchmark of rate-adaptive LDPC reconciliation against Cascade, in the same run (issue 20 items 2 and 3).

    python bench/qkd_ldpc.py [--quick] [--blocks B] [--only efficiency|throughput|latency]

* ``efficiency``: blocks of n = 10^5 bits with exactly round(q·n) errors at QBER q ∈ {1, 2, 3, 5, 8, 11} %;
  LDPC (blind retries) and Cascade (default variant) on the same pairs. Mean efficiency f =
  disclosed / (n·h(q)) of each, ratio LDPC / Cascade; frame error rate after retries with its 95 %
  Clopper–Pearson upper bound; share of blocks that needed a retry; mean round trips.
* ``throughput``: at QBER 2 %, the same frames decoded by the compiled layered min-sum and by the plain
  numpy flooding min-sum (``qkd.postprocess.ldpc_reference``): Mbit/s of key per CPU-second on one core,
  ratio compiled / numpy. And whole reconciliation (both ends, one core) LDPC vs Cascade, Mbit/s.
* ``latency``: both ends over the in-process classical channel (Wegman–Carter per-frame authentication)
  wrapped in a transport that delivers every frame after RTT/2 (asyncio timers), RTT ∈ {0, 1, 10} ms: round
  trips and wall time per 10^5-bit block at QBER 3 % for Cascade and LDPC.

The load average before and after is recorded with the results; the machine counts as idle when the
1-minute load average stayed below 0.5. Writes bench/results/qkd_ldpc.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, BenchResult, write_results  # noqa: E402,I001

from qkd._native import ldpc_decode  # noqa: E402
from qkd.postprocess.cascade import reconcile_alice, reconcile_bob, reconcile_local  # noqa: E402
from qkd.postprocess.channel import ClassicalChannel, Transport, WegmanCarterAuth, in_process_transports  # noqa: E402
from qkd.postprocess.ldpc import (  # noqa: E402
    AliceFrames,
    BobFrames,
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


def clopper_pearson_upper(k: int, n: int, conf: float = 0.95) -> float:
    """Upper end of the two-sided Clopper–Pearson interval for k failures in n trials (bisection on the CDF)."""
    if k >= n:
        return 1.0
    alpha = 1 - conf

    def cdf(p: float) -> float:
        return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > alpha / 2 else (lo, mid)
    return hi


def efficiency(blocks: int, qbers: list[float]) -> tuple[list[BenchResult], list[dict[str, Any]]]:
    results, rows = [], []
    for q in qbers:
        rng = np.random.default_rng(int(q * 1e4))
        f_l, f_c, trips_l, trips_c, failed, retried, secs_l, secs_c = [], [], [], [], 0, 0, 0.0, 0.0
        for b in range(blocks):
            a, bob = bsc_exact(N_BLOCK, q, rng)
            t = time.process_time()
            out, rep = reconcile_local_ldpc(a, bob, q, seed=b)
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
               "code": rep.code}
        rows.append(row)
        results.append(BenchResult(f"ldpc.efficiency.q{q:g}", fl, "f", "cascade default f", fc, row))
        print(json.dumps(row), flush=True)
    return results, rows


def throughput(frames: int) -> list[BenchResult]:
    q = 0.02
    rng = np.random.default_rng(2)
    # frames planned at f = 1.35, where the first attempt decodes: decoder speed, not retry policy
    policy = LdpcPolicy(f_start=1.35)
    plan = plan_ldpc(N_BLOCK, q, policy)
    code = plan.code
    edges = EdgeList(code)
    work = []
    for i in range(frames):
        a, b = bsc_exact(N_BLOCK, q, rng)
        alice = AliceFrames(plan, a, np.random.default_rng(i))
        syn, _ = alice.syndromes()
        bob = BobFrames(plan, b, q, policy)
        bob.take_syndromes(np.packbits(syn, bitorder="little").tobytes())
        work.append((bob.llrs[0], bob.syndromes[0], alice.words[0]))
    key_bits = plan.frames[0][0]
    t = time.process_time()
    its_c = []
    ok_c = 0
    for llr, syn, word in work:
        out, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn,
                                      policy.alpha, policy.max_iter, policy.patience)
        its_c.append(its)
        ok_c += its > 0 and bool(np.array_equal(out, word))
    cpu_c = time.process_time() - t
    t = time.process_time()
    its_n = []
    ok_n = 0
    for llr, syn, word in work:
        ref, its = decode_flooding(edges, llr, syn, policy.alpha, 2 * policy.max_iter)
        its_n.append(its)
        ok_n += its > 0 and bool(np.array_equal(ref, word))
    cpu_n = time.process_time() - t
    mbps_c = frames * key_bits / cpu_c / 1e6
    mbps_n = frames * key_bits / cpu_n / 1e6
    params = {"qber": q, "frames": frames, "code": code.name, "key_bits_per_frame": key_bits,
              "compiled_iterations": its_c, "numpy_flooding_iterations": its_n, "cpu_s_compiled": cpu_c,
              "cpu_s_numpy": cpu_n, "decoded_compiled": ok_c, "decoded_numpy": ok_n, "f_start": policy.f_start,
              "unit_note": "key bits decoded per CPU-second, one core"}
    figures = [BenchResult("ldpc.decoder_throughput.q0.02", mbps_c, "Mbit/s", "numpy flooding min-sum", mbps_n, params)]
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
                               {"qber": q, "blocks": n_rec, "n": N_BLOCK}))
    return figures


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
    ap.add_argument("--only", choices=["efficiency", "throughput", "latency"], action="append")
    args = ap.parse_args()
    sections = args.only or ["efficiency", "throughput", "latency"]
    blocks = args.blocks or (5 if args.quick else 100)
    load_before = os.getloadavg()
    results: list[BenchResult] = []
    if "efficiency" in sections:
        results += efficiency(blocks, [0.01, 0.02, 0.03, 0.05, 0.08, 0.11])[0]
    if "throughput" in sections:
        results += throughput(3 if args.quick else 8)
    if "latency" in sections:
        results += latency(2 if args.quick else 5)
    load_after = os.getloadavg()
    owned = {"efficiency": ("ldpc.efficiency",), "latency": ("ldpc.latency",),
             "throughput": ("ldpc.decoder_throughput", "ldpc.reconcile_throughput")}
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
