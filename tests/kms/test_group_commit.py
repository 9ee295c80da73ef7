"""Pipelined group commit: concurrent requests share one transaction and one WAL sync; a result is released
only after the sync that follows its commit; a failed commit or sync releases nothing."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from qkd.kms.client import KmeClient, KmeRefusedError
from qkd.kms.errors import KeyAlreadyDeliveredError, KeyStoreError
from qkd.kms.groupcommit import GroupCommit
from qkd.kms.ledger import IssuedKey
from qkd.kms.masterkey import Sealer, load_or_create
from qkd.kms.store import KeyStore
from qkd.kms.unitofwork import StoreOp


def open_store(tmp_path, **kw) -> KeyStore:
    store = KeyStore(tmp_path / "k.sqlite", Sealer(load_or_create(tmp_path / "master.key")), **kw)
    store.ensure_pool("local", "local", 1 << 24)
    store.deposit("local", os.urandom(1 << 16))
    return store


def issue(number: int) -> StoreOp[list[IssuedKey]]:
    """enc_keys of SAE_A for SAE_B: ``number`` keys of 256 bits from the local pool."""
    return lambda tx: tx.issue_local("local", "SAE_A", "SAE_B", number, 256)


def redeem(key_ids: list[str]) -> StoreOp[list[IssuedKey]]:
    """dec_keys of SAE_B for keys of SAE_A."""
    return lambda tx: tx.reserve_for_slave("SAE_A", "SAE_B", key_ids)


def committed_key_rows(tmp_path) -> int:
    """Key rows another connection sees (what is committed, durable or not)."""
    db = sqlite3.connect(tmp_path / "k.sqlite")
    try:
        return db.execute("SELECT COUNT(*) FROM keys").fetchone()[0]
    finally:
        db.close()


async def test_results_are_released_only_after_the_wal_sync_that_follows_their_commit(tmp_path):
    store = open_store(tmp_path)
    gate = threading.Event()
    synced_rows: list[int] = []

    def gated_sync() -> None:        # the real fdatasync of the WAL, held back until the test opens the gate
        gate.wait(10)
        store.wal_sync()
        synced_rows.append(committed_key_rows(tmp_path))

    commits = GroupCommit(store, sync=gated_sync)
    try:
        futs = [commits.submit(issue(1)) for _ in range(8)]
        for _ in range(20):          # let the loop run the flush; the batch commits, its sync waits at the gate
            await asyncio.sleep(0.005)
        assert committed_key_rows(tmp_path) == 8 and commits.batches == 1
        assert not any(f.done() for f in futs)
        # requests arriving while the sync is in flight are gathered; they are committed when it returns and
        # released only by the next sync, which starts after their commit
        late = [commits.submit(issue(2)) for _ in range(3)]
        for _ in range(10):
            await asyncio.sleep(0.005)
        assert committed_key_rows(tmp_path) == 8 and not any(f.done() for f in late)
        gate.set()
        first = [k for f in futs for k in await f]
        keys = first + [k for f in late for k in await f]
    finally:
        commits.close()
    assert len({k.key_id for k in keys}) == 14 and len({k.key for k in keys}) == 14
    assert commits.batches == 2 and commits.syncs == 2 and synced_rows == [8, 14]
    store.close()


async def test_concurrent_redemptions_through_group_commit_hand_each_key_out_once(tmp_path):
    store = open_store(tmp_path)
    commits = GroupCommit(store)
    try:
        issued = await asyncio.gather(*(commits.submit(issue(2))
                                        for _ in range(16)))
        keys = [k for batch in issued for k in batch]
        assert len({k.key for k in keys}) == 32             # distinct pool bytes for every key
        assert store.available_bits("local") == (1 << 19) - 32 * 256
        # three concurrent redemptions of every key: they land in the same batches, each key goes out once
        attempts = [commits.submit(redeem([k.key_id]))
                    for k in keys for _ in range(3)]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    finally:
        commits.close()
    won = [o[0] for o in outcomes if isinstance(o, list)]
    lost = [o for o in outcomes if not isinstance(o, list)]
    assert sorted(k.key_id for k in won) == sorted(k.key_id for k in keys)
    assert {k.key_id: k.key for k in won} == {k.key_id: k.key for k in keys}
    assert len(lost) == 64 and all(isinstance(e, KeyAlreadyDeliveredError) for e in lost)
    store.close()


async def test_a_failed_group_commit_fails_every_waiter_and_consumes_nothing(tmp_path):
    store = open_store(tmp_path, busy_timeout_s=0.05)
    [pending] = store.issue_local("local", "SAE_A", "SAE_B", 1, 256)
    before = store.fingerprint()
    blocker = sqlite3.connect(tmp_path / "k.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")             # another process holds the write lock past the busy timeout
    commits = GroupCommit(store)
    try:
        futs = [commits.submit(issue(1)) for _ in range(5)]
        futs.append(commits.submit(redeem([pending.key_id])))
        outcomes = await asyncio.gather(*futs, return_exceptions=True)
        assert all(isinstance(o, KeyStoreError) and "group commit of 6 request(s) failed" in str(o)
                   for o in outcomes), outcomes
        blocker.execute("ROLLBACK")
        assert store.fingerprint() == before
        # the store works on once the lock is free: the same key is still there for the slave
        [again] = await commits.submit(redeem([pending.key_id]))
        assert again.key == pending.key
    finally:
        commits.close()
        blocker.close()
    store.close()


async def test_a_failed_wal_sync_sends_no_key_refuses_later_requests_and_quarantines_at_reopen(tmp_path):
    store = open_store(tmp_path)

    def failing_disk() -> None:      # the disk reports an error for the sync (as fdatasync does with EIO)
        store.wal_sync()
        raise OSError(errno.EIO, "Input/output error")

    commits = GroupCommit(store, sync=failing_disk)
    try:
        futs = [commits.submit(issue(1)) for _ in range(4)]
        outcomes = await asyncio.gather(*futs, return_exceptions=True)
        assert all(isinstance(o, KeyStoreError) and "sync failed" in str(o) for o in outcomes)
        with pytest.raises(KeyStoreError, match="sync failed"):
            commits.submit(issue(1))
    finally:
        commits.close()
    store.close()
    reopened = open_store(tmp_path)
    assert reopened.quarantined_at_open == 4          # in doubt: never handed out
    assert reopened.delivery_counts()["master:quarantined"] == 4
    reopened.close()


async def test_concurrent_saes_over_mtls_get_each_key_exactly_once(kme, pki):
    """Many concurrent enc_keys over real mTLS connections, then three concurrent dec_keys per key_ID."""
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as a, \
            KmeClient(kme.url, pki.client_context("SAE_B")) as b:
        batches = await asyncio.gather(*(a.enc_keys("SAE_B", 2, 256) for _ in range(24)))
        keys = {k.key_id: bytes(k.key) for batch in batches for k in batch}
        assert len(keys) == 48 and len(set(keys.values())) == 48

        async def redeem(key_id: str):
            try:
                [got] = await b.dec_keys("SAE_A", [key_id])
                return got
            except KmeRefusedError as exc:
                assert exc.status == 400
                return None

        got = await asyncio.gather(*(redeem(k) for k in keys for _ in range(3)))
    delivered = [g for g in got if g is not None]
    assert sorted(g.key_id for g in delivered) == sorted(keys)
    assert all(bytes(g.key) == keys[g.key_id] for g in delivered)
    assert kme.service.commits.syncs <= kme.service.commits.batches


TYPED_OPS = """
from qkd.kms.groupcommit import GroupCommit
from qkd.kms.store import KeyStore


