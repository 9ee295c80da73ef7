"""The network path of a link's classical channel in a scenario: a TCP relay on loopback with faults.

Alice's KME reaches Bob's link channel through a :class:`ChannelPath` (the feed's ``channel_url``); the
TLS session and the WebSocket run end to end through it, so what the faults do is what a network does:

- ``latency_ms``: one-way delay added to every chunk (ms), delivery stays in order;
- ``loss``: probability that a transmission of a chunk is lost; TCP retransmits it after its
  retransmission timeout (:func:`~qshift.scenario.impairment.delivery_delay_s`, RFC 6298), everything
  behind it waits (head-of-line blocking) — the channel is slow, never lossy;
- ``silent``: the path swallows everything in both directions and closes nothing (a blackholed route
  or a frozen middlebox): the ends must notice by their heartbeats. New connections are accepted and
  swallowed too. Lifting it affects connections opened afterwards (the old ones have been given up).

Every task is tracked; a pump's failure closes its connection and is logged; :meth:`ChannelPath.stop`
cancels them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Coroutine
from typing import Any

from qshift.scenario.impairment import delivery_delay_s

log = logging.getLogger(__name__)

CHUNK_BYTES = 65536


class ChannelPath:
    """A TCP relay ``127.0.0.1:port`` → ``target`` with latency, loss and silence (see the module docstring)."""

    def __init__(self, target_host: str, target_port: int, *, seed: int, name: str = "path") -> None:
        self.target = (target_host, target_port)
        self.name = name
        self.latency_ms = 0.0
        self.loss = 0.0
        self.silent = False
        self.connections = 0
        self.swallowed_bytes = 0
        self._rng = random.Random(seed)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("channel path task failed", extra={"event": "scenario.path.error", "path": self.name,
                                                            "error": repr(task.exception())})

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        silent_from_start = self.silent
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError as exc:
            log.info("channel path: target unreachable", extra={"event": "scenario.path.refused", "path": self.name,
                                                                 "error": repr(exc)})
            writer.close()
            return
        pumps = [self._spawn(self._pump(reader, up_writer, silent_from_start), f"{self.name}-up"),
                 self._spawn(self._pump(up_reader, writer, silent_from_start), f"{self.name}-down")]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            for w in (writer, up_writer):
                w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, silent_from_start: bool) -> None:
        """Forward one direction, each chunk delivered at max(previous delivery, now + its delay)."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        deliver = self._spawn(self._deliver(queue, writer), f"{self.name}-deliver")
        due = 0.0
        try:
            while True:
                data = await reader.read(CHUNK_BYTES)
                if not data and (self.silent or silent_from_start):
                    await asyncio.Event().wait()       # a blackhole forwards no FIN either (until stopped)
                if not data:
                    break
                if self.silent or silent_from_start:
                    self.swallowed_bytes += len(data)
                    continue
                due = max(due, time.monotonic() + delivery_delay_s(self.latency_ms, self.loss, self._rng))
                queue.put_nowait((due, data))
            queue.put_nowait(None)
            await deliver
        finally:
            deliver.cancel()

    async def _deliver(self, queue: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter) -> None:
        while True:
            item = await queue.get()
            if item is None:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            due, data = item
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.silent:
                self.swallowed_bytes += len(data)
                continue
            writer.write(data)
            await writer.drain()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()


__all__ = ["ChannelPath"]
