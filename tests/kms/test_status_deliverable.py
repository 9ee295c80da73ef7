"""Review finding 12 (issue 15): ``stored_key_count`` of a relayed pair is what the route can deliver - the
smallest hop's key, 0 while a hop is alarmed or a node of the route is down - with per-hop figures in the
status extension (``link_alarm`` and ``qber`` kept for the gateway)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from qkd.kms.client import KmeClient
from qkd.kms.relay import LINKS_CACHE_S
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_node_config, chain_topology, free_port
from qkd.kms.topology import pool_name

NODES = ["KME_A", "KME_T", "KME_B"]
PREFILL = 1 << 14
AT = pool_name("KME_A-KME_T", "KME_A", "KME_T")
TB = pool_name("KME_T-KME_B", "KME_T", "KME_B")


@pytest.fixture
async def chain(tmp_path, pki):
    ports = {n: free_port() for n in NODES}
    topo = chain_topology(NODES, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B"})
    configs = {n: chain_node_config(tmp_path / n, pki, n, topo, ports, prefill_bits=PREFILL) for n in NODES}
    kmes = {n: await start_kme(c) for n, c in configs.items()}
    kmes["configs"] = configs
    yield kmes
    for n in NODES:
        await kmes[n].stop()


async def status(kme, pki) -> dict:
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as a:
        return await a.status("SAE_B")


async def test_status_of_a_relayed_pair_counts_the_smallest_hop_not_the_first(chain, pki):
    a, t = chain["KME_A"], chain["KME_T"]
    first = a.service.store.available_bits(AT)
    t.service.store.take(TB, 512)                          # T's copy of T->B: 512 bytes fewer than A->T
    st = await status(a, pki)
    hops = {h["hop"]: h for h in st["status_extension"]["hops"]}
    assert st["status_extension"]["path"] == NODES
    assert hops["KME_A->KME_T"]["available_bits"] == first
    assert hops["KME_T->KME_B"]["available_bits"] == t.service.store.available_bits(TB) == first - 512 * 8
    assert all(h["reachable"] and not h["alarm"] for h in hops.values())
    assert st["stored_key_count"] == (first - 512 * 8) // 256
    assert hops["KME_T->KME_B"]["stored_key_count"] == st["stored_key_count"]
    assert (st["status_extension"]["link_alarm"], st["status_extension"]["qber"]) == (False, None)


async def test_status_reports_nothing_deliverable_while_the_trusted_node_is_down(chain, pki):
    a = chain["KME_A"]
    await chain["KME_T"].stop()
    st = await status(a, pki)
    hops = {h["hop"]: h for h in st["status_extension"]["hops"]}
    assert st["stored_key_count"] == 0
    assert not hops["KME_A->KME_T"]["reachable"] and hops["KME_A->KME_T"]["deliverable_bits"] == 0
    assert not hops["KME_T->KME_B"]["reachable"]
    chain["KME_T"] = await start_kme(chain["configs"]["KME_T"])     # back: deliverable again
    await asyncio.sleep(LINKS_CACHE_S + 0.1)
    assert (await status(a, pki))["stored_key_count"] == a.service.store.available_bits(AT) // 256


async def test_status_reports_nothing_deliverable_and_the_alarm_when_a_later_hop_is_alarmed(chain, pki):
    a, t = chain["KME_A"], chain["KME_T"]
    t.service.set_link_alarm("KME_T-KME_B", True, 0.14)
    st = await status(a, pki)
    hops = {h["hop"]: h for h in st["status_extension"]["hops"]}
    assert st["stored_key_count"] == 0
    assert hops["KME_T->KME_B"]["alarm"] and hops["KME_T->KME_B"]["qber"] == 0.14
    assert hops["KME_A->KME_T"]["deliverable_bits"] == a.service.store.available_bits(AT) > 0
    assert (st["status_extension"]["link_alarm"], st["status_extension"]["qber"]) == (True, 0.14)


async def test_link_figures_are_given_to_kmes_of_the_topology_only(chain, pki):
    t = chain["KME_T"]
    for identity, expected in (("KME_A", 200), ("SAE_A", 401)):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context(identity))) as s:
            async with s.get(t.url + "/kme/v1/links") as resp:
                assert resp.status == expected
                body = await resp.json()
        if expected == 200:
            assert set(body["pools"]) == {pool_name(lk, x, y) for lk, x, y in (
                ("KME_A-KME_T", "KME_A", "KME_T"), ("KME_A-KME_T", "KME_T", "KME_A"),
                ("KME_T-KME_B", "KME_T", "KME_B"), ("KME_T-KME_B", "KME_B", "KME_T"))}
