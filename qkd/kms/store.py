"""Durable key store: per-link key pools and issued SAE keys in SQLite (WAL), sealed with AES-256-GCM.

Two kinds of records:

* **pools** - a byte stream of key shared with a peer, one pool per (link or relay peer, direction), plus
  a ``local`` pool for SAE pairs attached to this node. A deposit appends to the stream's *tail*; a
  consumer takes bytes from its *head*. Bytes are addressed by their stream offset, which is the same at
  both ends of a link (both ends deposit the same blocks in the same order), so a sender can name the
  pad it used as ``(start, length)`` and the receiver takes exactly those bytes
  (:meth:`KeyStore.take_range`; bytes before ``start`` that the sender burned are discarded and counted).
  Stored in immutable sealed chunks of ``chunk_bytes``; the pool's head offset says what is consumed, and
  a chunk is deleted as soon as it is wholly consumed, so at most ``chunk_bytes`` of consumed key per pool
  remain on disk (sealed under the master key). Issued keys' material is dropped once every delivery
  this node serves for it is done.
* **keys** - keys issued to a (master SAE, slave SAE) pair under a UUID key_ID, with a delivery state per
  role this node serves (``master_state`` via enc_keys, ``slave_state`` via dec_keys; NULL if not here).

Delivery is at most once per party: ``pending → reserved → delivered``. A reservation is committed before
the key leaves the process and marked delivered after the response was written. A reservation left over
by a crash (or a response that failed after it may have started) is *in doubt*: the caller may or may not
have received the key.

* **master side** (enc_keys): *quarantined*, never handed out again - the master cannot name the key it
  may have missed, so nobody could redeem it anyway.
* **slave side** (dec_keys): *in_doubt*. The key was already bound to one (master, slave) pair, and the
  slave named it by key_ID: the same slave SAE - and only it (dec_keys checks the pair) - may redeem it
  again until ``in_doubt_ttl_s`` after the doubt arose; then it is destroyed (*expired*, material wiped).
  A repeated delivery goes to the party that was entitled to it in the first place and to nobody else,
  so no third party ever sees a key; without this rule a kill during dec_keys lost the key for good.

**Orphans**: a slave delivery still *pending* ``pending_ttl_s`` after the key was issued (e.g. the relay's
reply never reached the master's node, so no master SAE holds the key_ID; or the master's delivery was
quarantined) is destroyed the same way. Every key has its ``expires`` time; :meth:`KeyStore.expire_keys`
destroys the overdue ones (the KME runs it periodically) and a dec_keys past the deadline is refused even
before the sweep ran. Counts: :meth:`KeyStore.lifecycle_counts` (expired keys per state they left,
in-doubt keys redeemed again, reservations found in doubt at open), reported in ``qshift kme status`` and
``/metrics``.
Durability (SQLite WAL): deposits are committed with ``PRAGMA synchronous=FULL`` (fsync) before
:meth:`deposit` returns - the producer's acknowledgement. Every transaction that *consumes* key material
or *reserves* a key before it leaves the process (issuing keys, taking or receiving relay pads, the slave's
reservation, a group commit carrying any of these) is FULL too: were one rolled back by a power cut after
its key was sent, the same pool bytes could be issued again (key reuse) or a key delivered twice. Only the
later *delivered* marks (and quarantine/release) use ``synchronous=NORMAL``, which survives a killed
process; a power cut can undo such a mark, and the key is then found *reserved* and quarantined at the
next open - never handed out again. ``durable_deliveries=True`` makes those marks FULL as well.

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
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qkd.kms.errors import CapacityError, InsufficientKeyError, KeyStoreError
from qkd.kms.masterkey import Sealer

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pools (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    capacity_bits INTEGER NOT NULL,
    head INTEGER NOT NULL DEFAULT 0,
    tail INTEGER NOT NULL DEFAULT 0,
    deposited_bytes INTEGER NOT NULL DEFAULT 0,
    consumed_bytes INTEGER NOT NULL DEFAULT 0,
    discarded_bytes INTEGER NOT NULL DEFAULT 0,
    alarm INTEGER NOT NULL DEFAULT 0,
    qber REAL
);
CREATE TABLE IF NOT EXISTS chunks (
    pool TEXT NOT NULL,
    start INTEGER NOT NULL,
    nbytes INTEGER NOT NULL,
    added REAL NOT NULL,
    nonce BLOB NOT NULL,
    ct BLOB NOT NULL,
    PRIMARY KEY (pool, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    master_sae TEXT NOT NULL,
    slave_sae TEXT NOT NULL,
    size_bits INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    -- delivery state per role this node serves; NULL: not served here
    master_state TEXT CHECK (master_state IN ('pending', 'reserved', 'delivered', 'quarantined', 'in_doubt',
                                              'expired')),
    slave_state TEXT CHECK (slave_state IN ('pending', 'reserved', 'delivered', 'quarantined', 'in_doubt',
                                            'expired')),
    nonce BLOB,
    ct BLOB,
    -- when a slave delivery still pending or in doubt is destroyed (epoch seconds); NULL: no deadline
    expires REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
"""
_KEYS_INDEX = ("CREATE INDEX IF NOT EXISTS keys_open_slave ON keys(expires) "
               "WHERE slave_state IN ('pending', 'in_doubt')")
