"""Two KMEs run the two ends of an emulated QKD link (emulator + post-processing over a WebSocket in
mutual TLS) and serve the distilled key to an SAE pair across the link."""

from __future__ import annotations

import asyncio

import pytest

from qkd.kms.config import KmeConfig
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_topology, free_port
from tests.kms.nodes import assert_sae_c_redeems_sae_a_keys, feed_node_config

pytest.importorskip("qkd.postprocess.link")
pytest.importorskip("qkd.emulator")

LINK = "KME_A-KME_T"


def config(tmp_path, pki, node, topo, ports, max_blocks=2):
    return feed_node_config(tmp_path, pki, node, topo, ports,
                            {"pool": LINK, "kind": "emulated", "preset": "snspd-fiber", "length_km": 10.0,
                             "pulses_per_block": 2_000_000, "emulator_seed": 11, "max_blocks": max_blocks})


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
        await assert_sae_c_redeems_sae_a_keys(a, t, pki, number=3)
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


def write_block_files(directory, n_blocks: int) -> tuple[list[str], list[str], float]:
    """Receiver time tags (.qtt) and transmitter records (.json Philox descriptor) of ``n_blocks`` emulated
    runs - what ``qshift qkd emulate --out ... --tx-out ...`` writes."""
    import json

    from qkd.events.emulate import emulate
    from qkd.events.formats import write_native
    from qkd.physics.presets import link_preset

    link = link_preset("snspd-fiber", 10.0)
    tags, txs = [], []
    for i in range(n_blocks):
        run = emulate(link, 2_000_000, 100 + i)
        tags.append(str(directory / f"block{i}.qtt"))
        txs.append(str(directory / f"block{i}.tx.json"))
        write_native(tags[-1], run.tags)
        (directory / f"block{i}.tx.json").write_text(json.dumps(run.tx.describe()))
    return tags, txs, link.window_ps


