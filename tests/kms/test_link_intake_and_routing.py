"""Key intake from QKD links (the post-processing pipeline's sink), pool metrics, and routing."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from qkd.kms.client import KmeClient
from qkd.kms.config import Topology
from qkd.kms.errors import CapacityError, TopologyError
from qkd.kms.feeds import LinkKeySink, synthetic_block
from qkd.kms.masterkey import Sealer
from qkd.kms.server import start_kme
from qkd.kms.store import KeyStore
from qkd.kms.testing import chain_topology, free_port
from qkd.kms.topology import Network, pool_name


def test_link_sink_splits_blocks_so_both_ends_hold_the_same_directed_pools(tmp_path):
    net = Network(Topology.model_validate(chain_topology(["KME_A", "KME_T"], {"KME_A": 1, "KME_T": 2}, {})))
    stores = {}
    for node in ("KME_A", "KME_T"):
        store = KeyStore(tmp_path / f"{node}.sqlite", Sealer(os.urandom(32)))
        for p in (pool_name("KME_A-KME_T", "KME_A", "KME_T"), pool_name("KME_A-KME_T", "KME_T", "KME_A")):
            store.ensure_pool(p, "link", 1 << 20)
        stores[node] = store
        sink = LinkKeySink(store, net, "KME_A-KME_T")
        for i in range(3):
            sink.deliver("KME_A-KME_T", f"block-{i}", synthetic_block("s", "KME_A-KME_T", i, 1000), {})
    ab, ba = pool_name("KME_A-KME_T", "KME_A", "KME_T"), pool_name("KME_A-KME_T", "KME_T", "KME_A")
    assert stores["KME_A"].take(ab, 700) == stores["KME_T"].take(ab, 700)
    assert stores["KME_A"].take(ba, 1500) == stores["KME_T"].take(ba, 1500)
    first = synthetic_block("s", "KME_A-KME_T", 0, 1000)
    assert stores["KME_T"].take_range(ab, 700, 100) == synthetic_block("s", "KME_A-KME_T", 1, 1000)[200:300]
    assert first[:500] != first[500:]   # the two directions never share a pad


def test_link_sink_back_pressure_stores_neither_half(tmp_path):
    net = Network(Topology.model_validate(chain_topology(["A", "B"], {"A": 1, "B": 2}, {})))
    store = KeyStore(tmp_path / "s.sqlite", Sealer(os.urandom(32)))
    store.ensure_pool(pool_name("A-B", "A", "B"), "link", 8000)
    store.ensure_pool(pool_name("A-B", "B", "A"), "link", 4000)
    sink = LinkKeySink(store, net, "A-B")
    sink.push(os.urandom(1000))
    with pytest.raises(CapacityError):
        sink.push(os.urandom(1000))
    assert store.available_bits(pool_name("A-B", "A", "B")) == 4000


def test_pool_metrics_report_rates_and_age(tmp_path):
    store = KeyStore(tmp_path / "m.sqlite", Sealer(os.urandom(32)))
    store.ensure_pool("local", "local", 1 << 20)
    store.metrics()
    store.deposit("local", os.urandom(1000))
    time.sleep(0.05)
    store.take("local", 250)
    [m] = store.metrics()
    assert m.stored_bits == 6000 and m.deposited_bits_total == 8000 and m.consumed_bits_total == 2000
    assert m.in_rate_bps > 0 and m.out_rate_bps > 0 and m.in_rate_bps == pytest.approx(4 * m.out_rate_bps)
    assert m.oldest_age_s is not None and m.oldest_age_s >= 0.04


def test_route_prefers_links_with_more_key_and_skips_excluded_ones():
    topo = {"nodes": [{"id": n, "url": "https://x"} for n in "ABCD"],
            "links": [{"id": "AB", "a": "A", "b": "B"}, {"id": "BD", "a": "B", "b": "D"},
                      {"id": "AC", "a": "A", "b": "C"}, {"id": "CD", "a": "C", "b": "D"}]}
    net = Network(Topology.model_validate(topo))
    available = {"AB": 1000, "AC": 100000}

    def weight(link, frm, to):
        if frm != "A":
            return 2.0
        bits = available[link]
        return None if bits < 256 else 1 + 256 / bits

    assert net.route("A", "D", weight) == ["A", "C", "D"]
    available["AC"] = 100
    assert net.route("A", "D", weight) == ["A", "B", "D"]
    available["AB"] = 0
    with pytest.raises(TopologyError):
        net.route("A", "D", weight)


async def test_keys_distilled_by_the_link_pipeline_reach_an_sae_pair_across_the_link(tmp_path, pki):
    """The real post-processing pipeline (emulated link) feeds both KMEs through LinkKeySink."""
    link_mod = pytest.importorskip("qkd.postprocess.link")
    presets = pytest.importorskip("qkd.physics.presets")
    from qkd.kms.testing import chain_node_config

    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})
    kmes = {n: await start_kme(chain_node_config(tmp_path / n, pki, n, topo, ports, prefill_bits=0))
            for n in ports}
    try:
        sinks = {n: kmes[n].service.sinks["KME_A-KME_T"] for n in ports}
        link = presets.link_preset("snspd-fiber", 10.0)
        from qkd.runtime import emulated_blocks, run_link

        run = await run_link(emulated_blocks(link, 4_000_000, seed=3, n_blocks=2),
                                      link_id="KME_A-KME_T", policy=link_mod.LinkPolicy(key_length="asymptotic"),
                                      alice_sink=sinks["KME_A"], bob_sink=sinks["KME_T"])
        assert run.summary()["delivered"] >= 1
        async with KmeClient(kmes["KME_A"].url, pki.client_context("SAE_A")) as a, \
                KmeClient(kmes["KME_T"].url, pki.client_context("SAE_C")) as c:
            assert (await a.status("SAE_C"))["stored_key_count"] > 4
            keys = await a.enc_keys("SAE_C", number=4, size_bits=256)
            got = await c.dec_keys("SAE_A", [k.key_id for k in keys])
        assert [g.key for g in got] == [k.key for k in keys]
        sinks["KME_A"].on_alarm(link_mod.Alarm("qber-alarm", "KME_A-KME_T", 0.12, 0.08, 2))
        async with KmeClient(kmes["KME_A"].url, pki.client_context("SAE_A")) as a:
            ext = (await a.status("SAE_C"))["status_extension"]
            assert (ext["link_alarm"], ext["qber"]) == (True, 0.12)
    finally:
        for k in kmes.values():
            await k.stop()


async def test_full_pools_push_back_on_feeds_and_deposits_and_refill_once_key_is_used(tmp_path, pki):
    """Capacity 8192 bits: a fast feed stops at the capacity (never above), an admin deposit into the full
    pool answers 503 reason=capacity storing nothing, and once an SAE pair drew key the feed refills."""
    import aiohttp

    from qkd.kms.config import KmeConfig
    from qkd.kms.testing import single_node_config

    data = single_node_config(tmp_path, pki, prefill_bits=0, pool_capacity_bits=8192).model_dump(mode="json")
    data["feeds"] = [{"pool": "local", "kind": "synthetic-os-rng", "rate_bps": 2e6, "block_bits": 1024}]
    kme = await start_kme(KmeConfig.model_validate(data))
    store = kme.service.store
    try:
        for _ in range(400):
            if store.available_bits("local") == 8192:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)                                   # the feed keeps trying meanwhile
        assert store.available_bits("local") == 8192
        before = store.fingerprint()
        ctx = pki.client_context("admin")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s:
            async with s.post(f"{kme.url}/admin/v1/pools/local/deposit", data=b"\x00" * 16) as resp:
                body = await resp.json()
        assert resp.status == 503 and body["details"][0]["reason"] == "capacity"
        assert store.fingerprint() == before
        async with KmeClient(kme.url, pki.client_context("SAE_A")) as a:
            await a.enc_keys("SAE_B", number=8, size_bits=512)     # 4096 bits drawn
        for _ in range(400):
            if store.available_bits("local") == 8192:
                break
            await asyncio.sleep(0.01)
        [m] = store.metrics()
        assert (m.stored_bits, m.consumed_bits_total, m.deposited_bits_total) == (8192, 4096, 8192 + 4096)
    finally:
        await kme.stop()
