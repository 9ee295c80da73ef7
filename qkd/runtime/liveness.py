"""Heartbeats on a link's classical connection: a peer that goes silent without closing is detected.

:class:`LivenessTransport` wraps any :class:`~qkd.postprocess.channel.Transport` (a WebSocket between two
KMEs, the in-process queues). Every message carries one leading byte: ``D`` (a channel frame, passed
through) or ``H`` (a heartbeat, dropped on receipt). :meth:`LivenessTransport.run` — started in the
session's task group, so its failure cancels the block protocol — runs three tasks:

* a reader that moves frames from the inner transport to an inbox and notes the time of every arrival;
* a heartbeat sender (one ``H`` every ``heartbeat_s``), so an idle but healthy peer is never silent;
* a watchdog that raises :class:`PeerSilent` when nothing at all arrived for ``silence_timeout_s``.

With :meth:`LivenessTransport.attach` (the link runtime's sub-channels, :class:`~qkd.runtime.mux.ChannelMux`),
the reader hands every frame straight to a callback instead of the inbox (one queue hop less per message)
and every failure to another.

So a silent peer (no FIN: a blackholed path, a frozen process) is detected within ``silence_timeout_s``
plus one watchdog tick (``heartbeat_s / 4``), whatever the protocol is waiting for. Heartbeats are not
authenticated: they only keep a session alive, and every protocol step still has its own deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from qkd.postprocess.channel import ChannelError, Transport

DATA, HEARTBEAT = b"D", b"H"


class PeerSilent(ChannelError, cause="peer-silent"):
    """Nothing arrived from the peer within the silence bound."""


class PeerClosed(ChannelError, cause="peer-closed"):
    """The peer closed the classical connection (or it broke)."""


class LivenessTransport:
    """A :class:`Transport` with heartbeats and a silence watchdog (see the module docstring)."""

    def __init__(self, inner: Transport, *, heartbeat_s: float = 1.0, silence_timeout_s: float = 5.0,
                 link_id: str = "link") -> None:
        if not 0 < heartbeat_s < silence_timeout_s:
            raise ValueError(f"heartbeat_s ({heartbeat_s}) must be positive and below silence_timeout_s "
                             f"({silence_timeout_s})")
        self.inner = inner
        self.heartbeat_s = heartbeat_s
        self.silence_timeout_s = silence_timeout_s
        self.link_id = link_id
        self._inbox: asyncio.Queue[bytes | BaseException] = asyncio.Queue()
        self.last_rx = time.monotonic()
        self.heartbeats_received = 0
        self._feed: Callable[[bytes], None] | None = None
        self._fail: Callable[[BaseException], None] | None = None

    def attach(self, feed: Callable[[bytes], None], fail: Callable[[BaseException], None]) -> None:
        """Hand each received frame to ``feed`` (an exception it raises fails the connection) and each failure to
        ``fail``, instead of keeping them for :meth:`recv_bytes`."""
        self._feed, self._fail = feed, fail

    def _failure(self, error: BaseException) -> None:
        self._inbox.put_nowait(error)
        if self._fail is not None:
            self._fail(error)

    async def send_bytes(self, data: bytes) -> None:
        await self.inner.send_bytes(DATA + data)

    async def recv_bytes(self) -> bytes:
        item = await self._inbox.get()
        if isinstance(item, BaseException):
            self._inbox.put_nowait(item)         # every later receive fails the same way
            raise item
        return item

    async def close(self) -> None:
        await self.inner.close()

    async def run(self) -> None:
        """Reader, heartbeat and watchdog until one fails (raises :class:`PeerSilent`, :class:`PeerClosed`)."""
        self.last_rx = time.monotonic()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._read(), name=f"{self.link_id}-reader")
                group.create_task(self._beat(), name=f"{self.link_id}-heartbeat")
                group.create_task(self._watch(), name=f"{self.link_id}-watchdog")
        except BaseExceptionGroup as group_error:
            first = next(e for e in group_error.exceptions if not isinstance(e, asyncio.CancelledError))
            raise first from None

    async def _read(self) -> None:
        while True:
            try:
                raw = await self.inner.recv_bytes()
            except ChannelError as exc:
                error: BaseException = PeerClosed(f"link {self.link_id!r}: classical connection closed: {exc}")
                self._failure(error)
                raise error from None
            self.last_rx = time.monotonic()
            if raw[:1] == HEARTBEAT:
                self.heartbeats_received += 1
            elif raw[:1] == DATA:
                if self._feed is None:
                    self._inbox.put_nowait(raw[1:])
                    continue
                try:
                    self._feed(raw[1:])
                except ChannelError as exc:
                    self._failure(exc)
                    raise
            else:
                error = ChannelError(f"link {self.link_id!r}: message of unknown kind {raw[:1]!r} on the channel")
                self._failure(error)
                raise error

    async def _beat(self) -> None:
        while True:
            try:
                await self.inner.send_bytes(HEARTBEAT)
            except ChannelError as exc:
                raise PeerClosed(f"link {self.link_id!r}: heartbeat could not be sent: {exc}") from None
            except (ConnectionError, RuntimeError) as exc:     # aiohttp raises these on a closing WebSocket
                raise PeerClosed(f"link {self.link_id!r}: heartbeat could not be sent: {exc!r}") from None
            await asyncio.sleep(self.heartbeat_s)

    async def _watch(self) -> None:
        tick = self.heartbeat_s / 4
        while True:
            await asyncio.sleep(tick)
            silent = time.monotonic() - self.last_rx
            if silent > self.silence_timeout_s:
                error = PeerSilent(f"link {self.link_id!r}: nothing received from the peer for {silent:.1f} s "
                                   f"(bound {self.silence_timeout_s} s)")
                self._failure(error)
                raise error


__all__ = ["LivenessTransport", "PeerClosed", "PeerSilent"]
