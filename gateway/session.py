"""One established tunnel session with a peer: sealed records, key epochs, rekey, streams.

The session owns the TCP connection to the peer after the handshake. It reads sealed records, opens
them with the receive cipher of their epoch, and dispatches the inner frames (see :mod:`gateway.mux`)
to streams or to the control handler. Sending seals with the current send epoch and writes in one
synchronous step, so record order on the wire is sequence order.

Rekey (only the session initiator starts one; the responder asks with ``REKEY_REQUEST``)::

    I: msg1 (CONTROL)  ->  R: msg2 (CONTROL)  ->  I: installs recv epoch n+1, sends msg3 under epoch n,
       switches its send key to n+1 in the same step  ->  R: verifies msg3 inline (before reading the
       next record), installs epoch n+1 both ways and retires receive epoch n. I retires its receive
       epoch n on the first record of epoch n+1.

Streams keep flowing during all of it: the handshake work runs in its own task, and only msg3's
verification runs inline in the reader. Keys past ``rekey.hard_limit_*`` are refused both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.config import DataPlaneConfig, RekeyConfig, split_host_port
from gateway.errors import FrameError, GatewayError, HandshakeError, ProtocolError, SessionClosedError
from gateway.keys import SessionKeys
from gateway.metrics import GatewayMetrics
from gateway.mux import (
    F_CONTROL,
    F_DATA,
    F_FIN,
    F_OPEN,
    F_OPEN_FAIL,
    F_OPEN_OK,
    F_RST,
    F_WINDOW,
    HEAD,
    Stream,
    decode_frame,
    encode_frame,
)
from gateway.record import RecordCipher, RecordRejected
from gateway.wire import REC_ALERT, REC_SEALED, encode_record, read_record

log = logging.getLogger(__name__)

CTRL_HANDSHAKE = 1
CTRL_REKEY_REQUEST = 2
CTRL_CLOSE = 3
CTRL_READY = 4
_EPOCH = struct.Struct(">I")


class RekeyInitiator(Protocol):
    async def first_message(self) -> bytes: ...
    async def finish(self, msg2: bytes) -> tuple[bytes, SessionKeys]: ...
    def abandon(self) -> None: ...


class RekeyResponder(Protocol):
    async def respond(self, msg1: bytes) -> bytes: ...
    async def complete(self, msg3: bytes) -> SessionKeys: ...
    def abandon(self) -> None: ...


class SessionHooks(Protocol):
    """What a session needs from the service: handshakes for rekeys, ciphers, policy, reporting."""

    def rekey_initiator(self, peer: str, rekey_of: bytes) -> RekeyInitiator: ...
    def rekey_responder(self, peer: str, rekey_of: bytes) -> RekeyResponder: ...
    def ciphers(self, keys: SessionKeys) -> tuple[RecordCipher, RecordCipher]: ...
    def allow_target(self, peer: str, target: str) -> bool: ...
    def keys_installed(self, session: Session, old: SessionKeys | None, new: SessionKeys, kind: str) -> None: ...
    def session_closed(self, session: Session, cause: str) -> None: ...


@dataclass
class Epoch:
    number: int
    keys: SessionKeys
    send: RecordCipher
    recv: RecordCipher
    created: float = field(default_factory=time.monotonic)
    frames_sent: int = 0
    bytes_sent: int = 0
    frames_received: int = 0

    def age(self) -> float:
        return time.monotonic() - self.created

    def retire(self) -> None:
        self.send.wipe()
        self.recv.wipe()
        self.keys.wipe()


class Session:
    """An established, keyed session with one peer over one TCP connection."""

    def __init__(self, *, peer: str, role: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 keys: SessionKeys, data: DataPlaneConfig, rekey: RekeyConfig, metrics: GatewayMetrics,
                 hooks: SessionHooks) -> None:
        self.peer = peer
        self.role = role
        self.reader = reader
        self.writer = writer
        self.data_cfg = data
        self.rekey_cfg = rekey
        self.metrics = metrics
        self.hooks = hooks
        send, recv = hooks.ciphers(keys)
        self._send_epoch = Epoch(0, keys, send, recv)
        self._recv_epochs: dict[int, Epoch] = {0: self._send_epoch}
        self.keys = keys
        self.rekeys = 0
        self.streams: dict[int, Stream] = {}
        self._next_stream_id = 1 if role == "initiator" else 2
        self._opening: set[int] = set()   # stream ids of OPENs being connected (not yet in ``streams``)
        self.bad_records = 0
        self.dropped_records = 0
        #: How long the last rekeys took (ms), newest last.
        self.rekey_durations_ms: deque[float] = deque(maxlen=64)
        self.closed = False
        self.close_cause: str | None = None
        self.started = time.time()
        self.bytes_in = 0
        self.bytes_out = 0
        self._rekey_task: asyncio.Task[None] | None = None
        self._rekey_requested = False
        self._msg2_waiter: asyncio.Future[bytes] | None = None
        self._responder: RekeyResponder | None = None
        self._responding_since: float | None = None   # responder: a rekey msg1 is being answered
        self._tasks: set[asyncio.Task[Any]] = set()
        self._data_turn = asyncio.Lock()
        self._done = asyncio.Event()
        self.last_rekey_error: str | None = None
        #: The initiator's handshake keeps the responder's first sealed record here for :meth:`run`.
        self.first_record: bytes | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    async def run(self, first_record: bytes | None = None) -> str:
        """Read and dispatch records until the session closes; return the close cause.

        The responder opens with a sealed READY frame (its proof that it accepted our Finish); the
        initiator's handshake reads that record and hands it in as ``first_record``."""
        ticker = self._spawn(self._tick(), "ticker")
        try:
            if self.role == "responder":
                await self._guarded(self._send_control(CTRL_READY, b""))
            if first_record is not None:
                await self._guarded(self._on_sealed(first_record))
            while not self.closed:
                try:
                    rtype, body = await read_record(self.reader)
                except (asyncio.IncompleteReadError, ConnectionError, OSError):
                    await self.close("peer_disconnected", notify=False)
                    break
                except ProtocolError as exc:
                    log.warning("malformed record from peer", extra={
                        "event": "gateway.protocol_error", "peer": self.peer, "error": str(exc)})
                    self.metrics.records_rejected.labels(self.peer, "malformed_record").inc()
                    await self.close("protocol_error", notify=False)
                    break
                if rtype == REC_SEALED:
                    await self._guarded(self._on_sealed(body))
                elif rtype == REC_ALERT:
                    # Unauthenticated: anyone on the path can write one. The peer closes with a sealed CLOSE.
                    self._dropped("unauthenticated_alert", body[:64].decode("utf-8", "replace"))
                else:
                    self._dropped("unexpected_handshake")
        finally:
            ticker.cancel()
            if not self.closed:  # cancelled from outside: still tear down cleanly
                await asyncio.shield(self.close("shutdown", notify=False))
        await self._done.wait()
        return self.close_cause or "closed"

    async def _guarded(self, step: Awaitable[None]) -> None:
        """Run one receive step; any fault ends in :meth:`close`, never in an escaped exception.

        A malformed inner frame (:class:`FrameError`) can only come from the authenticated peer: it is
        counted (``records_rejected{reason="malformed_frame"}``), logged and the session closed with the
        peer told why. An unexpected error of ours closes the session as ``internal_error``."""
        try:
            await step
        except SessionClosedError:
            pass
        except FrameError as exc:
            self.metrics.records_rejected.labels(self.peer, "malformed_frame").inc()
            log.warning("malformed inner frame from peer; closing the session", extra={
                "event": "gateway.malformed_frame", "peer": self.peer, "frame": exc.frame,
                "stream": exc.stream_id, "error": str(exc)})
            await self.close("malformed_frame")
        except (ConnectionError, OSError):
            await self.close("connection_lost", notify=False)
        except Exception as exc:  # noqa: BLE001 - a bug must cost this session, not the gateway
            log.exception("session error; closing the session", extra={
                "event": "gateway.session_error", "peer": self.peer, "error": f"{type(exc).__name__}: {exc}"})
            await self.close("internal_error")

    async def close(self, cause: str, notify: bool = True) -> None:
        """Tear the session down: reset every stream, tell the peer (when ``notify``), wipe the keys."""
        if self.closed:
            return
        if notify:
            with contextlib.suppress(Exception):
                self._write_frame(encode_frame(F_CONTROL, 0, bytes((CTRL_CLOSE,)) + cause.encode()[:200]))
                await asyncio.wait_for(self.writer.drain(), 1.0)
        self.closed = True
        self.close_cause = cause
        for stream in list(self.streams.values()):
            await stream.reset("session_closed", notify=False)
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self._msg2_waiter is not None and not self._msg2_waiter.done():
            self._msg2_waiter.set_exception(SessionClosedError(f"session with {self.peer} closed: {cause}"))
        if self._responder is not None:   # a rekey answered but never finished: erase what it holds
            self._responder.abandon()
            self._responder = None
        with contextlib.suppress(Exception):
            self.writer.close()
        epochs = {id(e): e for e in [self._send_epoch, *self._recv_epochs.values()]}
        for epoch in epochs.values():
            epoch.retire()
        self._recv_epochs.clear()
        self.hooks.session_closed(self, cause)
        self._done.set()

    def discard(self) -> None:
        """Wipe the keys of a session that never ran (its READY did not authenticate)."""
        self.closed = True
        self.close_cause = "discarded"
        for epoch in {id(e): e for e in [self._send_epoch, *self._recv_epochs.values()]}.values():
            epoch.retire()
        self._recv_epochs.clear()
        with contextlib.suppress(Exception):
            self.writer.close()
        self._done.set()

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.peer}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- sending -------------------------------------------------------------------------------------
    def _write_frame(self, plaintext: bytes) -> None:
        """Seal with the current send epoch and write, synchronously (keeps sequence order)."""
        if self.closed:
            raise SessionClosedError(f"session with {self.peer} is closed ({self.close_cause})")
        epoch = self._send_epoch
        if epoch.age() >= self.rekey_cfg.hard_limit_s or epoch.frames_sent >= self.rekey_cfg.hard_limit_frames:
            self._spawn(self.close("keys_expired"), "expire")
            raise SessionClosedError(f"session with {self.peer}: keys of epoch {epoch.number} are past the "
                                     f"hard limit; refusing to use them")
        header = bytes((REC_SEALED,)) + _EPOCH.pack(epoch.number)
        frame = epoch.send.seal(header, plaintext)
        self.writer.write(encode_record(REC_SEALED, header[1:] + frame))
        epoch.frames_sent += 1
        epoch.bytes_sent += len(plaintext)
        if (epoch.frames_sent >= self.rekey_cfg.max_frames or epoch.bytes_sent >= self.rekey_cfg.max_bytes):
            self._want_rekey()

    async def send_frame(self, ftype: int, stream_id: int, rest: bytes) -> None:
        """Send one inner frame. DATA frames take turns (FIFO lock, one frame in flight beyond the
        transport's high-water mark), so control, WINDOW and rekey frames never queue behind more than
        about one frame per stream of bulk data."""
        if ftype == F_DATA:
            async with self._data_turn:
                self._write_frame(encode_frame(ftype, stream_id, rest))
                await self.writer.drain()
            return
        self._write_frame(encode_frame(ftype, stream_id, rest))
        await self.writer.drain()

    async def _send_control(self, kind: int, body: bytes) -> None:
        await self.send_frame(F_CONTROL, 0, bytes((kind,)) + body)

    # -- receiving -----------------------------------------------------------------------------------
    def _dropped(self, reason: str, detail: str = "") -> None:
        """A record that did not authenticate (forged, corrupted, unauthenticated ALERT): dropped and
        counted (``records_rejected{reason}``), never held against the session."""
        self.dropped_records += 1
        self.metrics.records_rejected.labels(self.peer, reason).inc()
        if self.dropped_records <= 10 or self.dropped_records % 1000 == 0:
            log.warning("unauthenticated record dropped", extra={
                "event": "gateway.record_dropped", "peer": self.peer, "reason": reason,
                "detail": detail, "dropped_records": self.dropped_records})

    def accept_ready(self, record: bytes) -> bool:
        """Initiator: True when ``record`` (the responder's first) opens under epoch 0 and is READY."""
        if len(record) < 4 or _EPOCH.unpack_from(record)[0] != 0:
            return False
        epoch = self._recv_epochs[0]
        try:
            plaintext = epoch.recv.open(bytes((REC_SEALED,)) + record[:4], record[4:])
            ftype, _, rest = decode_frame(plaintext)
        except (RecordRejected, FrameError):
            return False
        if ftype != F_CONTROL or rest[:1] != bytes((CTRL_READY,)):
            return False
        epoch.frames_received += 1
        return True

    async def _bad_record(self, reason: str) -> None:
        self.bad_records += 1
        self.metrics.records_rejected.labels(self.peer, reason).inc()
        log.warning("sealed record rejected", extra={
            "event": "gateway.record_rejected", "peer": self.peer, "reason": reason,
            "bad_records": self.bad_records, "threshold": self.data_cfg.bad_record_threshold})
        if self.bad_records >= self.data_cfg.bad_record_threshold:
            await self.close("bad_record_threshold")

    async def _on_sealed(self, body: bytes) -> None:
        if len(body) < 4:
            self._dropped("malformed")
            return
        (number,) = _EPOCH.unpack_from(body)
        epoch = self._recv_epochs.get(number)
        if epoch is None:
            self._dropped("unknown_epoch")
            return
        header = bytes((REC_SEALED,)) + body[:4]
        if epoch.age() >= self.rekey_cfg.hard_limit_s or epoch.frames_received >= self.rekey_cfg.hard_limit_frames:
            # Keys past the hard limit: the plaintext is never used; an authentic record counts against
            # the session (the peer must not seal under such keys), a forged one is only dropped.
            try:
                epoch.recv.open(header, body[4:])
            except RecordRejected as exc:
                if not exc.authenticated:
                    self._dropped(exc.reason)
                    return
            await self._bad_record("expired")
            return
        try:
            plaintext = epoch.recv.open(header, body[4:])
        except RecordRejected as exc:
            if exc.authenticated:
                await self._bad_record(exc.reason)
            else:
                self._dropped(exc.reason)
            return
        epoch.frames_received += 1
        if len(self._recv_epochs) > 1:
            # A record of a newer epoch from the peer: older receive epochs are retired now.
            for old in [n for n in self._recv_epochs if n < number]:
                self._recv_epochs.pop(old).recv.wipe()
        await self._dispatch(plaintext)

    async def _dispatch(self, plaintext: bytes) -> None:
        ftype, sid, rest = decode_frame(plaintext)
        if ftype == F_CONTROL:
            await self._on_control(rest)
            return
        if ftype == F_OPEN:
            if sid in self.streams or sid in self._opening or (sid % 2 == 1) == (self.role == "initiator"):
                raise FrameError("OPEN", sid, f"stream id {sid} is in use or belongs to this side's numbering")
            self._opening.add(sid)
            self._spawn(self._accept_stream(sid, rest.decode("utf-8")), f"open-{sid}")
            return
        stream = self.streams.get(sid)
        if stream is None:
            return  # late frame for a stream already gone
        if ftype == F_DATA:
            problem = stream.on_data(rest)
            if problem:
                log.warning("stream reset", extra={"event": "gateway.stream_reset", "peer": self.peer,
                                                   "stream": sid, "reason": problem})
                await stream.reset(problem, notify=True)
            else:
                self.bytes_in += len(rest) - 8
        elif ftype == F_WINDOW:
            stream.on_window(rest)
        elif ftype == F_FIN:
            problem = stream.on_fin(rest)
            if problem:
                await stream.reset(problem, notify=True)
        elif ftype == F_RST:
            await stream.reset("peer_reset", notify=False)
        elif ftype == F_OPEN_OK:
            if not stream.opened.done():
                stream.opened.set_result(True)
        elif ftype == F_OPEN_FAIL:
            if not stream.opened.done():
                stream.opened.set_result(False)
            log.warning("peer refused stream", extra={
                "event": "gateway.stream_refused", "peer": self.peer, "stream": sid,
                "target": stream.target, "reason": rest.decode("utf-8", "replace")})
            await stream.reset("open_refused", notify=False)

    # -- streams -----------------------------------------------------------------------------------
    def _new_stream(self, sid: int, target: str, reader: asyncio.StreamReader | None,
                    writer: asyncio.StreamWriter | None, direction: str) -> Stream:
        def on_bytes(way: str, n: int) -> None:
            if way == "out":
                self.bytes_out += n
            self.metrics.bytes.labels(self.peer, "to_peer" if way == "out" else "from_peer").inc(n)

        stream = Stream(sid, target, reader, writer, self.send_frame, self.data_cfg.stream_window_bytes,
                        self.data_cfg.max_frame_payload_bytes, self._stream_done, on_bytes)
        self.streams[sid] = stream
        self.metrics.streams_opened.labels(self.peer, direction).inc()
        self.metrics.streams_active.labels(self.peer).inc()
        return stream

    def _stream_done(self, stream: Stream) -> None:
        if self.streams.pop(stream.id, None) is not None:
            self.metrics.streams_active.labels(self.peer).dec()

    async def open_stream(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Stream:
        """Carry a local connection to ``target`` at the peer (forward rule)."""
        sid = self._next_stream_id
        self._next_stream_id += 2
        stream = self._new_stream(sid, target, reader, writer, "forward")
        await self.send_frame(F_OPEN, sid, target.encode())
        try:
            ok = await asyncio.wait_for(asyncio.shield(stream.opened), self.data_cfg.open_timeout_s)
        except TimeoutError:
            ok = False
        if not ok:
            await stream.reset("open_failed", notify=True)
            raise GatewayError(f"peer {self.peer} did not open a stream to {target}")
        stream.start()
        return stream

    async def _accept_stream(self, sid: int, target: str) -> None:
        """The peer asks us to connect to ``target`` (reverse rule)."""
        try:
            await self._accept_stream_unguarded(sid, target)
        except (SessionClosedError, ConnectionError, OSError):
            stream = self.streams.get(sid)
            if stream is not None:
                await stream.reset("session_closed", notify=False)
        finally:
            self._opening.discard(sid)

    async def _accept_stream_unguarded(self, sid: int, target: str) -> None:
        if not self.hooks.allow_target(self.peer, target):
            log.warning("stream to a target not in the reverse rules refused", extra={
                "event": "gateway.stream_refused", "peer": self.peer, "target": target})
            await self.send_frame(F_OPEN_FAIL, sid, b"target_not_allowed")
            return
        try:
            host, port = split_host_port(target, "OPEN target")
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    self.data_cfg.open_timeout_s)
        except (OSError, ValueError, TimeoutError) as exc:
            log.warning("connect to reverse target failed", extra={
                "event": "gateway.connect_failed", "peer": self.peer, "target": target, "error": str(exc)})
            with contextlib.suppress(GatewayError):
                await self.send_frame(F_OPEN_FAIL, sid, b"connect_failed")
            return
        if self.closed:
            writer.close()
            return
        stream = self._new_stream(sid, target, reader, writer, "reverse")
        stream.opened.set_result(True)
        await self.send_frame(F_OPEN_OK, sid, b"")
        stream.start()

    # -- rekey ---------------------------------------------------------------------------------------
    async def _tick(self) -> None:
        period = max(0.05, min(1.0, self.rekey_cfg.interval_s / 8))
        while not self.closed:
            await asyncio.sleep(period)
            self.metrics.key_age.labels(self.peer).set(self._send_epoch.age())
            if self._send_epoch.age() >= self.rekey_cfg.interval_s:
                self._want_rekey()

    def _want_rekey(self) -> None:
        if self.closed:
            return
        if self.role == "initiator":
            if self._rekey_task is None or self._rekey_task.done():
                self._rekey_task = self._spawn(self._rekey_as_initiator(), "rekey")
        elif not self._rekey_requested:
            self._rekey_requested = True
            self._spawn(self._send_control(CTRL_REKEY_REQUEST, b""), "rekey-request")

    def request_rekey(self) -> None:
        """Rekey as soon as possible: the initiator starts one, the responder asks the initiator for one."""
        self._want_rekey()

    @property
    def rekey_pending(self) -> bool:
        """A rekey is under way or asked for (a new request now would be a no-op or a duplicate)."""
        if self.role == "initiator":
            return self._rekey_task is not None and not self._rekey_task.done()
        responding = self._responding_since is not None and \
            time.monotonic() - self._responding_since < self.rekey_cfg.hard_limit_s - self.rekey_cfg.interval_s
        return self._rekey_requested or responding

    def rekey_now(self) -> asyncio.Task[None]:
        """Start a rekey now (initiator side) and return its task."""
        self._want_rekey()
        assert self._rekey_task is not None
        return self._rekey_task

    async def _rekey_as_initiator(self) -> None:
        started = time.monotonic()
        hs: RekeyInitiator | None = None
        try:
            hs = self.hooks.rekey_initiator(self.peer, self.keys.session_id)
            msg1 = await hs.first_message()
            self._msg2_waiter = asyncio.get_running_loop().create_future()
            await self._send_control(CTRL_HANDSHAKE, msg1)
            msg2 = await asyncio.wait_for(self._msg2_waiter, self.rekey_cfg.hard_limit_s - self.rekey_cfg.interval_s)
            msg3, keys = await hs.finish(msg2)
        except HandshakeError as exc:
            await self._rekey_failed(exc.reason, str(exc))
            return
        except TimeoutError:
            await self._rekey_failed("timeout", "no rekey answer from the peer")
            return
        except SessionClosedError:
            return
        except Exception as exc:  # noqa: BLE001 - a failed rekey closes the session, it must not vanish
            log.exception("rekey crashed", extra={"event": "gateway.rekey_failed", "peer": self.peer,
                                                  "reason": "internal"})
            await self._rekey_failed("internal", f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._msg2_waiter = None
            if hs is not None:
                hs.abandon()   # cancelled or failed half-way: its X-Wing seed and QKD key are erased
        new = self._install_recv(keys)
        # msg3 goes out under the old epoch; the switch happens before any other frame can be written.
        self._write_frame(encode_frame(F_CONTROL, 0, bytes((CTRL_HANDSHAKE,)) + msg3))
        self._switch_send(new, "rekey")
        duration_ms = round((time.monotonic() - started) * 1e3, 2)
        self.rekey_durations_ms.append(duration_ms)
        log.info("rekey done", extra={"event": "gateway.rekey", "peer": self.peer, "epoch": new.number,
                                      "mode": keys.mode, "duration_ms": duration_ms})
        with contextlib.suppress(Exception):
            await self.writer.drain()

    async def _rekey_failed(self, reason: str, message: str) -> None:
        self.last_rekey_error = message
        self.metrics.handshake_failures.labels(self.peer, reason).inc()
        log.error("rekey failed; closing the session", extra={
            "event": "gateway.rekey_failed", "peer": self.peer, "reason": reason, "error": message})
        await self.close(f"rekey_failed:{reason}")

    def _install_recv(self, keys: SessionKeys) -> Epoch:
        send, recv = self.hooks.ciphers(keys)
        new = Epoch(self._send_epoch.number + 1, keys, send, recv)
        self._recv_epochs[new.number] = new
        return new

    def _switch_send(self, new: Epoch, kind: str) -> None:
        old = self._send_epoch
        old.send.wipe()
        self._send_epoch = new
        old_keys = self.keys
        self.keys = new.keys
        self.rekeys += 1
        self._rekey_requested = False
        self.hooks.keys_installed(self, old_keys, new.keys, kind)
        old_keys.wipe()

    async def _on_control(self, rest: bytes) -> None:
        kind, body = rest[0], rest[1:]
        if kind not in (CTRL_HANDSHAKE, CTRL_REKEY_REQUEST, CTRL_CLOSE, CTRL_READY):
            raise FrameError("CONTROL", 0, f"unknown control kind {kind} (offset {HEAD.size})")
        if kind == CTRL_CLOSE:
            await self.close("peer_closed:" + body.decode("utf-8", "replace"), notify=False)
        elif kind == CTRL_READY:
            pass
        elif kind == CTRL_REKEY_REQUEST:
            if self.role == "initiator":
                self._want_rekey()
        elif kind == CTRL_HANDSHAKE:
            msg_type = body[5] if len(body) > 5 else 0
            if self.role == "initiator" and msg_type == 2:
                if self._msg2_waiter is not None and not self._msg2_waiter.done():
                    self._msg2_waiter.set_result(body)
            elif self.role == "responder" and msg_type == 1:
                self._responding_since = time.monotonic()
                self._spawn(self._rekey_respond(body), "rekey-respond")
            elif self.role == "responder" and msg_type == 3 and self._responder is not None:
                responder, self._responder = self._responder, None
                self._responding_since = None
                try:
                    keys = await responder.complete(body)  # inline: the next record may use the new epoch
                except HandshakeError as exc:
                    await self._rekey_failed(exc.reason, str(exc))
                    return
                new = self._install_recv(keys)
                self._switch_send(new, "rekey")
                for old in [n for n in self._recv_epochs if n < new.number]:
                    self._recv_epochs.pop(old).recv.wipe()
                log.info("rekey done", extra={"event": "gateway.rekey", "peer": self.peer,
                                              "epoch": new.number, "mode": keys.mode})
            else:
                await self._bad_record("unexpected_handshake")

    async def _rekey_respond(self, msg1: bytes) -> None:
        try:
            responder = self.hooks.rekey_responder(self.peer, self.keys.session_id)
            msg2 = await responder.respond(msg1)
        except HandshakeError as exc:
            responder.abandon()
            await self._rekey_failed(exc.reason, str(exc))
            return
        if self._responder is not None:   # an earlier rekey the initiator gave up on
            self._responder.abandon()
        self._responder = responder
        with contextlib.suppress(SessionClosedError):
            await self._send_control(CTRL_HANDSHAKE, msg2)

    # -- reporting -------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "mode": self.keys.mode,
            "aead": self.keys.aead,
            "epoch": self._send_epoch.number,
            "key_age_s": round(self._send_epoch.age(), 3),
            "qkd_key_id": self.keys.key_id,
            "fallback_cause": self.keys.cause,
            "fallback_detail": self.keys.cause_detail,
            "rekeys": self.rekeys,
            "bytes_to_peer": self.bytes_out,
            "bytes_from_peer": self.bytes_in,
            "streams": len(self.streams),
            "bad_records": self.bad_records,
            "dropped_records": self.dropped_records,
            "last_rekey_ms": self.rekey_durations_ms[-1] if self.rekey_durations_ms else None,
            "up_since": self.started,
        }
