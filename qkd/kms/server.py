"""KME service: ETSI GS QKD 014 V1.1.1 key delivery API, relay endpoint and node administration (aiohttp).

Routes (all HTTPS with mutual TLS; the caller's identity is the subject CN of its client certificate):

* ``GET /api/v1/keys/{slave_SAE_ID}/status`` - Status (§5.1), called by the master SAE.
* ``GET|POST /api/v1/keys/{slave_SAE_ID}/enc_keys`` - Get key (§5.2): the caller is the master SAE.
* ``GET|POST /api/v1/keys/{master_SAE_ID}/dec_keys`` - Get key with key IDs (§5.3): the caller is the slave.
* ``POST /kme/v1/relay`` - trusted-node relay between KMEs (:mod:`qkd.kms.relay`).
* ``GET /admin/v1/pools``, ``POST /admin/v1/pools/{pool}/deposit``, ``POST /admin/v1/links/{link}/alarm`` -
  node administration, for certificate CNs listed in ``node.admin_ids``.

Errors (§5, Error data format): 400 for a malformed request, a size or number outside the announced
limits, an unknown SAE or key_ID, a key already delivered, an unsupported mandatory extension; 401 when the
caller is not an SAE attached to this KME or asks for a key of another pair; 503 when the KME lacks key
(``details[0].reason = "insufficient_key"``), a link on the path is alarmed (``"link_alarm"``) or the relay
failed (``"relay_failed"`` with ``failed_hop``). An error consumes nothing.

Delivery: keys are reserved in the store, the response is written, then they are marked delivered
(see :mod:`qkd.kms.store` for what a crash in between does). The reservations of concurrent requests share
one transaction and one WAL sync (:mod:`qkd.kms.groupcommit`); no response leaves before its sync returned.
Key lifetimes: a slave delivery in doubt (crash, failed response) stays redeemable by that slave only, a
delivery nobody redeems expires; both are destroyed at their deadline (:mod:`qkd.kms.store`), by a sweep
every :attr:`HttpLimits.expiry_interval_s` and at redemption.

Observability: ``GET /metrics`` (Prometheus text, :mod:`qkd.kms.metrics`) for any caller with a certificate
of the deployment CA (it holds no key material); ``GET /kme/v1/links`` gives the other KMEs of the topology
this node's pool figures, so that Status can report what a relayed pair can really get.

Bounds before and while a request is read (:class:`HttpLimits`): the TLS handshake, a request's headers
(from its first byte) and its body each have a deadline; request bodies are limited per endpoint to what
the API needs (:func:`body_limits`); an idle keep-alive connection is closed. Every refusal is an ETSI
answer - HTTP framing faults and late bodies included (400, then the connection is closed) - and a refused
client certificate gets its TLS alert (:class:`AlertingTlsProtocol`).

Fault injection for crash tests: the environment variable ``QSHIFT_KMS_FAULT_DELAY_S`` (seconds, default 0)
widens the window between the reservation and the response write and between the write and the delivered
mark, so that a SIGKILL lands there often; it is never set in production.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
import ssl
from asyncio import sslproto
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from qkd.kms import api
from qkd.kms.api import ApiError
from qkd.kms.config import KmeConfig, LimitsSection
from qkd.kms.errors import (
    CapacityError,
    ForeignKeyIdError,
    InsufficientKeyError,
    KeyAlreadyDeliveredError,
    KeyStoreError,
    PoolAlarmedError,
    RelayError,
    UnknownKeyIdError,
)
from qkd.kms.feeds import LinkKeySink, SyntheticFeed
from qkd.kms.groupcommit import GroupCommit
from qkd.kms.ledger import IssuedKey, KeyLifetimes, Role
from qkd.kms.linkend import CHANNEL_PATH, EmulatedLinkEnd
from qkd.kms.masterkey import Sealer, load_or_create
from qkd.kms.metrics import KmeMetrics
from qkd.kms.pki import peer_identity, server_ssl_context
from qkd.kms.relay import LINKS_PATH, RELAY_PATH, RelayEngine
from qkd.kms.store import KeyStore
from qkd.kms.topology import LOCAL_POOL, Network, pool_name
from qkd.runtime import metrics_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpLimits:
    """What one connection may hold before and while it sends a request (seconds, bytes).

    ``header_timeout_s`` runs from the first byte of a request on an idle connection to the end of its
    headers; ``body_timeout_s`` from the handler's first read to the end of the body; ``idle_timeout_s``
    closes a keep-alive connection without a request (longer than aiohttp clients' 15 s pool keep-alive,
    so that clients drop idle connections first); ``lingering_s`` is how long the rest of a body nobody
    reads is drained. ``json_body_bytes`` bounds the small JSON bodies (enc_keys, alarms); the others
    follow from ``[limits]`` (:func:`body_limits`); ``admin_deposit_bytes`` bounds one admin deposit.
    """

    tls_handshake_timeout_s: float = 10.0
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    idle_timeout_s: float = 30.0
    lingering_s: float = 2.0
    json_body_bytes: int = 16 << 10
    admin_deposit_bytes: int = 4 << 20
    expiry_interval_s: float = 30.0


def body_limits(limits: LimitsSection, http: HttpLimits) -> dict[str, int]:
    """Largest request body per endpoint (bytes): what a request within ``limits`` can need."""
    n = limits.max_key_per_request
    key_b64 = (limits.max_key_size_bits // 8 + 2) // 3 * 4
    return {"enc_keys": http.json_body_bytes,
            "dec_keys": http.json_body_bytes + 256 * n,            # key_IDs: ~52 bytes each, compact
            "relay": http.json_body_bytes + n * (key_b64 + 160),   # ciphertext + per key_ID entry
            "alarm": http.json_body_bytes,
            "deposit": http.admin_deposit_bytes}


def open_store(config: KmeConfig, *, recover: bool = True, lifetimes: KeyLifetimes | None = None) -> KeyStore:
    """Open (or create) the node's store and master key from ``config`` (``recover``: see :class:`KeyStore`)."""
    return KeyStore(config.node.db_path, Sealer(load_or_create(config.node.master_key_path)),
                    durable_deliveries=config.node.durable_deliveries, recover=recover, lifetimes=lifetimes)


