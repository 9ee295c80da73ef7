"""The fallback cause is what the KME reported: a trusted relay node that fails is ``relay_failed`` (with
the failed hop), not ``kme_unreachable``. Three real KMEs on loopback (KME_A - KME_T - KME_B, keys for
SAE_B relayed through T), gateways at A and B; T is killed, then replaced by a listener that never
answers (the relay times out after the gateway's KME timeout), then restarted."""

from __future__ import annotations

import asyncio

import pytest

from gateway.keysource import classify
from qkd.kms.errors import KeyExhaustedError, KmeRefusedError, KmeUnavailableError, LinkAlarmError
from qkd.kms.pki import make_pki
from tests.gateway.harness import SAE_A, SAE_B, Chain, http_json, metric, start_pair, transfer, wait_for

NODES = list(Chain.NODES)


@pytest.fixture(scope="module")
def chain_pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("chain-pki"), kmes=NODES, saes=[SAE_A, SAE_B, "admin"])


@pytest.fixture
async def chain(tmp_path, chain_pki):
    # KME_A waits longer for T than the gateway waits for KME_A: the silent-relay case below.
    c = Chain(tmp_path, chain_pki, relay_timeout_a_s=4.0)
    for node in NODES:
        await c.start(node)
    yield c
    await c.stop()


class BlackHole:
    """Accepts TCP connections on a port and never sends a byte (a hung node)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await reader.read()

    async def __aenter__(self) -> BlackHole:
        self.server = await asyncio.start_server(self._hold, "127.0.0.1", self.port, reuse_address=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()
        await self.server.wait_closed()


async def test_trusted_node_failure_is_reported_as_relay_failed_with_the_hop_and_recovers(
        tmp_path, chain_pki, chain, sha_target):
    pair = await start_pair(tmp_path, chain_pki, chain.url("KME_A"), sha_target, kme_url_b=chain.url("KME_B"),
                            kme_timeout_s=1.0, rekey={"interval_s": 0.4, "hard_limit_s": 30.0})
    try:
        first_a, first_b = pair.session_a(), pair.session_b()
        assert first_a.keys.mode == first_b.keys.mode == "hybrid-qkd"
        flows = [asyncio.create_task(transfer(port, 600_000, 200_000, pause_s=3.0)) for port in [pair.fa, pair.fb] * 3]

        # 1. T is down: KME_A answers enc_keys with 503 relay_failed naming the hop.
        await chain.kill("KME_T")
        await wait_for(lambda: pair.session_a().keys.mode == "pqc-only", 10, "fallback when T dies")
        status = (await http_json(pair.a.mgmt_port, "/status"))["peers"]["site-b"]
        assert status["last_transition"]["cause"] == "relay_failed", status["last_transition"]
        assert "KME_A->KME_T" in status["last_transition"]["detail"]
        assert status["session"]["fallback_cause"] == "relay_failed"
        await wait_for(lambda: pair.session_b().keys.mode == "pqc-only", 5, "site-b follows")
        assert pair.session_b().keys.cause == "relay_failed"   # the cause travels in the signed offer

        # 2. T hangs: the gateway's enc_keys times out first; KME_A still answers status, so the key
        #    request failed beyond it, on the relay path - not "KME unreachable".
        async with BlackHole(chain.ports["KME_T"]):
            before = metric(pair.a, "gateway_qkd_fallbacks_total", peer="site-b", cause="relay_failed")
            await wait_for(lambda: "got no answer" in (pair.session_a().keys.cause_detail or ""), 15,
                           "a fallback explained by the status probe")
            assert pair.session_a().keys.cause == "relay_failed"
            assert metric(pair.a, "gateway_qkd_fallbacks_total", peer="site-b", cause="relay_failed") > before

        # 3. T is back: the next rekey is hybrid again.
        await chain.start("KME_T")
        await wait_for(lambda: pair.session_a().keys.mode == pair.session_b().keys.mode == "hybrid-qkd", 15,
                       "hybrid after T restarts")
        results = await asyncio.gather(*flows)
        assert all(r.ok for r in results), [r for r in results if not r.ok]
        assert pair.session_a() is first_a and pair.session_b() is first_b
        assert metric(pair.a, "gateway_qkd_fallbacks_total", peer="site-b", cause="kme_unreachable") == 0
        assert metric(pair.a, "gateway_mode_transitions_total", peer="site-b", from_mode="hybrid-qkd",
                      to_mode="pqc-only", cause="relay_failed") == 1
        last = (await http_json(pair.a.mgmt_port, "/status"))["peers"]["site-b"]["last_transition"]
        assert last["cause"] == "qkd_restored" and last["detail"] is None
    finally:
        await pair.stop()


@pytest.mark.parametrize(("exc", "cause", "answered"), [
    (KmeUnavailableError("KME https://k: POST /api/v1/keys/SAE_B/enc_keys: HTTP 503: node 'KME_T' unreachable: "
                         "ClientConnectorError (failed hop KME_A->KME_T)", status=503, reason="relay_failed",
                         details=[{"reason": "relay_failed", "failed_hop": "KME_A->KME_T"}]), "relay_failed", True),
    (KmeUnavailableError("KME https://k: POST /api/v1/keys/SAE_B/enc_keys: HTTP 503: key store error",
                         status=503), "kme_error", True),
    (KmeUnavailableError("KME https://k: POST /api/v1/keys/SAE_B/enc_keys: ClientConnectorError: refused"),
     "kme_unreachable", False),
    (LinkAlarmError("KME https://k: link alarm: QBER 0.14"), "link_alarm", True),
    (KeyExhaustedError("KME https://k: not enough key"), "key_exhausted", True),
    (KmeRefusedError(401, "not an SAE of this KME"), "kme_refused", True),
])
def test_kme_errors_map_to_the_cause_the_kme_reported(exc, cause, answered):
    got_cause, detail, got_answered = classify(exc)
    assert (got_cause, got_answered) == (cause, answered)
    assert detail and len(detail) <= 240
