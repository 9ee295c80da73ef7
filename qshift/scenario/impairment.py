"""Delay and loss on a link's classical (post-processing) channel, for the ``latency`` and ``loss`` faults.

The classical channel of a deployed link runs over TCP (a WebSocket between the two nodes), so a lost
segment is not a lost message: TCP retransmits it after its retransmission timeout and everything sent
after it waits behind it (head-of-line blocking). This module models exactly that on top of any
:class:`qkd.postprocess.channel.Transport`:

- ``latency_ms``: one-way delay added to every message (ms);
- ``loss``: probability that a transmission of a message is lost; each loss costs one retransmission
  timeout, starting at ``MIN_RTO_S`` (Linux's minimum RTO, 200 ms; RFC 6298 §2 recommends 1 s) and
  doubling for each further loss of the same message (RFC 6298 §5.5, exponential back-off);
- delivery stays in order: a message is never delivered before the one sent before it.

Messages are never dropped for good, so the post-processing protocol sees a slow channel, as it would on
a real network, and the key rate of the link falls with the number of round trips per block.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from qkd.postprocess.channel import Transport

MIN_RTO_S = 0.2
MAX_RTO_S = 60.0


def delivery_delay_s(latency_ms: float, loss: float, rng: random.Random) -> float:
    """Seconds from sending one message to its delivery: the one-way latency plus one retransmission
    timeout per lost transmission (RTO doubling per loss, RFC 6298 §5.5)."""
    delay = latency_ms / 1000.0
    rto = MIN_RTO_S
    while loss > 0.0 and rng.random() < loss:
        delay += rto
        rto = min(2.0 * rto, MAX_RTO_S)
    return delay


class ImpairedTransport:
    """A :class:`Transport` whose outgoing messages arrive late (latency, TCP retransmissions), in order.

    ``latency_ms`` and ``loss`` may be changed at any time; they apply to messages sent afterwards."""

    def __init__(self, inner: Transport, *, seed: int) -> None:
        self._inner = inner
        self._rng = random.Random(seed)
        self.latency_ms = 0.0
        self.loss = 0.0
        self._queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._last_delivery = 0.0
        self._pending = 0  # messages queued or waiting in the pump, not yet handed to the inner transport
        self._pump: asyncio.Task[None] | None = None

    @property
    def impaired(self) -> bool:
        return self.latency_ms > 0.0 or self.loss > 0.0

    async def send_bytes(self, data: bytes) -> None:
        if not self.impaired and self._pending == 0:
            await self._inner.send_bytes(data)
            return
        loop = asyncio.get_running_loop()
        deliver_at = max(loop.time() + delivery_delay_s(self.latency_ms, self.loss, self._rng), self._last_delivery)
        self._last_delivery = deliver_at
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._deliver(), name="classical-channel-impairment")
        self._pending += 1
        self._queue.put_nowait((deliver_at, data))

    async def _deliver(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            deliver_at, data = await self._queue.get()
            wait = deliver_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._inner.send_bytes(data)
            self._pending -= 1

    async def recv_bytes(self) -> bytes:
        return await self._inner.recv_bytes()

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await self._inner.close()
