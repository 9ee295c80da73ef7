"""The issued-key ledger: keys issued to (master SAE, slave SAE) pairs under a UUID key_ID, sealed at rest,
with a delivery state per role this node serves (``master_state`` via enc_keys, ``slave_state`` via
dec_keys; NULL if not served here).

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
quarantined) is destroyed the same way. Every key has its ``expires`` time; :meth:`KeyLedger.expire`
destroys the overdue ones (the KME runs it periodically) and a dec_keys past the deadline is refused even
before the sweep ran. Counts: :meth:`KeyLedger.lifecycle_counts` (expired keys per state they left,
in-doubt keys redeemed again, reservations found in doubt at open), reported in ``qshift kme status`` and
``/metrics``. A key's material is dropped once every delivery this node serves for it is done.

The writes here run inside the caller's transaction; :class:`qkd.kms.unitofwork.StoreTx` opens it with the
durability each needs.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from qkd.kms.database import StoreDatabase, Sync
from qkd.kms.errors import (
    ForeignKeyIdError,
    KeyAlreadyDeliveredError,
    KeyExpiredError,
    KeyStoreError,
    UnknownKeyIdError,
)
from qkd.kms.masterkey import Sealer

log = logging.getLogger(__name__)

Role = Literal["master", "slave"]
DeliveryState = Literal["pending", "reserved", "delivered", "quarantined", "in_doubt", "expired"]

_KEYS_TABLE = """CREATE TABLE IF NOT EXISTS keys (
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
) WITHOUT ROWID"""
_KEYS_INDEX = ("CREATE INDEX IF NOT EXISTS keys_open_slave ON keys(expires) "
               "WHERE slave_state IN ('pending', 'in_doubt')")
_ROLE_COLUMN: dict[Role, str] = {"master": "master_state", "slave": "slave_state"}
_OPEN_STATES = "('pending', 'reserved', 'in_doubt')"   # the material of a key in one of these is kept
_EXPIRED_COUNTER = "keys_expired_total:"               # + the state the key left ('pending', 'in_doubt')
_REDELIVERED_COUNTER = "keys_in_doubt_redelivered_total"
_IN_DOUBT_AT_OPEN_COUNTER = "keys_in_doubt_at_open_total"
_QUARANTINED_AT_OPEN_COUNTER = "keys_quarantined_at_open_total"
_BATCH = 500     # key_IDs per SQL statement
DEFAULT_PENDING_TTL_S = 24 * 3600.0
DEFAULT_IN_DOUBT_TTL_S = 600.0


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


class KeyLedger:
    """The ``keys`` table of the store's file (and its lifecycle counters)."""

    def __init__(self, db: StoreDatabase, sealer: Sealer, lifetimes: KeyLifetimes) -> None:
        self._db = db
        self._sealer = sealer
        self.lifetimes = lifetimes
        db.conn.execute(_KEYS_TABLE)
        self._migrate()
        db.conn.execute(_KEYS_INDEX)

    def _migrate(self) -> None:
        """Stores made before key lifetimes: widen the state constraints and add ``expires`` (one transaction;
        keys of that time get no deadline and are swept by age, see :meth:`expire`)."""
        sql = self._db.conn.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='keys'").fetchone()[0]
        if "in_doubt" in sql:
            return
        cols = ("key_id, master_sae, slave_sae, size_bits, created, updated, master_state, slave_state, "
                "nonce, ct")
        with self._db.transaction(Sync.FULL):
            self._db.conn.execute(_KEYS_TABLE.replace("IF NOT EXISTS keys", "keys_v2"))
            self._db.conn.execute(f"INSERT INTO keys_v2({cols}) SELECT {cols} FROM keys")
            self._db.conn.execute("DROP TABLE keys")
            self._db.conn.execute("ALTER TABLE keys_v2 RENAME TO keys")
        log.info("key store migrated: key lifetimes", extra={"event": "kms.store.migrated",
                                                              "path": str(self._db.path)})

    # ------------------------------------------------------------------ reads
    def delivery_counts(self) -> dict[str, int]:
        """Counts of delivery records by ``role:state`` (e.g. ``slave:pending``)."""
        out = {}
        for role, col in _ROLE_COLUMN.items():
            for state, n in self._db.conn.execute(f"SELECT {col}, COUNT(*) FROM keys WHERE {col} IS NOT NULL "
                                                  f"GROUP BY {col}"):
                out[f"{role}:{state}"] = n
        return out

    def lifecycle_counts(self) -> dict[str, int]:
        """Durable counts since the store was made: keys expired (``expired_pending``, ``expired_in_doubt``),
        in-doubt keys redeemed again (``in_doubt_redelivered``), reservations found in doubt when the store
        was opened after a crash (``quarantined_at_open``: master's, ``in_doubt_at_open``: slave's)."""
        counter = self._db.counter
        return {"expired_pending": counter(_EXPIRED_COUNTER + "pending"),
                "expired_in_doubt": counter(_EXPIRED_COUNTER + "in_doubt"),
                "in_doubt_redelivered": counter(_REDELIVERED_COUNTER),
                "quarantined_at_open": counter(_QUARANTINED_AT_OPEN_COUNTER),
                "in_doubt_at_open": counter(_IN_DOUBT_AT_OPEN_COUNTER)}

    def fingerprint(self) -> tuple[tuple[str, int, str | None, str | None], ...]:
        """Every key's ID, whether its material is wiped, and its delivery states (tests compare them)."""
        return tuple(self._db.conn.execute("SELECT key_id, ct IS NULL, master_state, slave_state FROM keys "
                                           "ORDER BY key_id").fetchall())

    # ------------------------------------------------------------------ writes (inside a transaction)
    def recover(self) -> tuple[int, int]:
        """Reservations left by a crash: the master's are quarantined, the slave's fall in doubt (see the
        module docstring). Returns ``(quarantined, in_doubt)``."""
        now = time.time()
        quarantined = self._db.conn.execute("UPDATE keys SET master_state='quarantined', updated=? "
                                            "WHERE master_state='reserved'", (now,)).rowcount
        in_doubt = self._db.conn.execute("UPDATE keys SET slave_state='in_doubt', updated=?, expires=? "
                                         "WHERE slave_state='reserved'",
                                         (now, now + self.lifetimes.in_doubt_ttl_s)).rowcount
        self._db.add_counter(_QUARANTINED_AT_OPEN_COUNTER, quarantined)
        self._db.add_counter(_IN_DOUBT_AT_OPEN_COUNTER, in_doubt)
        self._wipe_finished()
        return quarantined, in_doubt

    def issue(self, master: str, slave: str, material: bytes, *, number: int, size_bits: int) -> list[IssuedKey]:
        """Cut ``material`` into ``number`` keys of ``size_bits`` under fresh key_IDs: the master's delivery
        *reserved*, the slave's *pending*."""
        nbytes = size_bits // 8
        out, rows = [], []
        now = time.time()
        expires = now + self.lifetimes.pending_ttl_s
        for i in range(number):
            key_id = str(uuid.uuid4())
            key = material[i * nbytes:(i + 1) * nbytes]
            nonce, ct = self._sealer.seal(key, _key_aad(key_id, master, slave))
            rows.append((key_id, master, slave, size_bits, now, now, nonce, ct, expires))
            out.append(IssuedKey(key_id, key))
        try:   # fresh random UUIDs: a clash is not expected, and would roll the whole request back
            sql = ("INSERT INTO keys(key_id, master_sae, slave_sae, size_bits, created, updated, master_state, "
                   "slave_state, nonce, ct, expires) VALUES (?,?,?,?,?,?,'reserved','pending',?,?,?)")
            if len(rows) == 1:
                self._db.conn.execute(sql, rows[0])
            else:
                self._db.conn.executemany(sql, rows)
        except sqlite3.IntegrityError:
            raise KeyStoreError("a new key_ID already exists in this KME (a key_ID is used once)") from None
        return out

    def record(self, key: IssuedKey, master: str, slave: str, *, role: Role) -> None:
        """A key issued elsewhere (relayed) whose delivery to ``role`` this node serves: *reserved* for the
        master (its node answers enc_keys with it now), *pending* for the slave."""
        nonce, ct = self._sealer.seal(key.key, _key_aad(key.key_id, master, slave))
        now = time.time()
        master_state, slave_state, expires = (("reserved", None, None) if role == "master"
                                              else (None, "pending", now + self.lifetimes.pending_ttl_s))
        try:
            self._db.conn.execute("INSERT INTO keys(key_id, master_sae, slave_sae, size_bits, created, updated, "
                                  "master_state, slave_state, nonce, ct, expires) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                  (key.key_id, master, slave, len(key.key) * 8, now, now, master_state,
                                   slave_state, nonce, ct, expires))
        except sqlite3.IntegrityError:
            raise KeyStoreError(f"key_ID {key.key_id!r} already exists in this KME (a key_ID is used once)") from None

    def reserve_for_slave(self, master: str, slave: str, key_ids: Sequence[str]) -> list[IssuedKey]:
        """dec_keys: reserve every key of ``key_ids`` for ``slave``, all or nothing.

        A key is redeemable while its slave delivery is *pending*, or *in doubt* (redeemed before, then
        a crash or a failed response - see the module docstring), and its deadline has not passed.
        Raises :class:`UnknownKeyIdError`, :class:`ForeignKeyIdError`, :class:`KeyExpiredError` or
        :class:`KeyAlreadyDeliveredError` naming the first offending key_ID (by its position in the
        request); nothing is reserved then.
        """
        rows: dict[str, tuple] = {}
        for i in range(0, len(key_ids), _BATCH):     # one lookup per 500 key_IDs, not one per key_ID
            part = key_ids[i:i + _BATCH]
            for row in self._db.conn.execute("SELECT key_id, master_sae, slave_sae, nonce, ct, slave_state, "
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
            self._db.conn.execute("UPDATE keys SET slave_state='reserved', updated=? WHERE key_id=?",
                                  (now, out[0].key_id))
        else:
            self._db.conn.executemany("UPDATE keys SET slave_state='reserved', updated=? WHERE key_id=?",
                                      [(now, k.key_id) for k in out])
        self._db.add_counter(_REDELIVERED_COUNTER, redelivered)
        return out

    def mark_delivered(self, marks: Iterable[tuple[str, Role]]) -> None:
        """The responses carrying these ``(key_ID, role)`` were written: reserved → delivered; wipe the keys
        that are finished."""
        marks = list(marks)
        now = time.time()
        for role, col in _ROLE_COLUMN.items():
            rows = [(now, k) for k, r in marks if r == role]
            if rows:
                self._db.conn.executemany(f"UPDATE keys SET {col}='delivered', updated=? WHERE key_id=? "
                                          f"AND {col}='reserved'", rows)
        ids = sorted({k for k, _ in marks})
        for i in range(0, len(ids), _BATCH):
            self._wipe_finished(ids[i:i + _BATCH])

    def release_reserved(self, key_ids: Iterable[str], role: Role) -> None:
        """The response could not be written at all (handler failed before sending): back to pending.
        Only for failures *before* any byte left the process; never after."""
        col = _ROLE_COLUMN[role]
        self._db.conn.executemany(f"UPDATE keys SET {col}='pending', updated=? WHERE key_id=? AND {col}='reserved'",
                                  [(time.time(), k) for k in key_ids])

    def quarantine(self, key_ids: Iterable[str], role: Role) -> None:
        """Writing the response failed after it may have started: the delivery is in doubt. The master's
        is quarantined (never handed out again); the slave's is *in doubt*, redeemable by that slave only
        until ``in_doubt_ttl_s`` from now (see the module docstring)."""
        ids = list(key_ids)
        now = time.time()
        if role == "slave":
            self._db.conn.executemany("UPDATE keys SET slave_state='in_doubt', updated=?, expires=? WHERE key_id=? "
                                      "AND slave_state='reserved'",
                                      [(now, now + self.lifetimes.in_doubt_ttl_s, k) for k in ids])
        else:
            self._db.conn.executemany("UPDATE keys SET master_state='quarantined', updated=? WHERE key_id=? AND "
                                      "master_state='reserved'", [(now, k) for k in ids])
        self._wipe_finished(ids)

    def expire(self, now: float) -> dict[str, int]:
        """Destroy slave deliveries past their deadline (*pending* orphans and *in-doubt* keys): state
        *expired*, material wiped, counted. Keys of stores made before deadlines existed expire
        ``pending_ttl_s`` after they were issued. Returns the number expired per state they left."""
        out = {}
        for state in ("pending", "in_doubt"):
            ids = [r[0] for r in self._db.conn.execute(
                "SELECT key_id FROM keys WHERE slave_state=? AND COALESCE(expires, created + ?) <= ?",
                (state, self.lifetimes.pending_ttl_s, now))]
            for i in range(0, len(ids), _BATCH):
                part = ids[i:i + _BATCH]
                self._db.conn.execute(f"UPDATE keys SET slave_state='expired', updated=? WHERE key_id IN "
                                      f"({','.join('?' * len(part))})", [now, *part])
                self._wipe_finished(part)
            self._db.add_counter(_EXPIRED_COUNTER + state, len(ids))
            out[state] = len(ids)
        return out

    def _wipe_finished(self, ids: list[str] | None = None) -> None:
        """Drop the sealed material of keys with no delivery left pending or reserved on this node."""
        cond = "" if ids is None else f" AND key_id IN ({','.join('?' * len(ids))})"
        self._db.conn.execute(
            "UPDATE keys SET nonce=NULL, ct=NULL WHERE ct IS NOT NULL" + cond +
            f" AND COALESCE(master_state, '') NOT IN {_OPEN_STATES}"
            f" AND COALESCE(slave_state, '') NOT IN {_OPEN_STATES}", ids or [])


def _key_aad(key_id: str, master: str, slave: str) -> bytes:
    return f"qshift-kms/key/{key_id}/{master}/{slave}".encode()
