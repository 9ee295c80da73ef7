"""Key store: sealed at rest, pools as byte streams, capacity back-pressure, at-most-once delivery."""

from __future__ import annotations

import os
import stat

import pytest

from qkd.kms.errors import (
    CapacityError,
    ForeignKeyIdError,
    InsufficientKeyError,
    KeyAlreadyDeliveredError,
    KeyStoreError,
    MasterKeyError,
)
from qkd.kms.masterkey import Sealer, load, load_or_create
from qkd.kms.store import KeyStore


def open_store(tmp_path, **kw):
    store = KeyStore(tmp_path / "k.sqlite", Sealer(load_or_create(tmp_path / "master.key")), **kw)
    store.ensure_pool("local", "local", 1 << 20)
    return store


def test_master_key_file_is_created_0600_and_a_readable_one_is_refused(tmp_path):
    key = load_or_create(tmp_path / "m.key")
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "m.key").st_mode) == 0o600
    assert load_or_create(tmp_path / "m.key") == key
    os.chmod(tmp_path / "m.key", 0o644)
    with pytest.raises(MasterKeyError, match="0644"):
        load(tmp_path / "m.key")
    (tmp_path / "short.key").write_bytes(b"x" * 16)
    os.chmod(tmp_path / "short.key", 0o600)
    with pytest.raises(MasterKeyError, match="16 bytes"):
        load(tmp_path / "short.key")


def test_key_material_never_appears_in_the_database_files(tmp_path):
    store = open_store(tmp_path)
    marker = bytes(range(256)) * 64  # 16 KiB, recognisable
    store.deposit("local", marker)
    [issued] = store.issue_local("local", "SAE_A", "SAE_B", 1, 256)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("k.sqlite*"))
    assert marker[:32] not in raw and marker[4096:4128] not in raw and issued.key not in raw


def test_wrong_master_key_cannot_open_the_material(tmp_path):
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(64))
    store.close()
    other = KeyStore(tmp_path / "k.sqlite", Sealer(os.urandom(32)))
    with pytest.raises(KeyStoreError, match="failed authentication"):
        other.take("local", 32)


def test_pool_is_a_stream_taken_in_order_across_chunks(tmp_path):
    store = open_store(tmp_path, chunk_bytes=10)
    data = os.urandom(35)
    store.deposit("local", data[:20])
    store.deposit("local", data[20:])
    assert store.take("local", 7) == (0, data[:7])
    assert store.take("local", 15) == (7, data[7:22])
    assert store.available_bits("local") == 13 * 8
    with pytest.raises(InsufficientKeyError):
        store.take("local", 14)
    assert store.take("local", 13) == (22, data[22:])


def test_take_range_discards_bytes_the_sender_burned_and_refuses_reuse(tmp_path):
    store = open_store(tmp_path)
    data = os.urandom(64)
    store.deposit("local", data)
    assert store.take_range("local", 16, 8) == data[16:24]
    m = store.metrics()[0]
    assert (m.consumed_bits_total, m.discarded_bits_total) == (64, 128)
    with pytest.raises(KeyStoreError, match="already consumed"):
        store.take_range("local", 0, 8)
    with pytest.raises(InsufficientKeyError, match="not yet deposited"):
        store.take_range("local", 60, 8)


def test_capacity_is_back_pressure_nothing_stored(tmp_path):
    store = open_store(tmp_path)
    store.ensure_pool("small", "link", 256)
    store.deposit("small", b"a" * 24)
    with pytest.raises(CapacityError, match="exceeds capacity"):
        store.deposit("small", b"b" * 16)
    assert store.available_bits("small") == 192


def test_slave_gets_each_key_once_and_a_reservation_left_by_a_crash_is_in_doubt_for_that_slave_only(tmp_path):
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(1024))
    keys = store.issue_local("local", "SAE_A", "SAE_B", 3, 256)
    store.mark_delivered([k.key_id for k in keys], "master")
    got = store.reserve_for_slave("SAE_A", "SAE_B", [keys[0].key_id])
    assert got[0].key == keys[0].key
    store.mark_delivered([keys[0].key_id], "slave")
    with pytest.raises(KeyAlreadyDeliveredError):
        store.reserve_for_slave("SAE_A", "SAE_B", [keys[0].key_id])
    store.reserve_for_slave("SAE_A", "SAE_B", [keys[1].key_id])   # reserved, then "crash"
    store.close()
    store = open_store(tmp_path)
    assert (store.quarantined_at_open, store.in_doubt_at_open) == (0, 1)
    assert store.delivery_counts()["slave:in_doubt"] == 1
    with pytest.raises(ForeignKeyIdError):                           # nobody else may have it
        store.reserve_for_slave("SAE_A", "SAE_C", [keys[1].key_id])
    assert store.reserve_for_slave("SAE_A", "SAE_B", [keys[1].key_id])[0].key == keys[1].key
    store.mark_delivered([keys[1].key_id], "slave")
    with pytest.raises(KeyAlreadyDeliveredError):
        store.reserve_for_slave("SAE_A", "SAE_B", [keys[1].key_id])
    assert store.reserve_for_slave("SAE_A", "SAE_B", [keys[2].key_id])[0].key == keys[2].key
    assert store.lifecycle_counts()["in_doubt_redelivered"] == 1


