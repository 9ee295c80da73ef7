"""Helpers of the gateway tests: a real KME, site configs, gateways on loopback, a checking TCP service."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.config import SiteConfig
from gateway.service import GatewayService, create_gateway_app, service_of

SAE_A, SAE_B = "SAE_A", "SAE_B"


async def _write_random(writer: asyncio.StreamWriter, rng: random.Random, size: int, digest: Any,
                        pause_s: float = 0.0) -> None:
    """Write ``size`` bytes of ``rng`` in 64 KiB blocks, each hashed into ``digest`` and drained;
    ``pause_s`` is spread over the blocks."""
    blocks = max(1, size // (1 << 16))
    left = size
    while left:
        block = rng.randbytes(min(left, 1 << 16))
        digest.update(block)
        writer.write(block)
        left -= len(block)
        await writer.drain()
        if pause_s:
            await asyncio.sleep(pause_s / blocks)


# -- the service at the far end: checks what arrives, sends back random bytes and their digest ----------
async def sha_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Protocol: client sends u64 reply size L, then any bytes, then half-closes. We answer
    SHA-256(upload) || L random bytes || SHA-256(those bytes), then close."""
    try:
        (reply,) = struct.unpack(">Q", await reader.readexactly(8))
        digest = hashlib.sha256()
        while chunk := await reader.read(1 << 16):
            digest.update(chunk)
        writer.write(digest.digest())
        out = hashlib.sha256()
        await _write_random(writer, random.Random(reply), reply, out)
        writer.write(out.digest())
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def start_sha_service() -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(sha_service, "127.0.0.1", 0)
    return server, f"127.0.0.1:{server.sockets[0].getsockname()[1]}"


@dataclass
class Transfer:
    up: int
    down: int
    ok: bool
    detail: str = ""


async def transfer(port: int, up: int, down: int, *, pause_s: float = 0.0) -> Transfer:
    """Send ``up`` random bytes through the forward listener at ``port`` and ask for ``down`` back;
    check both digests. ``pause_s`` spreads the upload over time (to span rekeys)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = hashlib.sha256()
    try:
        writer.write(struct.pack(">Q", down))
        await _write_random(writer, random.Random(secrets.randbits(64)), up, sent, pause_s)
        writer.write_eof()
        data = await reader.read()
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        return Transfer(up, down, False, f"connection: {exc!r}")
    finally:
        writer.close()
    if len(data) != 32 + down + 32:
        return Transfer(up, down, False, f"got {len(data)} bytes, expected {down + 64}")
    if data[:32] != sent.digest():
        return Transfer(up, down, False, "upload digest differs")
    if hashlib.sha256(data[32:-32]).digest() != data[-32:]:
        return Transfer(up, down, False, "download digest differs")
    return Transfer(up, down, True)


# -- sites -----------------------------------------------------------------------------------------------
def write_psk(path: Path) -> str:
    path.write_text(secrets.token_hex(32))
    path.chmod(0o600)
    return str(path)


def make_identities(tmp: Path) -> dict[str, str]:
    """Composite (ML-DSA-65 + Ed25519) key pairs for site-a and site-b, written as ``qshift pqc keygen`` does."""
    from pqc import CompositeMLDSA65Ed25519PrivateKey, write_keypair

    out: dict[str, str] = {}
    for site in ("a", "b"):
        private, public = write_keypair(CompositeMLDSA65Ed25519PrivateKey.generate(), tmp / f"site-{site}.key")
        out[f"{site}_key"], out[f"{site}_pub"] = str(private), str(public)
    return out


def site_dicts(tmp: Path, pki: Any, kme_url: str, *, b_tunnel_port: int, sha_target: str,
               auth: str = "signature", qkd_a: str = "preferred", qkd_b: str = "preferred",
               min_mode_a: str = "pqc-only", min_mode_b: str = "pqc-only", keys: dict[str, str] | None = None,
               rekey: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
               forward_a_port: int = 0, forward_b_port: int = 0, mgmt_a_port: int = 0,
               mgmt_b_port: int = 0, a_connect_port: int | None = None,
               tunnel_extra: dict[str, Any] | None = None, kme_url_b: str | None = None,
               kme_timeout_s: float = 2.0, key_path: dict[str, Any] | None = None
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Config mappings for site-a (dials) and site-b (listens), forwarding both ways to ``sha_target``.
    Both sites use the KME at ``kme_url`` unless site-b has its own (``kme_url_b``)."""
    psk = write_psk(tmp / "a-b.psk") if auth == "psk" else None

    def kme(sae: str) -> dict[str, Any]:
        url = kme_url_b if sae == SAE_B and kme_url_b else kme_url
        return {"url": url, "sae_id": sae, "ca_file": str(pki.ca), "cert_file": str(pki.cert(sae)),
                "key_file": str(pki.key(sae)), "timeout_s": kme_timeout_s}

    def peer(name: str, sae: str, qkd: str, min_mode: str, other_pub: str | None,
             connect: str | None = None) -> dict[str, Any]:
        p: dict[str, Any] = {"name": name, "sae_id": sae, "auth": auth, "qkd": qkd, "min_mode": min_mode}
        if connect:
            p["connect"] = connect
        if auth == "psk":
            p["psk_file"] = psk
        else:
            p["public_key"] = other_pub
        return p

    if auth == "signature" and keys is None:
        keys = make_identities(tmp)
    keys = keys or {}
    extra = {"rekey": rekey or {}, "data": data or {}, "key_path": key_path or {},
             "tunnel": {"handshake_timeout_s": 5.0, "redial_interval_s": 0.2, **(tunnel_extra or {})}}
    a = {"site_id": "site-a", "management": {"listen": f"127.0.0.1:{mgmt_a_port}"}, "kme": kme(SAE_A),
         "peers": [peer("site-b", SAE_B, qkd_a, min_mode_a, keys.get("b_pub"),
                        connect=f"127.0.0.1:{a_connect_port or b_tunnel_port}")],
         "forward": [{"listen": f"127.0.0.1:{forward_a_port}", "peer": "site-b", "target": sha_target}],
         "reverse": [{"peer": "site-b", "target": sha_target}], **extra}
    a["tunnel"] = dict(a["tunnel"])
    b = {"site_id": "site-b", "management": {"listen": f"127.0.0.1:{mgmt_b_port}"}, "kme": kme(SAE_B),
         "peers": [peer("site-a", SAE_A, qkd_b, min_mode_b, keys.get("a_pub"))],
         "forward": [{"listen": f"127.0.0.1:{forward_b_port}", "peer": "site-a", "target": sha_target}],
         "reverse": [{"peer": "site-a", "target": sha_target}], **extra}
    b["tunnel"] = {**extra["tunnel"], "listen": f"127.0.0.1:{b_tunnel_port}"}
    if auth == "signature":
        a["identity"] = {"signing_key": keys["a_key"]}
        b["identity"] = {"signing_key": keys["b_key"]}
    return a, b