async def enc_keys(store: KeyStore, commits: GroupCommit) -> None:
    store.run(lambda tx: tx.issue_local("local", "SAE_A", "SAE_B", 1, 256, True))
    keys = await commits.submit(lambda tx: tx.reserve_for_slave("SAE_A", "SAE_B", ["id"]))
    keys.append(3)
    await commits.submit(lambda tx: tx.issue_local("local", "SAE_A", "SAE_B", 1, 256, refuse_alarmed=True))
"""


def test_queued_operations_are_typed_a_positional_flag_and_a_wrong_result_use_are_type_errors(tmp_path):
    """What group commit queues is a function of the typed unit of work: mypy checks the call inside it (a
    flag given by position) and the result its future carries; the well-formed operation passes."""
    pytest.importorskip("mypy")
    (tmp_path / "ops.py").write_text(textwrap.dedent(TYPED_OPS))
    root = Path(__file__).resolve().parents[2]
    # a process of its own: mypy raises the interpreter's recursion limit, which would change later tests
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
                          "--config-file", str(root / "pyproject.toml"), str(tmp_path / "ops.py")],
                         capture_output=True, text=True, cwd=root, timeout=240)
    out, rc = run.stdout, run.returncode
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert rc == 1 and len(errors) == 2, out
    assert 'ops.py:7: error: Too many positional arguments for "issue_local" of "StoreTx"' in errors[0]
    assert 'ops.py:9: error: Argument 1 to "append" of "list" has incompatible type "int"; expected "IssuedKey"' \
        in errors[1]
