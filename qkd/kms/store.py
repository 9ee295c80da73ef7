"""Durable key store: one SQLite file (WAL) holding two parts, sealed with AES-256-GCM under the node's
master key.

* :mod:`qkd.kms.pools` - **pool streams**: the key material links and feeds deposit, a byte stream per pool
  with per-stream head and tail offsets;
* :mod:`qkd.kms.ledger` - **issued-key ledger**: keys issued to SAE pairs and their delivery states (at
  most once per party; in doubt after a crash; expired past their deadline).

Every write is a method of the unit of work :class:`qkd.kms.unitofwork.StoreTx`, which also decides each
write's durability. :class:`KeyStore` opens the file and the parts, and runs units of work: one at a time
(:meth:`KeyStore.run`, one transaction) or many in one transaction (:meth:`KeyStore.run_batch`, the group
commit of :mod:`qkd.kms.groupcommit`). Its write methods (:meth:`~KeyStore.deposit`, :meth:`~KeyStore.take`,
:meth:`~KeyStore.issue_local`, …) are conveniences for a single write in its own transaction; every other
write is ``store.run(lambda tx: tx.<write>(…))``.

Pipelined group commit (:meth:`KeyStore.run_batch` with ``durable=False``, used by the KME service): the
batch's transaction commits with ``synchronous=NORMAL`` - its WAL frames are written to the OS, which
survives a killed process - and :meth:`KeyStore.wal_sync` then fdatasyncs the WAL file, which is exactly
the sync that ``synchronous=FULL`` does at commit in WAL mode (SQLite, "Write-Ahead Logging", sync
rules), only done by the caller, in a thread, so that the event loop goes on meanwhile. Nothing of such a
batch may leave the process before ``wal_sync`` returns; the WAL is append-only between checkpoints and a
checkpoint syncs the WAL before and the database after copying, so a sync also covers every earlier commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from qkd.kms.database import StoreDatabase, Sync
from qkd.kms.ledger import IssuedKey, KeyLedger, KeyLifetimes, Role
from qkd.kms.masterkey import Sealer
from qkd.kms.pools import PoolMetrics, PoolStreams
from qkd.kms.unitofwork import CONSUME, StoreOp, StoreTx

log = logging.getLogger(__name__)

T = TypeVar("T")
BatchOutcome = tuple[bool, Any]
"""Per operation of a batch: ``(True, result)`` or ``(False, the exception it raised)``."""


class KeyStore:
    """SQLite-backed, crash-safe key store. Not thread-safe (one instance per event loop / process), except
    :meth:`wal_sync`, which may run in another thread."""

    def __init__(self, db_path: str | Path, sealer: Sealer, *, chunk_bytes: int = 4096,
                 durable_deliveries: bool = False, busy_timeout_s: float = 5.0, recover: bool = True,
                 lifetimes: KeyLifetimes | None = None) -> None:
        """``busy_timeout_s``: how long a transaction waits for another connection's write lock (seconds)
        before it fails (``sqlite3.OperationalError``, "database is locked"). ``recover=False``: do not
        quarantine reservations at open - for a further worker process opening a store that the node's
        first process already recovered and whose reservations belong to live processes. ``lifetimes``:
        deadlines of slave deliveries (:mod:`qkd.kms.ledger`). ``durable_deliveries``: delivery marks are
        fsync'd too (:mod:`qkd.kms.unitofwork`)."""
        self.path = Path(db_path)
        self._db = StoreDatabase(self.path, busy_timeout_s=busy_timeout_s)
        self.pools = PoolStreams(self._db, sealer, chunk_bytes=chunk_bytes)
        self.ledger = KeyLedger(self._db, sealer, lifetimes or KeyLifetimes())
        self._delivery_sync = Sync.FULL if durable_deliveries else Sync.NORMAL
        self._deferred_marks: list[tuple[str, Role]] = []
        self.quarantined_at_open = 0
        self.in_doubt_at_open = 0
        if recover:
            self.quarantined_at_open, self.in_doubt_at_open = self.run(lambda tx: tx.recover_reservations())
            if self.quarantined_at_open or self.in_doubt_at_open:
                log.warning("in-doubt key deliveries after restart: master's quarantined, slave's redeemable by "
                            "that slave until their deadline",
                            extra={"event": "kms.store.quarantine", "count": self.quarantined_at_open,
                                   "in_doubt": self.in_doubt_at_open})

    @property
    def chunk_bytes(self) -> int:
        return self.pools.chunk_bytes

    @property
    def lifetimes(self) -> KeyLifetimes:
        return self.ledger.lifetimes

    def close(self) -> None:
        self.flush_delivered()
        self._db.close()

    def wal_sync(self) -> None:
        """fdatasync the WAL: every transaction committed before the call is durable once it returns (see
        :meth:`qkd.kms.database.StoreDatabase.wal_sync`; may run in another thread)."""
        self._db.wal_sync()

    # ------------------------------------------------------------------ units of work
    def _tx(self, batch_sync: Sync | None = None) -> StoreTx:
        return StoreTx(self._db, self.pools, self.ledger, delivery_sync=self._delivery_sync, batch_sync=batch_sync)

    def _rollback(self) -> None:
        self._db.rollback()
        self.pools.forget_cache()

    def run(self, op: StoreOp[T]) -> T:
        """Run ``op`` in one transaction (begun at its first write, with that write's durability): committed
        when ``op`` returns, rolled back if it raises."""
        tx = self._tx()
        try:
            result = op(tx)
        except BaseException:
            if tx.begun:
                self._rollback()
            raise
        if tx.begun:
            self._db.commit()
        return result

    def run_batch(self, ops: Sequence[StoreOp[Any]], *, durable: bool = True) -> list[BatchOutcome]:
        """Group commit: run ``ops`` and the queued delivered marks in ONE transaction, each op in its own
        savepoint so that a failing op changes nothing.

        Returns ``(True, result)`` or ``(False, exception)`` per op, after the commit - so a reservation
        is durable before its caller may send anything. If the commit itself fails, it raises and no op
        took effect. ``durable=False``: the commit is not fsync'd here (``synchronous=NORMAL``); the caller
        must see :meth:`wal_sync` return before any result leaves the process (pipelined group commit).
        """
        marks, self._deferred_marks = self._deferred_marks, []
        sync = (CONSUME if durable else Sync.NORMAL) if ops else self._delivery_sync
        tx = self._tx(batch_sync=sync)
        out: list[BatchOutcome] = []
        self._db.begin(sync)
        try:
            if marks:
                tx.mark_delivered(marks)
            for op in ops:
                try:
                    with self._db.savepoint():
                        result = op(tx)
                except Exception as exc:  # noqa: BLE001 - returned to the op's caller
                    out.append((False, exc))
                else:
                    out.append((True, result))
            self._db.commit()
        except BaseException:
            self._rollback()
            raise
        return out

    # ------------------------------------------------------------------ delivered marks
    def mark_delivered(self, key_ids: Iterable[str], role: Role, *, defer: bool = False) -> None:
        """The response carrying these keys was written: reserved → delivered; wipe finished keys.

        ``defer=True`` queues the mark for the next :meth:`flush_delivered` or :meth:`run_batch` (one
        transaction for many responses). Safe for at-most-once: a key left *reserved* by a crash before the
        flush is quarantined at the next open, which also never hands it out again; only the label differs.
        """
        self._deferred_marks.extend((k, role) for k in key_ids)
        if not defer:
            self.flush_delivered()

    def has_deferred_marks(self) -> bool:
        """Whether delivered marks wait for the next transaction (see :meth:`mark_delivered`)."""
        return bool(self._deferred_marks)

    def flush_delivered(self) -> int:
        """Commit the queued delivered marks (and wipe the keys that are finished); returns how many."""
        marks, self._deferred_marks = self._deferred_marks, []
        if marks:
            self.run(lambda tx: tx.mark_delivered(marks))
        return len(marks)

    # ------------------------------------------------------------------ single writes (conveniences)
    def ensure_pool(self, name: str, kind: str, capacity_bits: int) -> None:
        """:meth:`StoreTx.ensure_pool` in a transaction of its own."""
        self.run(lambda tx: tx.ensure_pool(name, kind, capacity_bits))

    def deposit(self, pool: str, material: bytes) -> int:
        """:meth:`StoreTx.deposit`, durable (fsync'd commit) on return - the producer's acknowledgement."""
        return self.run(lambda tx: tx.deposit(pool, material))

    def take(self, pool: str, nbytes: int) -> tuple[int, bytes]:
        """:meth:`StoreTx.take`, committed before return."""
        return self.run(lambda tx: tx.take(pool, nbytes))

    def take_range(self, pool: str, start: int, nbytes: int) -> bytes:
        """:meth:`StoreTx.take_range`, committed before return."""
        return self.run(lambda tx: tx.take_range(pool, start, nbytes))

    def issue_local(self, pool: str, master: str, slave: str, number: int, size_bits: int, *,
                    refuse_alarmed: bool = False) -> list[IssuedKey]:
        """:meth:`StoreTx.issue_local` in a transaction of its own."""
        return self.run(lambda tx: tx.issue_local(pool, master, slave, number, size_bits,
                                                  refuse_alarmed=refuse_alarmed))

    def reserve_for_slave(self, master: str, slave: str, key_ids: Sequence[str]) -> list[IssuedKey]:
        """:meth:`StoreTx.reserve_for_slave` in a transaction of its own."""
        return self.run(lambda tx: tx.reserve_for_slave(master, slave, key_ids))

    def expire_keys(self, now: float | None = None) -> dict[str, int]:
        """:meth:`StoreTx.expire_keys` in a transaction of its own, logged when it destroyed keys."""
        out = self.run(lambda tx: tx.expire_keys(now))
        if any(out.values()):
            log.warning("slave deliveries expired: keys destroyed", extra={"event": "kms.keys.expired", **out})
        return out

    # ------------------------------------------------------------------ reads
    def pool_names(self) -> list[str]:
        return self.pools.names()

    def available_bits(self, pool: str) -> int:
        """Bits of key stored in ``pool`` and not yet consumed."""
        return self.pools.available_bits(pool)

    def headroom_bits(self, pool: str) -> int:
        """Bits ``pool`` can still take before it is full."""
        return self.pools.headroom_bits(pool)

    def tail(self, pool: str) -> int:
        """Stream offset (bytes) the next deposit into ``pool`` starts at."""
        return self.pools.tail(pool)

    def alarm(self, pool: str) -> tuple[bool, float | None]:
        """``(alarmed, qber)`` of ``pool``'s link."""
        return self.pools.alarm(pool)

    def counter(self, name: str) -> int:
        """A durable counter (e.g. the next block index of an emulated link); 0 if never set."""
        return self._db.counter(name)

    def metrics(self, *, rates: bool = True) -> list[PoolMetrics]:
        """Per-pool figures (see :meth:`PoolStreams.metrics`)."""
        return self.pools.metrics(rates=rates)

    def delivery_counts(self) -> dict[str, int]:
        """Counts of delivery records by ``role:state`` (e.g. ``slave:pending``)."""
        self.flush_delivered()
        return self.ledger.delivery_counts()

    def lifecycle_counts(self) -> dict[str, int]:
        """Key lifetime counts (see :meth:`KeyLedger.lifecycle_counts`)."""
        return self.ledger.lifecycle_counts()

    def fingerprint(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """Everything an API call could change (pool offsets, key rows, delivery states): tests compare it."""
        self.flush_delivered()
        return self.pools.fingerprint(), self.ledger.fingerprint()
