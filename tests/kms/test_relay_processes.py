"""Trusted-node relay A–T–B over three real KME processes on loopback."""

from __future__ import annotations

import pytest

from qkd.kms.client import KmeAdminClient, KmeClient, KmeUnavailableError
from qkd.kms.testing import chain_node_config, chain_topology, free_port, to_toml

NODES = ["KME_A", "KME_T", "KME_B"]


def write_chain(tmp_path, pki):
    ports = {n: free_port() for n in NODES}
    topo = chain_topology(NODES, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B", "SAE_C": "KME_T"})
    paths = {}
    for n in NODES:
        cfg = chain_node_config(tmp_path / n, pki, n, topo, ports, prefill_bits=1 << 16)
        paths[n] = tmp_path / f"{n}.toml"
        paths[n].write_text(to_toml(cfg.model_dump(mode="json")))
    return ports, paths


async def pools(url, pki):
    async with KmeAdminClient(url, pki.client_context("admin"), 5.0) as admin:
        report = await admin.pools()
    return {p["name"]: p for p in report["pools"]}, report["deliveries"]


def url(ports, n):
    return f"https://127.0.0.1:{ports[n]}"


async def test_relay_a_t_b_same_key_k_per_hop_failures_name_the_hop_and_t_down_then_back(tmp_path, pki,
                                                                                          spawn_node):
    """One chain of three processes (process start-up is the slow part): a relayed key, link key consumed
    per hop, an alarmed second hop, then T killed (SIGKILL) and restarted on its store."""
    ports, paths = write_chain(tmp_path, pki)
    nodes = {n: spawn_node(paths[n]) for n in NODES}
    before = {n: (await pools(url(ports, n), pki))[0] for n in NODES}
    async with KmeClient(url(ports, "KME_A"), pki.client_context("SAE_A")) as a, \
            KmeClient(url(ports, "KME_B"), pki.client_context("SAE_B")) as b:
        st = await a.status("SAE_B")
        assert (st["source_KME_ID"], st["target_KME_ID"]) == ("KME_A", "KME_B")
        assert st["stored_key_count"] == (1 << 15) // 256   # half of each link block pads A→T
        keys = await a.enc_keys("SAE_B", number=3, size_bits=512)
        got = await b.dec_keys("SAE_A", [k.key_id for k in keys])
    assert [bytes(g.key) for g in got] == [bytes(k.key) for k in keys]
    k_bits = 3 * 512
    hops = [("KME_A", "KME_A-KME_T:KME_A>KME_T"), ("KME_T", "KME_A-KME_T:KME_A>KME_T"),
            ("KME_T", "KME_T-KME_B:KME_T>KME_B"), ("KME_B", "KME_T-KME_B:KME_T>KME_B")]
    after = {n: (await pools(url(ports, n), pki))[0] for n in NODES}
    for node, pool in hops:
        used = after[node][pool]["consumed_bits_total"] - before[node][pool]["consumed_bits_total"]
        assert used == k_bits, (node, pool)
        assert before[node][pool]["stored_bits"] - after[node][pool]["stored_bits"] == k_bits
    # the reverse directions and the local pools are untouched
    for n in NODES:
        for name, p in after[n].items():
            if (n, name) not in hops:
                assert p["consumed_bits_total"] == before[n][name]["consumed_bits_total"], (n, name)
    # an alarm on the second hop, set at T: the relay is refused naming that hop, nothing released
    async with KmeAdminClient(url(ports, "KME_T"), pki.client_context("admin"), 5.0) as admin:
        await admin.set_link_alarm("KME_T-KME_B", True, 0.15)
    _, dels_before = await pools(url(ports, "KME_B"), pki)
    async with KmeClient(url(ports, "KME_A"), pki.client_context("SAE_A")) as a:
        with pytest.raises(KmeUnavailableError, match="KME_T->KME_B"):
            await a.enc_keys("SAE_B")
    assert (await pools(url(ports, "KME_B"), pki))[1] == dels_before
    # T down: the request fails cleanly naming the first hop, nothing is released on either side
    nodes["KME_T"].kill()
    _, dels_a = await pools(url(ports, "KME_A"), pki)
    async with KmeClient(url(ports, "KME_A"), pki.client_context("SAE_A")) as a:
        with pytest.raises(KmeUnavailableError, match="KME_A->KME_T") as refused:
            await a.enc_keys("SAE_B")
    # the ETSI error body survives in the exception for callers that act on it (the gateway's fallback cause)
    assert refused.value.status == 503 and refused.value.reason is not None
    assert refused.value.details and refused.value.details[0].get("reason") == refused.value.reason
    assert (await pools(url(ports, "KME_A"), pki))[1] == dels_a
    assert (await pools(url(ports, "KME_B"), pki))[1] == dels_before
    spawn_node(paths["KME_T"])            # T comes back on the same store (its alarm was kept)
    async with KmeAdminClient(url(ports, "KME_T"), pki.client_context("admin"), 5.0) as admin:
        await admin.set_link_alarm("KME_T-KME_B", False)
    async with KmeClient(url(ports, "KME_A"), pki.client_context("SAE_A")) as a, \
            KmeClient(url(ports, "KME_B"), pki.client_context("SAE_B")) as b:
        [key] = await a.enc_keys("SAE_B")
        [got] = await b.dec_keys("SAE_A", [key.key_id])
    assert got.key == key.key
    t_pools, _ = await pools(url(ports, "KME_T"), pki)
    # the pad A burned while T was down was discarded by T, never reused
    assert t_pools["KME_A-KME_T:KME_A>KME_T"]["discarded_bits_total"] == 256
