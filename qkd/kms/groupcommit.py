"""Pipelined group commit of the KME's key deliveries (a standard database technique: Gray & Reuter,
"Transaction Processing", group commit; Helland et al., HPTS 1987).

The store operations of all requests that reach the handlers in one event-loop turn run in ONE SQLite
transaction (:meth:`KeyStore.run_batch`), together with the queued *delivered* marks. An operation is a
typed :data:`qkd.kms.unitofwork.StoreOp` - a function of the open unit of work, e.g. ``lambda tx:
tx.reserve_for_slave(master, slave, key_ids)`` - and its future carries that operation's result type. The transaction is
committed without fsync (``durable=False``: its WAL frames reach the OS, which a killed process cannot
undo) and one ``fdatasync`` of the WAL (:meth:`KeyStore.wal_sync`) then runs in a worker thread while
the event loop goes on parsing requests, encrypting responses and committing the next batches. A request's
result (its keys, or its error) is released only once a sync that *started after its commit* returned:
nothing of a batch leaves the process before the batch is durable, exactly as with
``synchronous=FULL`` - the loop just does not sit idle during the disk's latency. Requests that arrive
while a sync is in flight could only be released by the next sync anyway, so they are gathered and
committed as ONE transaction when the sync returns, and the next sync starts right after: under load each
transaction and each sync carries all the requests of one disk round trip.

Failures: a transaction that fails (for instance the write lock stays taken by another process past the
busy timeout) rolls back - every request of the batch gets the error and nothing was consumed. A failed
sync cannot be rolled back (the transaction is committed, only its durability is unknown): every waiting
request gets a :class:`KeyStoreError`, no key of those batches is sent, and the group commit refuses all
later requests (fail-stop, as databases do after an fsync error: the page cache can no longer be trusted).
The keys those batches reserved stay *reserved* and are quarantined when the store is next opened; the
pool bytes they took are lost, never used twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from qkd.kms.errors import KeyStoreError
from qkd.kms.store import BatchOutcome, KeyStore
from qkd.kms.unitofwork import StoreOp

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class _Request(Generic[T]):
    """One queued operation, the future its caller awaits, and how to undo its result if that caller went
    away before the result was released (nothing was sent for it)."""

    op: StoreOp[T]
    future: asyncio.Future[T]
    on_orphan: Callable[[T], None] | None

    def release(self, outcome: BatchOutcome) -> None:
        """Hand the durable outcome to the caller, or undo it if the caller is gone."""
        ok, value = outcome
        if self.future.cancelled():
            if ok and self.on_orphan is not None:
                try:
                    self.on_orphan(value)
                except Exception:  # noqa: BLE001 - the other waiters must still be released
                    log.exception("undoing an orphaned delivery failed", extra={"event": "kms.store.orphan_failed"})
        elif ok:
            self.future.set_result(value)
        else:
            self.future.set_exception(value)


def _fail_all(futures: Iterable[asyncio.Future[Any]], err: BaseException) -> None:
    """Give ``err`` to every future not yet resolved (a cancelled one is left as it is)."""
    for fut in futures:
        if not fut.done():
            fut.set_exception(err)


class GroupCommit:
    """Batches store operations of one event-loop turn into one transaction and releases each result only
    after the WAL sync that makes it durable (see the module docstring).

    ``sync`` is the durability barrier (default :meth:`KeyStore.wal_sync`), run in a private worker thread.
    """

    def __init__(self, store: KeyStore, sync: Callable[[], None] | None = None) -> None:
        self.store = store
        self._sync = sync if sync is not None else store.wal_sync
        self._pending: list[_Request[Any]] = []
        self._scheduled = False
        self._unsynced: list[tuple[list[_Request[Any]], list[BatchOutcome]]] = []
        self._syncing = False
        self._failed: KeyStoreError | None = None
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kms-wal-sync")
        self.batches = 0     # transactions committed (counters for tests and metrics)
        self.syncs = 0       # WAL syncs that released batches

    def submit(self, op: StoreOp[T], *, on_orphan: Callable[[T], None] | None = None) -> asyncio.Future[T]:
        """Queue ``op`` (a function of the batch's :class:`~qkd.kms.unitofwork.StoreTx`); the future resolves
        to its result once its batch is durable. ``on_orphan(result)`` undoes a result whose caller went away
        before it was released (nothing was sent for it). Raises :class:`KeyStoreError` after a failed sync
        (fail-stop)."""
        if self._failed is not None:
            raise self._failed
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(op, fut, on_orphan))
        self.kick()
        return fut

    def kick(self) -> None:
        """Make sure a flush runs on the next loop turn (also flushes queued delivered marks)."""
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def close(self) -> None:
        """Wait for a sync in flight and stop the worker thread. Results not yet released then fail (their
        keys stay *reserved*, quarantined at the next open); nothing is committed after this."""
        self._closed = True
        self._executor.shutdown(wait=True)

    def _flush(self) -> None:
        self._scheduled = False
        if self._syncing and self._failed is None:
            # a sync is in flight: what arrives now can only be released by the NEXT sync, which starts when
            # this one returns - so gather it until then and commit it as one transaction (less CPU)
            return
        batch, self._pending = self._pending, []
        if self._closed and self._failed is None:
            self._failed = KeyStoreError("the key store is closing")
        if self._failed is not None:
            _fail_all((r.future for r in batch), self._failed)
            return
        try:
            results = self.store.run_batch([r.op for r in batch], durable=False)
        except Exception as exc:  # rolled back: nothing of the batch took effect
            log.exception("group commit failed", extra={"event": "kms.store.commit_failed"})
            err = KeyStoreError(f"group commit of {len(batch)} request(s) failed: {type(exc).__name__}: {exc}")
            _fail_all((r.future for r in batch), err)
            return
        if not batch:   # only delivered marks: nothing waits for their durability
            return
        self.batches += 1
        self._unsynced.append((batch, results))
        self._start_sync()

    def _start_sync(self) -> None:
        if self._syncing or not self._unsynced:
            return
        if self._closed or self._failed is not None:
            _fail_all((r.future for batch, _ in self._unsynced for r in batch),
                      self._failed or KeyStoreError("the key store is closing"))
            self._unsynced = []
            return
        self._syncing = True
        covered, self._unsynced = self._unsynced, []     # every batch committed before the sync starts
        done = asyncio.get_running_loop().run_in_executor(self._executor, self._sync)
        done.add_done_callback(lambda f: self._synced(covered, f))

    def _synced(self, covered: list[tuple[list[_Request[Any]], list[BatchOutcome]]],
                done: asyncio.Future[None]) -> None:
        self._syncing = False
        exc = None if done.cancelled() else done.exception()
        if done.cancelled() or exc is not None:
            self._failed = KeyStoreError(f"key store WAL sync failed ({type(exc).__name__}: {exc}); the store "
                                         "refuses further deliveries until it is reopened")
            log.critical("key store WAL sync failed", extra={"event": "kms.store.sync_failed",
                                                             "error": str(exc)})
            _fail_all((r.future for batch, _ in covered + self._unsynced for r in batch), self._failed)
            self._unsynced = []
            return
        self.syncs += 1
        for batch, results in covered:
            for request, outcome in zip(batch, results, strict=True):
                request.release(outcome)
        if self._pending or self.store.has_deferred_marks():
            self._flush()        # commits what gathered during the sync and starts the next sync