async def test_link_ends_fed_from_time_tag_files_distil_the_same_key_at_both_nodes(tmp_path, pki):
    tags, txs, window_ps = write_block_files(tmp_path, 2)
    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})

    def cfg(node):
        c = config(tmp_path, pki, node, topo, ports).model_dump()
        c["feeds"] = [{"pool": LINK, "kind": "timetag-files", "timetag_files": tags, "transmitter_files": txs,
                       "window_ps": window_ps, "sift_seed": 3}]
        return KmeConfig.model_validate(c)

    t = await start_kme(cfg("KME_T"))
    a = await start_kme(cfg("KME_A"))
    try:
        ends = [a.service.link_ends[LINK], t.service.link_ends[LINK]]
        for _ in range(600):
            if all(e.blocks_done >= 2 for e in ends):
                break
            await asyncio.sleep(0.05)
        assert [e.blocks_done for e in ends] == [2, 2]     # and no more: the files are used up
        assert [r.status for r in ends[0].results] == [r.status for r in ends[1].results]
        assert all(r.status == "delivered" for r in ends[1].results)
        for pool in (f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A"):
            assert a.service.store.available_bits(pool) == t.service.store.available_bits(pool) > 0
        await assert_sae_c_redeems_sae_a_keys(a, t, pki)
    finally:
        await a.stop()
        await t.stop()


def test_time_tag_feed_needs_a_transmitter_file_per_time_tag_file(tmp_path, pki):
    from pydantic import ValidationError

    ports = {"KME_A": 1, "KME_T": 2}
    c = config(tmp_path, pki, "KME_A", chain_topology(["KME_A", "KME_T"], ports, {}), ports).model_dump()
    c["feeds"] = [{"pool": LINK, "kind": "timetag-files", "timetag_files": ["a.qtt", "b.qtt"],
                   "transmitter_files": ["a.json"]}]
    with pytest.raises(ValidationError, match="one transmitter file per time-tag file"):
        KmeConfig.model_validate(c)


def test_resync_action_drops_exactly_one_extra_block_at_the_end_that_has_it():
    from qkd.kms.linkend import resync_action

    assert resync_action({"tail": 80, "last_block_start": 40}, {"tail": 80, "last_block_start": 40}) == ("ok", 80)
    assert resync_action({"tail": 120, "last_block_start": 80}, {"tail": 80, "last_block_start": 40}) == (
        "drop_mine", 80)
    assert resync_action({"tail": 80, "last_block_start": 40}, {"tail": 120, "last_block_start": 80}) == (
        "drop_peer", 80)
    # two blocks apart, or a last block that does not start where the other end stops: never guess
    assert resync_action({"tail": 160, "last_block_start": 120}, {"tail": 80, "last_block_start": 40})[0] == "mismatch"
    assert resync_action({"tail": 120, "last_block_start": 90}, {"tail": 80, "last_block_start": 40})[0] == "mismatch"


async def test_after_a_crash_between_the_two_deposits_the_end_ahead_drops_its_extra_block(tmp_path, pki):
    """Both ends distil block 0; then Alice (KME_A) deposits block 1 and KME_T dies before it does. At the
    restart Bob's answer makes Alice drop block 1, both continue with block 2 on aligned streams, and a key
    relayed over the link (end-to-end check) reaches the SAE on the other side."""
    import os

    from qkd.kms.feeds import LinkKeySink
    from qkd.kms.masterkey import Sealer, load
    from qkd.kms.store import KeyStore
    from qkd.kms.topology import Network

    ports = {"KME_A": free_port(), "KME_T": free_port(), "KME_B": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})

    async def run(max_blocks: int, until: int):
        t = await start_kme(config(tmp_path, pki, "KME_T", topo, ports, max_blocks=max_blocks))
        a = await start_kme(config(tmp_path, pki, "KME_A", topo, ports, max_blocks=max_blocks))
        ends = [a.service.link_ends[LINK], t.service.link_ends[LINK]]
        for _ in range(600):
            if all(e.blocks_done >= until for e in ends):
                break
            await asyncio.sleep(0.05)
        assert [e.blocks_done for e in ends] == [until, until]
        return a, t

    a, t = await run(1, 1)
    await a.stop()
    await t.stop()
    cfg = config(tmp_path, pki, "KME_A", topo, ports)
    store = KeyStore(cfg.node.db_path, Sealer(load(cfg.node.master_key_path)))
    sink = LinkKeySink(store, Network(cfg.topology), LINK)
    tail_before = sink.stream_state()["tail"]
    sink.push(os.urandom(4000))                                      # block 1 at Alice only
    store.run(lambda tx: tx.set_counter(f"emulated-link/{LINK}/next-block", 2))   # Alice had claimed it
    store.close()
    a, t = await run(3, 1)                                           # resumes with block 2 only
    try:
        pools = [f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A"]
        for pool in pools:
            assert a.service.store.tail(pool) == t.service.store.tail(pool) >= tail_before
        assert [m.deposited_bits_total for m in a.service.store.metrics() if m.name in pools] == \
               [m.deposited_bits_total for m in t.service.store.metrics() if m.name in pools]
        await assert_sae_c_redeems_sae_a_keys(a, t, pki)
    finally:
        await a.stop()
        await t.stop()


async def test_an_ldpc_link_decodes_with_the_decoder_its_bob_end_names(tmp_path, pki):
    """``reconciler = "ldpc"`` with ``ldpc_decoder = "min-sum-8"`` and ``ldpc_f_start`` at the Bob end only (the end
    that plans and decodes; Alice follows his plan): both pools fill identically, and every block was planned on
    the min-sum family's codes at that first-attempt efficiency."""
    from qkd.kms.linkend import link_policy

    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})
    extra = {"reconciler": "ldpc"}
    bob_extra = {**extra, "ldpc_decoder": "min-sum-8", "ldpc_f_start": 1.4}
    t_cfg = feed_node_config(tmp_path, pki, "KME_T", topo, ports,
                             {"pool": LINK, "kind": "emulated", "preset": "snspd-fiber", "length_km": 10.0,
                              "pulses_per_block": 2_000_000, "emulator_seed": 11, "max_blocks": 2, **bob_extra})
    a_cfg = feed_node_config(tmp_path, pki, "KME_A", topo, ports,
                             {"pool": LINK, "kind": "emulated", "preset": "snspd-fiber", "length_km": 10.0,
                              "pulses_per_block": 2_000_000, "emulator_seed": 11, "max_blocks": 2, **extra})
    policy = link_policy(t_cfg.feeds[0])
    assert policy.ldpc is not None and policy.ldpc.decoder == "min-sum-8" and policy.ldpc.f_start == 1.4
    assert link_policy(a_cfg.feeds[0]).ldpc.decoder == "phi-sum"  # type: ignore[union-attr]
    from pydantic import ValidationError

    for bad in ({"ldpc_decoder": "fast"}, {"ldpc_f_start": 0.9}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            feed_node_config(tmp_path, pki, "KME_T", topo, ports, {"pool": LINK, "kind": "emulated", **bad})
    t = await start_kme(t_cfg)
    a = await start_kme(a_cfg)
    try:
        ends = [a.service.link_ends[LINK], t.service.link_ends[LINK]]
        assert [e.role for e in ends] == ["alice", "bob"]
        for _ in range(600):
            if all(e.blocks_done >= 2 for e in ends):
                break
            await asyncio.sleep(0.05)
        assert all(e.blocks_done == 2 for e in ends)
        delivered = [r for r in ends[1].results if r.status == "delivered"]
        assert delivered
        for r in delivered:
            assert r.reconciliation is not None and r.reconciliation["reconciler"] == "ldpc"
            assert r.reconciliation["code"].startswith("qc2m-")        # the min-sum family: Bob's decoder
        pools = [f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A"]
        for pool in pools:
            assert a.service.store.available_bits(pool) == t.service.store.available_bits(pool) > 0
    finally:
        await a.stop()
        await t.stop()
