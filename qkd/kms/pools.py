"""Pool streams: the key material that links and feeds deposit, one byte stream per pool, sealed at rest.

One pool per (link or relay peer, direction), plus a ``local`` pool for SAE pairs attached to this node. A
deposit appends to the stream's *tail*; a consumer takes bytes from its *head*. Bytes are addressed by their
stream offset, which is the same at both ends of a link (both ends deposit the same blocks in the same
order), so a sender can name the pad it used as ``(start, length)`` and the receiver takes exactly those
bytes (:meth:`PoolStreams.take_range`; bytes before ``start`` that the sender burned are discarded and
counted). Stored in immutable sealed chunks of ``chunk_bytes``; the pool's head offset says what is
consumed, and a chunk is deleted as soon as it is wholly consumed, so at most ``chunk_bytes`` of consumed
key per pool remain on disk (sealed under the master key).

The writes here run inside the caller's transaction; :class:`qkd.kms.unitofwork.StoreTx` opens it with the
durability each needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from qkd.kms.database import StoreDatabase
from qkd.kms.errors import CapacityError, InsufficientKeyError, KeyStoreError, PoolAlarmedError
from qkd.kms.masterkey import Sealer

SCHEMA = """
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
"""


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


class PoolStreams:
    """The ``pools`` and ``chunks`` tables of the store's file."""

    def __init__(self, db: StoreDatabase, sealer: Sealer, *, chunk_bytes: int) -> None:
        self._db = db
        self._sealer = sealer
        self.chunk_bytes = chunk_bytes
        db.conn.executescript(SCHEMA)
        # plaintext of the pool chunk being consumed, keyed by (pool, start, nonce): the nonce makes the key
        # unique even if another process truncates and re-deposits at the same offset
        self._open_cache: tuple[tuple[str, int, bytes], bytes] | None = None
        self._rate_marks: dict[str, tuple[float, int, int]] = {}

    def forget_cache(self) -> None:
        """Drop the plaintext of the chunk being consumed (after a rollback)."""
        self._open_cache = None

    # ------------------------------------------------------------------ reads
    def names(self) -> list[str]:
        return [r[0] for r in self._db.conn.execute("SELECT name FROM pools ORDER BY name")]

    def _row(self, pool: str) -> tuple[int, int, int]:
        """``(head, tail, capacity_bits)`` of ``pool``."""
        row = self._db.conn.execute("SELECT head, tail, capacity_bits FROM pools WHERE name=?", (pool,)).fetchone()
        if row is None:
            raise KeyStoreError(f"pool {pool!r} does not exist")
        return row

    def available_bits(self, pool: str) -> int:
        """Bits of key stored in ``pool`` and not yet consumed."""
        head, tail, _ = self._row(pool)
        return (tail - head) * 8

    def headroom_bits(self, pool: str) -> int:
        """Bits ``pool`` can still take before it is full (capacity minus stored)."""
        head, tail, capacity = self._row(pool)
        return capacity - (tail - head) * 8

    def tail(self, pool: str) -> int:
        """Stream offset (bytes) the next deposit into ``pool`` starts at."""
        return self._row(pool)[1]

    def alarm(self, pool: str) -> tuple[bool, float | None]:
        """``(alarmed, qber)`` of ``pool``'s link."""
        row = self._db.conn.execute("SELECT alarm, qber FROM pools WHERE name=?", (pool,)).fetchone()
        if row is None:
            raise KeyStoreError(f"pool {pool!r} does not exist")
        return bool(row[0]), row[1]

    def metrics(self, *, rates: bool = True) -> list[PoolMetrics]:
        """Per-pool figures; rates are averaged since the previous call (or since open). ``rates=False``:
        rates 0, and the next call's averaging window is left alone (for scrapes that derive rates from
        the totals)."""
        now = time.monotonic()
        out = []
        for (name, kind, cap, head, tail, dep, con, dis, alarm, qber) in self._db.conn.execute(
                "SELECT name, kind, capacity_bits, head, tail, deposited_bytes, consumed_bytes, discarded_bytes, "
                "alarm, qber FROM pools ORDER BY name").fetchall():
            oldest = self._db.conn.execute("SELECT MIN(added) FROM chunks WHERE pool=?", (name,)).fetchone()[0]
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

    def fingerprint(self) -> tuple[tuple[str, int, int, int, int], ...]:
        """Every pool's offsets and totals (tests compare them)."""
        return tuple(self._db.conn.execute("SELECT name, head, tail, consumed_bytes, discarded_bytes FROM pools "
                                           "ORDER BY name").fetchall())

    # ------------------------------------------------------------------ writes (inside a transaction)
    def ensure(self, name: str, kind: str, capacity_bits: int) -> None:
        """Create pool ``name`` if absent (``kind``: 'link', 'local'); update its capacity otherwise."""
        self._db.conn.execute(
            "INSERT INTO pools(name, kind, capacity_bits) VALUES (?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET capacity_bits=excluded.capacity_bits", (name, kind, capacity_bits))

    def check_room(self, pool: str, nbytes: int) -> int:
        """``pool``'s tail offset; :class:`CapacityError` if ``nbytes`` more would exceed its capacity."""
        head, tail, capacity = self._row(pool)
        if (tail - head + nbytes) * 8 > capacity:
            raise CapacityError(f"pool {pool!r}: deposit of {nbytes * 8} bits exceeds capacity "
                                f"{capacity} bits ({(tail - head) * 8} stored)")
        return tail

    def deposit(self, pool: str, material: bytes) -> int:
        """Append ``material`` to ``pool`` in sealed chunks; returns the new tail offset (bytes).
        :class:`CapacityError` (nothing stored) if the pool would exceed its capacity."""
        if not material:
            return self.tail(pool)
        tail = self.check_room(pool, len(material))
        now = time.time()
        rows = []
        step = self.chunk_bytes
        for i in range(0, len(material), step):
            start = tail + i
            part = material[i:i + step]
            nonce, ct = self._sealer.seal(part, _chunk_aad(pool, start))
            rows.append((pool, start, len(part), now, nonce, ct))
        self._db.conn.executemany("INSERT INTO chunks(pool, start, nbytes, added, nonce, ct) VALUES (?,?,?,?,?,?)",
                                  rows)
        new_tail = tail + len(material)
        self._db.conn.execute("UPDATE pools SET tail=?, deposited_bytes=deposited_bytes+? WHERE name=?",
                              (new_tail, len(material), pool))
        return new_tail

    def truncate(self, pool: str, offset: int) -> None:
        """Drop the stream bytes ``[offset, tail)`` of ``pool``. ``offset`` must be where a deposit started
        (chunk boundary) and not yet consumed (``head <= offset``); otherwise :class:`KeyStoreError`."""
        head, tail, _ = self._row(pool)
        if not head <= offset <= tail:
            raise KeyStoreError(f"pool {pool!r}: cannot truncate to offset {offset} (head {head}, tail "
                                f"{tail}): that key was already used or never deposited")
        if self._db.conn.execute("SELECT 1 FROM chunks WHERE pool=? AND start<? AND start+nbytes>?",
                                 (pool, offset, offset)).fetchone():
            raise KeyStoreError(f"pool {pool!r}: offset {offset} is inside a deposited chunk")
        self._db.conn.execute("DELETE FROM chunks WHERE pool=? AND start>=?", (pool, offset))
        self._db.conn.execute("UPDATE pools SET tail=?, deposited_bytes=deposited_bytes-? WHERE name=?",
                              (offset, tail - offset, pool))
        self._open_cache = None

    def take(self, pool: str, nbytes: int, *, refuse_alarmed: bool = False) -> tuple[int, bytes]:
        """Consume the next ``nbytes`` of ``pool``: ``(start offset, bytes)``. :class:`InsufficientKeyError`
        if the pool holds fewer bytes; with ``refuse_alarmed``, :class:`PoolAlarmedError` if its link is
        alarmed."""
        row = self._db.conn.execute("SELECT head, tail, alarm, qber FROM pools WHERE name=?", (pool,)).fetchone()
        if row is None:
            raise KeyStoreError(f"pool {pool!r} does not exist")
        head, tail, alarm, qber = row
        if refuse_alarmed and alarm:
            raise PoolAlarmedError(pool, qber)
        if tail - head < nbytes:
            raise InsufficientKeyError(f"pool {pool!r}: {nbytes * 8} bits requested, {(tail - head) * 8} stored")
        data = self._consume_prefix(pool, head, head + nbytes)
        self._db.conn.execute("UPDATE pools SET head=?, consumed_bytes=consumed_bytes+? WHERE name=?",
                              (head + nbytes, nbytes, pool))
        return head, data

    def take_range(self, pool: str, start: int, nbytes: int) -> bytes:
        """Consume stream bytes ``[start, start+nbytes)`` named by the peer that used them as a pad; bytes
        between the head and ``start`` were burned by the peer (a failed send) and are discarded."""
        head, tail, _ = self._row(pool)
        if start < head:
            raise KeyStoreError(f"pool {pool!r}: range at offset {start} already consumed (head {head})")
        if start + nbytes > tail:
            raise InsufficientKeyError(f"pool {pool!r}: range [{start}, {start + nbytes}) not yet deposited "
                                       f"(tail {tail})")
        data = self._consume_prefix(pool, head, start + nbytes)
        gap = start - head
        self._db.conn.execute("UPDATE pools SET head=?, consumed_bytes=consumed_bytes+?, "
                              "discarded_bytes=discarded_bytes+? WHERE name=?", (start + nbytes, nbytes, gap, pool))
        return data[gap:]

    def set_alarm(self, pool: str, *, alarm: bool, qber: float | None) -> None:
        """Set or clear the link alarm of ``pool`` (with the QBER that caused it, a fraction)."""
        self._row(pool)
        self._db.conn.execute("UPDATE pools SET alarm=?, qber=? WHERE name=?", (int(alarm), qber, pool))

    def _consume_prefix(self, pool: str, head: int, upto: int) -> bytes:
        """Remove and return stream bytes [head, upto) of ``pool`` (the caller has checked ``upto <= tail``
        and moves the head)."""
        out = bytearray()
        # the chunk holding ``head`` may start before it (partly consumed): find it by its start
        rows = self._db.conn.execute("SELECT start, nbytes, nonce, ct FROM chunks WHERE pool=? AND start<? "
                                     "AND start+nbytes>? ORDER BY start", (pool, upto, head)).fetchall()
        for start, nbytes, nonce, ct in rows:
            cached = self._open_cache if self._open_cache and self._open_cache[0] == (pool, start, nonce) else None
            plain = cached[1] if cached else self._sealer.open(nonce, ct, _chunk_aad(pool, start))
            end = start + nbytes
            out += plain[max(head, start) - start:min(upto, end) - start]
            if end <= upto:
                self._db.conn.execute("DELETE FROM chunks WHERE pool=? AND start=?", (pool, start))
                self._open_cache = None
            else:
                self._open_cache = ((pool, start, nonce), plain)
        return bytes(out)


def xor_bytes(a: bytes, b: bytes) -> bytes:
    """Bytewise XOR of two equal-length byte strings (the one-time pad)."""
    if len(a) != len(b):
        raise ValueError("xor_bytes: lengths differ")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _chunk_aad(pool: str, start: int) -> bytes:
    return f"qshift-kms/chunk/{pool}/{start}".encode()
