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
Fault injection for crash tests: the environment variable ``QSHIFT_KMS_FAULT_DELAY_S`` (seconds, default 0)
widens the window between the reservation and the response write and between the write and the delivered
mark, so that a SIGKILL lands there often; it is never set in production.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import ssl
from typing import Any

from aiohttp import web

from qkd.kms import api
from qkd.kms.api import ApiError
from qkd.kms.config import KmeConfig
from qkd.kms.errors import CapacityError, InsufficientKeyError, KeyStoreError, RelayError, TopologyError
from qkd.kms.feeds import LinkKeySink, SyntheticFeed
from qkd.kms.groupcommit import GroupCommit
from qkd.kms.linkend import CHANNEL_PATH, EmulatedLinkEnd
from qkd.kms.masterkey import Sealer, load_or_create
from qkd.kms.pki import peer_identity, server_ssl_context
from qkd.kms.relay import RELAY_PATH, RelayEngine
from qkd.kms.store import (
    ForeignKeyIdError,
    IssuedKey,
    KeyAlreadyDeliveredError,
    KeyStore,
    PoolAlarmedError,
    UnknownKeyIdError,
)
from qkd.kms.topology import LOCAL_POOL, Network, pool_name

log = logging.getLogger(__name__)


def open_store(config: KmeConfig, *, recover: bool = True) -> KeyStore:
    """Open (or create) the node's store and master key from ``config`` (``recover``: see :class:`KeyStore`)."""
    return KeyStore(config.node.db_path, Sealer(load_or_create(config.node.master_key_path)),
                    durable_deliveries=config.node.durable_deliveries, recover=recover)


class KmeService:
    """One node: store, pools, feeds, relay engine; the state behind the aiohttp handlers."""

    def __init__(self, config: KmeConfig, store: KeyStore | None = None,
                 client_ssl: ssl.SSLContext | None = None, *, worker: int = 0) -> None:
        """``worker``: index of this process among the node's worker processes (``qshift kme serve
        --workers N``). Worker 0 recovers the store at open and runs the feeds and link ends; the others
        only serve requests from the shared store."""
        self.config = config
        self.me = config.node.id
        self.limits = config.limits
        self.network = Network(config.topology)
        self.worker = worker
        self.store = store if store is not None else open_store(config, recover=worker == 0)
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
        self._tasks: list[asyncio.Task] = []
        self._fault_delay_s = float(os.environ.get("QSHIFT_KMS_FAULT_DELAY_S", "0") or 0)

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        for feed in self.feeds:
            feed.prefill()
            self._tasks.append(asyncio.create_task(feed.run()))
        for end in self.link_ends.values():
            self._tasks.append(asyncio.create_task(end.run(), name=f"link-end-{end.link_id}"))

    async def close(self) -> None:
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
            self.store.set_alarm(LOCAL_POOL, alarm, qber)
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
    def _status(self, master: str, slave: str) -> dict[str, Any]:
        dst = self.known_sae(slave, "slave_SAE_ID")
        size = self.limits.key_size_bits
        if dst == self.me:
            stored = self.store.available_bits(LOCAL_POOL)
            alarm, qber = self.store.alarm(LOCAL_POOL)
        else:
            alarm, qber = self.relay.path_alarm(dst)
            try:
                path = self.relay.route(dst, size)
                stored = self.store.available_bits(pool_name(self.network.link_between(self.me, path[1]),
                                                             self.me, path[1]))
            except TopologyError:  # no usable route now: nothing can be delivered
                stored = 0
        return {
            "source_KME_ID": self.me, "target_KME_ID": dst, "master_SAE_ID": master, "slave_SAE_ID": slave,
            "key_size": size, "stored_key_count": stored // size,
            "max_key_count": self.limits.pool_capacity_bits // size,
            "max_key_per_request": self.limits.max_key_per_request,
            "max_key_size": self.limits.max_key_size_bits, "min_key_size": self.limits.min_key_size_bits,
            "max_SAE_ID_count": 0,
            "status_extension": {"link_alarm": alarm, "qber": qber},
        }

    async def handle_status(self, request: web.Request) -> web.Response:
        master = self.local_sae(request)
        return web.json_response(self._status(master, request.match_info["slave_SAE_ID"]))

    async def handle_enc_keys(self, request: web.Request) -> web.StreamResponse:
        master = self.local_sae(request)
        slave = request.match_info["slave_SAE_ID"]
        size_default = self.limits.key_size_bits
        if request.method == "POST":
            req, extra = api.parse_key_request_json(await _json_body(request), size_default)
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
                    self.store.issue_local_in_tx, LOCAL_POOL, master, slave, req.number, req.size_bits, True,
                    on_orphan=lambda ks: self.store.quarantine([k.key_id for k in ks], "master"))
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
            raise api.server_side(str(exc), exc.reason, failed_hop=exc.failed_hop) from None
        self.store.record_issued_remote(master, slave, keys)
        return keys

    async def handle_dec_keys(self, request: web.Request) -> web.StreamResponse:
        slave = self.local_sae(request)
        master = request.match_info["master_SAE_ID"]
        if request.method == "POST":
            ids = api.parse_key_ids_json(await _json_body(request))
        else:
            ids = api.parse_key_ids_query(request.query)
        self.known_sae(master, "master_SAE_ID")
        try:
            keys = await self.commits.submit(
                self.store.reserve_for_slave_in_tx, master, slave, ids,
                on_orphan=lambda ks: self.store.release_reserved([k.key_id for k in ks], "slave"))
        except ForeignKeyIdError as exc:
            raise api.unauthorized(str(exc)) from None
        except (UnknownKeyIdError, KeyAlreadyDeliveredError) as exc:
            raise api.bad_request(str(exc)) from None
        return await self._deliver(request, keys, "slave")

    async def _deliver(self, request: web.Request, keys: list[IssuedKey], role: str) -> web.StreamResponse:
        ids = [k.key_id for k in keys]
        try:
            body = {"keys": [{"key_ID": k.key_id, "key": base64.b64encode(k.key).decode()} for k in keys]}
            resp = web.json_response(body)
        except BaseException:
            self.store.release_reserved(ids, role)
            raise
        if self._fault_delay_s:
            await asyncio.sleep(self._fault_delay_s)
        try:
            await resp.prepare(request)
            await resp.write_eof()
        except BaseException:
            self.store.quarantine(ids, role)
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
            await self.relay.receive(sender, await _json_body(request))
        except PermissionError as exc:
            raise api.unauthorized(str(exc)) from None
        except ValueError as exc:
            raise api.bad_request(str(exc)) from None
        except RelayError as exc:
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
        """Data behind ``qshift kme status``: per-pool metrics and delivery counts."""
        return {"node": self.me,
                "pools": [m.__dict__ for m in self.store.metrics()],
                "deliveries": self.store.delivery_counts(),
                "quarantined_at_open": self.store.quarantined_at_open}

    async def handle_admin_pools(self, request: web.Request) -> web.Response:
        self._admin(request)
        return web.json_response(self.pools_report())

    async def handle_admin_deposit(self, request: web.Request) -> web.Response:
        self._admin(request)
        pool = request.match_info["pool"]
        data = await request.read()
        try:
            self.deposit(pool, data)
        except CapacityError as exc:
            raise api.server_side(str(exc), "capacity") from None
        except KeyStoreError as exc:
            raise api.bad_request(str(exc)) from None
        return web.json_response({"pool": pool, "deposited_bits": len(data) * 8})

    async def handle_admin_alarm(self, request: web.Request) -> web.Response:
        self._admin(request)
        body = await _json_body(request)
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


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise api.bad_request(f"malformed JSON body: {exc}") from None


