"""Two real KMEs run the two ends of an emulated link on the link runtime (WebSocket in mutual TLS, through a
real TCP path on loopback). A killed link end and a classical channel that goes silent without closing are
seen in the logs, the KMEs' /metrics and their status within the stated bounds, the pools' alarm is truthful,
and the link recovers on its own once the fault is gone."""

from __future__ import annotations

import logging

import pytest

from qkd.kms.config import KmeConfig
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_topology, free_port
from qshift.scenario.netpath import ChannelPath
from tests.kms.nodes import feed_node_config, metrics_text, until

LINK = "KME_A-KME_T"
SILENCE_S = 2.0


def config(tmp_path, pki, node, topo, ports, channel_url: str = "") -> KmeConfig:
    feed = {"pool": LINK, "kind": "emulated", "preset": "snspd-fiber", "length_km": 10.0,
            "pulses_per_block": 2_000_000, "emulator_seed": 5, "block_interval_s": 0.2,
            "heartbeat_s": 0.4, "silence_timeout_s": SILENCE_S, "connect_timeout_s": 2.0, "backoff_max_s": 1.0}
    if channel_url:
        feed["channel_url"] = channel_url
    return feed_node_config(tmp_path, pki, node, topo, ports, feed)


def _alarmed(kme) -> bool:
    return kme.service.store.alarm(f"{LINK}:KME_A>KME_T")[0]


@pytest.fixture
async def link(tmp_path, pki):
    """KME_A (Alice) reaches KME_T's link channel through a TCP path the test controls."""
    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})
    path = ChannelPath("127.0.0.1", ports["KME_T"], seed=1, name=LINK)
    await path.start()
    t = await start_kme(config(tmp_path, pki, "KME_T", topo, ports))
    a = await start_kme(config(tmp_path, pki, "KME_A", topo, ports, channel_url=path.url))
    ends = (a.service.link_ends[LINK], t.service.link_ends[LINK])
    try:
        await until(lambda: all(e.status.blocks["delivered"] >= 2 for e in ends), 60, "two blocks at both ends")
        yield a, t, path, ends
    finally:
        await a.stop()
        await t.stop()
        await path.stop()


async def test_a_silent_classical_channel_is_detected_alarmed_reported_and_recovered(link, pki, caplog) -> None:
    a, t, path, (alice, bob) = link
    caplog.set_level(logging.INFO)
    assert not _alarmed(a) and not _alarmed(t)
    path.silent = True                                     # no FIN, no RST: the route swallows everything
    took = await until(lambda: alice.status.failures.get("peer-silent", 0) >= 1
                        and bob.status.failures.get("peer-silent", 0) >= 1, 10, "peer-silent at both ends",
                        lambda: (alice.status.snapshot(), bob.status.snapshot()))
    assert took <= SILENCE_S + 1.5                         # the bound plus a watchdog tick and a block in flight
    assert _alarmed(a) and _alarmed(t)
    assert any(getattr(r, "event", "") == "qkd.link.failed" and getattr(r, "cause", "") == "peer-silent"
               for r in caplog.records)
    text = await metrics_text(a, pki)
    assert 'qkd_link_failures_total{link="KME_A-KME_T",role="alice",cause="peer-silent"} 1' in text
    assert 'qkd_link_alarm{link="KME_A-KME_T",role="alice"} 1' in text
    status = {entry["link"]: entry for entry in a.service.pools_report()["links"]}[LINK]
    assert status["state"] == "failed" and status["alarm"] and status["last_failure"]["cause"] in (
        "peer-silent", "connect")
    path.silent = False
    delivered = alice.status.blocks["delivered"]
    await until(lambda: alice.status.blocks["delivered"] > delivered and not _alarmed(a) and not _alarmed(t),
                 15, "a confirmed block and the alarm cleared after the path heals")
    assert alice.status.state == "running" and bob.status.state == "running"
    for pool in (f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A"):
        assert a.service.store.tail(pool) == t.service.store.tail(pool)


async def test_a_killed_link_end_is_seen_by_its_peer_and_the_link_recovers_when_it_restarts(link, pki) -> None:
    a, t, _path, (alice, bob) = link
    await bob.stop()                                       # T's end dies; the KME refuses the channel
    await until(lambda: alice.status.state == "failed", 5, "Alice failed")
    assert alice.status.last_failure["cause"] in ("peer-closed", "connect", "resync")
    assert _alarmed(a)
    text = await metrics_text(t, pki)
    assert 'qkd_link_state{link="KME_A-KME_T",role="bob",state="stopped"} 1' in text
    bob.start()
    delivered = alice.status.blocks["delivered"]
    await until(lambda: alice.status.blocks["delivered"] > delivered and not _alarmed(a), 15,
                 "recovery after the restart")
    assert alice.status.restarts >= 1 and bob.status.state == "running"


async def test_a_closed_kme_keeps_no_block_data_whatever_still_references_it(link) -> None:
    # aiohttp's middleware cache (web_app._build_middlewares, 1024 entries) keeps recent handlers — bound
    # methods of closed services — alive; in-process restarts grew ~70 MB a scenario run until close released
    a, t, _path, (alice, bob) = link
    assert alice.results and bob.results
    await a.stop()
    await t.stop()
    for end in (alice, bob):
        assert not end.results
        assert end.source.shared is None or not end.source.shared._entries   # scenarios share one emulation
