"""Fallback in seconds, whatever the rekey interval: the key-path watcher (gateway/keypath.py).

Real KMEs on loopback (``KME_A - KME_T - KME_B``, keys for SAE_B relayed through T), real gateways at
site A (dials, draws the keys from KME_A) and site B (redeems them at KME_B), the rekey timing of the
README's example configs (every 120 s), streams running through every fault. What a test reads is what
an operator reads: ``/status`` and ``/metrics`` over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from qkd.kms.pki import make_pki
from tests.gateway.harness import (
    SAE_A,
    SAE_B,
    Chain,
    Pair,
    http_json,
    http_text,
    metric,
    start_pair,
    transfer,
    wait_for,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
#: The README's "two sites in five minutes" timing: rekey every 120 s, keys refused after 180 s.
EXAMPLE_REKEY = tomllib.loads((EXAMPLES / "gateway-site-a.toml").read_text())["rekey"]
BOUND_S = 3.0


@pytest.fixture(scope="module")
def chain_pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("key-path-pki"), kmes=list(Chain.NODES), saes=[SAE_A, SAE_B, "admin"])


@pytest.fixture
async def chain(tmp_path, chain_pki):
    c = Chain(tmp_path, chain_pki, prefill_bits=1 << 18)
    for node in Chain.NODES:
        await c.start(node)
    yield c
    await c.stop()


@contextlib.asynccontextmanager
async def _pair(tmp_path, chain_pki, chain, sha_target, **kw: Any) -> AsyncIterator[Pair]:
    """Two gateways keyed through the chain at the README's rekey timing, hybrid-qkd; stopped on leaving."""
    assert EXAMPLE_REKEY["interval_s"] == 120.0
    pair = await start_pair(tmp_path, chain_pki, chain.url("KME_A"), sha_target, kme_url_b=chain.url("KME_B"),
                            rekey=EXAMPLE_REKEY, **kw)
    try:
        assert pair.session_a().keys.mode == pair.session_b().keys.mode == "hybrid-qkd"
        yield pair
    finally:
        await pair.stop()


async def _peer_status(pair: Pair, side: str) -> dict[str, Any]:
    gw, peer = (pair.a, "site-b") if side == "a" else (pair.b, "site-a")
    return (await http_json(gw.mgmt_port, "/status"))["peers"][peer]


async def _until(pair: Pair, check, what: str, bound_s: float = BOUND_S,
                 since: float | None = None) -> tuple[float, dict[str, Any]]:
    """Poll both gateways' ``/status`` over HTTP until ``check(status_a, status_b)``; return the time
    elapsed since ``since`` (``time.monotonic()`` taken just before the fault or the fix; default now)
    and site A's status. Fails past ``bound_s``."""
    started = time.monotonic() if since is None else since
    while True:
        a, b = await _peer_status(pair, "a"), await _peer_status(pair, "b")
        elapsed = time.monotonic() - started
        if check(a, b):
            print(f"KEYPATH {what}: {elapsed:.3f} s")
            return elapsed, a
        assert elapsed <= bound_s, f"{what}: not within {bound_s} s; site-a {a} site-b {b}"
        await asyncio.sleep(0.05)


def _modes(mode: str):
    return lambda a, b: a["mode"] == mode and b["mode"] == mode


def _flows(pair: Pair, seconds: float) -> list[asyncio.Task]:
    return [asyncio.create_task(transfer(port, 1_000_000, 200_000, pause_s=seconds))
            for port in [pair.fa] * 4 + [pair.fb] * 4]


class _Traffic:
    """Streams through both gateways across a fault: :func:`_flows` for ``seconds``, started 0.3 s before it;
    :meth:`intact` checks that every one arrived whole over the sessions that carried them at the start."""

    def __init__(self, pair: Pair, seconds: float) -> None:
        self.pair = pair
        self.first = (pair.session_a(), pair.session_b())
        self.flows = _flows(pair, seconds)

    @classmethod
    async def start(cls, pair: Pair, seconds: float = 5.0) -> _Traffic:
        traffic = cls(pair, seconds)
        await asyncio.sleep(0.3)
        return traffic

    async def intact(self) -> None:
        results = await asyncio.gather(*self.flows)
        assert all(r.ok for r in results), [r for r in results if not r.ok]
        # The same sessions throughout: rekeys only, nothing torn down.
        assert (self.pair.session_a(), self.pair.session_b()) == self.first


