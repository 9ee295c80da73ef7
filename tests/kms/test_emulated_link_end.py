"""Two KMEs run the two ends of an emulated QKD link (emulator + post-processing over a WebSocket in
mutual TLS) and serve the distilled key to an SAE pair across the link."""

from __future__ import annotations

import asyncio

import pytest

from qkd.kms.client import KmeClient
from qkd.kms.config import KmeConfig
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_topology, free_port

pytest.importorskip("qkd.postprocess.link")
pytest.importorskip("qkd.emulator")

LINK = "KME_A-KME_T"


def config(tmp_path, pki, node, topo, ports, max_blocks=2):
    return KmeConfig.model_validate({
        "node": {"id": node, "listen_port": ports[node], "db_path": str(tmp_path / node / "k.sqlite"),
                 "master_key_path": str(tmp_path / node / "m.key")},
        "tls": {"ca": str(pki.ca), "cert": str(pki.cert(node)), "key": str(pki.key(node))},
        "topology": topo,
        "feeds": [{"pool": LINK, "kind": "emulated", "preset": "snspd-fiber", "length_km": 10.0,
                   "pulses_per_block": 4_000_000, "emulator_seed": 11, "max_blocks": max_blocks}],
    })


async def test_emulated_link_ends_fill_both_pools_identically_and_keys_reach_the_saes(tmp_path, pki):
    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})
    t = await start_kme(config(tmp_path, pki, "KME_T", topo, ports))
    a = await start_kme(config(tmp_path, pki, "KME_A", topo, ports))
    try:
        ends = [a.service.link_ends[LINK], t.service.link_ends[LINK]]
        assert [e.role for e in ends] == ["alice", "bob"]
        for _ in range(600):
            if all(e.blocks_done >= 2 for e in ends):
                break
            await asyncio.sleep(0.05)
        assert all(e.blocks_done == 2 for e in ends)
        assert [r.status for r in ends[0].results] == [r.status for r in ends[1].results]
        assert any(r.status == "delivered" for r in ends[1].results)
        pools = [f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A"]
        for pool in pools:
            assert a.service.store.available_bits(pool) == t.service.store.available_bits(pool) > 0
        async with KmeClient(a.url, pki.client_context("SAE_A")) as sae_a, \
                KmeClient(t.url, pki.client_context("SAE_C")) as sae_c:
            keys = await sae_a.enc_keys("SAE_C", number=3)
            got = await sae_c.dec_keys("SAE_A", [k.key_id for k in keys])
        assert [g.key for g in got] == [k.key for k in keys]
        assert a.service.store.counter(f"emulated-link/{LINK}/next-block") == 2
    finally:
        await a.stop()
        await t.stop()


async def test_link_channel_refuses_a_caller_that_is_not_the_other_end(tmp_path, pki):
    import aiohttp

    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A"})
    t = await start_kme(config(tmp_path, pki, "KME_T", topo, ports, max_blocks=1))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context("KME_B"))) as s:
            async with s.get(f"{t.url}/kme/v1/links/{LINK}/channel") as resp:
                assert resp.status == 401
    finally:
        await t.stop()