_ROLE_COLUMN = {"master": "master_state", "slave": "slave_state"}
_OPEN_STATES = "('pending', 'reserved', 'in_doubt')"   # the material of a key in one of these is kept
_EXPIRED_COUNTER = "keys_expired_total:"               # + the state the key left ('pending', 'in_doubt')
_REDELIVERED_COUNTER = "keys_in_doubt_redelivered_total"
_IN_DOUBT_AT_OPEN_COUNTER = "keys_in_doubt_at_open_total"
_QUARANTINED_AT_OPEN_COUNTER = "keys_quarantined_at_open_total"
DEFAULT_PENDING_TTL_S = 24 * 3600.0
DEFAULT_IN_DOUBT_TTL_S = 600.0
_CONSUME_SYNC = "FULL"   # consuming key material / reserving a key: must survive a power cut (see above)


class UnknownKeyIdError(KeyStoreError):
    """A key_ID is not held by this KME (never issued here, or already delivered and wiped)."""


class ForeignKeyIdError(KeyStoreError):
    """A key_ID exists but was issued to another SAE pair than the caller's."""


class KeyAlreadyDeliveredError(KeyStoreError):
    """A key_ID was already delivered to (or is reserved for) this role: at most once."""


class KeyExpiredError(KeyAlreadyDeliveredError):
    """A key_ID's slave delivery was destroyed: not redeemed before its deadline (see the module docstring)."""


class PoolAlarmedError(KeyStoreError):
    """The pool's link is alarmed (e.g. QBER above threshold): no key is issued from it."""

    def __init__(self, pool: str, qber: float | None) -> None:
        super().__init__(f"pool {pool!r}: link alarmed (QBER {qber})")
        self.pool = pool
        self.qber = qber


@dataclass(frozen=True)
class PoolMetrics:
    """One pool's figures (bits, bits/s, seconds)."""

    name: str
    kind: str
    stored_bits: int
    capacity_bits: int
    deposited_bits_total: int
    consumed_bits_total: int
    discarded_bits_total: int
    in_rate_bps: float
    out_rate_bps: float
    oldest_age_s: float | None
    alarm: bool
    qber: float | None


@dataclass(frozen=True)
class KeyLifetimes:
    """How long a slave delivery may wait (seconds): ``pending_ttl_s`` after the key was issued (orphans),
    ``in_doubt_ttl_s`` after a reservation fell in doubt (crash or failed response)."""

    pending_ttl_s: float = DEFAULT_PENDING_TTL_S
    in_doubt_ttl_s: float = DEFAULT_IN_DOUBT_TTL_S


