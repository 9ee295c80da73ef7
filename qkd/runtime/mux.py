"""Sub-channels of one classical connection: one per block in flight, plus the session's control channel.

A pipelined link end runs several blocks at once (:mod:`qkd.runtime.runtime`); each block speaks the block
protocol on its own :class:`~qkd.postprocess.channel.ClassicalChannel`, so each has its own frame sequence,
its own leakage ledger (λ_EC per block) and, in ``transcript`` mode, its own transcript authenticated at
its own checkpoint. :class:`ChannelMux` carries them over the session's one transport: every message is
``sub-channel id (u64, big-endian) | message``; block ``i`` is sub-channel ``i``, the link hello is
:data:`CONTROL`. The id needs no authentication of its own: a message moved to another sub-channel changes
both that block's transcript and the one it came from, so their checkpoints fail (``transcript`` mode), and
per-frame tags number frames across the whole connection (``per-frame`` mode runs one block at a time).

Bounded memory: at most ``max_open`` sub-channels hold messages at once (the runtime sets it from the
negotiated number of blocks in flight); a message for a sub-channel beyond that, or for one already closed,
is a protocol violation (:class:`MuxError`) that fails the session. Sub-channels of blocks are closed in
block order (blocks are committed in order), so "closed" is every block id up to the last one closed.
"""

from __future__ import annotations

import asyncio
import struct

from qkd.postprocess.channel import ChannelError, Transport

#: the sub-channel of the session's control messages (the link hello)
CONTROL = (1 << 64) - 1
_ID = struct.Struct(">Q")


class MuxError(ChannelError, cause="desync"):
    """A message for a sub-channel that is closed or beyond the bound of open sub-channels."""


class ChannelMux:
    """Sub-channels over one :class:`Transport` (see the module docstring). :meth:`run` reads the
    transport and hands each message to its sub-channel; start it beside the protocol."""

    def __init__(self, transport: Transport, *, link_id: str = "link", max_open: int = 2) -> None:
        self.inner = transport
        self.link_id = link_id
        self.max_open = max_open
        self._queues: dict[int, asyncio.Queue[bytes | BaseException]] = {}
        self._closed_upto = -1            # block sub-channels up to this id are closed
        self._error: BaseException | None = None
        self.messages_in = 0
        self.messages_out = 0

    def open(self, cid: int) -> SubTransport:
        """The transport of sub-channel ``cid`` (messages that arrived before are kept for it)."""
        self._queue(cid)
        return SubTransport(self, cid)

    def close(self, cid: int) -> None:
        """Close sub-channel ``cid``; a block's sub-channel closes every block id up to it."""
        self._queues.pop(cid, None)
        if cid != CONTROL:
            self._closed_upto = max(self._closed_upto, cid)

    @property
    def open_count(self) -> int:
        return len(self._queues)

    def _queue(self, cid: int) -> asyncio.Queue[bytes | BaseException]:
        queue = self._queues.get(cid)
        if queue is not None:
            return queue
        if cid != CONTROL and cid <= self._closed_upto:
            raise MuxError(f"link {self.link_id!r}: a message for block {cid}, whose sub-channel is closed")
        if len(self._queues) >= self.max_open:
            raise MuxError(f"link {self.link_id!r}: sub-channel {cid} would be the {len(self._queues) + 1}th open "
                           f"one (at most {self.max_open}: blocks in flight beyond the agreed number)")
        queue = asyncio.Queue()
        if self._error is not None:
            queue.put_nowait(self._error)
        self._queues[cid] = queue
        return queue

    async def send(self, cid: int, data: bytes) -> None:
        self.messages_out += 1
        await self.inner.send_bytes(_ID.pack(cid) + data)

    async def recv(self, cid: int) -> bytes:
        queue = self._queue(cid)
        item = await queue.get()
        if isinstance(item, BaseException):
            queue.put_nowait(item)           # every later receive fails the same way
            raise item
        return item

    def recv_nowait(self, cid: int) -> bytes | None:
        """The next message of sub-channel ``cid`` if one has arrived, else None: no wait, so the channel arms
        no step deadline for it (with blocks in flight the answer is often there before it is asked for)."""
        queue = self._queue(cid)
        if queue.empty():
            return None
        item = queue.get_nowait()
        if isinstance(item, BaseException):
            queue.put_nowait(item)           # every later receive fails the same way
            raise item
        return item

    def feed(self, raw: bytes) -> None:
        """Hand one received message to its sub-channel (raises :class:`MuxError` on a protocol violation)."""
        if len(raw) < _ID.size:
            raise MuxError(f"link {self.link_id!r}: a message of {len(raw)} bytes has no sub-channel id")
        self.messages_in += 1
        (cid,) = _ID.unpack_from(raw)
        self._queue(cid).put_nowait(raw[_ID.size:])

    def fail(self, error: BaseException) -> None:
        """The connection failed: every sub-channel's next receive raises ``error`` (and those opened later)."""
        self._error = error
        for queue in self._queues.values():
            queue.put_nowait(error)

    async def run(self) -> None:
        """Move messages from the transport to their sub-channels until the transport fails; the failure
        (or a protocol violation) is handed to every sub-channel and raised. (A
        :class:`~qkd.runtime.liveness.LivenessTransport` can instead :meth:`feed` the mux from its own reader:
        ``live.attach(mux.feed, mux.fail)``.)"""
        try:
            while True:
                self.feed(await self.inner.recv_bytes())
        except Exception as exc:
            self.fail(exc)
            raise


class SubTransport:
    """One sub-channel of a :class:`ChannelMux`, as a :class:`Transport`; ``close`` closes the sub-channel
    only (the connection stays up)."""

    def __init__(self, mux: ChannelMux, cid: int) -> None:
        self.mux = mux
        self.cid = cid

    async def send_bytes(self, data: bytes) -> None:
        await self.mux.send(self.cid, data)

    async def recv_bytes(self) -> bytes:
        return await self.mux.recv(self.cid)

    def recv_nowait(self) -> bytes | None:
        return self.mux.recv_nowait(self.cid)

    async def close(self) -> None:
        self.mux.close(self.cid)


__all__ = ["CONTROL", "ChannelMux", "MuxError", "SubTransport"]
