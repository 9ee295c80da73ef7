"""Key intake: the sink the post-processing pipeline pushes distilled blocks into, and synthetic feeds.

:class:`LinkKeySink` takes blocks of secret key of one QKD link (identical at both ends, in the same
order) and deposits them, split in halves, into the link's two directed pools (see
:mod:`qkd.kms.topology`). ``push`` returns only after the deposit is durable - that is the producer's
acknowledgement - and raises :class:`~qkd.kms.errors.CapacityError` (back-pressure) when full.

Synthetic feeds, for tests and demos only, are labelled as such in logs and status:

* ``synthetic-shared-seed``: block ``i`` of link ``L`` is SHAKE-256(``seed || L || i``); both ends compute
  the same bytes without a link. **Not secret.**
* ``synthetic-os-rng``: ``os.urandom`` blocks into the ``local`` pool (no QKD link made them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os

from qkd.kms.config import FeedSection
from qkd.kms.errors import CapacityError, KeyStoreError
from qkd.kms.store import KeyStore
from qkd.kms.topology import LOCAL_POOL, Network, pool_name
from qkd.kms.unitofwork import StoreTx

log = logging.getLogger(__name__)


class LinkKeySink:
    """Deposits blocks of one link's key into its two directed pools at this node."""

    def __init__(self, store: KeyStore, network: Network, link_id: str) -> None:
        self.store = store
        self.link_id = link_id
        first, second = network.split_order(link_id)
        self.pools = (pool_name(link_id, first, second), pool_name(link_id, second, first))

    def push(self, block: bytes) -> None:
        """Store one block (an odd last byte is dropped): first half → ``pools[0]``, second → ``pools[1]``."""
        half = len(block) // 2
        if half == 0:
            return
        # both halves in one transaction: a crash or a full pool stores neither, so the stream offsets of
        # both directions stay equal to the peer's
        start = self.store.tail(self.pools[0])
        try:
            self.store.run(lambda tx: tx.deposit_many(
                [(self.pools[0], block[:half]), (self.pools[1], block[half:2 * half])],
                counters={self.last_block_counter: start}))
        except CapacityError as exc:
            raise CapacityError(f"link {self.link_id!r}: {exc}; slow the link down") from None

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict) -> None:
        """``qkd.postprocess.link.KeySink``: a distilled block from the link pipeline (both ends deliver the
        same blocks in the same order). Durable when this returns; raises CapacityError when full."""
        if link_id != self.link_id:
            raise KeyStoreError(f"sink of link {self.link_id!r} got a block of link {link_id!r} (key_id {key_id})")
        self.push(key)
        log.info("link key block stored", extra={"event": "kms.link.block", "link": link_id, "block_key_id": key_id,
                                                  "bits": len(key) * 8})

    def on_alarm(self, alarm: object) -> None:
        """Subscriber of ``qkd.postprocess.link.AlarmMonitor``: ``qber-alarm`` sets, ``qber-clear`` clears."""
        kind = getattr(alarm, "kind", "")
        if kind in ("qber-alarm", "qber-clear"):
            self.set_alarm(kind == "qber-alarm", float(getattr(alarm, "qber", 0.0)))

    @property
    def last_block_counter(self) -> str:
        """Store counter holding the stream offset where the last deposited block starts (both pools)."""
        return f"link-last-block/{self.link_id}"

    def stream_state(self) -> dict[str, int]:
        """``{"tail": ..., "last_block_start": ...}`` of this end (bytes; both pools have the same offsets)."""
        tails = {self.store.tail(p) for p in self.pools}
        if len(tails) != 1:
            raise KeyStoreError(f"link {self.link_id!r}: its two directed pools have different tails {tails}")
        return {"tail": tails.pop(), "last_block_start": self.store.counter(self.last_block_counter)}

    def drop_last_block(self, start: int) -> None:
        """Give up the last deposited block (its bytes from ``start`` on, in both pools): the peer never
        deposited it. Refused (KeyStoreError) if any of it was already used."""
        self.store.run(lambda tx: tx.truncate(self.pools, start))
        log.warning("link block the peer lacks dropped", extra={"event": "kms.link.resync", "link": self.link_id,
                                                                 "offset": start})

    def headroom_bits(self) -> int:
        """Bits either directed pool can still take before it is full (back-pressure to the link)."""
        return min(self.store.headroom_bits(pool) for pool in self.pools)

    def blocks_deposited(self, block_bytes: int) -> int:
        """Whole blocks of ``block_bytes`` already deposited (from the first pool's tail)."""
        return self.store.tail(self.pools[0]) // (block_bytes // 2)

    def set_alarm(self, alarm: bool, qber: float | None = None) -> None:
        """Set or clear the alarm of both directed pools (one transaction)."""
        def both(tx: StoreTx) -> None:
            for pool in self.pools:
                tx.set_alarm(pool, alarm=alarm, qber=qber)
        self.store.run(both)


def synthetic_block(seed: str, link_id: str, index: int, nbytes: int) -> bytes:
    """Block ``index`` of a synthetic shared-seed link: SHAKE-256(seed || link || index). NOT SECRET."""
    return hashlib.shake_256(f"qshift-synthetic/{seed}/{link_id}/{index}".encode()).digest(nbytes)


class SyntheticFeed:
    """Fills one pool from a synthetic source: ``prefill_bits`` at start, then ``rate_bps`` in the background."""

    def __init__(self, feed: FeedSection, store: KeyStore, network: Network) -> None:
        self.feed = feed
        self.store = store
        self.block_bytes = max(2, feed.block_bits // 8)
        self.sink = None if feed.pool == LOCAL_POOL else LinkKeySink(store, network, feed.pool)

    def _next_block(self) -> bytes:
        if self.sink is None:
            return os.urandom(self.block_bytes)
        index = self.sink.blocks_deposited(self.block_bytes)
        return synthetic_block(self.feed.seed, self.feed.pool, index, self.block_bytes)

    def _push(self, block: bytes) -> None:
        if self.sink is None:
            self.store.deposit(LOCAL_POOL, block)
        else:
            self.sink.push(block)

    def prefill(self) -> int:
        """Deposit blocks until ``prefill_bits`` were deposited in total (also across restarts); bits added."""
        added = 0
        target = self.feed.prefill_bits // 8
        while True:
            done = (self.store.tail(LOCAL_POOL) if self.sink is None
                    else self.sink.blocks_deposited(self.block_bytes) * self.block_bytes)
            if done >= target:
                break
            block = (os.urandom(min(self.block_bytes, target - done)) if self.sink is None
                     else self._next_block())
            try:
                self._push(block)
            except CapacityError:
                break
            added += len(block) * 8
        if added:
            log.info("synthetic key prefilled (NOT from a QKD link)",
                     extra={"event": "kms.feed.prefill", "pool": self.feed.pool, "kind": self.feed.kind,
                            "bits": added})
        return added

    async def run(self) -> None:
        """Deposit at ``rate_bps`` until cancelled; waits (back-pressure) while the pool is full."""
        if self.feed.rate_bps <= 0:
            return
        interval = self.block_bytes * 8 / self.feed.rate_bps
        while True:
            await asyncio.sleep(interval)
            try:
                self._push(self._next_block())
            except CapacityError:
                continue