class KmeService:
    """One node: store, pools, feeds, relay engine; the state behind the aiohttp handlers."""

    def __init__(self, config: KmeConfig, store: KeyStore | None = None,
                 client_ssl: ssl.SSLContext | None = None, *, worker: int = 0, http: HttpLimits | None = None,
                 lifetimes: KeyLifetimes | None = None) -> None:
        """``worker``: index of this process among the node's worker processes (``qshift kme serve
        --workers N``). Worker 0 recovers the store at open and runs the feeds and link ends; the others
        only serve requests from the shared store. ``http``: connection and body bounds; ``lifetimes``:
        deadlines of slave deliveries (for a store opened here)."""
        self.config = config
        self.me = config.node.id
        self.limits = config.limits
        self.http = http or HttpLimits()
        self.body_limits = body_limits(config.limits, self.http)
        self.network = Network(config.topology)
        self.worker = worker
        self.store = store if store is not None else open_store(config, recover=worker == 0, lifetimes=lifetimes)
        self.metrics = KmeMetrics(self.me, self.store)
        cap = self.limits.pool_capacity_bits
        self.store.ensure_pool(LOCAL_POOL, "local", cap)
        self.sinks: dict[str, LinkKeySink] = {}
        for link_id, nb in self.network.links_of(self.me):
            self.store.ensure_pool(pool_name(link_id, self.me, nb), "link", cap)
            self.store.ensure_pool(pool_name(link_id, nb, self.me), "link", cap)
            self.sinks[link_id] = LinkKeySink(self.store, self.network, link_id)
        if client_ssl is None:
            from qkd.kms.pki import client_ssl_context
            client_ssl = client_ssl_context(config.tls.ca, config.tls.cert, config.tls.key)
        self.client_ssl = client_ssl
        self.commits = GroupCommit(self.store)
        self.relay = RelayEngine(self.me, self.network, self.store, client_ssl, self.limits.relay_timeout_s)
        feeds = config.feeds if worker == 0 else []
        self.feeds = [SyntheticFeed(f, self.store, self.network) for f in feeds if not f.runs_link_end]
        self.link_ends = {f.pool: EmulatedLinkEnd(f, self) for f in feeds if f.runs_link_end}
        for end in self.link_ends.values():
            self.metrics.register_section(f"link:{end.link_id}",
                                          functools.partial(lambda st: metrics_text([st]).splitlines(), end.status))
        self._tasks: list[asyncio.Task] = []
        self._fault_delay_s = float(os.environ.get("QSHIFT_KMS_FAULT_DELAY_S", "0") or 0)

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        for feed in self.feeds:
            feed.prefill()
            self._tasks.append(asyncio.create_task(feed.run()))
        for end in self.link_ends.values():
            end.start()

    async def close(self) -> None:
        for end in self.link_ends.values():
            await end.stop()
            # aiohttp keeps up to 1024 recent (handler, app) pairs in an lru_cache (web_app._build_middlewares),
            # so a closed service can stay referenced long after it stopped (in-process restarts, tests,
            # scenarios): release its blocks now rather than when that cache lets go (≈ 26 MB per link)
            end.release()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.relay.close()
        self.commits.close()
        self.store.close()

    # ---------------------------------------------------------------- key intake and alarms
    def deposit(self, pool: str, material: bytes) -> None:
        """Deposit key into ``'local'`` or a link of this node (the pipeline's sink); durable on return."""
        if pool == LOCAL_POOL:
            self.store.deposit(LOCAL_POOL, material)
        elif pool in self.sinks:
            self.sinks[pool].push(material)
        else:
            raise KeyStoreError(f"pool {pool!r}: not 'local' nor a link of node {self.me!r}")

    def set_link_alarm(self, link: str, alarm: bool, qber: float | None = None) -> None:
        """Set/clear the alarm of a link of this node (or of ``'local'``): enc_keys over it answers 503."""
        if link == LOCAL_POOL:
            self.store.run(lambda tx: tx.set_alarm(LOCAL_POOL, alarm=alarm, qber=qber))
        elif link in self.sinks:
            self.sinks[link].set_alarm(alarm, qber)
        else:
            raise KeyStoreError(f"link {link!r}: not a link of node {self.me!r}")
        log.warning("link alarm %s", "set" if alarm else "cleared",
                    extra={"event": "kms.link.alarm", "link": link, "alarm": alarm, "qber": qber})

    # ---------------------------------------------------------------- identities
    def caller(self, request: web.Request) -> str | None:
        transport = request.transport
        return peer_identity(transport.get_extra_info("peercert") if transport else None)

    def local_sae(self, request: web.Request) -> str:
        """The calling SAE (401 unless its certificate names an SAE attached to this node)."""
        who = self.caller(request)
        if who is None or self.network.sae_node.get(who) != self.me:
            raise api.unauthorized(f"caller {who!r} is not an SAE attached to KME {self.me!r}")
        return who

    def known_sae(self, sae: str, role: str) -> str:
        node = self.network.sae_node.get(sae)
        if node is None:
            raise api.bad_request(f"{role} {sae!r}: unknown SAE")
        return node

    # ---------------------------------------------------------------- ETSI handlers
    async def _status(self, master: str, slave: str) -> dict[str, Any]:
        """Status object; ``stored_key_count`` is what the pair can get now: for a relayed pair the smallest
        hop's key along the route, 0 while a hop is alarmed or one of its nodes does not answer. The
        extension keeps ``link_alarm``/``qber`` and adds ``path`` and per-hop figures (``hops``)."""
        dst = self.known_sae(slave, "slave_SAE_ID")
        size = self.limits.key_size_bits
        if dst == self.me:
            stored = self.store.available_bits(LOCAL_POOL)
            alarm, qber = self.store.alarm(LOCAL_POOL)
            extension: dict[str, Any] = {"link_alarm": alarm, "qber": qber, "path": [self.me], "hops": []}
        else:
            alarm, qber = self.relay.path_alarm(dst)
            report = await self.relay.path_report(dst, size)
            stored = report["deliverable_bits"]
            alarmed = [h for h in report["hops"] if h["alarm"]]
            if alarmed and not alarm:
                alarm = True
                known = [h["qber"] for h in alarmed if h["qber"] is not None]
                qber = max(known) if known else None
            hops = [{**h, "stored_key_count": h["deliverable_bits"] // size} for h in report["hops"]]
            extension = {"link_alarm": alarm, "qber": qber, "path": report["path"], "hops": hops}
        return {
            "source_KME_ID": self.me, "target_KME_ID": dst, "master_SAE_ID": master, "slave_SAE_ID": slave,
            "key_size": size, "stored_key_count": stored // size,
            "max_key_count": self.limits.pool_capacity_bits // size,
            "max_key_per_request": self.limits.max_key_per_request,
            "max_key_size": self.limits.max_key_size_bits, "min_key_size": self.limits.min_key_size_bits,
            "max_SAE_ID_count": 0,
            "status_extension": extension,
        }

    async def handle_status(self, request: web.Request) -> web.Response:
        master = self.local_sae(request)
        return web.json_response(await self._status(master, request.match_info["slave_SAE_ID"]))

    async def handle_enc_keys(self, request: web.Request) -> web.StreamResponse:
        master = self.local_sae(request)
        slave = request.match_info["slave_SAE_ID"]
        size_default = self.limits.key_size_bits
        if request.method == "POST":
            req, extra = api.parse_key_request_json(await self._json_body(request, "enc_keys"), size_default)
            if extra:
                raise api.bad_request("additional_slave_SAE_IDs: not supported (max_SAE_ID_count is 0)")
        else:
            req = api.parse_key_request_query(request.query, size_default)
        api.check_key_request(req, min_size=self.limits.min_key_size_bits, max_size=self.limits.max_key_size_bits,
                              max_per_request=self.limits.max_key_per_request)
        dst = self.known_sae(slave, "slave_SAE_ID")
        if slave == master:
            raise api.bad_request("slave_SAE_ID: equals the caller (master) SAE ID")
        if dst == self.me:
            try:
                keys = await self.commits.submit(
                    lambda tx: tx.issue_local(LOCAL_POOL, master, slave, req.number, req.size_bits,
                                              refuse_alarmed=True),
                    on_orphan=lambda ks: self.store.run(lambda tx: tx.quarantine([k.key_id for k in ks], "master")))
            except PoolAlarmedError as exc:
                raise api.server_side(f"key source alarmed (QBER {exc.qber})", "link_alarm", qber=exc.qber) from None
            except InsufficientKeyError:
                raise api.server_side(f"not enough key: {req.number} x {req.size_bits} bits requested, "
                                      f"{self.store.available_bits(LOCAL_POOL)} bits stored",
                                      "insufficient_key") from None
        else:
            keys = await self._relay_keys(master, slave, dst, req)
        return await self._deliver(request, keys, "master")

    async def _relay_keys(self, master: str, slave: str, dst: str, req: api.KeyRequest) -> list[IssuedKey]:
        alarm, qber = self.relay.path_alarm(dst)
        if alarm:
            raise api.server_side(f"no route to {dst!r} without an alarmed link (QBER {qber})", "link_alarm",
                                  qber=qber)
        try:
            keys = await self.relay.send_new_keys(master, slave, dst, [req.size_bits] * req.number)
        except RelayError as exc:
            log.warning("relay failed", extra={"event": "kms.relay.failed", "failed_hop": exc.failed_hop,
                                               "reason": exc.reason})
            self.metrics.count_relay(False, exc.failed_hop, exc.reason)
            raise api.server_side(str(exc), exc.reason, failed_hop=exc.failed_hop) from None
        self.metrics.count_relay(True)
        self.store.run(lambda tx: tx.record_issued_remote(master, slave, keys))
        return keys

    async def handle_dec_keys(self, request: web.Request) -> web.StreamResponse:
        slave = self.local_sae(request)
        master = request.match_info["master_SAE_ID"]
        if request.method == "POST":
            ids = api.parse_key_ids_json(await self._json_body(request, "dec_keys"))
        else:
            ids = api.parse_key_ids_query(request.query)
        self.known_sae(master, "master_SAE_ID")
        try:
            keys = await self.commits.submit(
                lambda tx: tx.reserve_for_slave(master, slave, ids),
                on_orphan=lambda ks: self.store.run(lambda tx: tx.release_reserved([k.key_id for k in ks], "slave")))
        except ForeignKeyIdError as exc:
            raise api.unauthorized(str(exc)) from None
        except (UnknownKeyIdError, KeyAlreadyDeliveredError) as exc:
            raise api.bad_request(str(exc)) from None
        return await self._deliver(request, keys, "slave")

    async def _deliver(self, request: web.Request, keys: list[IssuedKey], role: Role) -> web.StreamResponse:
        ids = [k.key_id for k in keys]
        try:
            body = {"keys": [{"key_ID": k.key_id, "key": base64.b64encode(k.key).decode()} for k in keys]}
            resp = web.json_response(body)
        except BaseException:
            self.store.run(lambda tx: tx.release_reserved(ids, role))
            raise
        if self._fault_delay_s:
            await asyncio.sleep(self._fault_delay_s)
        try:
            await resp.prepare(request)
            await resp.write_eof()
        except BaseException:
            self.store.run(lambda tx: tx.quarantine(ids, role))
            raise
        if self._fault_delay_s:
            await asyncio.sleep(self._fault_delay_s)
            self.store.mark_delivered(ids, role)
        else:
            self.store.mark_delivered(ids, role, defer=True)
            self.commits.kick()
        return resp

    # ---------------------------------------------------------------- relay and admin
    async def handle_relay(self, request: web.Request) -> web.Response:
        sender = self.caller(request)
        if sender not in self.network.node_urls:
            raise api.unauthorized(f"caller {sender!r} is not a KME of the topology")
        try:
            await self.relay.receive(sender, await self._json_body(request, "relay"))
        except PermissionError as exc:
            raise api.unauthorized(str(exc)) from None
        except ValueError as exc:
            raise api.bad_request(str(exc)) from None
        except RelayError as exc:
            self.metrics.count_relay(False, exc.failed_hop, exc.reason, started=False)
            raise api.server_side(str(exc), exc.reason, failed_hop=exc.failed_hop) from None
        return web.json_response({"stored": True, "node": self.me})

    async def handle_link_channel(self, request: web.Request) -> web.StreamResponse:
        """Bob's end of an emulated link: the WebSocket Alice's node opens (see :mod:`qkd.kms.linkend`)."""
        link = request.match_info["link"]
        end = self.link_ends.get(link)
        if end is None or end.role != "bob":
            raise api.bad_request(f"link {link!r}: no emulated link end of this node accepts a channel")
        who = self.caller(request)
        if who != end.peer:
            raise api.unauthorized(f"caller {who!r} is not the other end ({end.peer!r}) of link {link!r}")
        return await end.handle_channel(request)

    def _admin(self, request: web.Request) -> str:
        who = self.caller(request)
        if who is None or (who not in self.config.node.admin_ids and who != self.me):
            raise api.unauthorized(f"caller {who!r} is not an administrator of KME {self.me!r}")
        return who

    def pools_report(self) -> dict[str, Any]:
        """Data behind ``qshift kme status``: per-pool metrics, delivery counts (``role:state``, e.g.
        ``slave:in_doubt``, ``slave:expired``) and key lifetime counts (:meth:`KeyStore.lifecycle_counts`)."""
        return {"node": self.me,
                "pools": [m.__dict__ for m in self.store.metrics()],
                "deliveries": self.store.delivery_counts(),
                "quarantined_at_open": self.store.quarantined_at_open,
                "in_doubt_at_open": self.store.in_doubt_at_open,
                "links": [end.snapshot() for end in self.link_ends.values()],
                "key_lifetimes": {"pending_ttl_s": self.store.lifetimes.pending_ttl_s,
                                  "in_doubt_ttl_s": self.store.lifetimes.in_doubt_ttl_s,
                                  **self.store.lifecycle_counts()}}

    async def handle_metrics(self, request: web.Request) -> web.Response:
        """Prometheus text; any caller holding a certificate of the deployment CA (no key material in it)."""
        if self.caller(request) is None:
            raise api.unauthorized("a client certificate is required")
        return web.Response(text=self.metrics.render(), headers={"Content-Type": self.metrics.content_type})

    async def handle_links(self, request: web.Request) -> web.Response:
        """This node's pool figures for the other KMEs of the topology (see :meth:`RelayEngine.path_report`)."""
        who = self.caller(request)
        if who not in self.network.node_urls and (who is None or who not in self.config.node.admin_ids):
            raise api.unauthorized(f"caller {who!r} is not a KME of the topology")
        return web.json_response({"node": self.me, "pools": self.relay.local_links()})

    # ---------------------------------------------------------------- housekeeping
    def start_housekeeping(self) -> None:
        """Worker 0 sweeps expired slave deliveries every ``http.expiry_interval_s``."""
        if self.worker == 0:
            self._tasks.append(asyncio.create_task(self._expire_loop()))

    async def _expire_loop(self) -> None:
        while True:
            try:
                self.store.expire_keys()
            except Exception as exc:  # noqa: BLE001 - retried at the next interval; logged
                log.error("key expiry sweep failed", extra={"event": "kms.keys.expiry_failed",
                                                            "error": type(exc).__name__})
            await asyncio.sleep(self.http.expiry_interval_s)

    # ---------------------------------------------------------------- request bodies
    async def _read_body(self, request: web.Request, endpoint: str) -> bytes:
        """The body, at most ``body_limits[endpoint]`` bytes, within ``http.body_timeout_s``; 400 otherwise
        (and the connection is closed: the rest of the body is not read)."""
        limit = self.body_limits[endpoint]
        declared = request.content_length
        if declared is not None and declared > limit:
            exc = api.bad_request(f"request body: {declared} bytes exceeds the {endpoint} limit of {limit} bytes")
            exc.close_connection = True
            raise exc
        parts: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.http.body_timeout_s):
                while True:
                    chunk = await request.content.read(limit + 1 - size)
                    if not chunk:
                        break
                    parts.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        exc = api.bad_request(f"request body: exceeds the {endpoint} limit of {limit} bytes")
                        exc.close_connection = True
                        raise exc
        except (HttpProcessingError, RequestPayloadError) as fault:   # bad chunking, undecodable encoding
            text = getattr(fault, "message", None) or str(fault) or type(fault).__name__
            exc = api.bad_request(f"request body: {' '.join(text.split())[:200]}")
            exc.close_connection = True
            raise exc from None
        except TimeoutError:
            self.metrics.http_timeouts["body"] += 1
            exc = api.bad_request(f"request body: not received within {self.http.body_timeout_s} s")
            exc.close_connection = True
            raise exc from None
        return b"".join(parts)

    async def _json_body(self, request: web.Request, endpoint: str) -> Any:
        return _parse_json(await self._read_body(request, endpoint))

    async def handle_admin_pools(self, request: web.Request) -> web.Response:
        self._admin(request)
        return web.json_response(self.pools_report())

    async def handle_admin_deposit(self, request: web.Request) -> web.Response:
        self._admin(request)
        pool = request.match_info["pool"]
        data = await self._read_body(request, "deposit")
        try:
            self.deposit(pool, data)
        except CapacityError as exc:
            raise api.server_side(str(exc), "capacity") from None
        except KeyStoreError as exc:
            raise api.bad_request(str(exc)) from None
        return web.json_response({"pool": pool, "deposited_bits": len(data) * 8})

    async def handle_admin_alarm(self, request: web.Request) -> web.Response:
        self._admin(request)
        body = await self._json_body(request, "alarm")
        if not isinstance(body, dict) or not isinstance(body.get("alarm"), bool):
            raise api.bad_request("alarm: expected {\"alarm\": bool, \"qber\": number|null}")
        qber = body.get("qber")
        if qber is not None and not isinstance(qber, int | float):
            raise api.bad_request("qber: expected a number or null")
        try:
            self.set_link_alarm(request.match_info["link"], body["alarm"], qber)
        except KeyStoreError as exc:
            raise api.bad_request(str(exc)) from None
        return web.json_response({"link": request.match_info["link"], "alarm": body["alarm"], "qber": qber})


def _parse_json(raw: bytes) -> Any:
    """JSON of a request body; 400 for anything undecodable (bad UTF-8, syntax, nesting too deep, integers
    beyond Python's digit limit)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise api.bad_request("malformed JSON body: nested too deeply") from None
    except ValueError as exc:          # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise api.bad_request(f"malformed JSON body: {str(exc)[:200]}") from None


def _endpoint(request: web.Request) -> str:
    """The route's template (``/api/v1/keys/{slave_SAE_ID}/enc_keys``): a metric label, never an SAE ID."""
    try:
        resource = request.match_info.route.resource
    except Exception:  # noqa: BLE001 - no route matched
        resource = None
    return resource.canonical if resource is not None else "unmatched"


def _error_response(status: int, message: str, reason: str | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if reason:
        body["details"] = [{"reason": reason}]
    return web.json_response(body, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes an ETSI error answer (400/401/503; 404/405 for no such endpoint), counted."""
    service = request.app[KME_SERVICE]
    reason: str | None = None
    try:
        resp = await handler(request)
    except ApiError as exc:
        resp = web.json_response(exc.body(), status=exc.status)
        reason = exc.reason
        if exc.close_connection:
            resp.force_close()
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            reason = "not_found" if exc.status == 404 else "method_not_allowed"
            resp = _error_response(exc.status, f"{exc.reason}: {request.method} {request.path[:200]}", reason)
        elif exc.status < 400:
            raise
        else:                          # e.g. 413 from a body reader: not an ETSI status
            reason = "malformed_request"
            resp = _error_response(400, f"bad request: {exc.reason}", reason)
            resp.force_close()
    except KeyStoreError as exc:
        log.error("key store error", extra={"event": "kms.store.error", "error": str(exc)})
        reason = "store"
        resp = _error_response(503, "key store error", reason)
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception as exc:  # noqa: BLE001 - never a 500: log it, answer 503 with an ETSI body
        log.exception("internal error", extra={"event": "kms.internal_error", "error": type(exc).__name__})
        reason = "internal_error"
        resp = _error_response(503, "internal error of the KME", reason)
    service.metrics.count_response(_endpoint(request), resp.status, reason)
    return resp


KME_SERVICE = web.AppKey("kme_service", KmeService)


def create_kme_app(config: KmeConfig, *, store: KeyStore | None = None,
                   client_ssl: ssl.SSLContext | None = None, worker: int = 0, http: HttpLimits | None = None,
                   lifetimes: KeyLifetimes | None = None) -> web.Application:
    """The KME as an ``aiohttp.web.Application`` (the CLI, tests and demo all start it this way).

    ``app[KME_SERVICE]`` is the :class:`KmeService` (store, ``deposit``, ``set_link_alarm``, ``metrics``).
    Serve it with :func:`start_kme` (or with :func:`server_ssl_for` as a site's SSL context: mutual TLS is
    what identifies callers; only :func:`start_kme` adds the connection bounds and TLS alerts).
    """
    service = KmeService(config, store=store, client_ssl=client_ssl, worker=worker, http=http, lifetimes=lifetimes)
    app = web.Application(middlewares=[_errors], client_max_size=max(service.body_limits.values()))
    app[KME_SERVICE] = service
    base = "/api/v1/keys/{%s}"
    app.router.add_get(base % "slave_SAE_ID" + "/status", service.handle_status)
    # no HEAD on the key routes: a HEAD would take keys out and send none of them
    app.router.add_get(base % "slave_SAE_ID" + "/enc_keys", service.handle_enc_keys, allow_head=False)
    app.router.add_post(base % "slave_SAE_ID" + "/enc_keys", service.handle_enc_keys)
    app.router.add_get(base % "master_SAE_ID" + "/dec_keys", service.handle_dec_keys, allow_head=False)
    app.router.add_post(base % "master_SAE_ID" + "/dec_keys", service.handle_dec_keys)
    app.router.add_post(RELAY_PATH, service.handle_relay)
    app.router.add_get(LINKS_PATH, service.handle_links)
    app.router.add_get("/metrics", service.handle_metrics)
    app.router.add_get(CHANNEL_PATH, service.handle_link_channel)
    app.router.add_get("/admin/v1/pools", service.handle_admin_pools)
    app.router.add_post("/admin/v1/pools/{pool}/deposit", service.handle_admin_deposit)
    app.router.add_post("/admin/v1/links/{link}/alarm", service.handle_admin_alarm)

    async def on_startup(_app: web.Application) -> None:
        await service.start()
        service.start_housekeeping()

    async def on_shutdown(_app: web.Application) -> None:
        # link sessions are long-lived WebSockets: end them first, so the server does not wait on them
        for end in service.link_ends.values():
            await end.stop()

    async def on_cleanup(_app: web.Application) -> None:
        await service.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


def server_ssl_for(config: KmeConfig) -> ssl.SSLContext:
    """Mutual-TLS server context from the node's ``[tls]`` section."""
    return server_ssl_context(config.tls.ca, config.tls.cert, config.tls.key)


class KmeRequestHandler(RequestHandler):
    """aiohttp's connection handler with a deadline on a request's headers and ETSI answers to framing faults.

    The header deadline starts with the first byte that arrives while the connection is idle and ends when
    the parser has the whole request head; when it passes, the client gets a 400 Error body and the
    connection is closed. (aiohttp's own keep-alive timer, ``idle_timeout_s``, closes a connection that
    sends nothing; it is also the bound for a partial request pipelined behind a complete one.)"""

    def __init__(self, manager: Any, *, loop: asyncio.AbstractEventLoop, service: KmeService, **kwargs: Any) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._service = service
        self._header_deadline: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        idle = not self._request_in_progress and not self._messages and self._payload_parser is None
        if idle and self._header_deadline is None and not (self._force_close or self._close):
            self._header_deadline = self._loop.call_later(self._service.http.header_timeout_s, self._headers_late)
        before = self._request_count
        super().data_received(data)
        if self._request_count != before and self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self._request_in_progress or self._messages or self.transport is None:
            return
        self._service.metrics.http_timeouts["header"] += 1
        self._service.metrics.count_response("http", 400, "header_timeout")
        body = json.dumps({"message": f"request headers not received within {self._service.http.header_timeout_s} s",
                           "details": [{"reason": "header_timeout"}]}).encode()
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        self.force_close()

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """A body nobody read that fails to decode while aiohttp drains it (after the answer was sent) only
        closes the connection: logged as such, not as an unhandled exception."""
        exc = kw.get("exc_info")
        if isinstance(exc, RequestPayloadError | HttpProcessingError):
            log.info("closed a connection after an undecodable request body",
                     extra={"event": "kms.http.bad_body", "error": type(exc).__name__})
            return
        super().log_exception(*args, **kw)

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """aiohttp's answer to what never reached a handler (a request it could not parse; a handler that
        failed outside the middleware): 400 (or 503 for faults of the server) with an ETSI Error body."""
        if request.writer.output_size > 0:
            raise ConnectionError("response already started: no error answer possible")
        etsi = 400 if status < 500 else 503
        reason = "malformed_http" if etsi == 400 else "internal_error"
        text = (message or getattr(exc, "message", None) or str(exc or "") or "error").splitlines()[0][:200]
        log.info("refused a malformed HTTP request", extra={"event": "kms.http.malformed", "status": status,
                                                             "error": type(exc).__name__ if exc else None})
        self._service.metrics.count_response("http", etsi, reason)
        resp = _error_response(etsi, f"bad HTTP request: {text}" if etsi == 400 else "internal error of the KME",
                               reason)
        resp.force_close()
        return resp


class AlertingTlsProtocol(sslproto.SSLProtocol):
    """asyncio's TLS protocol, which closes a refused handshake without sending the alert OpenSSL wrote
    (a client with a bad certificate sees a bare EOF). This one sends that alert first - ``unknown ca``,
    ``certificate required``, ``bad certificate`` ... - and counts the refusal by OpenSSL's reason."""

    def __init__(self, *args: Any, service: KmeService, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._service = service

    def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
        if handshake_exc is not None:
            self._service.metrics.tls_failures[str(getattr(handshake_exc, "reason", None)
                                                   or type(handshake_exc).__name__)] += 1
            try:
                alert = self._outgoing.read()  # type: ignore[attr-defined]  # asyncio.sslproto internals
                transport: Any = self._transport
                if alert and transport is not None:
                    transport.write(alert)
            except Exception:  # noqa: BLE001 - the connection is being dropped anyway
                pass
        super()._on_handshake_complete(handshake_exc)


class KmeTlsSite(web.BaseSite):
    """A TCP site whose connections run :class:`AlertingTlsProtocol` around :class:`KmeRequestHandler`
    (TLS handshake deadline ``http.tls_handshake_timeout_s``)."""

    def __init__(self, runner: web.AppRunner, service: KmeService, host: str, port: int,
                 ssl_context: ssl.SSLContext, *, reuse_port: bool = False) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._service = service
        self._host = host
        self._port = port
        self._reuse_port = reuse_port

    @property
    def name(self) -> str:
        return f"https://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None and self._ssl_context is not None
        service, http, ctx = self._service, self._service.http, self._ssl_context

        def protocol() -> asyncio.BaseProtocol:
            handler = KmeRequestHandler(server, loop=loop, service=service, keepalive_timeout=http.idle_timeout_s,
                                        lingering_time=http.lingering_s, access_log=None)
            return AlertingTlsProtocol(loop, handler, ctx, None, server_side=True,
                                       ssl_handshake_timeout=http.tls_handshake_timeout_s, service=service)
        self._server = await loop.create_server(protocol, self._host, self._port, backlog=self._backlog,
                                                reuse_port=self._reuse_port or None)


class RunningKme:
    """A KME served on a real socket (for tests, the demo and ``qshift kme serve``)."""

    def __init__(self, runner: web.AppRunner, port: int, app: web.Application) -> None:
        self.runner = runner
        self.port = port
        self.app = app

    @property
    def service(self) -> KmeService:
        return self.app[KME_SERVICE]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_kme(config: KmeConfig, *, store: KeyStore | None = None, worker: int = 0, port: int | None = None,
                    reuse_port: bool = False, http: HttpLimits | None = None,
                    lifetimes: KeyLifetimes | None = None) -> RunningKme:
    """Serve ``config``'s KME on ``node.listen_host:listen_port`` (port 0: ephemeral) with mutual TLS.

    ``port`` overrides ``listen_port``; ``reuse_port`` binds with ``SO_REUSEPORT`` so that several worker
    processes of one node share the port (the kernel spreads connections over them); ``worker``: see
    :class:`KmeService`; ``http``: connection and body bounds (:class:`HttpLimits`); ``lifetimes``: deadlines
    of slave deliveries (:class:`qkd.kms.ledger.KeyLifetimes`).
    """
    app = create_kme_app(config, store=store, worker=worker, http=http, lifetimes=lifetimes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = KmeTlsSite(runner, app[KME_SERVICE], config.node.listen_host,
                      config.node.listen_port if port is None else port, server_ssl_for(config),
                      reuse_port=reuse_port)
    await site.start()
    port = runner.addresses[0][1]
    return RunningKme(runner, port, app)
