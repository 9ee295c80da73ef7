"""KME throughput: ETSI GS QKD 014 enc_keys + dec_keys pairs over mutual TLS, and key deposit into the store.

Run: ``python bench/kms.py [--quick] [--concurrency N]``; writes ``bench/results/kms.json``.

* **key pairs/s**: a KME runs as a separate process (``python -m qshift.cli kme serve``); the bench process
  drives ``--concurrency`` SAE pairs, each over its own two keep-alive mutual-TLS connections (one with
  SAE_A's certificate, one with SAE_B's): enc_keys (SAE_A, POST, 256-bit keys) then dec_keys (SAE_B, POST)
  of those key_IDs, checking the keys are equal. The load generator is a lean HTTP/1.1 client
  (:class:`LeanHttps`: asyncio TLS connection, one request at a time, Content-Length framing) so that the
  bench measures the KME rather than the client library - on this 2-core machine the client and the
  server share the CPU. Baseline, same run, same server process, same connections: a pair of trivial
  requests (the 404 route of the same app, which does no store work) - the ratio is what the key store
  and the ETSI handling cost on top of aiohttp + TLS. Baseline and measurements run in interleaved slices
  so that load from other processes hits both alike. Reported per figure: wall-clock rate, the rate per
  CPU-second of the server process (what one core running the KME serves, independent of how much of the
  machine other processes take), p50/p99 latency of a pair under load and unloaded (one pair at a time),
  the load average and the fraction of the time the server's thread waited for a CPU (run queue,
  ``/proc/<pid>/schedstat``: high when other processes share the machine, which bounds the wall rate).
  Bar (issue #6): >= 2000 pairs/s. Measured with one key per request and with ``BATCH`` keys per request
  (enc_keys ``number=16``, dec_keys with the 16 key_IDs) - the bar counts key pairs. One slice also runs
  the product's client (:class:`qkd.kms.client.KmeClient`, aiohttp) for reference.
* **relay**: key pairs/s from SAE_A at KME_A to SAE_B at KME_B through KME_T (two one-time-pad hops), all
  three KMEs in this process; baseline, same run: a pair of SAEs on KME_A.
* **deposit Mbit/s**: ``KeyStore.deposit`` of 1 MiB blocks (sealed with AES-256-GCM in 4 KiB chunks,
  fsync'd commit per block). Baseline, same run: the same bytes appended to a plain file with one fsync
  per block (the durability floor of this disk). Bar: >= 100 Mbit/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BenchResult, write_results  # noqa: E402

from qkd.kms.client import KmeClient  # noqa: E402
from qkd.kms.masterkey import Sealer, load_or_create  # noqa: E402
from qkd.kms.pki import make_pki  # noqa: E402
from qkd.kms.server import start_kme  # noqa: E402
from qkd.kms.store import KeyStore  # noqa: E402
from qkd.kms.testing import chain_node_config, chain_topology, free_port, single_node_config, to_toml  # noqa: E402

BATCH = 16

try:  # the same event loop the node uses (qshift kme serve runs on uvloop when installed)
    from uvloop import run as run_loop
except ImportError:  # pragma: no cover
    from asyncio import run as run_loop


def start_server(tmp: Path, pki, prefill_bits: int, workers: int = 1) -> tuple[subprocess.Popen, str, list[int]]:
    """``qshift kme serve`` as a child process; returns it, its URL and the pids of its worker processes."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cfg = single_node_config(tmp, pki, port=port, prefill_bits=prefill_bits, max_key_per_request=128)
    cfg.topology.nodes[0].url = f"https://127.0.0.1:{port}"
    path = tmp / "node.toml"
    path.write_text(to_toml(cfg.model_dump(mode="json")))
    proc = subprocess.Popen([sys.executable, "-m", "qshift.cli", "kme", "serve", str(path), "--workers", str(workers)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if '"kme.ready"' not in line:
        raise RuntimeError(f"KME did not start: {line!r}")
    ready = json.loads(line)
    return proc, ready["url"], ready["pids"]


async def pairs(url: str, pki, duration_s: float, concurrency: int, number: int = 1,
                slave_url: str | None = None) -> tuple[float, list[float]]:
    """Key pairs per second (enc_keys of ``number`` keys + dec_keys of their IDs), and each round's latency (s)."""
    async with KmeClient(url, pki.client_context("SAE_A")) as a, \
            KmeClient(slave_url or url, pki.client_context("SAE_B")) as b:
        await b.dec_keys("SAE_A", [k.key_id for k in await a.enc_keys("SAE_B")])  # warm the connections
        return await pairs_with(a, b, duration_s, concurrency, number)


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system, seconds) process ``pid`` has used so far (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def pairs_with(a: KmeClient, b: KmeClient, duration_s: float, concurrency: int,
                     number: int = 1) -> tuple[float, list[float]]:
    """:func:`pairs` over already open clients (SAE_A master, SAE_B slave)."""
    lat: list[float] = []
    end = time.perf_counter() + duration_s

    async def worker() -> int:
        n = 0
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            keys = await a.enc_keys("SAE_B", number, 256)
            got = await b.dec_keys("SAE_A", [k.key_id for k in keys])
            lat.append(time.perf_counter() - t0)
            assert [g.key for g in got] == [k.key for k in keys]
            n += number
        return n

    t0 = time.perf_counter()
    counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sum(counts) / (time.perf_counter() - t0), lat


class LeanHttps(asyncio.Protocol):
    """The bench's load generator: HTTP/1.1 keep-alive over ONE mutual-TLS connection, one request at a time.

    Responses are framed by ``Content-Length`` (the KME always sends it); anything else, or a closed
    connection, is an error. No pooling, redirects or cookies: the least client work per request.
    """

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body_at = -1
        self._end = -1
        self._status = 0

    @classmethod
    async def connect(cls, host: str, port: int, ctx) -> LeanHttps:
        _, proto = await asyncio.get_running_loop().create_connection(cls, host, port, ssl=ctx,
                                                                      server_hostname=host)
        return proto

    def connection_made(self, transport) -> None:
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(f"KME closed the connection ({exc})"))

    def _fail(self, message: str) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ValueError(message))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._body_at < 0:
            i = self._buf.find(b"\r\n\r\n")
            if i < 0:
                return
            lines = bytes(self._buf[:i]).split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            if len(parts) < 2 or parts[0] != b"HTTP/1.1":
                return self._fail(f"bad status line {lines[0][:40]!r}")
            length = -1
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length < 0:
                return self._fail("response without Content-Length")
            self._status, self._body_at = int(parts[1]), i + 4
            self._end = self._body_at + length
        if len(self._buf) >= self._end:
            body = bytes(self._buf[self._body_at:self._end])
            del self._buf[:self._end]
            self._body_at = -1
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result((self._status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one complete HTTP/1.1 request; return (status, body)."""
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def http_post(path: str, host: str, body: Any) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def lean_pairs(conns: list[tuple[LeanHttps, LeanHttps]], host: str, duration_s: float,
                     number: int = 1) -> tuple[float, list[float]]:
    """Key pairs/s over open connections (enc_keys of ``number`` keys, dec_keys of their IDs, keys compared),
    and each round's latency (s). Every connection pair runs one round at a time."""
    enc = http_post("/api/v1/keys/SAE_B/enc_keys", host, {"number": number, "size": 256})
    lat: list[float] = []
    end = time.perf_counter() + duration_s

    async def worker(a: LeanHttps, b: LeanHttps) -> int:
        n = 0
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            status, body = await a.request(enc)
            if status != 200:
                raise RuntimeError(f"enc_keys: HTTP {status}: {body[:200]!r}")
            keys = json.loads(body)["keys"]
            status, body = await b.request(http_post("/api/v1/keys/SAE_A/dec_keys", host,
                                                     {"key_IDs": [{"key_ID": k["key_ID"]} for k in keys]}))
            if status != 200:
                raise RuntimeError(f"dec_keys: HTTP {status}: {body[:200]!r}")
            got = json.loads(body)["keys"]
            lat.append(time.perf_counter() - t0)
            if [(g["key_ID"], base64.b64decode(g["key"])) for g in got] != \
                    [(k["key_ID"], base64.b64decode(k["key"])) for k in keys]:
                raise RuntimeError("dec_keys returned other keys than enc_keys")
            n += len(keys)
        return n

    t0 = time.perf_counter()
    counts = await asyncio.gather(*(worker(a, b) for a, b in conns))
    return sum(counts) / (time.perf_counter() - t0), lat


async def lean_trivial(conns: list[tuple[LeanHttps, LeanHttps]], host: str, duration_s: float) -> float:
    """Pairs of trivial requests (404 route, no store work) per second over the same open connections."""
    req = f"GET /nothing HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    end = time.perf_counter() + duration_s

    async def worker(a: LeanHttps, b: LeanHttps) -> int:
        n = 0
        while time.perf_counter() < end:
            for c in (a, b):
                status, _ = await c.request(req)
                if status != 404:
                    raise RuntimeError(f"trivial request: HTTP {status}")
            n += 1
        return n

    t0 = time.perf_counter()
    counts = await asyncio.gather(*(worker(a, b) for a, b in conns))
    return sum(counts) / (time.perf_counter() - t0)


def run_queue_wait_s(pid: int) -> float:
    """Seconds the main thread of ``pid`` has waited on a run queue for a CPU (``/proc/<pid>/schedstat``)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


async def interleaved(url: str, pki, rounds: int, slice_s: float, concurrency: int, server_pid: int) -> dict:
    """Baseline, single-key and batched slices in turn over the same open connections (no handshakes
    inside the measured slices), then one slice with the product's aiohttp client and an unloaded latency
    run with one pair. Each slice also records the CPU seconds the server process spent in it (``*_cpu``:
    pairs per server CPU-second), the bench process's CPU (``*_client_cpu``) and the server's run-queue
    wait (``*_wait``, fraction of the slice)."""
    host = url.removeprefix("https://")
    port = int(host.rsplit(":", 1)[1])
    ctx_a, ctx_b = pki.client_context("SAE_A"), pki.client_context("SAE_B")
    conns = [(await LeanHttps.connect("127.0.0.1", port, ctx_a), await LeanHttps.connect("127.0.0.1", port, ctx_b))
             for _ in range(concurrency)]
    out: dict = {k: [] for k in ("base", "single", "batched", "lat", "lat_b")}
    for k in ("base", "single", "batched"):
        out[k + "_cpu"], out[k + "_client_cpu"], out[k + "_wait"] = [], [], []

    async def measured(kind: str, coro) -> Any:
        t0, c0, cc0, w0 = time.perf_counter(), process_cpu_s(server_pid), time.process_time(), \
            run_queue_wait_s(server_pid)
        result = await coro
        rate = result[0] if isinstance(result, tuple) else result
        dt = time.perf_counter() - t0
        out[kind].append(rate)
        out[kind + "_cpu"].append(rate * dt / max(process_cpu_s(server_pid) - c0, 1e-3))
        out[kind + "_client_cpu"].append(rate * dt / max(time.process_time() - cc0, 1e-3))
        out[kind + "_wait"].append((run_queue_wait_s(server_pid) - w0) / dt)
        return result

    try:
        await lean_trivial(conns, host, 0.3)
        await lean_pairs(conns, host, 0.3)
        for _ in range(rounds):
            await measured("base", lean_trivial(conns, host, slice_s))
            out["lat"] += (await measured("single", lean_pairs(conns, host, slice_s)))[1]
            out["lat_b"] += (await measured("batched", lean_pairs(conns, host, slice_s, BATCH)))[1]
        _, out["lat1"] = await lean_pairs(conns[:1], host, min(3.0, slice_s * 2))
    finally:
        for a, b in conns:
            a.close()
            b.close()
    async with KmeClient(url, ctx_a) as a, KmeClient(url, ctx_b) as b:
        await pairs_with(a, b, 0.3, concurrency)
        t0, c0 = time.perf_counter(), process_cpu_s(server_pid)
        out["aiohttp_client"], out["aiohttp_lat"] = await pairs_with(a, b, slice_s, concurrency)
        out["aiohttp_server_cpu_rate"] = out["aiohttp_client"] * (time.perf_counter() - t0) / max(
            process_cpu_s(server_pid) - c0, 1e-3)
    return out


async def workers_compare(url1: str, pids1: list[int], url2: str, pids2: list[int], pki, rounds: int,
                          slice_s: float, concurrency: int) -> dict:
    """Single-key pairs/s of a node with one worker (``url1``) and one with ``--workers 2`` (``url2``), in
    interleaved slices over open connections; also pairs per CPU-second of all the node's processes."""
    out: dict = {"w1": [], "w2": [], "w1_cpu": [], "w2_cpu": [], "w2_lat": []}
    ctx_a, ctx_b = pki.client_context("SAE_A"), pki.client_context("SAE_B")
    nodes = {}
    for name, url, pids in (("w1", url1, pids1), ("w2", url2, pids2)):
        port = int(url.rsplit(":", 1)[1])
        nodes[name] = (url.removeprefix("https://"), pids,
                       [(await LeanHttps.connect("127.0.0.1", port, ctx_a),
                         await LeanHttps.connect("127.0.0.1", port, ctx_b)) for _ in range(concurrency)])
    try:
        for host, _, conns in nodes.values():
            await lean_pairs(conns, host, 0.3)
        for _ in range(rounds):
            for name, (host, pids, conns) in nodes.items():
                t0, c0 = time.perf_counter(), sum(process_cpu_s(p) for p in pids)
                rate, lat = await lean_pairs(conns, host, slice_s)
                cpu = sum(process_cpu_s(p) for p in pids) - c0
                out[name].append(rate)
                out[name + "_cpu"].append(rate * (time.perf_counter() - t0) / max(cpu, 1e-3))
                if name == "w2":
                    out["w2_lat"] += lat
    finally:
        for _, _, conns in nodes.values():
            for a, b in conns:
                a.close()
                b.close()
    return out


async def relay_vs_local(tmp: Path, pki, duration_s: float) -> tuple[float, float]:
    """(relayed key pairs/s SAE_A@KME_A → SAE_B@KME_B via KME_T, local pairs/s at KME_A), in-process."""
    nodes = ["KME_A", "KME_T", "KME_B"]
    ports = {n: free_port() for n in nodes}
    topo = chain_topology(nodes, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B", "SAE_C": "KME_A"})
    kmes = [await start_kme(chain_node_config(tmp / n, pki, n, topo, ports, prefill_bits=1 << 24)) for n in nodes]
    try:
        url = {n: f"https://127.0.0.1:{ports[n]}" for n in nodes}
        relay, _ = await pairs(url["KME_A"], pki, duration_s / 2, 8, slave_url=url["KME_B"])
        local, _ = await pairs_local(url["KME_A"], pki, duration_s / 2, 8)
    finally:
        for k in kmes:
            await k.stop()
    return relay, local


async def pairs_local(url: str, pki, duration_s: float, concurrency: int) -> tuple[float, list[float]]:
    """Like :func:`pairs` for SAE_A and SAE_C, both attached to the KME at ``url``."""
    async with KmeClient(url, pki.client_context("SAE_A")) as a, KmeClient(url, pki.client_context("SAE_C")) as c:
        end = time.perf_counter() + duration_s

        async def worker() -> int:
            n = 0
            while time.perf_counter() < end:
                [key] = await a.enc_keys("SAE_C", 1, 256)
                [got] = await c.dec_keys("SAE_A", [key.key_id])
                assert got.key == key.key
                n += 1
            return n

        t0 = time.perf_counter()
        counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
        return sum(counts) / (time.perf_counter() - t0), []


def deposit_rates(tmp: Path, total_bytes: int, block: int) -> tuple[float, float, float, float]:
    """(store Mbit/s, plain-file-with-fsync Mbit/s, store Mbit per CPU-second, AES-256-GCM sealing alone in
    the store's 4 KiB chunks Mbit per CPU-second) for depositing ``total_bytes`` in ``block``-byte blocks."""
    store = KeyStore(tmp / "dep.sqlite", Sealer(load_or_create(tmp / "dep.key")))
    store.ensure_pool("link", "link", total_bytes * 8 * 2)
    data = os.urandom(block)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(total_bytes // block):
        store.deposit("link", data)
    t_store, c_store = time.perf_counter() - t0, time.process_time() - c0
    store.close()
    sealer = Sealer(os.urandom(32))
    c0 = time.process_time()
    for _ in range(total_bytes // block):
        for i in range(0, block, store.chunk_bytes):
            sealer.seal(data[i:i + store.chunk_bytes], b"qshift-kms/chunk/link/0")
    c_seal = time.process_time() - c0
    with open(tmp / "plain.bin", "wb") as fh:
        t0 = time.perf_counter()
        for _ in range(total_bytes // block):
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        t_file = time.perf_counter() - t0
    bits = (total_bytes // block) * block * 8
    return bits / t_store / 1e6, bits / t_file / 1e6, bits / c_store / 1e6, bits / c_seal / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for CI smoke runs")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    duration = 2.0 if args.quick else 10.0
    deposit_total = (16 if args.quick else 256) << 20
    results = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        pki = make_pki(tmp / "pki", kmes=["KME_A", "KME_T", "KME_B"], saes=["SAE_A", "SAE_B", "SAE_C", "admin"])
        rounds = 2 if args.quick else 5
        slice_s = duration / rounds
        proc, url, _ = start_server(tmp / "w1", pki, prefill_bits=256 * 60000 * int(duration))
        proc2, url2, pids2 = start_server(tmp / "w2", pki, prefill_bits=256 * 20000 * int(duration), workers=2)
        try:
            # interleaved slices, so that load from other processes hits baseline and measurement alike
            m = run_loop(interleaved(url, pki, rounds, slice_s, args.concurrency, proc.pid))
            w = run_loop(workers_compare(url, [proc.pid], url2, pids2, pki, rounds, slice_s, args.concurrency))
        finally:
            for p in (proc, proc2):
                p.terminate()
                p.wait(10)
        base_rate, rate, rate_b = (statistics.fmean(m[k]) for k in ("base", "single", "batched"))
        med = {k: statistics.median(v) for k, v in m.items() if isinstance(v, list) and k.endswith(("_cpu", "_wait"))}
        q, qb, q1, qa = (statistics.quantiles(m[k], n=100) for k in ("lat", "lat_b", "lat1", "aiohttp_lat"))
        load = os.getloadavg()[0]
        common = {"concurrency": args.concurrency, "duration_s": duration, "interleaved_rounds": rounds,
                  "key_bits": 256, "client": "LeanHttps (HTTP/1.1 keep-alive, mutual TLS, one connection per SAE "
                  "per worker)", "server": "separate process (qshift kme serve), 1 event loop, pipelined group "
                  "commit", "load_average_1min": round(load, 2), "bar_pairs_per_s": 2000}
        results.append(BenchResult(
            "enc_keys+dec_keys 256-bit key pairs over mTLS keep-alive", rate, "pairs/s",
            "pairs of trivial requests (404 route) to the same server, same mTLS connections", base_rate,
            {**common, "keys_per_request": 1,
             "latency_p50_ms": round(q[49] * 1e3, 3), "latency_p99_ms": round(q[98] * 1e3, 3),
             "unloaded_latency_p50_ms": round(q1[49] * 1e3, 3), "unloaded_latency_p99_ms": round(q1[98] * 1e3, 3),
             "server_run_queue_wait_fraction": round(med["single_wait"], 3),
             "pairs_per_client_cpu_s": round(med["single_client_cpu"], 1),
             "product_client_aiohttp_pairs_per_s": round(m["aiohttp_client"], 1),
             "product_client_aiohttp_pairs_per_server_cpu_s": round(m["aiohttp_server_cpu_rate"], 1),
             "product_client_aiohttp_latency_p99_ms": round(qa[98] * 1e3, 3)}))
        results.append(BenchResult(
            "enc_keys+dec_keys 256-bit key pairs per server CPU-second (1 key per request, mTLS keep-alive)",
            med["single_cpu"], "pairs per CPU-s",
            "pairs of trivial requests (404 route) per server CPU-second, same server and connections",
            med["base_cpu"],
            {**common, "median_over": "slices", "batched_16_key_pairs_per_cpu_s": round(med["batched_cpu"], 1),
             "meaning": "what one core running the KME serves when the machine is not shared; the wall-clock "
                        "rate is bounded by the CPU share the server gets (run-queue wait, load average)"}))
        results.append(BenchResult(
            f"enc_keys+dec_keys 256-bit key pairs, {BATCH} keys per request, mTLS keep-alive", rate_b,
            "key pairs/s", "pairs of trivial requests (404 route), same server and connections", base_rate,
            {**common, "keys_per_request": BATCH, "round_latency_p50_ms": round(qb[49] * 1e3, 3),
             "round_latency_p99_ms": round(qb[98] * 1e3, 3),
             "server_run_queue_wait_fraction": round(med["batched_wait"], 3),
             "key_pairs_per_server_cpu_s": round(med["batched_cpu"], 1)}))
        qw = statistics.quantiles(w["w2_lat"], n=100)
        results.append(BenchResult(
            "enc_keys+dec_keys 256-bit key pairs, node with --workers 2 (SO_REUSEPORT, shared store)",
            statistics.fmean(w["w2"]), "pairs/s", "the same node with one worker, interleaved slices, same run",
            statistics.fmean(w["w1"]),
            {**common, "keys_per_request": 1, "workers": 2, "latency_p50_ms": round(qw[49] * 1e3, 3),
             "latency_p99_ms": round(qw[98] * 1e3, 3),
             "pairs_per_node_cpu_s_workers_2": round(statistics.median(w["w2_cpu"]), 1),
             "pairs_per_node_cpu_s_workers_1": round(statistics.median(w["w1_cpu"]), 1),
             "server": "separate processes (qshift kme serve --workers 2 / 1)",
             "meaning": "on this 2-core VM the bench client and both workers share two cores; on a node with "
                        "more cores the workers get a core each"}))
        relay_rate, local_rate = run_loop(relay_vs_local(tmp / "relay", pki, duration))
        results.append(BenchResult(
            "relayed key pairs A-T-B (2 OTP hops, 3 KMEs in one process)", relay_rate, "key pairs/s",
            "key pairs of an SAE pair on one KME, same process and run", local_rate,
            {"key_bits": 256, "keys_per_request": 1, "concurrency": 8, "duration_s": duration / 2}))
        store_rate, file_rate, store_cpu, seal_cpu = deposit_rates(tmp, deposit_total, 1 << 20)
        results.append(BenchResult(
            "key deposit into the store (AES-256-GCM sealed, fsync per block)", store_rate, "Mbit/s",
            "same bytes appended to a plain file, fsync per block", file_rate,
            {"block_bytes": 1 << 20, "chunk_bytes": 4096, "total_bytes": deposit_total, "bar_mbit_per_s": 100,
             "load_average_1min": round(os.getloadavg()[0], 2)}))
        results.append(BenchResult(
            "key deposit into the store per CPU-second of the depositing process", store_cpu, "Mbit per CPU-s",
            "AES-256-GCM sealing alone of the same bytes in the store's 4 KiB chunks, per CPU-second", seal_cpu,
            {"block_bytes": 1 << 20, "chunk_bytes": 4096, "total_bytes": deposit_total, "bar_mbit_per_s": 100,
             "meaning": "the store's CPU cost, independent of the machine's load; fsync waits are not CPU"}))
    write_results("kms", results)


if __name__ == "__main__":
    main()