async def test_killed_kme_a_means_pqc_only_within_3s_and_its_restart_hybrid_within_3s_at_rekey_120s(
        tmp_path, chain_pki, chain, sha_target, caplog):
    caplog.set_level(logging.INFO, logger="gateway")
    async with _pair(tmp_path, chain_pki, chain, sha_target) as pair:
        traffic = await _Traffic.start(pair)
        killed_at = time.time()
        t = time.monotonic()
        await chain.kill("KME_A")
        _, a = await _until(pair, lambda a, b: _modes("pqc-only")(a, b) and a["key_path"]["kme_reachable"] is False,
                            "kill KME_A -> pqc-only", since=t)
        path = a["key_path"]
        assert path["state"] == "bad" and path["stale"] is False
        assert path["last_probe_ok"] is False and path["last_probe_at"] >= killed_at
        assert path["last_error"]["cause"] == "kme_unreachable" and path["last_error"]["at"] >= killed_at
        assert a["session"]["fallback_cause"] == "kme_unreachable"
        assert a["last_transition"]["to"] == "pqc-only" and a["last_transition"]["cause"] == "kme_unreachable"
        text = await http_text(pair.a.mgmt_port, "/metrics")
        assert 'gateway_kme_reachable{peer="site-b"} 0.0' in text
        assert 'gateway_key_path_up{peer="site-b"} 0.0' in text
        assert 'gateway_fallback_transitions_total{peer="site-b",to="pqc-only"} 1.0' in text
        assert metric(pair.a, "gateway_key_path_errors_total", peer="site-b", cause="kme_unreachable",
                      source="probe") >= 1

        t = time.monotonic()
        await chain.start("KME_A")
        _, a = await _until(pair, lambda a, b: _modes("hybrid-qkd")(a, b) and a["key_path"]["kme_reachable"],
                            "restart KME_A -> hybrid-qkd", since=t)
        assert a["key_path"]["state"] == "good" and a["key_path"]["last_probe_ok"] is True
        assert a["last_transition"]["cause"] == "qkd_restored"
        assert a["key_path"]["last_error"]["cause"] == "kme_unreachable"     # kept: the last error and its time
        text = await http_text(pair.a.mgmt_port, "/metrics")
        assert 'gateway_kme_reachable{peer="site-b"} 1.0' in text
        assert 'gateway_fallback_transitions_total{peer="site-b",to="hybrid-qkd"} 1.0' in text
        await traffic.intact()
        assert pair.session_a().rekeys == 2      # one into pqc-only, one back: no storm
        events = [r for r in caplog.records if getattr(r, "event", "") == "gateway.key_path_bad"]
        assert any(r.levelno == logging.WARNING and r.cause == "kme_unreachable" for r in events)


async def test_alarmed_link_on_the_route_means_pqc_only_within_3s_and_clearing_it_hybrid_within_3s(
        tmp_path, chain_pki, chain, sha_target):
    async with _pair(tmp_path, chain_pki, chain, sha_target) as pair:
        traffic = await _Traffic.start(pair)
        t = time.monotonic()
        chain.running["KME_A"].service.set_link_alarm("KME_A-KME_T", True, qber=0.14)
        _, a = await _until(pair, _modes("pqc-only"), "alarm A-T -> pqc-only", since=t)
        assert a["key_path"]["kme_reachable"] is True and a["key_path"]["link_alarm"] is True
        assert a["key_path"]["qber"] == pytest.approx(0.14)
        assert a["key_path"]["last_error"]["cause"] == "link_alarm"
        assert a["session"]["fallback_cause"] == "link_alarm"
        assert (await _peer_status(pair, "b"))["session"]["fallback_cause"] == "link_alarm"

        t = time.monotonic()
        chain.running["KME_A"].service.set_link_alarm("KME_A-KME_T", False)
        _, a = await _until(pair, _modes("hybrid-qkd"), "clear alarm -> hybrid-qkd", since=t)
        assert a["key_path"]["link_alarm"] is False and a["key_path"]["state"] == "good"
        await traffic.intact()
        assert metric(pair.a, "gateway_fallback_transitions_total", peer="site-b", to="pqc-only") == 1
        assert metric(pair.a, "gateway_fallback_transitions_total", peer="site-b", to="hybrid-qkd") == 1
        # Site B only redeems: the route is site A's to judge, so B's watcher asked for nothing.
        assert metric(pair.b, "gateway_fallback_transitions_total", peer="site-a", to="pqc-only") == 0