@dataclass
class RunningGateway:
    runner: web.AppRunner
    app: web.Application
    mgmt_port: int

    @property
    def service(self) -> GatewayService:
        return service_of(self.app)

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_gateway(config: dict[str, Any] | SiteConfig, **kw: Any) -> RunningGateway:
    cfg = config if isinstance(config, SiteConfig) else SiteConfig.model_validate(config)
    app = create_gateway_app(cfg, **kw)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, _, port = cfg.management.listen.rpartition(":")
    site = web.TCPSite(runner, host, int(port))
    await site.start()
    return RunningGateway(runner, app, runner.addresses[0][1])


def metric(gw: Any, name: str, **labels: str) -> float:
    """A gateway's Prometheus sample ``name{labels}`` (0 when absent)."""
    return gw.service.metrics.registry.get_sample_value(name, labels) or 0.0


async def wait_for(predicate: Any, timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


async def http_json(port: int, path: str) -> Any:
    """GET a management endpoint over real HTTP."""
    return json.loads(await http_text(port, path))


async def http_text(port: int, path: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as resp:
        assert resp.status == 200, resp.status
        return await resp.text()


@dataclass
class Pair:
    a: RunningGateway
    b: RunningGateway
    proxy: Any = None

    @property
    def fa(self) -> int:
        """Port of site-a's forward listener (streams a -> b)."""
        return self.a.service.forward_addresses[0][1]

    @property
    def fb(self) -> int:
        """Port of site-b's forward listener (streams b -> a)."""
        return self.b.service.forward_addresses[0][1]

    def session_a(self) -> Any:
        return self.a.service.sessions.get("site-b")

    def session_b(self) -> Any:
        return self.b.service.sessions.get("site-a")

    async def up(self, timeout_s: float = 10.0) -> None:
        await wait_for(lambda: self.session_a() is not None and self.session_b() is not None, timeout_s,
                       "sessions on both sides")

    async def stop(self) -> None:
        await self.a.stop()
        await self.b.stop()
        if self.proxy is not None:
            await self.proxy.stop()


async def start_pair(tmp: Path, pki: Any, kme_url: str, sha_target: str, *, mutate: Any = None,
                     wait: bool = True, before_a: Any = None, **kw: Any) -> Pair:
    """site-b listening, site-a dialing it (through an intercepting proxy when ``mutate`` is given)."""
    from qkd.kms.testing import free_port
    from tests.gateway.proxy import InterceptingProxy

    port = free_port()
    proxy = None
    if mutate is not None:
        proxy = InterceptingProxy(port, None if mutate is True else mutate)
        kw["a_connect_port"] = await proxy.start()
    a, b = site_dicts(tmp, pki, kme_url, b_tunnel_port=port, sha_target=sha_target, **kw)
    gb = await start_gateway(b)
    if before_a is not None:
        before_a(gb)
    ga = await start_gateway(a)
    pair = Pair(ga, gb, proxy)
    if wait:
        await pair.up()
    return pair


# -- gateways as real processes (``qshift gateway serve site.toml``) ---------------------------------------
QSHIFT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "qshift"


class GatewayProcess:
    """``qshift --log-level debug gateway serve <toml>`` in a subprocess, its log in a file."""

    def __init__(self, toml_path: Path, mgmt_port: int, log_path: Path) -> None:
        self.toml_path = toml_path
        self.mgmt_port = mgmt_port
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout_s: float = 20.0) -> None:
        import sys

        exe = str(QSHIFT) if QSHIFT.exists() else sys.executable
        args = [] if QSHIFT.exists() else ["-m", "qshift.cli"]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = await asyncio.create_subprocess_exec(
            exe, *args, "--log-level", "debug", "--log-format", "json", "gateway", "serve", str(self.toml_path),
            stdout=asyncio.subprocess.DEVNULL, stderr=self._log)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            if self.proc.returncode is not None:
                raise AssertionError(f"gateway exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                await http_text(self.mgmt_port, "/healthz")
                return
            except (aiohttp.ClientError, AssertionError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def status(self) -> Any:
        return await http_json(self.mgmt_port, "/status")

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._log.close()
        return self.proc.returncode or 0


class Kme:
    """A KME on a fixed loopback port that a test can kill and restart (same store, same port)."""

    def __init__(self, tmp_path: Path, pki: Any, prefill_bits: int) -> None:
        from qkd.kms.testing import free_port, single_node_config

        self.config = single_node_config(tmp_path, pki, saes=[SAE_A, SAE_B], prefill_bits=prefill_bits,
                                         port=free_port())
        self.running = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.config.node.listen_port}"

    async def start(self) -> None:
        from qkd.kms.server import start_kme

        self.running = await start_kme(self.config)

    async def kill(self) -> None:
        await self.running.stop()
        self.running = None


class Chain:
    """Three real KMEs on loopback, ``KME_A - KME_T - KME_B`` (keys for SAE_B relayed through the trusted
    node T), each startable and killable on its own fixed port with its own store."""

    NODES = ("KME_A", "KME_T", "KME_B")

    def __init__(self, tmp_path: Path, pki: Any, *, prefill_bits: int = 1 << 16,
                 relay_timeout_a_s: float | None = None) -> None:
        from qkd.kms.testing import chain_node_config, chain_topology, free_port

        self.ports = {n: free_port() for n in self.NODES}
        topo = chain_topology(list(self.NODES), self.ports, {SAE_A: "KME_A", SAE_B: "KME_B"})
        self.configs = {n: chain_node_config(tmp_path / n, pki, n, topo, self.ports, prefill_bits=prefill_bits)
                        for n in self.NODES}
        if relay_timeout_a_s is not None:
            self.configs["KME_A"].limits.relay_timeout_s = relay_timeout_a_s
        self.running: dict[str, Any] = {}

    def url(self, node: str) -> str:
        return f"https://127.0.0.1:{self.ports[node]}"

    async def start(self, node: str) -> None:
        from qkd.kms.server import start_kme

        self.running[node] = await start_kme(self.configs[node])

    async def kill(self, node: str) -> None:
        await self.running.pop(node).stop()

    async def stop(self) -> None:
        for node in list(self.running):
            await self.kill(node)