def test_consuming_key_material_or_reserving_is_fsynced_while_delivered_marks_need_not_be(tmp_path):
    """A power cut must not undo a consumption or reservation whose key may have left (key reuse, double
    delivery): those transactions run with synchronous=FULL even with durable_deliveries off."""
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(4096))
    sync = {1: "NORMAL", 2: "FULL"}[store._db.conn.execute("PRAGMA synchronous").fetchone()[0]]
    trace: list[str] = []
    store._db.conn.set_trace_callback(trace.append)
    keys = store.issue_local("local", "SAE_A", "SAE_B", 2, 256)
    store.mark_delivered([k.key_id for k in keys], "master")
    [(ok, _)] = store.run_batch([lambda tx: tx.reserve_for_slave("SAE_A", "SAE_B", [keys[0].key_id])])
    store.take("local", 16)
    store.take_range("local", store.tail("local") - 16, 16)
    store.mark_delivered([keys[0].key_id], "slave")
    kinds = []
    tx: list[str] = []
    for stmt in trace:
        if stmt.startswith("PRAGMA synchronous="):
            sync = stmt.split("=")[1]
        elif stmt == "BEGIN IMMEDIATE":
            tx = [sync]
        elif stmt == "COMMIT":
            consumes = any(s.startswith(("UPDATE pools SET head", "INSERT INTO keys",
                                         "UPDATE keys SET slave_state='reserved'")) for s in tx[1:])
            kinds.append((consumes, tx[0]))
        else:
            tx.append(stmt)
    assert ok and (True, "FULL") in kinds
    assert all(sync == "FULL" for consumes, sync in kinds if consumes), kinds
    assert (False, "NORMAL") in kinds          # the delivered marks


def test_reserving_many_keys_is_all_or_nothing_and_a_repeated_key_id_counts_as_taken(tmp_path):
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(4096))
    keys = store.issue_local("local", "SAE_A", "SAE_B", 5, 256)
    ids = [k.key_id for k in keys]
    before = store.fingerprint()
    with pytest.raises(KeyAlreadyDeliveredError, match=r"key_IDs\[3\].*already reserved"):
        store.reserve_for_slave("SAE_A", "SAE_B", ids[:3] + ids[1:2])
    assert store.fingerprint() == before
    got = store.reserve_for_slave("SAE_A", "SAE_B", ids)
    assert [(g.key_id, g.key) for g in got] == [(k.key_id, k.key) for k in keys]


def test_a_unit_of_work_commits_all_its_writes_or_none(tmp_path):
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(1024))
    before = store.fingerprint()

    def issue_then_fail(tx):
        tx.issue_local("local", "SAE_A", "SAE_B", 2, 256)
        tx.take("local", 64)
        raise RuntimeError("the caller gave up")

    with pytest.raises(RuntimeError):
        store.run(issue_then_fail)
    assert store.fingerprint() == before and store.available_bits("local") == 1024 * 8
    keys, (start, _) = store.run(lambda tx: (tx.issue_local("local", "SAE_A", "SAE_B", 2, 256), tx.take("local", 64)))
    assert len(keys) == 2 and start == 64 and store.available_bits("local") == (1024 - 128) * 8


def test_a_flag_given_by_position_is_refused_and_consumes_nothing(tmp_path):
    """Flags of the writes are keyword-only: ``refuse_alarmed`` slipped in as a sixth positional argument is a
    type error (mypy) and a TypeError at run time - not a silently different request."""
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(256))
    before = store.fingerprint()
    with pytest.raises(TypeError):
        store.run(lambda tx: tx.issue_local("local", "SAE_A", "SAE_B", 1, 256, True))
    with pytest.raises(TypeError):
        store.run(lambda tx: tx.set_alarm("local", True))
    assert store.fingerprint() == before and store.alarm("local") == (False, None)


def test_a_write_needing_fsync_inside_a_transaction_begun_without_is_refused(tmp_path):
    """SQLite cannot raise the durability of an open transaction: a consuming write after a delivery mark in
    the same unit of work is refused, and the unit of work changes nothing."""
    store = open_store(tmp_path)
    store.deposit("local", os.urandom(256))
    [key] = store.issue_local("local", "SAE_A", "SAE_B", 1, 256)
    before = store.fingerprint()
    with pytest.raises(KeyStoreError, match="synchronous=FULL inside a transaction begun with NORMAL"):
        store.run(lambda tx: (tx.mark_delivered([(key.key_id, "master")]), tx.take("local", 16)))
    assert store.fingerprint() == before
