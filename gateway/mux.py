"""Stream multiplexing inside a session: frame codec and one :class:`Stream` per carried TCP connection.

Inner frames (the plaintext of one sealed record)::

    frame := type:u8  stream_id:u32be  rest
    OPEN       rest = target "host:port" (UTF-8)          opener -> acceptor
    OPEN_OK    rest = empty                               acceptor -> opener
    OPEN_FAIL  rest = reason (UTF-8)
    DATA       rest = offset:u64be  payload               offset = stream bytes sent before this frame
    WINDOW     rest = consumed:u64be                      cumulative bytes the receiver has written out
    FIN        rest = final_offset:u64be                  half-close: no more DATA from the sender
    RST        rest = reason (UTF-8)                      abort both directions
    CONTROL    stream 0, rest = kind:u8 body              rekey messages, rekey request, close

Flow control is credit based and per stream: a sender may have at most ``window`` bytes beyond the
receiver's last ``WINDOW`` (cumulative, so a lost WINDOW is repaired by the next one). The sender reads
its local socket only while it has credit, which pushes back on the local TCP peer. The receiver writes
to its local socket and returns credit after ``drain()``, so a slow local reader slows the remote writer
of that stream only. A DATA frame whose offset is not the next expected one (a frame was dropped as
tampered) resets that stream rather than deliver a hole.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable

from gateway.errors import FrameError

F_OPEN, F_OPEN_OK, F_OPEN_FAIL, F_DATA, F_WINDOW, F_FIN, F_RST, F_CONTROL = range(1, 9)
FRAME_NAMES = {F_OPEN: "OPEN", F_OPEN_OK: "OPEN_OK", F_OPEN_FAIL: "OPEN_FAIL", F_DATA: "DATA",
               F_WINDOW: "WINDOW", F_FIN: "FIN", F_RST: "RST", F_CONTROL: "CONTROL"}
HEAD = struct.Struct(">BI")
U64 = struct.Struct(">Q")
#: Longest OPEN target / OPEN_FAIL or RST reason accepted (bytes).
MAX_TEXT_BYTES = 512

SendFrame = Callable[[int, int, bytes], Awaitable[None]]


def encode_frame(ftype: int, stream_id: int, rest: bytes = b"") -> bytes:
    return HEAD.pack(ftype, stream_id) + rest


def decode_frame(plaintext: bytes) -> tuple[int, int, bytes]:
    """(type, stream_id, rest) of an inner frame, its layout checked; :class:`FrameError` names the fault.

    Stream 0 carries CONTROL and nothing else; DATA carries at least its 8-byte offset; WINDOW and FIN
    are exactly 8 bytes; OPEN targets and reasons are UTF-8 of at most :data:`MAX_TEXT_BYTES`."""
    if len(plaintext) < HEAD.size:
        raise FrameError("?", 0, f"{len(plaintext)} bytes, shorter than the {HEAD.size}-byte frame header "
                                 "(offset 0)")
    ftype, sid = HEAD.unpack_from(plaintext)
    rest = plaintext[HEAD.size:]
    name = FRAME_NAMES.get(ftype)
    if name is None:
        raise FrameError(f"0x{ftype:02x}", sid, "unknown frame type (offset 0)")
    if (ftype == F_CONTROL) != (sid == 0):
        raise FrameError(name, sid, "CONTROL frames use stream 0 and only they do (offset 1)")
    if ftype == F_DATA and len(rest) < U64.size:
        raise FrameError(name, sid, f"{len(rest)}-byte body, shorter than its 8-byte offset (offset {HEAD.size})")
    if ftype in (F_WINDOW, F_FIN) and len(rest) != U64.size:
        raise FrameError(name, sid, f"{len(rest)}-byte body, expected 8 (offset {HEAD.size})")
    if ftype in (F_OPEN_OK,) and rest:
        raise FrameError(name, sid, f"{len(rest)} unexpected body bytes (offset {HEAD.size})")
    if ftype in (F_OPEN, F_OPEN_FAIL, F_RST):
        if len(rest) > MAX_TEXT_BYTES:
            raise FrameError(name, sid, f"{len(rest)}-byte text, longer than {MAX_TEXT_BYTES} (offset {HEAD.size})")
        try:
            rest.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError(name, sid, f"text is not UTF-8 (offset {HEAD.size + exc.start})") from None
    if ftype == F_CONTROL and not rest:
        raise FrameError(name, sid, f"empty CONTROL body (offset {HEAD.size})")
    return ftype, sid, rest


class Stream:
    """One TCP connection carried through the tunnel (either end)."""

    def __init__(self, stream_id: int, target: str, reader: asyncio.StreamReader | None,
                 writer: asyncio.StreamWriter | None, send: SendFrame, window: int, max_payload: int,
                 on_done: Callable[[Stream], None], on_bytes: Callable[[str, int], None]) -> None:
        self.id = stream_id
        self.target = target
        self.reader = reader
        self.writer = writer
        self._send = send
        self.window = window
        self.max_payload = max_payload
        self._on_done = on_done
        self._on_bytes = on_bytes
        self.sent = 0              # bytes we sent as DATA
        self.peer_consumed = 0     # bytes the peer has written out (from WINDOW)
        self.received = 0          # bytes of DATA received (next expected offset)
        self.advertised = 0        # last cumulative WINDOW value we sent
        self.fin_sent = False
        self.fin_received = False
        self.closed = False
        self._credit = asyncio.Event()
        self._written = asyncio.Event()
        self.opened = asyncio.get_running_loop().create_future()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start pumping both directions (after OPEN_OK / after the local connect)."""
        self._tasks.append(asyncio.create_task(self._pump_out(), name=f"stream-{self.id}-out"))
        self._tasks.append(asyncio.create_task(self._pump_credit(), name=f"stream-{self.id}-credit"))

    async def _pump_out(self) -> None:
        """Local socket -> DATA frames, within the peer's credit; FIN on local EOF."""
        assert self.reader is not None
        try:
            while not self.closed:
                allowed = self.peer_consumed + self.window - self.sent
                if allowed <= 0:
                    self._credit.clear()
                    await self._credit.wait()
                    continue
                data = await self.reader.read(min(allowed, self.max_payload))
                if self.closed:
                    return
                if not data:
                    self.fin_sent = True
                    await self._send(F_FIN, self.id, U64.pack(self.sent))
                    self._maybe_done()
                    return
                offset = self.sent
                self.sent += len(data)
                await self._send(F_DATA, self.id, U64.pack(offset) + data)
                self._on_bytes("out", len(data))
        except (ConnectionError, OSError):
            await self.reset("local_reset", notify=True)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - session gone: the session closes every stream itself
            await self.reset("session_closed", notify=False)

    async def _pump_credit(self) -> None:
        """After the local socket drains, return credit to the peer with a cumulative WINDOW."""
        assert self.writer is not None
        try:
            while not self.closed:
                await self._written.wait()
                self._written.clear()
                await self.writer.drain()
                if self.received - self.advertised >= max(1, self.window // 4) or (
                        self.fin_received and self.received != self.advertised):
                    self.advertised = self.received
                    await self._send(F_WINDOW, self.id, U64.pack(self.received))
        except (ConnectionError, OSError):
            await self.reset("local_reset", notify=True)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            await self.reset("session_closed", notify=False)

    # -- frames from the peer ------------------------------------------------------------------
    def on_data(self, rest: bytes) -> str | None:
        """Deliver a DATA frame; return a reset reason when it cannot be delivered in order."""
        if self.fin_received:
            return "data_after_fin"
        (offset,) = U64.unpack_from(rest)
        if offset != self.received:
            return "gap"
        payload = rest[8:]
        if self.received + len(payload) - self.advertised > self.window:
            return "window_exceeded"
        self.received += len(payload)
        assert self.writer is not None
        self.writer.write(payload)
        self._on_bytes("in", len(payload))
        self._written.set()
        return None

    def on_window(self, rest: bytes) -> None:
        (consumed,) = U64.unpack_from(rest)
        if consumed > self.peer_consumed:
            self.peer_consumed = min(consumed, self.sent)
            self._credit.set()

    def on_fin(self, rest: bytes) -> str | None:
        (final,) = U64.unpack_from(rest)
        if final != self.received:
            return "gap"
        self.fin_received = True
        assert self.writer is not None
        try:
            if self.writer.can_write_eof():
                self.writer.write_eof()
        except (ConnectionError, OSError):
            pass
        self._written.set()
        self._maybe_done()
        return None

    def _maybe_done(self) -> None:
        if self.fin_sent and self.fin_received and not self.closed:
            asyncio.get_running_loop().create_task(self._finish())

    async def _finish(self) -> None:
        # Let the last bytes reach the local socket before closing it.
        try:
            if self.writer is not None:
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        self._close_local(abort=False)

    async def reset(self, reason: str, notify: bool) -> None:
        """Abort the stream both ways; tell the peer with RST when ``notify``."""
        if self.closed:
            return
        self._close_local(abort=True)
        if notify:
            try:
                await self._send(F_RST, self.id, reason.encode())
            except Exception:  # noqa: BLE001 - the session may be gone already
                pass

    def _close_local(self, abort: bool) -> None:
        if self.closed:
            return
        self.closed = True
        self._credit.set()
        self._written.set()
        if not self.opened.done():
            self.opened.set_result(False)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if self.writer is not None:
            if abort:
                transport = self.writer.transport
                transport.abort()
            else:
                self.writer.close()
        self._on_done(self)