@web.middleware
async def _errors(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            return web.json_response({"message": f"{exc.reason}: {request.method} {request.path}"},
                                     status=exc.status)
        raise
    except KeyStoreError as exc:
        log.error("key store error", extra={"event": "kms.store.error", "error": str(exc)})
        return web.json_response({"message": "key store error", "details": [{"reason": "store"}]}, status=503)


KME_SERVICE = web.AppKey("kme_service", KmeService)


def create_kme_app(config: KmeConfig, *, store: KeyStore | None = None,
                   client_ssl: ssl.SSLContext | None = None, worker: int = 0) -> web.Application:
    """The KME as an ``aiohttp.web.Application`` (the CLI, tests and demo all start it this way).

    ``app[KME_SERVICE]`` is the :class:`KmeService` (store, ``deposit``, ``set_link_alarm``). Serve it with
    :func:`server_ssl_for` as the site's SSL context (mutual TLS is what identifies callers).
    """
    service = KmeService(config, store=store, client_ssl=client_ssl, worker=worker)
    app = web.Application(middlewares=[_errors], client_max_size=64 << 20)
    app[KME_SERVICE] = service
    base = "/api/v1/keys/{%s}"
    app.router.add_get(base % "slave_SAE_ID" + "/status", service.handle_status)
    app.router.add_get(base % "slave_SAE_ID" + "/enc_keys", service.handle_enc_keys)
    app.router.add_post(base % "slave_SAE_ID" + "/enc_keys", service.handle_enc_keys)
    app.router.add_get(base % "master_SAE_ID" + "/dec_keys", service.handle_dec_keys)
    app.router.add_post(base % "master_SAE_ID" + "/dec_keys", service.handle_dec_keys)
    app.router.add_post(RELAY_PATH, service.handle_relay)
    app.router.add_get(CHANNEL_PATH, service.handle_link_channel)
    app.router.add_get("/admin/v1/pools", service.handle_admin_pools)
    app.router.add_post("/admin/v1/pools/{pool}/deposit", service.handle_admin_deposit)
    app.router.add_post("/admin/v1/links/{link}/alarm", service.handle_admin_alarm)

    async def on_startup(_app: web.Application) -> None:
        await service.start()

    async def on_cleanup(_app: web.Application) -> None:
        await service.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def server_ssl_for(config: KmeConfig) -> ssl.SSLContext:
    """Mutual-TLS server context from the node's ``[tls]`` section."""
    return server_ssl_context(config.tls.ca, config.tls.cert, config.tls.key)


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
                    reuse_port: bool = False) -> RunningKme:
    """Serve ``config``'s KME on ``node.listen_host:listen_port`` (port 0: ephemeral) with mutual TLS.

    ``port`` overrides ``listen_port``; ``reuse_port`` binds with ``SO_REUSEPORT`` so that several worker
    processes of one node share the port (the kernel spreads connections over them); ``worker``: see
    :class:`KmeService`.
    """
    app = create_kme_app(config, store=store, worker=worker)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.node.listen_host, config.node.listen_port if port is None else port,
                       ssl_context=server_ssl_for(config), reuse_port=reuse_port or None)
    await site.start()
    port = runner.addresses[0][1]
    return RunningKme(runner, port, app)
