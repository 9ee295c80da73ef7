"""Review finding 11 (issue 15): a dec_keys in flight when the slave's KME dies no longer loses the key - that
slave, and only it, may redeem it again until a deadline, then it is destroyed - and slave deliveries nobody
redeems (the orphans of a failed relay reply) expire; both counted in status and metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time

import aiohttp
import pytest

from qkd.kms.client import KmeAdminClient, KmeClient, KmeRefusedError, KmsError
from qkd.kms.errors import ForeignKeyIdError, KeyExpiredError
from qkd.kms.ledger import KeyLifetimes
from qkd.kms.masterkey import Sealer, load_or_create
from qkd.kms.server import HttpLimits, start_kme
from qkd.kms.store import KeyStore
from qkd.kms.testing import chain_node_config, chain_topology, free_port, single_node_config
from tests.kms.nodes import write_toml


def open_store(directory, **lifetimes) -> KeyStore:
    store = KeyStore(directory / "kms.sqlite", Sealer(load_or_create(directory / "master.key")),
                     lifetimes=KeyLifetimes(**lifetimes))
    store.ensure_pool("local", "local", 1 << 20)
    return store


async def metrics_text(kme, pki, identity: str = "admin") -> str:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context(identity))) as s:
        async with s.get(kme.url + "/metrics") as resp:
            assert resp.status == 200
            return await resp.text()


async def test_a_dec_keys_in_flight_when_the_slave_kme_is_killed_is_redeemable_again_by_that_slave_only(
        tmp_path, pki, spawn_node):
    port = free_port()
    cfg = single_node_config(tmp_path, pki, port=port, prefill_bits=8192, saes=["SAE_A", "SAE_B", "SAE_C"])
    cfg.topology.nodes[0].url = url = f"https://127.0.0.1:{port}"
    path = tmp_path / "node.toml"
    write_toml(cfg, path)
    node = spawn_node(path, {"QSHIFT_KMS_FAULT_DELAY_S": "1.5"})  # widens reserve -> write -> delivered mark
    async with KmeClient(url, pki.client_context("SAE_A"), 10.0) as a:
        (key,) = await a.enc_keys("SAE_B", 1)
    async with KmeClient(url, pki.client_context("SAE_B"), 10.0) as b:
        redeem = asyncio.create_task(b.dec_keys("SAE_A", [key.key_id]))
        await asyncio.sleep(0.7)                   # reserved and committed, response not yet written
        node.kill(signal.SIGKILL)
        with pytest.raises(KmsError):
            await redeem
    spawn_node(path)
    async with KmeClient(url, pki.client_context("SAE_C"), 5.0) as c:
        with pytest.raises(KmeRefusedError) as refused:
            await c.dec_keys("SAE_A", [key.key_id])
        assert refused.value.status == 401                # another SAE never gets it
    async with KmeClient(url, pki.client_context("SAE_B"), 5.0) as b:
        (again,) = await b.dec_keys("SAE_A", [key.key_id])
        assert bytes(again.key) == bytes(key.key)         # the entitled slave gets the very key
        with pytest.raises(KmeRefusedError) as refused:   # and once delivered, no more
            await b.dec_keys("SAE_A", [key.key_id])
        assert refused.value.status == 400
    async with KmeAdminClient(url, pki.client_context("admin"), 5.0) as admin:
        report = await admin.pools()
    assert report["in_doubt_at_open"] == 1
    assert report["key_lifetimes"]["in_doubt_redelivered"] == 1
    assert report["deliveries"]["slave:delivered"] == 1


def test_an_in_doubt_delivery_not_redeemed_before_its_deadline_is_destroyed_and_counted(tmp_path):
    store = open_store(tmp_path, in_doubt_ttl_s=0.3)
    store.deposit("local", os.urandom(64))
    (key,) = store.issue_local("local", "SAE_A", "SAE_B", 1, 256)
    store.mark_delivered([key.key_id], "master")
    store.reserve_for_slave("SAE_A", "SAE_B", [key.key_id])
    store.close()                                          # "crash" with the slave's reservation open
    store = open_store(tmp_path, in_doubt_ttl_s=0.3)
    assert store.delivery_counts()["slave:in_doubt"] == 1
    with pytest.raises(ForeignKeyIdError):
        store.reserve_for_slave("SAE_A", "SAE_C", [key.key_id])
    time.sleep(0.4)
    with pytest.raises(KeyExpiredError, match="expired"):  # refused at its deadline, before any sweep
        store.reserve_for_slave("SAE_A", "SAE_B", [key.key_id])
    assert store.expire_keys() == {"pending": 0, "in_doubt": 1}
    assert store.delivery_counts()["slave:expired"] == 1
    assert store.lifecycle_counts()["expired_in_doubt"] == 1
    assert store._db.conn.execute("SELECT ct FROM keys").fetchone()[0] is None   # the material is gone
    with pytest.raises(KeyExpiredError):
        store.reserve_for_slave("SAE_A", "SAE_B", [key.key_id])


def test_a_failed_response_to_the_slave_leaves_its_delivery_in_doubt_not_lost(tmp_path):
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(64))
    (key,) = store.issue_local("local", "SAE_A", "SAE_B", 1, 256)
    store.reserve_for_slave("SAE_A", "SAE_B", [key.key_id])
    store.run(lambda tx: tx.quarantine([key.key_id], "slave"))   # what _deliver does when writing failed
    assert store.reserve_for_slave("SAE_A", "SAE_B", [key.key_id])[0].key == key.key


async def test_a_slave_delivery_nobody_redeems_expires_and_shows_in_status_and_metrics(tmp_path, pki):
    kme = await start_kme(single_node_config(tmp_path, pki, saes=["SAE_A", "SAE_B"], prefill_bits=1 << 14),
                          http=HttpLimits(expiry_interval_s=0.1), lifetimes=KeyLifetimes(pending_ttl_s=0.5))
    try:
        async with KmeClient(kme.url, pki.client_context("SAE_A")) as a, \
                KmeClient(kme.url, pki.client_context("SAE_B")) as b:
            k1, k2 = await a.enc_keys("SAE_B", 2)
            await b.dec_keys("SAE_A", [k1.key_id])
            await asyncio.sleep(1.0)
            with pytest.raises(KmeRefusedError, match="expired"):
                await b.dec_keys("SAE_A", [k2.key_id])
        async with KmeAdminClient(kme.url, pki.client_context("admin"), 5.0) as admin:
            report = await admin.pools()
        assert report["deliveries"]["slave:expired"] == 1 and report["deliveries"]["slave:delivered"] == 1
        assert report["key_lifetimes"]["expired_pending"] == 1
        text = await metrics_text(kme, pki)
        assert 'qkd_kme_keys_expired_total{node="KME_A",state="pending"} 1' in text
        assert 'qkd_kme_keys{node="KME_A",role="slave",state="expired"} 1' in text
    finally:
        await kme.stop()


async def test_the_orphan_of_a_relay_whose_reply_failed_expires_at_the_slaves_node(tmp_path, pki):
    nodes = ["KME_A", "KME_B"]
    ports = {n: free_port() for n in nodes}
    topo = chain_topology(nodes, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B"})
    a = await start_kme(chain_node_config(tmp_path / "A", pki, "KME_A", topo, ports, prefill_bits=1 << 14))
    b = await start_kme(chain_node_config(tmp_path / "B", pki, "KME_B", topo, ports, prefill_bits=1 << 14),
                        http=HttpLimits(expiry_interval_s=0.1), lifetimes=KeyLifetimes(pending_ttl_s=0.5))
    receive = b.service.relay.receive

    async def stored_then_reply_lost(sender, body):
        await receive(sender, body)                         # B stores the key for SAE_B ...
        raise ConnectionResetError("reply lost")           # ... and A never hears of it
    b.service.relay.receive = stored_then_reply_lost
    try:
        async with KmeClient(a.url, pki.client_context("SAE_A")) as master:
            with pytest.raises(KmsError):
                await master.enc_keys("SAE_B", 1)
        assert b.service.store.delivery_counts() == {"slave:pending": 1}   # an orphan: no master SAE has its ID
        await asyncio.sleep(1.0)
        assert b.service.store.delivery_counts() == {"slave:expired": 1}
        assert b.service.store.lifecycle_counts()["expired_pending"] == 1
        text = await metrics_text(a, pki)
        assert 'qkd_kme_relays_total{node="KME_A",outcome="failed"} 1' in text
        assert 'qkd_kme_relay_failures_total{node="KME_A",failed_hop="KME_A->KME_B",reason="relay_failed"} 1' in text
    finally:
        await a.stop()
        await b.stop()


OLD_KEYS_TABLE = """CREATE TABLE keys (
    key_id TEXT PRIMARY KEY, master_sae TEXT NOT NULL, slave_sae TEXT NOT NULL, size_bits INTEGER NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL,
    master_state TEXT CHECK (master_state IN ('pending', 'reserved', 'delivered', 'quarantined')),
    slave_state TEXT CHECK (slave_state IN ('pending', 'reserved', 'delivered', 'quarantined')),
    nonce BLOB, ct BLOB) WITHOUT ROWID"""


def test_a_store_made_before_key_lifetimes_is_migrated_and_its_old_keys_expire_by_age(tmp_path):
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(64))
    k1, k2 = store.issue_local("local", "SAE_A", "SAE_B", 2, 128)
    store.close()
    db = sqlite3.connect(tmp_path / "kms.sqlite", isolation_level=None)   # rewrite it in the old schema
    cols = "key_id, master_sae, slave_sae, size_bits, created, updated, master_state, slave_state, nonce, ct"
    db.executescript(f"BEGIN; {OLD_KEYS_TABLE.replace('TABLE keys', 'TABLE old')}; INSERT INTO old SELECT {cols} "
                     f"FROM keys; DROP TABLE keys; ALTER TABLE old RENAME TO keys; "
                     f"UPDATE keys SET master_state='reserved', created=created-100; COMMIT;")
    db.close()
    store = open_store(tmp_path, pending_ttl_s=50)
    assert store.quarantined_at_open == 2                  # the old rule for the master side still holds
    with pytest.raises(KeyExpiredError):                   # issued 100 s ago, deadline 50 s: expired
        store.reserve_for_slave("SAE_A", "SAE_B", [k1.key_id])
    assert store.expire_keys() == {"pending": 2, "in_doubt": 0}
    (sql,) = store._db.conn.execute("SELECT sql FROM sqlite_master WHERE name='keys'").fetchone()
    assert "in_doubt" in sql and "expires" in sql