@dataclass(frozen=True)
class IssuedKey:
    """A key taken out of the store: key_ID and material (bytes; the caller wraps it and wipes it).
    The material never appears in ``repr``."""

    key_id: str
    key: bytes = field(repr=False)


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
        deadlines of slave deliveries (see the module docstring)."""
        self.path = Path(db_path)
        self.lifetimes = lifetimes or KeyLifetimes()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sealer = sealer
        self.chunk_bytes = chunk_bytes
        self._delivery_sync = "FULL" if durable_deliveries else "NORMAL"
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout_s)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._sync = "FULL"
        self._deferred_marks: list[tuple[str, str]] = []
        # plaintext of the pool chunk being consumed, keyed by (pool, start, nonce): the nonce makes the key
        # unique even if another process truncates and re-deposits at the same offset
        self._open_cache: tuple[tuple[str, int, bytes], bytes] | None = None
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._db.execute(_KEYS_INDEX)
        self._rate_marks: dict[str, tuple[float, int, int]] = {}
        self._wal_path = Path(f"{self.path}-wal")
        self._wal_fd: int | None = None
        self._wal_lock = threading.Lock()
        self.quarantined_at_open = 0
        self.in_doubt_at_open = 0
        if recover:
            self.quarantined_at_open, self.in_doubt_at_open = self._recover()

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self.flush_delivered()
        self._db.close()
        with self._wal_lock:
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None

    def wal_sync(self) -> None:
        """fdatasync the WAL file: every transaction committed before this call is durable once it returns.

        Touches no SQLite state, so it may run in another thread while this one goes on with new
        transactions (see the module docstring). Raises ``OSError`` if the disk reports a failure: then
        nothing committed since the last successful sync may be taken as durable.
        """
        with self._wal_lock:
            fd = self._wal_fd
            if fd is None or os.fstat(fd).st_ino != os.stat(self._wal_path).st_ino:  # reopened after a reset
                if fd is not None:
                    os.close(fd)
                    self._wal_fd = None
                fd = self._wal_fd = os.open(self._wal_path, os.O_RDONLY | os.O_CLOEXEC)
            os.fdatasync(fd)

    def _set_sync(self, sync: str) -> None:
        if sync != self._sync:
            self._db.execute(f"PRAGMA synchronous={sync}")
            self._sync = sync

    def _begin(self, sync: str) -> None:
        self._set_sync(sync)
        self._db.execute("BEGIN IMMEDIATE")

    def _tx(self, sync: str, fn, *args):
        self._begin(sync)
        try:
            result = fn(*args)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def _migrate(self) -> None:
        """Stores made before key lifetimes: widen the state constraints and add ``expires`` (one transaction;
        keys of that time get no deadline and are swept by age, see :meth:`expire_keys`)."""
        sql = self._db.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='keys'").fetchone()[0]
        if "in_doubt" in sql:
            return
        cols = ("key_id, master_sae, slave_sae, size_bits, created, updated, master_state, slave_state, "
                "nonce, ct")
        start = _SCHEMA.index("CREATE TABLE IF NOT EXISTS keys")
        table = _SCHEMA[start:_SCHEMA.index(") WITHOUT ROWID;", start)] + ") WITHOUT ROWID"

        def run() -> None:
            self._db.execute(table.replace("IF NOT EXISTS keys", "keys_v2"))
            self._db.execute(f"INSERT INTO keys_v2({cols}) SELECT {cols} FROM keys")
            self._db.execute("DROP TABLE keys")
            self._db.execute("ALTER TABLE keys_v2 RENAME TO keys")
        self._tx("FULL", run)
        log.info("key store migrated: key lifetimes", extra={"event": "kms.store.migrated", "path": str(self.path)})

    def _recover(self) -> tuple[int, int]:
        """Reservations left by a crash: the master's are quarantined, the slave's fall in doubt (see the
        module docstring). Returns ``(quarantined, in_doubt)``."""
        def run() -> tuple[int, int]:
            now = time.time()
            quarantined = self._db.execute("UPDATE keys SET master_state='quarantined', updated=? "
                                           "WHERE master_state='reserved'", (now,)).rowcount
            in_doubt = self._db.execute("UPDATE keys SET slave_state='in_doubt', updated=?, expires=? "
                                        "WHERE slave_state='reserved'",
                                        (now, now + self.lifetimes.in_doubt_ttl_s)).rowcount
            self._add_counter_in_tx(_QUARANTINED_AT_OPEN_COUNTER, quarantined)
            self._add_counter_in_tx(_IN_DOUBT_AT_OPEN_COUNTER, in_doubt)
            self._wipe_finished()
            return quarantined, in_doubt
        quarantined, in_doubt = self._tx("FULL", run)
        if quarantined or in_doubt:
            log.warning("in-doubt key deliveries after restart: master's quarantined, slave's redeemable by "
                        "that slave until their deadline", extra={"event": "kms.store.quarantine",
                                                                   "count": quarantined, "in_doubt": in_doubt})
        return quarantined, in_doubt

    # ------------------------------------------------------------------ pools
    def ensure_pool(self, name: str, kind: str, capacity_bits: int) -> None:
        """Create pool ``name`` if absent (``kind``: 'link', 'local'); update its capacity otherwise."""
        self._set_sync("FULL")
        self._db.execute(
            "INSERT INTO pools(name, kind, capacity_bits) VALUES (?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET capacity_bits=excluded.capacity_bits", (name, kind, capacity_bits))

    def pool_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM pools ORDER BY name")]

    def _pool_row(self, pool: str) -> tuple[int, int, int]:
        row = self._db.execute("SELECT head, tail, capacity_bits FROM pools WHERE name=?", (pool,)).fetchone()
        if row is None:
            raise KeyStoreError(f"pool {pool!r} does not exist")
        return row

    def available_bits(self, pool: str) -> int:
        """Bits of key stored in ``pool`` and not yet consumed."""
        head, tail, _ = self._pool_row(pool)
        return (tail - head) * 8

    def headroom_bits(self, pool: str) -> int:
        """Bits ``pool`` can still take before it is full (capacity minus stored)."""
        head, tail, capacity = self._pool_row(pool)
        return capacity - (tail - head) * 8

    def tail(self, pool: str) -> int:
        """Stream offset (bytes) the next deposit into ``pool`` starts at."""
        return self._pool_row(pool)[1]

    def deposit(self, pool: str, material: bytes) -> int:
        """Append ``material`` to ``pool`` durably (fsync'd commit) and return the new tail offset (bytes).

        Raises :class:`CapacityError` (nothing stored) if the pool would exceed its capacity: the producer
        must slow down or drop the block.
        """
        if not material:
            return self.tail(pool)
        return self._tx("FULL", self._deposit_in_tx, pool, material)

    def deposit_many(self, parts: list[tuple[str, bytes]], counters: dict[str, int] | None = None) -> list[int]:
        """Deposit each ``(pool, material)`` of ``parts`` in ONE durable transaction: all or nothing.

        Used for the two halves of a link block (see :class:`qkd.kms.feeds.LinkKeySink`): a crash can
        never leave one direction with the block and the other without it, which would shift the stream
        offsets of one pool against the peer's copy for good. Raises :class:`CapacityError` (nothing
        stored) if any pool would exceed its capacity. ``counters`` (name → value) are set in the same
        transaction (e.g. where the block starts, for :meth:`truncate`). Returns the new tail offsets (bytes).
        """
        def run() -> list[int]:
            for pool, material in parts:          # check every pool before writing any
                head, tail, capacity = self._pool_row(pool)
                if (tail - head + len(material)) * 8 > capacity:
                    raise CapacityError(f"pool {pool!r}: deposit of {len(material) * 8} bits exceeds capacity "
                                        f"{capacity} bits ({(tail - head) * 8} stored)")
            tails = [self._deposit_in_tx(pool, material) if material else self._pool_row(pool)[1]
                     for pool, material in parts]
            for name, value in (counters or {}).items():
                self._set_counter_in_tx(name, value)
            return tails
        return self._tx("FULL", run)

    def truncate(self, pools: list[str], offset: int) -> None:
        """Drop the stream bytes ``[offset, tail)`` of each pool in ``pools`` (one durable transaction): the
        end of a link that deposited a block its peer never did gives it up, so both ends' streams match
        again. ``offset`` must be where a deposit started (chunk boundary) and not yet consumed
        (``head <= offset``); otherwise :class:`KeyStoreError` and nothing changes."""
        def run() -> None:
            for pool in pools:
                head, tail, _ = self._pool_row(pool)
                if not head <= offset <= tail:
                    raise KeyStoreError(f"pool {pool!r}: cannot truncate to offset {offset} (head {head}, tail "
                                        f"{tail}): that key was already used or never deposited")
                if self._db.execute("SELECT 1 FROM chunks WHERE pool=? AND start<? AND start+nbytes>?",
                                    (pool, offset, offset)).fetchone():
                    raise KeyStoreError(f"pool {pool!r}: offset {offset} is inside a deposited chunk")
                self._db.execute("DELETE FROM chunks WHERE pool=? AND start>=?", (pool, offset))
                self._db.execute("UPDATE pools SET tail=?, deposited_bytes=deposited_bytes-? WHERE name=?",
                                 (offset, tail - offset, pool))
            self._open_cache = None
        self._tx("FULL", run)

    def _deposit_in_tx(self, pool: str, material: bytes) -> int:
        head, tail, capacity = self._pool_row(pool)
        if (tail - head + len(material)) * 8 > capacity:
            raise CapacityError(f"pool {pool!r}: deposit of {len(material) * 8} bits exceeds capacity "
                                f"{capacity} bits ({(tail - head) * 8} stored)")
        now = time.time()
        rows = []
        step = self.chunk_bytes
        for i in range(0, len(material), step):
            start = tail + i
            part = material[i:i + step]
            nonce, ct = self._sealer.seal(part, _chunk_aad(pool, start))
            rows.append((pool, start, len(part), now, nonce, ct))
        self._db.executemany("INSERT INTO chunks(pool, start, nbytes, added, nonce, ct) VALUES (?,?,?,?,?,?)",
                             rows)
        new_tail = tail + len(material)
        self._db.execute("UPDATE pools SET tail=?, deposited_bytes=deposited_bytes+? WHERE name=?",
                         (new_tail, len(material), pool))
        return new_tail

    def _consume_prefix(self, pool: str, upto: int, head: int | None = None) -> bytes:
        """Inside a transaction: remove and return stream bytes [head, upto) of ``pool`` (the caller has
        checked ``upto <= tail`` and moves the head)."""
        head = self._pool_row(pool)[0] if head is None else head
        out = bytearray()
        # the chunk holding ``head`` may start before it (partly consumed): find it by its start
        rows = self._db.execute("SELECT start, nbytes, nonce, ct FROM chunks WHERE pool=? AND start<? "
                                "AND start+nbytes>? ORDER BY start", (pool, upto, head)).fetchall()
        for start, nbytes, nonce, ct in rows:
            cached = self._open_cache if self._open_cache and self._open_cache[0] == (pool, start, nonce) else None
            plain = cached[1] if cached else self._sealer.open(nonce, ct, _chunk_aad(pool, start))
            end = start + nbytes
            out += plain[max(head, start) - start:min(upto, end) - start]
            if end <= upto:
                self._db.execute("DELETE FROM chunks WHERE pool=? AND start=?", (pool, start))
                self._open_cache = None
            else:
                self._open_cache = ((pool, start, nonce), plain)
        return bytes(out)

    def take(self, pool: str, nbytes: int) -> tuple[int, bytes]:
        """Consume the next ``nbytes`` of ``pool``: returns ``(start offset, bytes)``; committed before return.

        Raises :class:`InsufficientKeyError` (nothing consumed) if the pool holds fewer bytes.
        """
        def run() -> tuple[int, bytes]:
            return self._take_in_tx(pool, nbytes)
        return self._tx(_CONSUME_SYNC, run)

    def _take_in_tx(self, pool: str, nbytes: int, *, refuse_alarmed: bool = False) -> tuple[int, bytes]:
        row = self._db.execute("SELECT head, tail, alarm, qber FROM pools WHERE name=?", (pool,)).fetchone()
        if row is None:
            raise KeyStoreError(f"pool {pool!r} does not exist")
        head, tail, alarm, qber = row
        if refuse_alarmed and alarm:
            raise PoolAlarmedError(pool, qber)
        if tail - head < nbytes:
            raise InsufficientKeyError(f"pool {pool!r}: {nbytes * 8} bits requested, {(tail - head) * 8} stored")
        data = self._consume_prefix(pool, head + nbytes, head)
        self._db.execute("UPDATE pools SET head=?, consumed_bytes=consumed_bytes+? WHERE name=?",
                         (head + nbytes, nbytes, pool))
        return head, data

    def _take_range_in_tx(self, pool: str, start: int, nbytes: int) -> bytes:
        head, tail, _ = self._pool_row(pool)
        if start < head:
            raise KeyStoreError(f"pool {pool!r}: range at offset {start} already consumed (head {head})")
        if start + nbytes > tail:
            raise InsufficientKeyError(f"pool {pool!r}: range [{start}, {start + nbytes}) not yet deposited "
                                       f"(tail {tail})")
        data = self._consume_prefix(pool, start + nbytes, head)
        gap = start - head
        self._db.execute("UPDATE pools SET head=?, consumed_bytes=consumed_bytes+?, "
                         "discarded_bytes=discarded_bytes+? WHERE name=?", (start + nbytes, nbytes, gap, pool))
        return data[gap:]

    def take_range(self, pool: str, start: int, nbytes: int) -> bytes:
        """Consume stream bytes ``[start, start+nbytes)`` named by the peer that used them as a pad.

        Bytes between the head and ``start`` were burned by the peer (a failed send) and are discarded.
        """
        return self._tx(_CONSUME_SYNC, self._take_range_in_tx, pool, start, nbytes)

    def set_alarm(self, pool: str, alarm: bool, qber: float | None = None) -> None:
        """Set or clear the link alarm of ``pool`` (with the QBER that caused it, a fraction)."""
        self._pool_row(pool)
        self._set_sync("FULL")
        self._db.execute("UPDATE pools SET alarm=?, qber=? WHERE name=?", (int(alarm), qber, pool))

    def alarm(self, pool: str) -> tuple[bool, float | None]:
        row = self._db.execute("SELECT alarm, qber FROM pools WHERE name=?", (pool,)).fetchone()
        if row is None:
            raise KeyStoreError(f"pool {pool!r} does not exist")
        return bool(row[0]), row[1]

    def counter(self, name: str) -> int:
        """A durable counter (e.g. the next block index of an emulated link); 0 if never set."""
        row = self._db.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_counter(self, name: str, value: int) -> None:
        """Set counter ``name`` durably (fsync'd commit)."""
        self._set_sync("FULL")
        self._set_counter_in_tx(name, value)

    def _set_counter_in_tx(self, name: str, value: int) -> None:
        self._db.execute("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                         "value=excluded.value", (name, value))

    def _add_counter_in_tx(self, name: str, delta: int) -> None:
        if delta:
            self._db.execute("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                             "value=value+excluded.value", (name, delta))

    # ------------------------------------------------------------------ SAE keys
    def _insert_key(self, key_id: str, master: str, slave: str, key: bytes, roles: dict[str, str]) -> None:
        nonce, ct = self._sealer.seal(key, _key_aad(key_id, master, slave))
        now = time.time()
        expires = now + self.lifetimes.pending_ttl_s if roles.get("slave") == "pending" else None
        try:
            self._db.execute("INSERT INTO keys(key_id, master_sae, slave_sae, size_bits, created, updated, "
                             "master_state, slave_state, nonce, ct, expires) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             (key_id, master, slave, len(key) * 8, now, now, roles.get("master"),
                              roles.get("slave"), nonce, ct, expires))
        except sqlite3.IntegrityError:
            raise KeyStoreError(f"key_ID {key_id!r} already exists in this KME (a key_ID is used once)") from None

    def issue_local(self, pool: str, master: str, slave: str, number: int, size_bits: int, *,
                    refuse_alarmed: bool = False) -> list[IssuedKey]:
        """enc_keys for a pair served by this node: take ``number`` keys of ``size_bits`` from ``pool``.

        In one transaction: consume the material, create each key with the master's delivery *reserved*
        and the slave's *pending*. Raises :class:`InsufficientKeyError` with nothing consumed, or (with
        ``refuse_alarmed``) :class:`PoolAlarmedError` if the pool's link is alarmed - checked in the same
        transaction as the take.
        """
        return self._tx(_CONSUME_SYNC, self.issue_local_in_tx, pool, master, slave, number, size_bits,
                        refuse_alarmed)

    def issue_local_in_tx(self, pool: str, master: str, slave: str, number: int,
                          size_bits: int, refuse_alarmed: bool = False) -> list[IssuedKey]:
        """:meth:`issue_local` inside the caller's transaction (see :meth:`run_batch`)."""
        nbytes = size_bits // 8
        _, data = self._take_in_tx(pool, number * nbytes, refuse_alarmed=refuse_alarmed)
        out, rows = [], []
        now = time.time()
        expires = now + self.lifetimes.pending_ttl_s
        for i in range(number):
            key_id = str(uuid.uuid4())
            key = data[i * nbytes:(i + 1) * nbytes]
            nonce, ct = self._sealer.seal(key, _key_aad(key_id, master, slave))
            rows.append((key_id, master, slave, size_bits, now, now, nonce, ct, expires))
            out.append(IssuedKey(key_id, key))
        try:   # fresh random UUIDs: a clash is not expected, and would roll the whole request back
            sql = ("INSERT INTO keys(key_id, master_sae, slave_sae, size_bits, created, updated, master_state, "
                   "slave_state, nonce, ct, expires) VALUES (?,?,?,?,?,?,'reserved','pending',?,?,?)")
            if len(rows) == 1:
                self._db.execute(sql, rows[0])
            else:
                self._db.executemany(sql, rows)
        except sqlite3.IntegrityError:
            raise KeyStoreError("a new key_ID already exists in this KME (a key_ID is used once)") from None
        return out

    def record_issued_remote(self, master: str, slave: str, keys: list[IssuedKey]) -> None:
        """Master's node, after a relay was acknowledged end to end: the master's deliveries are *reserved*."""
        def run() -> None:
            for k in keys:
                self._insert_key(k.key_id, master, slave, k.key, {"master": "reserved"})
        self._tx(self._delivery_sync, run)

    def accept_relayed(self, pool: str, start: int, ciphertext: bytes, keys: list[tuple[str, int]],
                       master: str, slave: str, verify: Callable[[bytes], bool]) -> None:
        """Slave's node: in one transaction take the pad ``[start, start+len)`` from ``pool``, recover
        K = ciphertext XOR pad, check it with ``verify(K)`` and store each key (``(key_ID, size_bits)``) for
        the slave (*pending*). A failed check raises :class:`KeyStoreError` and consumes nothing."""
        def run() -> None:
            pad = self._take_range_in_tx(pool, start, len(ciphertext))
            material = xor_bytes(ciphertext, pad)
            if not verify(material):
                raise KeyStoreError(f"relayed keys for pool {pool!r} at offset {start}: end-to-end check "
                                    "failed (corrupted or tampered relay)")
            pos = 0
            for key_id, size_bits in keys:
                n = size_bits // 8
                self._insert_key(key_id, master, slave, material[pos:pos + n], {"slave": "pending"})
                pos += n
        self._tx(_CONSUME_SYNC, run)

    def reserve_for_slave(self, master: str, slave: str, key_ids: list[str]) -> list[IssuedKey]:
        """dec_keys: reserve every key of ``key_ids`` for ``slave``, all or nothing.

        A key is redeemable while its slave delivery is *pending*, or *in doubt* (redeemed before, then
        a crash or a failed response - see the module docstring), and its deadline has not passed.
        Raises :class:`UnknownKeyIdError`, :class:`ForeignKeyIdError`, :class:`KeyExpiredError` or
        :class:`KeyAlreadyDeliveredError` naming the first offending key_ID (by its position in the
        request); nothing is reserved then.
        """
        return self._tx(_CONSUME_SYNC, self.reserve_for_slave_in_tx, master, slave, key_ids)

    def reserve_for_slave_in_tx(self, master: str, slave: str, key_ids: list[str]) -> list[IssuedKey]:
        """:meth:`reserve_for_slave` inside the caller's transaction (see :meth:`run_batch`)."""
        rows: dict[str, tuple] = {}
        for i in range(0, len(key_ids), 500):     # one lookup per 500 key_IDs, not one per key_ID
            part = key_ids[i:i + 500]
            for row in self._db.execute("SELECT key_id, master_sae, slave_sae, nonce, ct, slave_state, "
                                        "COALESCE(expires, created + ?) FROM keys "
                                        f"WHERE key_id IN ({','.join('?' * len(part))})",
                                        [self.lifetimes.pending_ttl_s, *part]):
                rows[row[0]] = row[1:]
        out: list[IssuedKey] = []
        taken: set[str] = set()
        redelivered = 0
        now = time.time()
        for pos, key_id in enumerate(key_ids):
            row = rows.get(key_id)
            if row is None or (row[4] is None and row[5] != "expired"):
                raise UnknownKeyIdError(f"key_IDs[{pos}] {key_id!r}: not known to this KME")
            k_master, k_slave, nonce, ct, state, expires = row
            if k_master != master or k_slave != slave:
                raise ForeignKeyIdError(f"key_IDs[{pos}] {key_id!r}: not issued to the pair "
                                        f"({master!r}, {slave!r})")
            if key_id in taken:
                state = "reserved"                  # the same key_ID earlier in this request
            if state == "expired" or (state in ("pending", "in_doubt") and expires <= now):
                raise KeyExpiredError(f"key_IDs[{pos}] {key_id!r}: expired, not redeemed before its deadline "
                                      "(the key was destroyed)")
            if state not in ("pending", "in_doubt") or ct is None:
                raise KeyAlreadyDeliveredError(f"key_IDs[{pos}] {key_id!r}: already {state}, "
                                               "keys are delivered at most once")
            redelivered += state == "in_doubt"
            out.append(IssuedKey(key_id, self._sealer.open(nonce, ct, _key_aad(key_id, k_master, k_slave))))
            taken.add(key_id)
        if len(out) == 1:
            self._db.execute("UPDATE keys SET slave_state='reserved', updated=? WHERE key_id=?", (now, out[0].key_id))
        else:
            self._db.executemany("UPDATE keys SET slave_state='reserved', updated=? WHERE key_id=?",
                                 [(now, k.key_id) for k in out])
        self._add_counter_in_tx(_REDELIVERED_COUNTER, redelivered)
        return out

    def mark_delivered(self, key_ids: Iterable[str], role: str, *, defer: bool = False) -> None:
        """The response carrying these keys was written: reserved → delivered; wipe finished keys.

        ``defer=True`` queues the mark for the next :meth:`flush_delivered` (one transaction for many
        responses). Safe for at-most-once: a key left *reserved* by a crash before the flush is
        quarantined at the next open, which also never hands it out again; only the label differs.
        """
        ids = list(key_ids)
        self._deferred_marks.extend((k, role) for k in ids)
        if not defer:
            self.flush_delivered()

    def has_deferred_marks(self) -> bool:
        """Whether delivered marks wait for the next transaction (see :meth:`mark_delivered`)."""
        return bool(self._deferred_marks)

    def flush_delivered(self) -> int:
        """Commit the queued delivered marks (and wipe the keys that are finished); returns how many."""
        marks, self._deferred_marks = self._deferred_marks, []
        if not marks:
            return 0
        self._tx(self._delivery_sync, self._apply_marks, marks)
        return len(marks)

    def _apply_marks(self, marks: list[tuple[str, str]]) -> None:
        now = time.time()
        for role, col in _ROLE_COLUMN.items():
            rows = [(now, k) for k, r in marks if r == role]
            if rows:
                self._db.executemany(f"UPDATE keys SET {col}='delivered', updated=? WHERE key_id=? "
                                     f"AND {col}='reserved'", rows)
        ids = sorted({k for k, _ in marks})
        for i in range(0, len(ids), 500):
            self._wipe_finished(ids[i:i + 500])

    def run_batch(self, ops: list[tuple[Callable[..., Any], tuple[Any, ...]]], *,
                  durable: bool = True) -> list[tuple[bool, Any]]:
        """Group commit: run ``ops`` (``*_in_tx`` methods and their arguments) and the queued delivered
        marks in ONE transaction, each op in its own savepoint so that a failing op changes nothing.

        Returns ``(True, result)`` or ``(False, exception)`` per op, after the commit - so a reservation
        is durable before its caller may send anything. If the commit itself fails, it raises and no op
        took effect. ``durable=False``: the commit is not fsync'd here (``synchronous=NORMAL``); the caller
        must see :meth:`wal_sync` return before any result leaves the process (pipelined group commit).
        """
        marks, self._deferred_marks = self._deferred_marks, []
        self._begin((_CONSUME_SYNC if durable else "NORMAL") if ops else self._delivery_sync)
        out: list[tuple[bool, Any]] = []
        try:
            if marks:
                self._apply_marks(marks)
            for fn, args in ops:
                self._db.execute("SAVEPOINT op")
                try:
                    result = fn(*args)
                except Exception as exc:  # noqa: BLE001 - returned to the op's caller
                    self._db.execute("ROLLBACK TO op")
                    self._db.execute("RELEASE op")
                    out.append((False, exc))
                    continue
                self._db.execute("RELEASE op")
                out.append((True, result))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            self._open_cache = None
            raise
        return out

    def release_reserved(self, key_ids: Iterable[str], role: str) -> None:
        """The response could not be written at all (handler failed before sending): back to pending.

        Only for failures *before* any byte left the process; never after.
        """
        ids = list(key_ids)
        col = _ROLE_COLUMN[role]
        self._tx(self._delivery_sync, lambda: self._db.executemany(
            f"UPDATE keys SET {col}='pending', updated=? WHERE key_id=? AND {col}='reserved'",
            [(time.time(), k) for k in ids]))

    def quarantine(self, key_ids: Iterable[str], role: str) -> None:
        """Writing the response failed after it may have started: the delivery is in doubt. The master's
        is quarantined (never handed out again); the slave's is *in doubt*, redeemable by that slave only
        until ``in_doubt_ttl_s`` from now (see the module docstring)."""
        ids = list(key_ids)

        def run() -> None:
            col = _ROLE_COLUMN[role]
            now = time.time()
            if role == "slave":
                self._db.executemany("UPDATE keys SET slave_state='in_doubt', updated=?, expires=? WHERE key_id=? "
                                     "AND slave_state='reserved'",
                                     [(now, now + self.lifetimes.in_doubt_ttl_s, k) for k in ids])
            else:
                self._db.executemany(f"UPDATE keys SET {col}='quarantined', updated=? WHERE key_id=? AND "
                                     f"{col}='reserved'", [(now, k) for k in ids])
            self._wipe_finished(ids)
        self._tx(self._delivery_sync, run)

    def expire_keys(self, now: float | None = None) -> dict[str, int]:
        """Destroy slave deliveries past their deadline (*pending* orphans and *in-doubt* keys): state
        *expired*, material wiped, counted. Keys of stores made before deadlines existed expire
        ``pending_ttl_s`` after they were issued. Returns the number expired per state they left."""
        now = time.time() if now is None else now

        def run() -> dict[str, int]:
            out = {}
            for state in ("pending", "in_doubt"):
                ids = [r[0] for r in self._db.execute(
                    "SELECT key_id FROM keys WHERE slave_state=? AND COALESCE(expires, created + ?) <= ?",
                    (state, self.lifetimes.pending_ttl_s, now))]
                for i in range(0, len(ids), 500):
                    part = ids[i:i + 500]
                    self._db.execute(f"UPDATE keys SET slave_state='expired', updated=? WHERE key_id IN "
                                     f"({','.join('?' * len(part))})", [now, *part])
                    self._wipe_finished(part)
                self._add_counter_in_tx(_EXPIRED_COUNTER + state, len(ids))
                out[state] = len(ids)
            return out
        out = self._tx(self._delivery_sync, run)
        if any(out.values()):
            log.warning("slave deliveries expired: keys destroyed", extra={"event": "kms.keys.expired", **out})
        return out

    def lifecycle_counts(self) -> dict[str, int]:
        """Durable counts since the store was made: keys expired (``expired_pending``, ``expired_in_doubt``),
        in-doubt keys redeemed again (``in_doubt_redelivered``), reservations found in doubt when the store
        was opened after a crash (``quarantined_at_open``: master's, ``in_doubt_at_open``: slave's)."""
        return {"expired_pending": self.counter(_EXPIRED_COUNTER + "pending"),
                "expired_in_doubt": self.counter(_EXPIRED_COUNTER + "in_doubt"),
                "in_doubt_redelivered": self.counter(_REDELIVERED_COUNTER),
                "quarantined_at_open": self.counter(_QUARANTINED_AT_OPEN_COUNTER),
                "in_doubt_at_open": self.counter(_IN_DOUBT_AT_OPEN_COUNTER)}

    def _wipe_finished(self, ids: list[str] | None = None) -> None:
        """Drop the sealed material of keys with no delivery left pending or reserved on this node."""
        cond = "" if ids is None else f" AND key_id IN ({','.join('?' * len(ids))})"
        self._db.execute(
            "UPDATE keys SET nonce=NULL, ct=NULL WHERE ct IS NOT NULL" + cond +
            f" AND COALESCE(master_state, '') NOT IN {_OPEN_STATES}"
            f" AND COALESCE(slave_state, '') NOT IN {_OPEN_STATES}", ids or [])

    # ------------------------------------------------------------------ metrics
    def delivery_counts(self) -> dict[str, int]:
        """Counts of delivery records by ``role:state`` (e.g. ``slave:pending``)."""
        self.flush_delivered()
        out = {}
        for role, col in _ROLE_COLUMN.items():
            for state, n in self._db.execute(f"SELECT {col}, COUNT(*) FROM keys WHERE {col} IS NOT NULL "
                                             f"GROUP BY {col}"):
                out[f"{role}:{state}"] = n
        return out

    def metrics(self, *, rates: bool = True) -> list[PoolMetrics]:
        """Per-pool figures; rates are averaged since the previous call (or since open). ``rates=False``:
        rates 0, and the next call's averaging window is left alone (for scrapes that derive rates from
        the totals)."""
        now = time.monotonic()
        out = []
        for (name, kind, cap, head, tail, dep, con, dis, alarm, qber) in self._db.execute(
                "SELECT name, kind, capacity_bits, head, tail, deposited_bytes, consumed_bytes, discarded_bytes, "
                "alarm, qber FROM pools ORDER BY name").fetchall():
            oldest = self._db.execute("SELECT MIN(added) FROM chunks WHERE pool=?", (name,)).fetchone()[0]
            in_rate = out_rate = 0.0
            if rates:
                t0, dep0, con0 = self._rate_marks.get(name, (now, dep, con))
                dt = now - t0
                in_rate = (dep - dep0) * 8 / dt if dt > 0 else 0.0
                out_rate = (con - con0) * 8 / dt if dt > 0 else 0.0
                self._rate_marks[name] = (now, dep, con)
            out.append(PoolMetrics(name, kind, (tail - head) * 8, cap, dep * 8, con * 8, dis * 8, in_rate,
                                   out_rate, None if oldest is None else max(0.0, time.time() - oldest),
                                   bool(alarm), qber))
        return out

    def fingerprint(self) -> tuple:
        """Everything an API call could change (pool offsets, key rows, delivery states): tests compare it."""
        self.flush_delivered()
        pools = self._db.execute("SELECT name, head, tail, consumed_bytes, discarded_bytes FROM pools "
                                 "ORDER BY name").fetchall()
        keys = self._db.execute("SELECT key_id, ct IS NULL, master_state, slave_state FROM keys "
                                "ORDER BY key_id").fetchall()
        return (tuple(pools), tuple(keys))


def xor_bytes(a: bytes, b: bytes) -> bytes:
    """Bytewise XOR of two equal-length byte strings (the one-time pad)."""
    if len(a) != len(b):
        raise ValueError("xor_bytes: lengths differ")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _chunk_aad(pool: str, start: int) -> bytes:
    return f"qshift-kms/chunk/{pool}/{start}".encode()


def _key_aad(key_id: str, master: str, slave: str) -> bytes:
    return f"qshift-kms/key/{key_id}/{master}/{slave}".encode()
