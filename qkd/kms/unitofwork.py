"""The unit of work of the key store: :class:`StoreTx`, one transaction over both parts (pool streams and
issued-key ledger), whose methods are the store's writes.

A write is always a method of a ``StoreTx``, run either alone (:meth:`qkd.kms.store.KeyStore.run`, one
transaction) or queued with others (:meth:`qkd.kms.store.KeyStore.run_batch`, group commit, each in its
own savepoint). An operation is a :data:`StoreOp`: a function of the open ``StoreTx``, typically
``lambda tx: tx.issue_local(pool, master, slave, number, size_bits, refuse_alarmed=True)``; flags are
keyword-only, so a misplaced positional argument is a type error where the operation is written.

Durability is decided here, per write, and nowhere else (SQLite WAL):

* **consuming** key material or **reserving** a key before it leaves the process (issuing keys, taking or
  receiving relay pads, the slave's reservation) and **depositing** (the producer's acknowledgement) commit
  with ``synchronous=FULL`` (fsync): were one rolled back by a power cut after its key was sent, the same
  pool bytes could be issued again (key reuse) or a key delivered twice;
* the later **delivery marks** (delivered, released, quarantined, expired; a relayed key recorded for the
  master) use the store's delivery durability - ``NORMAL`` unless ``durable_deliveries``: a killed process
  keeps them; a power cut can undo one, and the key is then found *reserved* and quarantined at the next
  open - never handed out again.

A direct ``StoreTx`` begins its transaction at its first write, with that write's durability; a later
write that needs more than the transaction has raises :class:`KeyStoreError` (SQLite cannot raise the
level of an open transaction) - run it in a transaction of its own. In a group commit the batch's level
covers every write (``FULL``, or ``NORMAL`` with the caller's :meth:`~qkd.kms.database.StoreDatabase.wal_sync`
before anything leaves the process).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from qkd.kms.database import StoreDatabase, Sync
from qkd.kms.errors import KeyStoreError
from qkd.kms.ledger import IssuedKey, KeyLedger, Role
from qkd.kms.pools import PoolStreams, xor_bytes

T = TypeVar("T")

CONSUME = Sync.FULL   # consuming key material, reserving a key, depositing: must survive a power cut


class StoreTx:
    """One transaction over the store's file. Made by :class:`qkd.kms.store.KeyStore`; valid only inside the
    operation it was handed to."""

    def __init__(self, db: StoreDatabase, pools: PoolStreams, ledger: KeyLedger, *, delivery_sync: Sync,
                 batch_sync: Sync | None = None) -> None:
        """``batch_sync``: the transaction is already open and its commit is at least as durable as every
        write needs (group commit); None: begin at the first write."""
        self._db = db
        self._pools = pools
        self._ledger = ledger
        self._delivery_sync = delivery_sync
        self.sync = batch_sync
        self._covers_all = batch_sync is not None

    def _write(self, sync: Sync) -> None:
        if self.sync is None:
            self._db.begin(sync)
            self.sync = sync
        elif not self._covers_all and not self.sync.covers(sync):
            raise KeyStoreError(f"a write that needs synchronous={sync.value} inside a transaction begun with "
                                f"{self.sync.value}: run it in a transaction of its own")

    @property
    def begun(self) -> bool:
        return self.sync is not None

    # ------------------------------------------------------------------ pool streams
    def ensure_pool(self, name: str, kind: str, capacity_bits: int) -> None:
        """Create pool ``name`` if absent (``kind``: 'link', 'local'); update its capacity otherwise."""
        self._write(Sync.FULL)
        self._pools.ensure(name, kind, capacity_bits)

    def deposit(self, pool: str, material: bytes) -> int:
        """Append ``material`` to ``pool``; returns the new tail offset (bytes). :class:`CapacityError`
        (nothing stored) if the pool would exceed its capacity: the producer must slow down or drop."""
        self._write(CONSUME)
        return self._pools.deposit(pool, material)

    def deposit_many(self, parts: Sequence[tuple[str, bytes]], *,
                     counters: dict[str, int] | None = None) -> list[int]:
        """Deposit each ``(pool, material)`` of ``parts``: all or nothing (:class:`CapacityError` if any pool
        would exceed its capacity, checked before any is written). Used for the two halves of a link block
        (:class:`qkd.kms.feeds.LinkKeySink`): a crash can never leave one direction with the block and the
        other without it. ``counters`` (name → value) are set with it. Returns the new tail offsets."""
        self._write(CONSUME)
        for pool, material in parts:
            self._pools.check_room(pool, len(material))
        tails = [self._pools.deposit(pool, material) for pool, material in parts]
        for name, value in (counters or {}).items():
            self._db.set_counter(name, value)
        return tails

    def truncate(self, pools: Iterable[str], offset: int) -> None:
        """Drop the stream bytes ``[offset, tail)`` of each pool: the end of a link that deposited a block its
        peer never did gives it up, so both ends' streams match again (see :meth:`PoolStreams.truncate`)."""
        self._write(Sync.FULL)
        for pool in pools:
            self._pools.truncate(pool, offset)

    def take(self, pool: str, nbytes: int) -> tuple[int, bytes]:
        """Consume the next ``nbytes`` of ``pool``: ``(start offset, bytes)``. :class:`InsufficientKeyError`
        (nothing consumed) if the pool holds fewer."""
        self._write(CONSUME)
        return self._pools.take(pool, nbytes)

    def take_range(self, pool: str, start: int, nbytes: int) -> bytes:
        """Consume stream bytes ``[start, start+nbytes)`` named by the peer that used them as a pad."""
        self._write(CONSUME)
        return self._pools.take_range(pool, start, nbytes)

    def set_alarm(self, pool: str, *, alarm: bool, qber: float | None = None) -> None:
        """Set or clear the link alarm of ``pool`` (with the QBER that caused it, a fraction)."""
        self._write(Sync.FULL)
        self._pools.set_alarm(pool, alarm=alarm, qber=qber)

    def set_counter(self, name: str, value: int) -> None:
        """Set durable counter ``name`` (e.g. the next block index of an emulated link)."""
        self._write(Sync.FULL)
        self._db.set_counter(name, value)

    # ------------------------------------------------------------------ issuing keys (both parts)
    def issue_local(self, pool: str, master: str, slave: str, number: int, size_bits: int, *,
                    refuse_alarmed: bool = False) -> list[IssuedKey]:
        """enc_keys for a pair served by this node: take ``number`` keys of ``size_bits`` from ``pool``, each
        with the master's delivery *reserved* and the slave's *pending*. :class:`InsufficientKeyError` with
        nothing consumed, or (with ``refuse_alarmed``) :class:`PoolAlarmedError` if the pool's link is
        alarmed - checked with the take."""
        self._write(CONSUME)
        _, material = self._pools.take(pool, number * (size_bits // 8), refuse_alarmed=refuse_alarmed)
        return self._ledger.issue(master, slave, material, number=number, size_bits=size_bits)

    def accept_relayed(self, pool: str, start: int, ciphertext: bytes, *, keys: Sequence[tuple[str, int]],
                       master: str, slave: str, verify: Callable[[bytes], bool]) -> None:
        """Slave's node: take the pad ``[start, start+len)`` from ``pool``, recover K = ciphertext XOR pad,
        check it with ``verify(K)`` and store each key (``(key_ID, size_bits)``) for the slave (*pending*).
        A failed check raises :class:`KeyStoreError` (and the transaction consumes nothing)."""
        self._write(CONSUME)
        material = xor_bytes(ciphertext, self._pools.take_range(pool, start, len(ciphertext)))
        if not verify(material):
            raise KeyStoreError(f"relayed keys for pool {pool!r} at offset {start}: end-to-end check "
                                "failed (corrupted or tampered relay)")
        pos = 0
        for key_id, size_bits in keys:
            n = size_bits // 8
            self._ledger.record(IssuedKey(key_id, material[pos:pos + n]), master, slave, role="slave")
            pos += n

    def record_issued_remote(self, master: str, slave: str, keys: Iterable[IssuedKey]) -> None:
        """Master's node, after a relay was acknowledged end to end: the master's deliveries are *reserved*."""
        self._write(self._delivery_sync)
        for k in keys:
            self._ledger.record(k, master, slave, role="master")

    # ------------------------------------------------------------------ deliveries
    def reserve_for_slave(self, master: str, slave: str, key_ids: Sequence[str]) -> list[IssuedKey]:
        """dec_keys: reserve every key of ``key_ids`` for ``slave``, all or nothing (see
        :meth:`KeyLedger.reserve_for_slave`)."""
        self._write(CONSUME)
        return self._ledger.reserve_for_slave(master, slave, key_ids)

    def mark_delivered(self, marks: Iterable[tuple[str, Role]]) -> None:
        """The responses carrying these ``(key_ID, role)`` were written: reserved → delivered."""
        self._write(self._delivery_sync)
        self._ledger.mark_delivered(marks)

    def release_reserved(self, key_ids: Iterable[str], role: Role) -> None:
        """The response could not be written at all: back to pending. Only before any byte was sent."""
        self._write(self._delivery_sync)
        self._ledger.release_reserved(key_ids, role)

    def quarantine(self, key_ids: Iterable[str], role: Role) -> None:
        """Writing the response failed after it may have started: the delivery is in doubt."""
        self._write(self._delivery_sync)
        self._ledger.quarantine(key_ids, role)

    def expire_keys(self, now: float | None = None) -> dict[str, int]:
        """Destroy slave deliveries past their deadline; the number expired per state they left."""
        self._write(self._delivery_sync)
        return self._ledger.expire(time.time() if now is None else now)

    def recover_reservations(self) -> tuple[int, int]:
        """At open: reservations left by a crash become quarantined (master) or in doubt (slave)."""
        self._write(Sync.FULL)
        return self._ledger.recover()


StoreOp = Callable[[StoreTx], T]
"""A store operation: a function of the open unit of work (see the module docstring)."""
