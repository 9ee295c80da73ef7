"""Gateway benchmarks, every figure a ratio against a baseline measured in the same run.

1. Transport choice: bulk throughput of length-prefixed records over raw asyncio TCP against aiohttp
   WebSocket binary messages (same 64 KiB payloads, same process): why the tunnel runs on raw TCP.
2. Bulk throughput through the tunnel (AES-256-GCM records, two gateway processes, hybrid-qkd session)
   against a plain relay written with the same stack (the same two gateway processes, mux and flow
   control with the record protection replaced by nothing), single stream and 16 streams, in MB/s.
3. Handshake: full hybrid handshake (X-Wing + composite ML-DSA-65/Ed25519 both ways + QKD key from a
   loopback KME in another process, enc_keys + dec_keys), both sides driven from one process: handshakes
   per CPU-second of that process (one core's capacity; wall-clock rate in the params) against the
   issue's 100 handshakes/s, and median / p99 latency against the pqc-only handshake.
4. Rekey under load: longest gap between reads of a stream flowing at full speed while the session
   rekeys every 0.3 s, against the same flow on a pair that does not rekey (both pairs up together,
   flows alternated, median over flows; the worst flow is in the params); bar 50 ms.

5. Data planes (``bench/_gateway_dataplane.py``; root, network namespaces, wireguard-go / charon): throughput
   through WireGuard and through strongSwan's ESP while qshift rotates the key every 10 s against the same
   tunnel without qshift (bar: ratio >= 0.98), packets lost over 100 rotations, time to install a key.
   Skipped with the reason where the machine cannot.

Every result carries the machine's 1-minute load average at the start and end of the run: the figures
are only comparable between runs at similar load; the ratios are the figures that count.

Run: ``python bench/gateway.py [--quick] [--only SECTION]``; writes ``bench/results/gateway.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from _common import BenchResult, write_results  # noqa: E402
from _gateway_dataplane import dataplane_defaults, ipsec_rows, wireguard_rows  # noqa: E402

CHUNK = 1 << 16


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """An unused loopback port, never the same one twice in this run (children bind them later)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


