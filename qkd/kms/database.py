"""The key store's SQLite file: one WAL-mode connection, its transactions and their durability, and the
durable counters both parts of the store use.

Durability is chosen per transaction (:class:`Sync`) before it begins - SQLite refuses to change it inside
one. ``FULL`` fsyncs the WAL at commit (survives a power cut); ``NORMAL`` writes the WAL to the OS (survives a
killed process; a power cut may undo the last commits). Which write needs which is decided in one place,
:class:`qkd.kms.unitofwork.StoreTx`. :meth:`StoreDatabase.wal_sync` is that same fsync done later, by the
caller, in another thread (pipelined group commit, :mod:`qkd.kms.groupcommit`).
"""

from __future__ import annotations

import enum
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_COUNTERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
"""


class Sync(enum.Enum):
    """``PRAGMA synchronous`` of a transaction's commit (WAL mode)."""

    NORMAL = "NORMAL"   # WAL frames reach the OS: survives a killed process
    FULL = "FULL"       # and the WAL is fsync'd: survives a power cut

    def covers(self, other: Sync) -> bool:
        """Whether a commit at this level is at least as durable as one at ``other``."""
        return self is Sync.FULL or other is Sync.NORMAL


class StoreDatabase:
    """One SQLite connection in WAL mode. Not thread-safe, except :meth:`wal_sync`."""

    def __init__(self, path: Path, *, busy_timeout_s: float) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self._sync = Sync.FULL
        self.conn.executescript(_COUNTERS_SCHEMA)
        self._wal_path = Path(f"{path}-wal")
        self._wal_fd: int | None = None
        self._wal_lock = threading.Lock()

    def close(self) -> None:
        self.conn.close()
        with self._wal_lock:
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None

    # ------------------------------------------------------------------ transactions
    def set_sync(self, sync: Sync) -> None:
        """Durability of the next commits (outside a transaction only)."""
        if sync is not self._sync:
            self.conn.execute(f"PRAGMA synchronous={sync.value}")
            self._sync = sync

    def begin(self, sync: Sync) -> None:
        """Open a write transaction (takes the write lock now, waiting up to the busy timeout)."""
        self.set_sync(sync)
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self, sync: Sync) -> Iterator[None]:
        """One write transaction: committed if the block returns, rolled back if it raises."""
        self.begin(sync)
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: the block's writes are undone if it raises (the transaction goes on)."""
        self.conn.execute("SAVEPOINT op")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO op")
            self.conn.execute("RELEASE op")
            raise
        self.conn.execute("RELEASE op")

    def wal_sync(self) -> None:
        """fdatasync the WAL file: every transaction committed before this call is durable once it returns.

        Touches no SQLite state, so it may run in another thread while this one goes on with new
        transactions. Raises ``OSError`` if the disk reports a failure: then nothing committed since the last
        successful sync may be taken as durable.
        """
        with self._wal_lock:
            fd = self._wal_fd
            if fd is None or os.fstat(fd).st_ino != os.stat(self._wal_path).st_ino:  # reopened after a reset
                if fd is not None:
                    os.close(fd)
                    self._wal_fd = None
                fd = self._wal_fd = os.open(self._wal_path, os.O_RDONLY | os.O_CLOEXEC)
            os.fdatasync(fd)

    # ------------------------------------------------------------------ durable counters
    def counter(self, name: str) -> int:
        """A durable counter; 0 if never set."""
        row = self.conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_counter(self, name: str, value: int) -> None:
        """Inside a transaction: set counter ``name``."""
        self.conn.execute("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                          "value=excluded.value", (name, value))

    def add_counter(self, name: str, delta: int) -> None:
        """Inside a transaction: add ``delta`` to counter ``name``."""
        if delta:
            self.conn.execute("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                              "value=value+excluded.value", (name, delta))