class CuttablePath:
    """A plain TCP forwarder on a fixed loopback port: site B's network path to its KME, cut and mended."""

    def __init__(self, upstream_port: int) -> None:
        from qkd.kms.testing import free_port

        self.upstream_port = upstream_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def _on_client(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            cwriter.transport.abort()
            return
        self.writers += [cwriter, uwriter]
        await asyncio.gather(self._pipe(creader, uwriter), self._pipe(ureader, cwriter))

    async def mend(self) -> None:
        self.server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None


async def test_responder_site_losing_its_kme_means_pqc_only_within_3s_and_back_within_3s(
        tmp_path, chain_pki, chain, sha_target):
    """Site B only redeems key_IDs, and only it can see that its KME is gone (site A's relay to KME_B
    works): its watcher asks site A for the rekey (REKEY_REQUEST), and leads the return too, the cause
    (``peer_key_kme_unreachable``) being its own."""
    path = CuttablePath(chain.ports["KME_B"])
    await path.mend()
    pair = await start_pair(tmp_path, chain_pki, chain.url("KME_A"), sha_target, kme_url_b=path.url,
                            rekey=EXAMPLE_REKEY)
    try:
        assert pair.session_a().keys.mode == "hybrid-qkd"
        traffic = await _Traffic.start(pair)
        t = time.monotonic()
        await path.cut()
        await _until(pair, lambda a, b: _modes("pqc-only")(a, b) and b["key_path"]["kme_reachable"] is False,
                     "site B's KME cut off -> pqc-only", since=t)
        b = await _peer_status(pair, "b")
        assert b["session"]["fallback_cause"] == "peer_key_kme_unreachable"
        assert (await _peer_status(pair, "a"))["key_path"]["state"] == "good"   # site A's own path is fine

        t = time.monotonic()
        await path.mend()
        await _until(pair, _modes("hybrid-qkd"), "site B's KME back -> hybrid-qkd", since=t)
        await traffic.intact()
        assert metric(pair.b, "gateway_fallback_transitions_total", peer="site-a", to="pqc-only") == 1
        assert metric(pair.b, "gateway_fallback_transitions_total", peer="site-a", to="hybrid-qkd") == 1
        assert metric(pair.a, "gateway_fallback_transitions_total", peer="site-b", to="hybrid-qkd") == 0
    finally:
        await pair.stop()
        if path.server is not None:
            await path.cut()


async def test_killed_trusted_node_on_the_route_means_pqc_only_within_3s_and_its_restart_hybrid_within_3s(
        tmp_path, chain_pki, chain, sha_target):
    async with _pair(tmp_path, chain_pki, chain, sha_target) as pair:
        traffic = await _Traffic.start(pair)
        t = time.monotonic()
        await chain.kill("KME_T")
        _, a = await _until(pair, _modes("pqc-only"), "kill KME_T -> pqc-only", since=t)
        assert a["key_path"]["kme_reachable"] is True and a["session"]["fallback_cause"] == "relay_failed"
        t = time.monotonic()
        await chain.start("KME_T")
        await _until(pair, _modes("hybrid-qkd"), "restart KME_T -> hybrid-qkd", since=t)
        await traffic.intact()


async def test_required_policy_keeps_failing_closed_and_the_watcher_never_downgrades(
        tmp_path, chain_pki, chain, sha_target):
    async with _pair(tmp_path, chain_pki, chain, sha_target, qkd_a="required", qkd_b="required",
                     min_mode_a="hybrid-qkd", min_mode_b="hybrid-qkd") as pair:
        session = pair.session_a()
        t = time.monotonic()
        await chain.kill("KME_A")
        # /status is truthful about the key path at once ...
        await _until(pair, lambda a, b: a["key_path"]["kme_reachable"] is False, "required: KME_A seen down", since=t)
        await asyncio.sleep(1.5)
        a = await _peer_status(pair, "a")
        # ... but no pqc-only session is ever made: the QKD-keyed session runs on until its rekey ...
        assert a["mode"] == "hybrid-qkd" and a["key_path"]["state"] == "bad"
        assert metric(pair.a, "gateway_fallback_transitions_total", peer="site-b", to="pqc-only") == 0
        assert session.rekeys == 0
        # ... which fails closed.
        session.rekey_now()
        await wait_for(lambda: session.closed, 10, "session closed at the failed rekey")
        assert session.close_cause == "rekey_failed:qkd_required"
        await asyncio.sleep(1.0)
        assert pair.session_a() is None and pair.session_b() is None
        assert (await transfer(pair.fa, 1000, 1000)).ok is False
        assert metric(pair.a, "gateway_handshakes_total", peer="site-b", role="initiator", kind="handshake",
                      mode="pqc-only") == 0


async def test_a_flapping_alarm_costs_a_bounded_number_of_rekeys_and_loses_no_byte(
        tmp_path, chain_pki, chain, sha_target):
    burst, refill_s, flap_s = 3, 5.0, 8.0
    async with _pair(tmp_path, chain_pki, chain, sha_target,
                     key_path={"switch_burst": burst, "switch_refill_s": refill_s}) as pair:
        traffic = _Traffic(pair, flap_s + 4)
        service = chain.running["KME_A"].service
        end = time.monotonic() + flap_s
        alarm = False
        while time.monotonic() < end:
            alarm = not alarm
            service.set_link_alarm("KME_A-KME_T", alarm, qber=0.2 if alarm else None)
            await asyncio.sleep(1.2)
        service.set_link_alarm("KME_A-KME_T", False)
        switches = metric(pair.a, "gateway_fallback_transitions_total", peer="site-b", to="pqc-only") + \
            metric(pair.a, "gateway_fallback_transitions_total", peer="site-b", to="hybrid-qkd")
        assert 2 <= switches <= burst + flap_s / refill_s + 1, switches
        assert metric(pair.a, "gateway_fallback_deferred_total", peer="site-b") >= 1
        # Once the alarm stays clear, the session is back on hybrid keys (within one bucket refill).
        await _until(pair, _modes("hybrid-qkd"), "hybrid-qkd after the flapping", bound_s=refill_s + BOUND_S)
        await traffic.intact()


async def test_a_failing_watcher_is_logged_counted_and_restarted(tmp_path, chain_pki, chain, sha_target, caplog):
    caplog.set_level(logging.INFO, logger="gateway")
    async with _pair(tmp_path, chain_pki, chain, sha_target) as pair:
        keysource = pair.a.service.keysource
        real = keysource.route_status
        failures = {"left": 2}

        async def flaky(slave: str, timeout_s: float) -> Any:
            if failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("injected fault in the probe path")
            return await real(slave, timeout_s)

        try:
            keysource.route_status = flaky
            await wait_for(lambda: metric(pair.a, "gateway_key_path_watcher_restarts_total") >= 2, 5, "two restarts")
            crashes = [r for r in caplog.records if getattr(r, "event", "") == "gateway.key_path_watcher_failed"]
            assert len(crashes) == 2 and all(r.exc_info for r in crashes)
            status = await http_json(pair.a.mgmt_port, "/status")
            assert status["key_path_watcher"]["restarts"] == 2
            assert "injected fault" in status["key_path_watcher"]["last_crash"]["error"]
            # It carries on: a fault after the restarts is still seen within the bound.
            t = time.monotonic()
            await chain.kill("KME_A")
            await _until(pair, _modes("pqc-only"), "kill KME_A after watcher restarts -> pqc-only", since=t)
        finally:
            keysource.route_status = real