# -- 1. transport ---------------------------------------------------------------------------------------
async def tcp_records(total: int) -> float:
    done = asyncio.Event()

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readexactly(4)
            n = int.from_bytes(head, "big")
            if n == 0:
                break
            await reader.readexactly(n)
        done.set()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    _, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    payload = CHUNK.to_bytes(4, "big") + os.urandom(CHUNK)
    start = time.perf_counter()
    for _ in range(total // CHUNK):
        writer.write(payload)
        await writer.drain()
    writer.write(b"\0\0\0\0")
    await done.wait()
    elapsed = time.perf_counter() - start
    writer.close()
    server.close()
    return total / elapsed / 1e6


async def websocket_messages(total: int) -> float:
    import aiohttp
    from aiohttp import web

    done = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        async for _ in ws:
            pass
        done.set()
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    payload = os.urandom(CHUNK)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{port}/", max_msg_size=0)
        start = time.perf_counter()
        for _ in range(total // CHUNK):
            await ws.send_bytes(payload)
        await ws.close()
        await done.wait()
        elapsed = time.perf_counter() - start
    await runner.cleanup()
    return total / elapsed / 1e6


# -- gateway processes -----------------------------------------------------------------------------------
def _serve_gateway(toml_path: str, null_cipher: bool) -> None:
    """Child process: one gateway from a site TOML (``null_cipher`` only for the plain relay baseline)."""
    import logging

    from aiohttp import web

    from gateway.config import SiteConfig, split_host_port
    from gateway.service import create_gateway_app
    from qshift.config import load_config

    logging.getLogger().setLevel(logging.ERROR)

    async def run() -> None:
        config = load_config(toml_path, SiteConfig)
        runner = web.AppRunner(create_gateway_app(config, null_cipher=null_cipher), access_log=None)
        await runner.setup()
        host, port = split_host_port(config.management.listen, "management.listen")
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()

    asyncio.run(run())


def _serve_kme(config_json: str) -> None:
    from qkd.kms.config import KmeConfig
    from qkd.kms.server import start_kme

    async def run() -> None:
        await start_kme(KmeConfig.model_validate_json(config_json))
        await asyncio.Event().wait()

    asyncio.run(run())


class Lab:
    """A PKI, a KME process, composite keys, and the site TOMLs for a pair of gateways."""

    def __init__(self, tmp: Path) -> None:
        from pqc.keys import write_keypair
        from pqc.signatures import CompositeMLDSA65Ed25519PrivateKey
        from qkd.kms.pki import make_pki
        from qkd.kms.testing import single_node_config

        self.tmp = tmp
        self.pki = make_pki(tmp / "pki", kmes=["KME_A"], saes=["SAE_A", "SAE_B"])
        self.kme_port = free_port()
        kme_config = single_node_config(tmp, self.pki, saes=["SAE_A", "SAE_B"], prefill_bits=1 << 22,
                                        port=self.kme_port)
        self.kme = multiprocessing.Process(target=_serve_kme, args=(kme_config.model_dump_json(),), daemon=True)
        self.kme.start()
        self.keys = {}
        for site in ("a", "b"):
            private, public = write_keypair(CompositeMLDSA65Ed25519PrivateKey.generate(), tmp / f"{site}.key")
            self.keys[site] = (str(private), str(public))
        self.procs: list[multiprocessing.Process] = []

    @property
    def kme_url(self) -> str:
        return f"https://127.0.0.1:{self.kme_port}"

    def kme_section(self, sae: str) -> str:
        return (f'[kme]\nurl = "{self.kme_url}"\nsae_id = "{sae}"\nca_file = "{self.pki.ca}"\n'
                f'cert_file = "{self.pki.cert(sae)}"\nkey_file = "{self.pki.key(sae)}"\n')

    def start_pair(self, target: str, rekey_interval_s: float, null_cipher: bool,
                   peer_extra: dict[str, str] | None = None) -> dict[str, int]:
        """Gateways of site-a (dials) and site-b; ``peer_extra[side]`` is TOML added to that site's peer
        (a data plane: ``kind = …`` and its table)."""
        ports = {k: free_port() for k in ("tunnel", "fa", "ma", "mb")}
        extra = peer_extra or {}
        rekey = f"[rekey]\ninterval_s = {rekey_interval_s}\nhard_limit_s = {rekey_interval_s * 10 + 60}\n"
        a = (f'site_id = "site-a"\n[management]\nlisten = "127.0.0.1:{ports["ma"]}"\n'
             f'[identity]\nsigning_key = "{self.keys["a"][0]}"\n{self.kme_section("SAE_A")}{rekey}'
             f'[[peers]]\nname = "site-b"\nsae_id = "SAE_B"\nconnect = "127.0.0.1:{ports["tunnel"]}"\n'
             f'public_key = "{self.keys["b"][1]}"\n{extra.get("a", "")}'
             f'[[forward]]\nlisten = "127.0.0.1:{ports["fa"]}"\npeer = "site-b"\ntarget = "{target}"\n')
        b = (f'site_id = "site-b"\n[tunnel]\nlisten = "127.0.0.1:{ports["tunnel"]}"\n'
             f'[management]\nlisten = "127.0.0.1:{ports["mb"]}"\n'
             f'[identity]\nsigning_key = "{self.keys["b"][0]}"\n{self.kme_section("SAE_B")}{rekey}'
             f'[[peers]]\nname = "site-a"\nsae_id = "SAE_A"\npublic_key = "{self.keys["a"][1]}"\n'
             f'{extra.get("b", "")}'
             f'[[reverse]]\npeer = "site-a"\ntarget = "{target}"\n')
        for name, text in (("a", a), ("b", b)):
            (self.tmp / f"site-{name}-{ports['ma']}.toml").write_text(text)
        for name in ("b", "a"):
            path = self.tmp / f"site-{name}-{ports['ma']}.toml"
            proc = multiprocessing.Process(target=_serve_gateway, args=(str(path), null_cipher), daemon=True)
            proc.start()
            self.procs.append(proc)
        return ports

    def stop_gateways(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.join(5)
        self.procs.clear()

    def close(self) -> None:
        self.stop_gateways()
        self.kme.terminate()
        self.kme.join(5)


async def status(port: int) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/status") as r:
        return await r.json()


async def wait_up(ports: dict[str, int], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            st = await status(ports["ma"])
            if st["peers"]["site-b"]["connected"]:
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("gateways did not come up")


# -- 2. bulk throughput and 4. stalls: a counting sink at site B, senders at site A --------------------------
class Sink:
    """Counts bytes per connection and records the longest gap between reads (seconds)."""

    def __init__(self) -> None:
        self.received = 0
        self.max_gap = 0.0
        self.done = asyncio.Event()
        self.expected = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        last = None
        try:
            while True:
                data = await reader.read(1 << 18)
                now = time.perf_counter()
                if not data:
                    break
                if last is not None:
                    self.max_gap = max(self.max_gap, now - last)
                last = now
                self.received += len(data)
                if self.received >= self.expected:
                    self.done.set()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


async def send_bulk(port: int, streams: int, per_stream: int, sink: Sink) -> float:
    """MB/s of ``streams`` connections of ``per_stream`` bytes each, from first write to last byte in."""
    sink.received, sink.max_gap, sink.expected = 0, 0.0, streams * per_stream
    sink.done.clear()
    payload = os.urandom(CHUNK)
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(streams)]

    async def pump(writer: asyncio.StreamWriter) -> None:
        for _ in range(per_stream // CHUNK):
            writer.write(payload)
            await writer.drain()

    start = time.perf_counter()
    await asyncio.gather(*[pump(w) for _, w in conns])
    await sink.done.wait()
    elapsed = time.perf_counter() - start
    for _, w in conns:
        w.close()
    return sink.expected / elapsed / 1e6


async def bulk(lab: Lab, total: int, rounds: int) -> dict[str, list[float]]:
    """Tunnel and plain relay up at the same time; measured alternately so machine noise hits both."""
    sink_t, sink_p = Sink(), Sink()
    target_t, target_p = await sink_t.start(), await sink_p.start()
    tunnel = lab.start_pair(target_t, 120.0, null_cipher=False)
    plain = lab.start_pair(target_p, 120.0, null_cipher=True)
    out: dict[str, list[float]] = {"tunnel_single": [], "plain_single": [], "tunnel_multi16": [],
                                   "plain_multi16": []}
    try:
        await wait_up(tunnel)
        await wait_up(plain)
        await send_bulk(tunnel["fa"], 1, total // 4, sink_t)  # warm up
        await send_bulk(plain["fa"], 1, total // 4, sink_p)
        for _ in range(rounds):
            out["plain_single"].append(await send_bulk(plain["fa"], 1, total, sink_p))
            out["tunnel_single"].append(await send_bulk(tunnel["fa"], 1, total, sink_t))
            out["plain_multi16"].append(await send_bulk(plain["fa"], 16, total // 16, sink_p))
            out["tunnel_multi16"].append(await send_bulk(tunnel["fa"], 16, total // 16, sink_t))
        return out
    finally:
        _stop(lab, sink_t, sink_p)


def _stop(lab: Lab, *sinks: Sink) -> None:
    """Stop the lab's gateways and close the sinks' servers."""
    lab.stop_gateways()
    for sink in sinks:
        assert sink.server is not None
        sink.server.close()


async def _flow_gap(ports: dict[str, int], sink: Sink, seconds: float) -> tuple[float, int]:
    """Longest read gap (s) at the sink of one stream written at full speed for ``seconds``, and the
    rekeys the session did meanwhile."""
    before = (await status(ports["ma"]))["peers"]["site-b"]["session"]["rekeys"]
    _, writer = await asyncio.open_connection("127.0.0.1", ports["fa"])
    payload = os.urandom(CHUNK)
    sink.received, sink.max_gap, sink.expected = 0, 0.0, 1 << 62
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        writer.write(payload)
        await writer.drain()
    after = (await status(ports["ma"]))["peers"]["site-b"]["session"]["rekeys"]
    writer.close()
    await asyncio.sleep(0.2)   # let the tail drain so it does not count in the next flow
    return sink.max_gap, after - before


async def stall(lab: Lab, rekey_interval_s: float, seconds: float, rounds: int) -> dict[str, list[float]]:
    """Longest read gap of a full-speed stream with rekeys every ``rekey_interval_s`` and without rekeys;
    both pairs up together and measured alternately (``rounds`` flows of ``seconds`` each), so machine
    noise hits both alike. Returns the per-flow gaps (ms) and rekey counts."""
    sink_r, sink_n = Sink(), Sink()
    target_r, target_n = await sink_r.start(), await sink_n.start()
    rekeying = lab.start_pair(target_r, rekey_interval_s, null_cipher=False)
    steady = lab.start_pair(target_n, 600.0, null_cipher=False)
    out: dict[str, list[float]] = {"rekey_gap_ms": [], "steady_gap_ms": [], "rekeys": []}
    try:
        await wait_up(rekeying)
        await wait_up(steady)
        await send_bulk(rekeying["fa"], 1, 16 << 20, sink_r)  # warm up
        await send_bulk(steady["fa"], 1, 16 << 20, sink_n)
        for _ in range(rounds):
            gap, rekeys = await _flow_gap(rekeying, sink_r, seconds)
            out["rekey_gap_ms"].append(round(gap * 1e3, 2))
            out["rekeys"].append(rekeys)
            gap, _ = await _flow_gap(steady, sink_n, seconds)
            out["steady_gap_ms"].append(round(gap * 1e3, 2))
        return out
    finally:
        _stop(lab, sink_r, sink_n)


# -- 3. handshakes ----------------------------------------------------------------------------------------------
async def handshakes(lab: Lab, count: int, qkd: str, concurrency: int) -> tuple[list[float], float, float]:
    """``count`` full handshakes, both sides driven in this one process (one core), ``concurrency`` in
    flight. Returns (latencies in s, handshakes per wall second, handshakes per CPU second of this process)."""
    from gateway.config import KmeConfig as GwKme
    from gateway.handshake import HandshakeContext, InitiatorHandshake, PeerTrust, ReplayGuard, ResponderHandshake
    from gateway.keysource import QkdKeySource
    from gateway.primitives import load_public_key, load_signing_key

    def ctx(me: str, peer: str, sae: str, peer_sae: str) -> HandshakeContext:
        source = QkdKeySource(GwKme(url=lab.kme_url, sae_id=sae, ca_file=str(lab.pki.ca),
                                    cert_file=str(lab.pki.cert(sae)), key_file=str(lab.pki.key(sae))))
        trust = PeerTrust(name=peer, sae_id=peer_sae, auth="signature",
                          public_key=load_public_key(lab.keys[peer[-1]][1], "pub"), psk=None, qkd=qkd,
                          min_mode="pqc-only")
        return HandshakeContext(site_id=me, signing_key=load_signing_key(lab.keys[me[-1]][0], "key"),
                                kme_sae_id=sae, keysource=source, aead="aes-256-gcm", peers={peer: trust},
                                replay=ReplayGuard(240), max_clock_skew_s=120)

    a, b = ctx("site-a", "site-b", "SAE_A", "SAE_B"), ctx("site-b", "site-a", "SAE_B", "SAE_A")
    expected_mode = "hybrid-qkd" if qkd != "off" else "pqc-only"

    async def one() -> float:
        start = time.perf_counter()
        init = InitiatorHandshake(a, "site-b")
        resp = ResponderHandshake(b)
        msg2 = await resp.respond(await init.first_message())
        msg3 = await init.answer(msg2)           # the QKD key is drawn here, after the responder is verified
        keys_b = await resp.complete(msg3)       # the key_ID is redeemed here, after the initiator is verified
        assert resp.result_message is not None
        keys_a = init.conclude(resp.result_message)
        elapsed = time.perf_counter() - start
        assert keys_a.send_key == keys_b.recv_key and keys_a.mode == expected_mode
        keys_a.wipe()
        keys_b.wipe()
        return elapsed

    for _ in range(5):  # warm up: TLS connections to the KME, imports
        await one()
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def limited() -> None:
        async with semaphore:
            latencies.append(await one())

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*[limited() for _ in range(count)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for c in (a, b):
        assert c.keysource is not None
        await c.keysource.close()
    return latencies, count / wall, count / cpu


def cookie_retries(count: int) -> float:
    """The responder's answer to a ClientHello under load without a cookie (parse, cookie check, Retry):
    answers per CPU-second (issue 15: what the cookie path costs next to a handshake)."""
    import secrets as _secrets

    from gateway.admission import HandshakeAdmission
    from gateway.config import TunnelConfig
    from gateway.handshake import CH_COOKIE, CH_INITIATOR, MSG_CLIENT_HELLO, encode_retry, parse_client_hello
    from gateway.metrics import GatewayMetrics
    from gateway.wire import REC_HANDSHAKE, encode_message, encode_record

    admission = HandshakeAdmission(TunnelConfig(cookie_threshold=1), GatewayMetrics())
    hello = encode_message(MSG_CLIENT_HELLO, {1: b"site-a", 2: b"site-b", 3: _secrets.token_bytes(32),
                                              4: bytes(8), 5: _secrets.token_bytes(1216), 6: b"{}" * 150})
    cpu = time.process_time()
    for _ in range(count):
        fields = parse_client_hello(hello)
        if not admission.cookie_valid("127.0.0.1", fields[CH_INITIATOR], fields.get(CH_COOKIE)):
            encode_record(REC_HANDSHAKE, encode_retry(admission.cookie("127.0.0.1", fields[CH_INITIATOR])))
    return count / (time.process_time() - cpu)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


async def run(quick: bool, only: str = "all", dp: dict[str, Any] | None = None) -> list[BenchResult]:
    """Every section (``only = "all"``), the TCP tunnel's alone (``"tunnel"``), or the data planes'
    (``"dataplane"``, ``"wireguard"``, ``"ipsec"``; ``dp``: their rotation and run lengths)."""
    results: list[BenchResult] = []
    load_start = os.getloadavg()[0]
    tunnel = only in ("all", "tunnel")
    if tunnel:
        transport_total = (64 if quick else 512) << 20
        tcp_runs, ws_runs = [], []
        for _ in range(5):  # interleaved, so that machine noise hits both alike
            tcp_runs.append(await tcp_records(transport_total))
            ws_runs.append(await websocket_messages(transport_total))
        results.append(BenchResult("transport: raw TCP records (chosen)", statistics.median(tcp_runs), "MB/s",
                                   "aiohttp WebSocket binary messages", statistics.median(ws_runs),
                                   {"bytes": transport_total, "payload": CHUNK, "median_of": 5,
                                    "tcp_runs": [round(x) for x in tcp_runs], "ws_runs": [round(x) for x in ws_runs]}))
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(Path(tmp))
        try:
            await asyncio.sleep(1.5)  # KME process start-up
            if tunnel:
                total = (32 if quick else 128) << 20
                rounds = 3 if quick else 5
                runs = await bulk(lab, total, rounds)
                params = {"bytes_per_run": total, "median_of": rounds, "aead": "AES-256-GCM", "mode": "hybrid-qkd",
                          "processes": "2 gateway processes per pair (tunnel and relay pairs up together, measured "
                                       "alternately) + 1 load process",
                          "runs_MBps": {k: [round(x, 1) for x in v] for k, v in runs.items()}}
                results.append(BenchResult("tunnel throughput, 1 stream", statistics.median(runs["tunnel_single"]),
                                           "MB/s", "plain relay, same stack, no crypto (1 stream)",
                                           statistics.median(runs["plain_single"]), params))
                results.append(BenchResult("tunnel throughput, 16 streams", statistics.median(runs["tunnel_multi16"]),
                                           "MB/s", "plain relay, same stack, no crypto (16 streams)",
                                           statistics.median(runs["plain_multi16"]), params))
                count = 60 if quick else 400
                seq_lat, seq_rate, _ = await handshakes(lab, count // 2, "preferred", 1)
                pqc_lat, _, _ = await handshakes(lab, count // 2, "off", 1)
                _, par_rate, cpu_rate = await handshakes(lab, count, "preferred", 8)
                hs_params = {"handshakes": count, "both_sides_in_one_process": True, "in_flight": 8,
                             "kme": "separate process on loopback, mutual TLS, enc_keys + dec_keys",
                             "wall_clock_rate_per_s": round(par_rate, 1), "sequential_rate_per_s": round(seq_rate, 1),
                             "note": "value = handshakes per CPU-second of the one process running both sides "
                                     "(one core's capacity); the wall-clock rate also pays for other load on the box"}
                results.append(BenchResult("hybrid handshakes per CPU-second, both sides on one core", cpu_rate,
                                           "handshakes/s", "issue bar: 100 handshakes/s", 100.0, hs_params))
                retries = 20_000 if quick else 100_000
                results.append(BenchResult("cookie Retry answers per CPU-second (responder under load)",
                                           cookie_retries(retries), "answers/s",
                                           "hybrid handshakes per CPU-second, both sides on one core", cpu_rate,
                                           {"answers": retries, "note": "parse ClientHello + cookie check + HMAC "
                                            "cookie + Retry record: what a stranger costs under load"}))
                lat_params = {"handshakes": count // 2, "in_flight": 1, "both_sides_in_one_process": True}
                results.append(BenchResult("hybrid handshake median latency", statistics.median(seq_lat) * 1e3, "ms",
                                           "pqc-only handshake median latency (no KME)",
                                           statistics.median(pqc_lat) * 1e3, lat_params))
                results.append(BenchResult("hybrid handshake p99 latency", _p99(seq_lat) * 1e3, "ms",
                                           "pqc-only handshake p99 latency (no KME)", _p99(pqc_lat) * 1e3, lat_params))
                seconds, stall_rounds = (1.5, 3) if quick else (2.0, 5)
                gaps = await stall(lab, 0.3, seconds, stall_rounds)
                results.append(BenchResult(
                    "longest stream stall with rekeys every 0.3 s (median over flows)",
                    statistics.median(gaps["rekey_gap_ms"]), "ms",
                    "longest stall of the same flow without rekeys (median over flows)",
                    statistics.median(gaps["steady_gap_ms"]),
                    {"seconds_per_flow": seconds, "flows_each": stall_rounds, "bar_ms": 50,
                     "worst_rekey_gap_ms": max(gaps["rekey_gap_ms"]), "worst_steady_gap_ms": max(gaps["steady_gap_ms"]),
                     **gaps}))
            dp = {**dataplane_defaults(quick), **(dp or {})}
            if only in ("all", "dataplane", "wireguard"):
                results += await wireguard_rows(lab, Path(tmp), **dp)
            if only in ("all", "dataplane", "ipsec"):
                results += await ipsec_rows(lab, Path(tmp), **dp)
        finally:
            lab.close()
    load = {"loadavg_1m_start": round(load_start, 2), "loadavg_1m_end": round(os.getloadavg()[0], 2),
            "note": "1-minute load average of the (shared, 2-core) machine: other jobs ran alongside"}
    for r in results:
        r.params["machine_load"] = load
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI smoke runs")
    parser.add_argument("--only", choices=("all", "tunnel", "dataplane", "wireguard", "ipsec"), default="all",
                        help="run these sections only (the other figures in the results file are kept)")
    parser.add_argument("--rotations", type=int, help="data planes: key rotations in the loss run (100)")
    parser.add_argument("--rotate-every-s", type=float, help="data planes: rotation interval during the "
                                                             "throughput runs (10 s)")
    parser.add_argument("--loss-every-s", type=float, help="data planes: rotation interval of the loss run (10 s)")
    parser.add_argument("--iperf-seconds", type=float, help="data planes: length of one iperf3 run (30 s)")
    args = parser.parse_args()
    given = {"rotations": args.rotations, "rotate_every_s": args.rotate_every_s, "loss_every_s": args.loss_every_s,
             "seconds": args.iperf_seconds}
    results = asyncio.run(run(args.quick, args.only, {k: v for k, v in given.items() if v is not None}))
    # replace this run's figures only: a section not run (or skipped: no root, tools missing) keeps its own
    prefixes = tuple(r.name for r in results if not r.name.startswith(("wireguard:", "ipsec:")))
    prefixes += tuple(p for p in ("wireguard:", "ipsec:") if any(r.name.startswith(p) for r in results))
    write_results("gateway", results, replace_prefixes=prefixes)


if __name__ == "__main__":
    main()
