"""The site gateway service: tunnel listener, dialers, forward listeners, sessions, management app.

:func:`create_gateway_app` builds an ``aiohttp.web.Application`` from a :class:`~gateway.config.SiteConfig`
(``/healthz``, ``/status``, ``/metrics``); starting the app starts the :class:`GatewayService` (tunnel
listener, one dialer per peer with ``connect``, one listener per forward rule), and cleanup stops it.
The CLI, the tests and the demo start it the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway import primitives
from gateway.admission import HandshakeAdmission
from gateway.config import PeerConfig, SiteConfig, split_host_port
from gateway.dataplane.config import IpsecConfig, WireGuardConfig
from gateway.dataplane.planes import DataPlanes
from gateway.errors import GatewayConfigError, GatewayError, HandshakeError, ProtocolError
from gateway.handshake import (
    CH_COOKIE,
    CH_INITIATOR,
    HandshakeContext,
    InitiatorHandshake,
    PeerTrust,
    ReplayGuard,
    ResponderHandshake,
    encode_retry,
    parse_client_hello,
    retry_cookie,
)
from gateway.keypath import KeyPathWatcher
from gateway.keys import SessionKeys
from gateway.keysource import QkdKeySource
from gateway.metrics import GatewayMetrics
from gateway.record import NullCipher, RecordCipher, record_ciphers
from gateway.session import Session
from gateway.wire import MAX_HANDSHAKE_RECORD_BYTES, REC_ALERT, REC_HANDSHAKE, REC_SEALED, encode_record, read_record

log = logging.getLogger(__name__)

SERVICE_KEY = web.AppKey("gateway", object)
#: The metric label of handshake failures whose other side had not proven who it is.
UNAUTHENTICATED = "unauthenticated"
#: How long a cookie from a peer's Retry is sent along (seconds; the responder accepts it for 120-240 s).
COOKIE_REUSE_S = 100.0
#: Retries in a row after which the dialer backs off as after a failure.
MAX_RETRIES_IN_A_ROW = 3


class _RetryRequested(Exception):
    """The responder is under load and answered our ClientHello with a cookie: dial again with it."""


class _Refused(Exception):
    """This side refused a connection before any handshake work (reason in ``args[0]``)."""


@dataclass
class PeerState:
    """What ``/status`` shows for a peer between and during sessions."""

    name: str
    mode: str | None = None
    last_transition: dict[str, Any] | None = None
    last_error: str | None = None
    last_error_reason: str | None = None
    sessions: int = 0
    handshakes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _read_psk(path: str, peer: str) -> bytearray:
    """The PSK (hex or raw, at least 32 bytes) from a file only its owner may read (like an SSH key)."""
    try:
        mode = Path(path).stat().st_mode & 0o777
        raw = Path(path).read_bytes().strip()
    except OSError as exc:
        raise GatewayConfigError(f"peers[{peer}].psk_file: cannot read {path} ({exc.strerror})") from None
    if mode & 0o077:
        raise GatewayConfigError(f"peers[{peer}].psk_file: {path} has mode {mode:04o}; a key file must be "
                                 "readable by its owner only (chmod 600)")
    try:
        value = bytearray(bytes.fromhex(raw.decode()))
    except (ValueError, UnicodeDecodeError):
        value = bytearray(raw)
    if len(value) < 32:
        raise GatewayConfigError(f"peers[{peer}].psk_file: {path} holds {len(value)} bytes, need at least 32")
    return value


def _trust(peer: PeerConfig) -> PeerTrust:
    public = primitives.load_public_key(peer.public_key, f"peers[{peer.name}].public_key") \
        if peer.public_key else None
    psk = _read_psk(peer.psk_file, peer.name) if peer.psk_file else None
    return PeerTrust(name=peer.name, sae_id=peer.sae_id, auth=peer.auth, public_key=public, psk=psk,
                     qkd=peer.qkd, min_mode=peer.min_mode)


async def _handshake_step(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes, sent: str,
                          expected: str) -> bytes:
    """Send one handshake message (``sent`` names it) and read the peer's answer (``expected``): an alert
    record is a refusal (``peer_refused``, with the peer's reason), any other record type ``malformed``."""
    writer.write(encode_record(REC_HANDSHAKE, message))
    await writer.drain()
    rtype, answer = await read_record(reader, MAX_HANDSHAKE_RECORD_BYTES)
    if rtype == REC_ALERT:
        raise HandshakeError("peer_refused", f"the peer refused our {sent}: " + answer[:64].decode("utf-8", "replace"))
    if rtype != REC_HANDSHAKE:
        raise HandshakeError("malformed", f"expected a {expected} record, got type {rtype}")
    return answer


class GatewayService:
    """One site's gateway. ``null_cipher=True`` exists for the benchmark's plain relay only."""

    def __init__(self, config: SiteConfig, *, null_cipher: bool = False) -> None:
        self.config = config
        self.null_cipher = null_cipher
        self.metrics = GatewayMetrics()
        signing = primitives.load_signing_key(config.identity.signing_key, "identity.signing_key") \
            if config.identity.signing_key else None
        self.keysource = QkdKeySource(config.kme) if config.kme is not None else None
        self.ctx = HandshakeContext(
            site_id=config.site_id, signing_key=signing, kme_sae_id=config.kme.sae_id if config.kme else None,
            keysource=self.keysource, aead=config.data.aead,
            peers={p.name: _trust(p) for p in config.peers}, replay=ReplayGuard(2 * config.tunnel.max_clock_skew_s),
            max_clock_skew_s=config.tunnel.max_clock_skew_s)
        self.sessions: dict[str, Session] = {}
        self.key_path: KeyPathWatcher | None = None
        if self.keysource is not None and config.kme is not None and config.key_path.enabled \
                and any(p.qkd != "off" for p in config.peers):
            self.key_path = KeyPathWatcher(config.key_path, config.kme, self.keysource, config.peers, self.metrics,
                                           self.sessions.get)
            self.ctx.key_path = self.key_path
        self.peer_states = {p.name: PeerState(p.name) for p in config.peers}
        #: Handshake failures whose initiator had not proven who it is (never charged to a peer).
        self.unauthenticated: dict[str, Any] = {"failures": 0, "last_error": None, "last_error_reason": None,
                                                "claimed_peer": None}
        self.admission = HandshakeAdmission(config.tunnel, self.metrics)
        planes: list[tuple[str, str, str, WireGuardConfig | IpsecConfig]] = []
        for p in config.peers:
            table = p.wireguard or p.ipsec
            if table is not None:
                planes.append((p.name, p.qkd, p.min_mode, table))
        self.dataplanes = DataPlanes.from_config(config.site_id, planes, request_rekey=self._request_rekey)
        self.dataplanes.register_metrics(self.metrics.registry)
        self._cookies: dict[str, tuple[bytes, float]] = {}
        self._ready = {p.name: asyncio.Event() for p in config.peers}
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.tunnel_address: tuple[str, int] | None = None
        self.forward_addresses: list[tuple[str, int]] = []
        self.started_at = time.time()
        self.running = False

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        self.running = True
        cfg = self.config
        if cfg.tunnel.listen:
            host, port = split_host_port(cfg.tunnel.listen, "tunnel.listen")
            server = await asyncio.start_server(self._on_tunnel_connection, host, port)
            self._servers.append(server)
            self.tunnel_address = server.sockets[0].getsockname()[:2]
        for rule in cfg.forward:
            host, port = split_host_port(rule.listen, "forward.listen")
            server = await asyncio.start_server(functools.partial(self._on_forward_connection, rule.peer,
                                                                  rule.target), host, port)
            self._servers.append(server)
            self.forward_addresses.append(server.sockets[0].getsockname()[:2])
        self.dataplanes.start()
        if self.key_path is not None:
            self._spawn(self.key_path.run(), "key-path-watcher")
        for peer in cfg.peers:
            if peer.connect:
                self._spawn(self._dial_loop(peer), f"dial-{peer.name}")
        log.info("gateway started", extra={"event": "gateway.started", "site": cfg.site_id,
                                           "tunnel": self.tunnel_address, "forwards": self.forward_addresses})

    async def stop(self) -> None:
        self.running = False
        # the installed PSKs/PPKs stay in WireGuard/strongSwan: a gateway restart does not cut the site off
        await self.dataplanes.stop()
        for server in self._servers:
            server.close()
        for session in list(self.sessions.values()):
            await session.close("shutdown")
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        if self.keysource is not None:
            await self.keysource.close()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_session(self, peer: str, timeout_s: float) -> Session | None:
        """The established session with ``peer``, waiting up to ``timeout_s`` seconds for one."""
        if peer in self.sessions:
            return self.sessions[peer]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready[peer].wait(), timeout_s)
        return self.sessions.get(peer)

    # -- handshakes ------------------------------------------------------------------------------------
    def _handshake_failed(self, peer: str, exc: HandshakeError, role: str, claimed: str | None = None) -> None:
        """Count, log and show a failed handshake. ``peer`` is :data:`UNAUTHENTICATED` when the other side
        had not proven who it is: then no peer's metrics or ``last_error`` are touched (``claimed`` is the
        name it gave, logged and shown under ``unauthenticated`` in ``/status``)."""
        self.metrics.handshake_failures.labels(peer, exc.reason).inc()
        state = self.peer_states.get(peer)
        if state is not None:
            state.last_error = str(exc)
            state.last_error_reason = exc.reason
        elif peer == UNAUTHENTICATED:
            self.unauthenticated["failures"] += 1
            self.unauthenticated.update(last_error=str(exc), last_error_reason=exc.reason,
                                        claimed_peer=claimed)
        log.warning("handshake failed", extra={"event": "gateway.handshake_failed", "peer": peer,
                                               "claimed_peer": claimed, "role": role, "reason": exc.reason,
                                               "error": str(exc)})

    def _redial_delay(self, failures: int) -> float:
        """Back off after failed handshakes in a row: interval x 2^(n-1), capped, with +-10 % jitter."""
        tunnel = self.config.tunnel
        cap = max(tunnel.redial_interval_s, tunnel.redial_max_interval_s)
        delay = min(cap, tunnel.redial_interval_s * 2 ** max(0, min(failures - 1, 30)))
        return delay * random.uniform(0.9, 1.1)

    async def _dial_loop(self, peer: PeerConfig) -> None:
        assert peer.connect is not None
        host, port = split_host_port(peer.connect, f"peers[{peer.name}].connect")
        failures = retries = 0
        while self.running:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                        self.config.tunnel.handshake_timeout_s)
            except (OSError, TimeoutError) as exc:
                state = self.peer_states[peer.name]
                state.last_error, state.last_error_reason = f"connect to {peer.connect}: {exc}", "connect"
                await asyncio.sleep(self.config.tunnel.redial_interval_s)
                continue
            session = None
            try:
                session = await asyncio.wait_for(self._initiate(peer.name, reader, writer),
                                                 self.config.tunnel.handshake_timeout_s)
            except _RetryRequested:
                retries += 1
                log.info("peer under load: dialing again with its cookie", extra={
                    "event": "gateway.handshake_retry", "peer": peer.name, "retries": retries})
                writer.close()
                if retries < MAX_RETRIES_IN_A_ROW:
                    continue
                self._handshake_failed(peer.name, HandshakeError(
                    "retry", f"{retries} cookie Retries in a row from {peer.name}"), "initiator")
            except HandshakeError as exc:
                self._handshake_failed(peer.name, exc, "initiator")
                with contextlib.suppress(Exception):
                    writer.write(encode_record(REC_ALERT, exc.reason.encode()))
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError, ProtocolError) as exc:
                reason = "timeout" if isinstance(exc, TimeoutError) else \
                    "malformed" if isinstance(exc, ProtocolError) else "connection"
                self._handshake_failed(peer.name, HandshakeError(reason, str(exc) or repr(exc)), "initiator")
            except Exception as exc:  # noqa: BLE001 - keep dialing; the error is logged and shown in /status
                log.exception("handshake crashed", extra={"event": "gateway.handshake_failed",
                                                          "peer": peer.name, "reason": "internal"})
                self._handshake_failed(peer.name, HandshakeError("internal", f"{type(exc).__name__}: {exc}"),
                                       "initiator")
            if session is None:
                writer.close()
                failures += 1
                retries = 0
                await asyncio.sleep(self._redial_delay(failures))
                continue
            failures = retries = 0
            await self._run_guarded(session)
            if self.running:
                await asyncio.sleep(min(0.2, self.config.tunnel.redial_interval_s))

    async def _initiate(self, peer: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Session:
        """First handshake as initiator. The session is registered (and ``connected`` reported) only when
        the responder's READY record authenticates under the new keys."""
        cookie = self._cookies.get(peer)
        hs = InitiatorHandshake(self.ctx, peer,
                                cookie=cookie[0] if cookie and time.monotonic() - cookie[1] < COOKIE_REUSE_S else None)
        try:
            msg2 = await _handshake_step(reader, writer, await hs.first_message(), "ClientHello", "ServerHello")
            new_cookie = retry_cookie(msg2)
            if new_cookie is not None:
                self._cookies[peer] = (new_cookie, time.monotonic())
                raise _RetryRequested()
            msg4 = await _handshake_step(reader, writer, await hs.answer(msg2), "Finish", "Result")
            keys = hs.conclude(msg4)
        finally:
            hs.abandon()
        # The responder's first sealed record (READY) must authenticate under the new keys.
        try:
            rtype, first = await read_record(reader, MAX_HANDSHAKE_RECORD_BYTES)
        except BaseException:
            keys.wipe()
            raise
        session = Session(peer=peer, role="initiator", reader=reader, writer=writer, keys=keys,
                          data=self.config.data, rekey=self.config.rekey, metrics=self.metrics, hooks=self)
        if rtype != REC_SEALED or not session.accept_ready(first):
            session.discard()
            if rtype == REC_ALERT:
                raise HandshakeError("peer_refused", "the peer refused our Finish: "
                                     + first[:64].decode("utf-8", "replace"))
            raise HandshakeError("bad_ready", f"the peer's first record (type {rtype}, {len(first)} bytes) is not "
                                 "a READY that authenticates under the session keys")
        self.keys_installed(session, None, keys, "handshake")
        return session

    async def _on_tunnel_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        source = str(peername[0]) if isinstance(peername, tuple) and peername else "unknown"
        refusal = self.admission.enter(source)
        if refusal is not None:
            self._refused(source, refusal)
            with contextlib.suppress(Exception):
                writer.write(encode_record(REC_ALERT, refusal.encode()))
            writer.close()
            return
        hs = ResponderHandshake(self.ctx)
        try:
            session = await asyncio.wait_for(self._respond(hs, source, reader, writer),
                                             self.config.tunnel.handshake_timeout_s)
        except _Refused as exc:
            self._refused(source, str(exc.args[0]))
            with contextlib.suppress(Exception):
                if exc.args[0] != "cookie_retry":
                    writer.write(encode_record(REC_ALERT, str(exc.args[0]).encode()))
                await asyncio.wait_for(writer.drain(), 1.0)
            writer.close()
            return
        except HandshakeError as exc:
            self._responder_failed(hs, exc)
            with contextlib.suppress(Exception):
                writer.write(encode_record(REC_ALERT, exc.reason.encode()))
                await asyncio.wait_for(writer.drain(), 1.0)
            writer.close()
            return
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError, ProtocolError) as exc:
            reason = "timeout" if isinstance(exc, TimeoutError) else \
                "malformed" if isinstance(exc, ProtocolError) else "connection"
            self._responder_failed(hs, HandshakeError(reason, str(exc) or repr(exc)))
            if reason == "malformed":
                with contextlib.suppress(Exception):
                    writer.write(encode_record(REC_ALERT, b"malformed"))
                    await asyncio.wait_for(writer.drain(), 1.0)
            writer.close()
            return
        except Exception as exc:  # noqa: BLE001 - one bad connection must not take the listener down
            log.exception("handshake crashed", extra={"event": "gateway.handshake_failed", "reason": "internal"})
            self._responder_failed(hs, HandshakeError("internal", f"{type(exc).__name__}: {exc}"))
            writer.close()
            return
        finally:
            hs.abandon()
            self.admission.leave(source)
        await self._run_guarded(session)

    def _responder_failed(self, hs: ResponderHandshake, exc: HandshakeError) -> None:
        claimed = hs.peer.name if hs.peer is not None else None
        peer = hs.peer.name if hs.authenticated and hs.peer is not None else UNAUTHENTICATED
        self._handshake_failed(peer, exc, "responder", claimed=claimed)

    def _refused(self, source: str, reason: str) -> None:
        """A connection refused before any handshake work (counted by the admission's metric)."""
        total = sum(self.admission.refused.values())
        if total <= 10 or total % 1000 == 0:
            log.warning("tunnel connection refused before the handshake", extra={
                "event": "gateway.handshake_refused", "source": source, "reason": reason, "refused_total": total})

    async def _run_guarded(self, session: Session) -> None:
        """Run a session to its end; whatever goes wrong in it, the listener and the dialer carry on."""
        try:
            await self._run_session(session)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken session must not stop the gateway
            log.exception("session crashed", extra={"event": "gateway.session_error", "peer": session.peer,
                                                    "error": f"{type(exc).__name__}: {exc}"})
            await session.close("internal_error")

    async def _respond(self, hs: ResponderHandshake, source: str, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> Session:
        rtype, msg1 = await read_record(reader, MAX_HANDSHAKE_RECORD_BYTES)
        if rtype != REC_HANDSHAKE:
            raise HandshakeError("malformed", f"expected a ClientHello record, got type {rtype}")
        fields = parse_client_hello(msg1)
        admission = self.admission
        if admission.under_load() and \
                not admission.cookie_valid(source, fields[CH_INITIATOR], fields.get(CH_COOKIE)):
            writer.write(encode_record(REC_HANDSHAKE, encode_retry(admission.cookie(source, fields[CH_INITIATOR]))))
            admission.refuse("cookie_retry")
            raise _Refused("cookie_retry")
        if not admission.take_token(source):
            admission.refuse("source_limit")
            raise _Refused("source_limit")
        msg3 = await _handshake_step(reader, writer, await hs.respond(msg1), "ServerHello", "Finish")
        keys = await hs.complete(msg3)
        assert hs.peer is not None and hs.result_message is not None
        try:
            writer.write(encode_record(REC_HANDSHAKE, hs.result_message))
            await writer.drain()
        except BaseException:
            keys.wipe()
            raise
        return self._new_session(hs.peer.name, "responder", reader, writer, keys)

    def _new_session(self, peer: str, role: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     keys: SessionKeys) -> Session:
        session = Session(peer=peer, role=role, reader=reader, writer=writer, keys=keys, data=self.config.data,
                          rekey=self.config.rekey, metrics=self.metrics, hooks=self)
        self.keys_installed(session, None, keys, "handshake")
        return session

    async def _run_session(self, session: Session) -> None:
        old = self.sessions.get(session.peer)
        self.sessions[session.peer] = session
        self.peer_states[session.peer].sessions += 1
        self._ready[session.peer].set()
        self.metrics.session_up.labels(session.peer).set(1)
        if old is not None and old is not session:
            await old.close("replaced")
            self.sessions[session.peer] = session
            self._ready[session.peer].set()
        await session.run(session.first_record)

    # -- SessionHooks ----------------------------------------------------------------------------------
    def rekey_initiator(self, peer: str, rekey_of: bytes) -> InitiatorHandshake:
        return InitiatorHandshake(self.ctx, peer, rekey_of=rekey_of)

    def rekey_responder(self, peer: str, rekey_of: bytes) -> ResponderHandshake:
        return ResponderHandshake(self.ctx, expected_peer=peer, rekey_of=rekey_of)

    def ciphers(self, keys: SessionKeys) -> tuple[RecordCipher, RecordCipher]:
        if self.null_cipher:
            return NullCipher(), NullCipher()
        return record_ciphers(keys)

    def allow_target(self, peer: str, target: str) -> bool:
        return any(rule.peer == peer and rule.target == target for rule in self.config.reverse)

    def keys_installed(self, session: Session, old: SessionKeys | None, new: SessionKeys, kind: str) -> None:
        state = self.peer_states[session.peer]
        state.handshakes += 1
        role = session.role
        self.metrics.handshakes.labels(session.peer, role, kind, new.mode).inc()
        for mode in ("hybrid-qkd", "pqc-only"):
            self.metrics.session_mode.labels(session.peer, mode).set(1 if mode == new.mode else 0)
        if new.mode == "pqc-only" and new.cause not in (None, "policy_off"):
            self.metrics.qkd_fallbacks.labels(session.peer, new.cause).inc()
        previous = state.mode
        if previous != new.mode:
            cause = new.cause or ("qkd_restored" if previous == "pqc-only" else "session_start")
            state.last_transition = {"at": time.time(), "from": previous, "to": new.mode, "cause": cause,
                                     "detail": new.cause_detail if new.mode == "pqc-only" else None, "kind": kind}
            self.metrics.mode_transitions.labels(session.peer, previous or "none", new.mode, cause).inc()
            level = logging.WARNING if new.mode == "pqc-only" and new.cause not in (None, "policy_off") \
                else logging.INFO
            log.log(level, "session mode changed", extra={
                "event": "gateway.mode_change", "peer": session.peer, "from_mode": previous,
                "to_mode": new.mode, "cause": cause, "detail": new.cause_detail, "kind": kind, "role": role})
        state.mode = new.mode
        # the data plane's key for this epoch, derived while the epoch's keys are live (never raises)
        self.dataplanes.keys_installed(session.peer, new, session.status()["epoch"])
        log.info("session keys installed", extra={
            "event": "gateway.keys_installed", "peer": session.peer, "kind": kind, "role": role,
            "mode": new.mode, "aead": new.aead, "qkd_key_id": new.key_id, "cause": new.cause,
            "detail": new.cause_detail})

    def _request_rekey(self, peer: str) -> None:
        """A data plane wants a fresh key: rekey the session with ``peer`` if there is one."""
        session = self.sessions.get(peer)
        if session is not None and not session.closed:
            session.request_rekey()

    def session_closed(self, session: Session, cause: str) -> None:
        if self.sessions.get(session.peer) is session:
            del self.sessions[session.peer]
            self._ready[session.peer].clear()
            self.metrics.session_up.labels(session.peer).set(0)
        self.metrics.session_teardowns.labels(session.peer, cause.split(":")[0]).inc()
        state = self.peer_states[session.peer]
        if cause not in ("shutdown", "replaced"):
            state.last_error = f"session closed: {cause}"
            state.last_error_reason = cause.split(":")[0]
        log.warning("session closed", extra={"event": "gateway.session_closed", "peer": session.peer,
                                             "cause": cause})

    # -- forward rules ---------------------------------------------------------------------------------
    async def _on_forward_connection(self, peer: str, target: str, reader: asyncio.StreamReader,
                                     writer: asyncio.StreamWriter) -> None:
        session = await self.wait_session(peer, self.config.data.open_timeout_s)
        if session is None or session.closed:
            state = self.peer_states[peer]
            log.warning("no session with the peer; local connection closed", extra={
                "event": "gateway.stream_refused", "peer": peer, "target": target,
                "reason": "no_session", "last_error": state.last_error})
            writer.transport.abort()
            return
        try:
            await session.open_stream(target, reader, writer)
        except (GatewayError, ConnectionError, OSError) as exc:
            writer.transport.abort()
            log.warning("stream not opened", extra={"event": "gateway.stream_refused", "peer": peer,
                                                    "target": target, "reason": str(exc)})

    # -- reporting -------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        peers = {}
        for name, state in self.peer_states.items():
            session = self.sessions.get(name)
            peers[name] = {
                "connected": session is not None,
                "mode": session.keys.mode if session else None,
                "policy": {"qkd": self.ctx.peers[name].qkd, "min_mode": self.ctx.peers[name].min_mode},
                "session": session.status() if session else None,
                "key_path": self.key_path.status(name) if self.key_path is not None else None,
                "last_transition": state.last_transition,
                "last_error": state.last_error,
                "last_error_reason": state.last_error_reason,
                "sessions": state.sessions,
                "handshakes": state.handshakes,
                "data_plane": self.dataplanes.status(name) or {"kind": "tcp-tunnel"},
            }
        return {"site": self.config.site_id, "up_since": self.started_at,
                "tunnel": list(self.tunnel_address) if self.tunnel_address else None,
                "forwards": [list(a) for a in self.forward_addresses],
                "key_path_watcher": self.key_path.summary() if self.key_path is not None else None,
                "admission": self.admission.status(),
                "unauthenticated": dict(self.unauthenticated),
                "peers": peers}


def create_gateway_app(config: SiteConfig, *, null_cipher: bool = False) -> web.Application:
    """The management app; starting it starts the gateway, cleaning it up stops it."""
    service = GatewayService(config, null_cipher=null_cipher)
    app = web.Application()
    app[SERVICE_KEY] = service

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": service.running, "site": config.site_id})

    async def status(_: web.Request) -> web.Response:
        return web.json_response(service.status())

    async def metrics(_: web.Request) -> web.Response:
        for name, session in service.sessions.items():
            service.metrics.key_age.labels(name).set(session.status()["key_age_s"])
        return web.Response(body=service.metrics.render(), headers={"Content-Type": service.metrics.content_type})

    async def on_startup(_: web.Application) -> None:
        await service.start()

    async def on_cleanup(_: web.Application) -> None:
        await service.stop()

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def service_of(app: web.Application) -> GatewayService:
    return app[SERVICE_KEY]  # type: ignore[return-value]
