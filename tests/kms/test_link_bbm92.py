"""Two real KMEs run the two ends of an entanglement-based (BBM92) link (``protocol = "bbm92"`` feeds) on the
link runtime, over a WebSocket in mutual TLS: the key reaches an SAE pair; an intercept-resend attacker on
Bob's arm makes every block abort with cause ``witness``, which alarms the pools (``enc_keys`` answers 503
``link_alarm``) and shows in /metrics and the node's status exactly as a QBER abort does; the link recovers
once the attack stops. Two nodes configured for different link kinds never run a block."""

from __future__ import annotations

import pytest

from qkd.kms.client import KmeClient
from qkd.kms.config import KmeConfig
from qkd.kms.errors import LinkAlarmError
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_topology, free_port
from qkd.runtime import LinkFaults
from tests.kms.nodes import assert_sae_c_redeems_sae_a_keys, feed_node_config, metrics_text, until

LINK = "KME_A-KME_T"
POOLS = (f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A")


def config(tmp_path, pki, node, topo, ports, protocol: str = "bbm92") -> KmeConfig:
    feed = {"pool": LINK, "kind": "emulated", "protocol": protocol, "length_km": 25.0, "emulator_seed": 13,
            "key_length": "finite", "pulses_per_block": 2_000_000, "block_interval_s": 0.1, "heartbeat_s": 0.4,
            "silence_timeout_s": 3.0, "connect_timeout_s": 2.0, "backoff_max_s": 1.0}
    return feed_node_config(tmp_path, pki, node, topo, ports, feed)


async def _start(tmp_path, pki, protocols=("bbm92", "bbm92")):
    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})
    t = await start_kme(config(tmp_path, pki, "KME_T", topo, ports, protocols[1]))
    a = await start_kme(config(tmp_path, pki, "KME_A", topo, ports, protocols[0]))
    return a, t, (a.service.link_ends[LINK], t.service.link_ends[LINK])


@pytest.mark.timeout(120)
async def test_a_bbm92_link_keys_the_saes_and_its_witness_alarm_stops_and_resumes_delivery(tmp_path, pki) -> None:
    a, t, ends = await _start(tmp_path, pki)
    try:
        await until(lambda: all(e.status.blocks["delivered"] >= 2 for e in ends), 60, "two blocks at both ends",
                     lambda: [e.snapshot() for e in ends])
        for pool in POOLS:
            assert a.service.store.available_bits(pool) == t.service.store.available_bits(pool) > 0
        await assert_sae_c_redeems_sae_a_keys(a, t, pki, number=2)
        status = {e["link"]: e for e in a.service.pools_report()["links"]}[LINK]
        assert status["protocol"] == "bbm92" and status["last_chsh"] > 2.5 and not status["alarm"]

        faults = LinkFaults(eve_fraction=1.0)                 # intercept-resend on every photon of Bob's arm
        for end in ends:
            end.use_faults(faults)
        await until(lambda: all(e.status.aborts.get("witness", 0) >= 2 for e in ends)
                     and all(k.service.store.alarm(POOLS[0])[0] for k in (a, t)), 30, "witness aborts and alarm",
                     lambda: [e.snapshot() for e in ends])
        bits = [a.service.store.available_bits(p) for p in POOLS]
        async with KmeClient(a.url, pki.client_context("SAE_A")) as sae_a:
            with pytest.raises(LinkAlarmError):
                await sae_a.enc_keys("SAE_C", number=1)
        text = await metrics_text(a, pki)
        assert 'qkd_link_alarm{link="KME_A-KME_T",role="alice"} 1' in text
        assert 'qkd_link_aborts_total{link="KME_A-KME_T",role="alice",cause="witness"}' in text
        assert 'qkd_link_chsh{link="KME_A-KME_T",role="alice"} 1.' in text      # S ≤ 2: separable
        status = {e["link"]: e for e in a.service.pools_report()["links"]}[LINK]
        assert status["label"] == "aborting(witness)" and status["alarm"] and "witness" in status["alarm_reason"]
        aborted = ends[0].status.aborts["witness"]
        await until(lambda: ends[0].status.aborts["witness"] >= aborted + 2, 15, "two more aborted blocks")
        assert [a.service.store.available_bits(p) for p in POOLS] == bits       # no key from an attacked block

        faults.eve_fraction = None                            # the attack stops
        await until(lambda: not any(k.service.store.alarm(POOLS[0])[0] for k in (a, t))
                     and all(e.status.state == "running" for e in ends), 20, "a certified block clears the alarm",
                     lambda: [e.snapshot() for e in ends])
        await assert_sae_c_redeems_sae_a_keys(a, t, pki, number=1)
    finally:
        await a.stop()
        await t.stop()


@pytest.mark.timeout(60)
async def test_nodes_configured_for_different_link_kinds_refuse_the_link_naming_both(tmp_path, pki) -> None:
    a, t, (alice, bob) = await _start(tmp_path, pki, protocols=("bbm92", "bb84-decoy"))
    try:
        await until(lambda: alice.status.failures.get("resync", 0) >= 1 and bob.status.failures.get("resync", 0) >= 1,
                     20, "the link hello refused at both ends", lambda: (alice.snapshot(), bob.snapshot()))
        assert "link kind 'bbm92' at the peer, 'bb84-decoy' here" in bob.status.last_failure["detail"]
        assert "link kind 'bbm92' at the peer, 'bb84-decoy' here" in alice.status.last_failure["detail"]
        assert alice.status.alarm and bob.status.alarm
        assert alice.blocks_done == bob.blocks_done == 0
        assert all(a.service.store.available_bits(p) == 0 for p in POOLS)
    finally:
        await a.stop()
        await t.stop()
