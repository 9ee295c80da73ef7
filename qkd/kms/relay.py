"""Trusted-node relay between KMEs: hop-by-hop one-time pad over mutually authenticated HTTPS.

When the master SAE's node ``A`` and the slave SAE's node ``B`` share no link, ``A`` draws the keys K from
the OS CSPRNG (``secrets``), picks a route ``A → T1 → … → B`` (:meth:`qkd.kms.topology.Network.route`) and
sends K to the next node as ``K ⊕ k_link``, where ``k_link`` is the next ``|K|`` bits of the directed pool
of that link (information-theoretically secret transport, Vernam 1926; each hop consumes exactly ``|K|``
bits of its link's key). Each trusted node ``T`` recovers K with its copy of the incoming pad and re-pads
it with the outgoing link's key. The last node stores K for the slave SAE.

**Who sees K**: the master's node, every intermediate trusted node on the route, and the slave's node.
Nobody else: an eavesdropper on any hop sees only K ⊕ k_link. This is the trust assumption of trusted-
node QKD networks; a compromised intermediate node learns K.

Authentication: every hop is HTTPS with mutual TLS under the deployment CA; the receiver checks that the
sender's certificate CN is the previous node on the route, the sender's TLS handshake checks that the
responder's certificate carries the next node's name (:func:`qkd.kms.pki.kme_dns_name`). End to end,
the message carries ``check = HMAC-SHA256(K, relay_id ‖ key_IDs)`` which the last node verifies before
storing anything (a node that flips pad bits is caught).

Acknowledgement and failure: each hop forwards synchronously and answers only after its successor did,
so the master's node gets 200 only once the slave's node has durably stored K. A hop that fails (node
down, link alarmed or out of key, check failed) answers 503 naming ``failed_hop`` ("X->Y"); the master's
node then hands nothing to the master SAE, and the slave's node stored nothing. Pads consumed before the
failure are burned, never reused (the receiver of a later pad discards the gap: see
:meth:`qkd.kms.pools.PoolStreams.take_range`).

What can be delivered (:meth:`RelayEngine.path_report`, behind the Status object's ``stored_key_count``):
each hop of the route consumes ``|K|`` bits of its own link, so a pair behind the route can get at most the
smallest hop's key, and nothing while a hop is alarmed or one of its nodes does not answer. A node knows
its own pools; it asks the other nodes of the route for theirs (``GET /kme/v1/links``, mutual TLS, KMEs of
the topology only; figures only, no key), each answer cached for :data:`LINKS_CACHE_S`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import ssl
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from qkd.kms.errors import InsufficientKeyError, KeyStoreError, RelayError, TopologyError
from qkd.kms.ledger import IssuedKey
from qkd.kms.pki import kme_dns_name
from qkd.kms.pools import xor_bytes
from qkd.kms.topology import Network, pool_name

if TYPE_CHECKING:
    from qkd.kms.store import KeyStore

log = logging.getLogger(__name__)

RELAY_PATH = "/kme/v1/relay"
LINKS_PATH = "/kme/v1/links"
LINKS_CACHE_S = 1.0          # how long a peer's link figures are reused by status calls
LINKS_TIMEOUT_S = 2.0        # at most this long to ask a peer for them


def check_value(material: bytes, relay_id: str, key_ids: list[str]) -> bytes:
    """End-to-end check of relayed keys: HMAC-SHA256 keyed with K over the relay ID and key_IDs."""
    msg = ("qshift-kms-relay-check/" + relay_id + "/" + ",".join(key_ids)).encode()
    return hmac.new(material, msg, hashlib.sha256).digest()


class RelayEngine:
    """Sends and forwards relayed keys for node ``me``."""

    def __init__(self, me: str, network: Network, store: KeyStore, ssl_context: ssl.SSLContext | None,
                 timeout_s: float) -> None:
        self.me = me
        self.network = network
        self.store = store
        self.ssl_context = ssl_context
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._send_locks: dict[str, asyncio.Lock] = {}
        self._links_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl_context if self.ssl_context is not None else True))
        return self._session

    def weight(self, needed_bits: int) -> Callable[[str, str, str], float | None]:
        """Link weight for routing (see :mod:`qkd.kms.topology`): this node's view of its own links."""
        def w(link_id: str, frm: str, to: str) -> float | None:
            if frm != self.me:
                return 2.0
            pool = pool_name(link_id, frm, to)
            alarm, _ = self.store.alarm(pool)
            available = self.store.available_bits(pool)
            if alarm or available < needed_bits:
                return None
            return 1.0 + needed_bits / available
        return w

    def route(self, dst: str, needed_bits: int) -> list[str]:
        return self.network.route(self.me, dst, self.weight(needed_bits))

    def path_alarm(self, dst: str) -> tuple[bool, float | None]:
        """``(alarmed, qber)`` towards node ``dst``: alarmed when every route from here starts on a link
        whose alarm is set at this node (``qber``: the highest QBER reported on those links)."""
        def first_hop_ok(link_id: str, frm: str, to: str) -> float | None:
            if frm == self.me and self.store.alarm(pool_name(link_id, frm, to))[0]:
                return None
            return 1.0
        try:
            self.network.route(self.me, dst, lambda *_: 1.0)
        except TopologyError:
            return False, None          # no route at all: not an alarm (enc_keys reports the topology)
        try:
            self.network.route(self.me, dst, first_hop_ok)
            return False, None
        except TopologyError:
            qbers = [self.store.alarm(pool_name(lk, self.me, nb))[1] for lk, nb in self.network.links_of(self.me)]
            known = [q for q in qbers if q is not None]
            return True, (max(known) if known else None)

    # ---------------------------------------------------------------- what can be delivered
    def local_links(self) -> dict[str, dict[str, Any]]:
        """This node's figures for both directed pools of each of its links (``GET /kme/v1/links``)."""
        out: dict[str, dict[str, Any]] = {}
        for link_id, nb in self.network.links_of(self.me):
            for frm, to in ((self.me, nb), (nb, self.me)):
                pool = pool_name(link_id, frm, to)
                alarm, qber = self.store.alarm(pool)
                out[pool] = {"available_bits": self.store.available_bits(pool), "alarm": alarm, "qber": qber}
        return out

    async def node_links(self, node: str) -> dict[str, Any] | None:
        """Pool figures of ``node`` (this node's own, or asked over mutual TLS); None if it does not answer."""
        if node == self.me:
            return self.local_links()
        now = time.monotonic()
        cached = self._links_cache.get(node)
        if cached is not None and now - cached[0] < LINKS_CACHE_S:
            return cached[1]
        pools: dict[str, Any] | None = None
        try:
            async with self._sess().get(self.network.node_urls[node] + LINKS_PATH, server_hostname=kme_dns_name(node),
                                        timeout=aiohttp.ClientTimeout(total=min(self.timeout_s, LINKS_TIMEOUT_S))
                                        ) as resp:
                body = await resp.json(content_type=None)
                if resp.status == 200 and isinstance(body, dict) and isinstance(body.get("pools"), dict):
                    pools = body["pools"]
        except (TimeoutError, aiohttp.ClientError, ValueError):
            pools = None
        self._links_cache[node] = (time.monotonic(), pools)
        return pools

    async def path_report(self, dst: str, needed_bits: int) -> dict[str, Any]:
        """What can be delivered to node ``dst`` now: ``{"path", "usable", "hops", "deliverable_bits"}``.

        ``path`` is the route a relay of ``needed_bits`` would take, or, when none is usable from here, the
        shortest route (``usable`` False). Per hop ``X->Y``: ``available_bits`` (the smaller of the two ends'
        copies of the pool ``X>Y`` that answered), ``alarm``, ``qber``, ``reachable`` (both nodes answered) and
        ``deliverable_bits`` (``available_bits``, 0 if alarmed or unreachable). ``deliverable_bits`` of the
        path: the smallest hop's (0 without a route)."""
        usable = True
        try:
            path = self.route(dst, needed_bits)
        except TopologyError:
            usable = False
            try:
                path = self.network.route(self.me, dst, lambda *_: 1.0)
            except TopologyError:
                return {"path": [], "usable": False, "hops": [], "deliverable_bits": 0}
        nodes = sorted(set(path))
        reports = dict(zip(nodes, await asyncio.gather(*(self.node_links(n) for n in nodes)), strict=True))
        hops = []
        worst: int | None = None
        for x, y in zip(path, path[1:], strict=False):
            link_id = self.network.link_between(x, y)
            pool = pool_name(link_id, x, y)
            figures: list[dict[str, Any]] = []
            for r in (reports[x], reports[y]):
                f = r.get(pool) if r is not None else None
                if isinstance(f, dict) and isinstance(f.get("available_bits"), int):
                    figures.append(f)
            reachable = len(figures) == 2
            available: int = min((int(f["available_bits"]) for f in figures), default=0)
            alarm = any(bool(f.get("alarm")) for f in figures)
            qbers = [float(f["qber"]) for f in figures if isinstance(f.get("qber"), int | float)]
            deliverable_hop = available if reachable and not alarm else 0
            hops.append({"hop": f"{x}->{y}", "link": link_id, "available_bits": available, "alarm": alarm,
                         "qber": max(qbers) if qbers else None, "reachable": reachable,
                         "deliverable_bits": deliverable_hop})
            worst = deliverable_hop if worst is None else min(worst, deliverable_hop)
        deliverable = (worst or 0) if usable else 0
        return {"path": path, "usable": usable, "hops": hops, "deliverable_bits": deliverable}

    async def send_new_keys(self, master: str, slave: str, dst: str, sizes: list[int]) -> list[IssuedKey]:
        """Draw K, relay it to node ``dst`` and return the keys once ``dst`` acknowledged storing them."""
        keys = [IssuedKey(str(uuid.uuid4()), secrets.token_bytes(s // 8)) for s in sizes]
        material = b"".join(k.key for k in keys)
        try:
            path = self.route(dst, len(material) * 8)
        except TopologyError as exc:
            raise RelayError(str(exc), reason="insufficient_key") from None
        relay_id = str(uuid.uuid4())
        meta = {"relay_id": relay_id, "path": path, "master_SAE_ID": master, "slave_SAE_ID": slave,
                "keys": [{"key_ID": k.key_id, "size": s} for k, s in zip(keys, sizes, strict=True)],
                "check": base64.b64encode(check_value(material, relay_id, [k.key_id for k in keys])).decode()}
        await self.forward(meta, 1, material)
        log.info("relayed keys acknowledged end to end",
                 extra={"event": "kms.relay.ok", "relay_id": relay_id, "path": "->".join(path),
                        "keys": len(keys), "bits": len(material) * 8})
        return keys

    async def forward(self, meta: dict[str, Any], hop: int, material: bytes) -> None:
        """Pad ``material`` with the link to ``meta['path'][hop]`` and send it; raise :class:`RelayError`."""
        path = meta["path"]
        nxt = path[hop]
        hop_name = f"{self.me}->{nxt}"
        link_id = self.network.link_between(self.me, nxt)
        pool = pool_name(link_id, self.me, nxt)
        alarm, qber = self.store.alarm(pool)
        if alarm:
            raise RelayError(f"link {link_id!r} alarmed (QBER {qber})", failed_hop=hop_name, reason="link_alarm")
        # pads of one directed pool are taken and sent in order, so the receiver rarely discards a gap
        lock = self._send_locks.setdefault(pool, asyncio.Lock())
        async with lock:
            try:
                start, pad = self.store.take(pool, len(material))
            except InsufficientKeyError as exc:
                raise RelayError(f"not enough key on link {link_id!r}: {exc}", failed_hop=hop_name,
                                 reason="insufficient_key") from None
            body = dict(meta, hop=hop, link=link_id, pad_start=start,
                        ct=base64.b64encode(xor_bytes(material, pad)).decode())
            url = self.network.node_urls[nxt] + RELAY_PATH
            try:
                # TLS verifies that the responder's certificate names node ``nxt`` (see qkd.kms.pki)
                async with self._sess().post(url, json=body, server_hostname=kme_dns_name(nxt),
                                             timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                    answer = await resp.json(content_type=None)
                    status = resp.status
            except aiohttp.ClientConnectorCertificateError as exc:
                raise RelayError(f"node {nxt!r}: certificate does not name it ({exc.certificate_error})",
                                 failed_hop=hop_name) from None
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise RelayError(f"node {nxt!r} unreachable: {type(exc).__name__}", failed_hop=hop_name) from None
        if status != 200:
            answer = answer if isinstance(answer, dict) else {}
            details = answer.get("details") or [{}]
            first = details[0] if isinstance(details[0], dict) else {}
            failed = first.get("failed_hop") or hop_name
            reason = first.get("reason")
            reason = reason if reason in ("insufficient_key", "link_alarm") else "relay_failed"
            message = str(answer.get("message", f"HTTP {status}")).split(" (failed hop ")[0]
            raise RelayError(f"relay refused: {message}", failed_hop=failed, reason=reason)

    async def receive(self, sender: str | None, body: Any) -> None:
        """Handle one relay message from ``sender`` (its certificate CN); raise RelayError/ValueError."""
        if not isinstance(body, dict):
            raise ValueError("relay message: expected a JSON object")
        try:
            path = list(body["path"])
            hop = int(body["hop"])
            link_id = str(body["link"])
            start = int(body["pad_start"])
            ct = base64.b64decode(body["ct"], validate=True)
            keys = [(str(k["key_ID"]), int(k["size"])) for k in body["keys"]]
            master, slave = str(body["master_SAE_ID"]), str(body["slave_SAE_ID"])
            relay_id = str(body["relay_id"])
            check = base64.b64decode(body["check"], validate=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"relay message: malformed ({type(exc).__name__}: {exc})") from None
        for key_id, size in keys:
            try:
                uuid.UUID(key_id)
            except ValueError:
                raise ValueError(f"relay message: key_ID {key_id[:40]!r} is not a UUID") from None
            if size <= 0 or size % 8:
                raise ValueError(f"relay message: key size {size} bits is not a positive multiple of 8")
        if len({k for k, _ in keys}) != len(keys):
            raise ValueError("relay message: the same key_ID appears twice")
        if not 1 <= hop < len(path) or path[hop] != self.me:
            raise ValueError(f"relay message: hop {hop} of {path} is not this node {self.me!r}")
        if self.network.sae_node.get(master) != path[0]:
            raise ValueError(f"relay message: master SAE {master!r} is not attached to the first node {path[0]!r}")
        prev = path[hop - 1]
        if sender != prev:
            raise PermissionError(f"relay message from {sender!r}, but the previous hop is {prev!r}")
        if self.network.link_between(prev, self.me) != link_id:
            raise ValueError(f"relay message: link {link_id!r} does not join {prev!r} and {self.me!r}")
        if sum(s for _, s in keys) != len(ct) * 8:
            raise ValueError("relay message: key sizes do not add up to the ciphertext length")
        pool = pool_name(link_id, prev, self.me)
        hop_in = f"{prev}->{self.me}"
        if hop == len(path) - 1:
            if self.network.sae_node.get(slave) != self.me:
                raise ValueError(f"relay message: slave SAE {slave!r} is not attached to {self.me!r}")
            ids = [k for k, _ in keys]
            try:
                self.store.run(lambda tx: tx.accept_relayed(
                    pool, start, ct, keys=keys, master=master, slave=slave,
                    verify=lambda m: hmac.compare_digest(check_value(m, relay_id, ids), check)))
            except InsufficientKeyError as exc:
                raise RelayError(str(exc), failed_hop=hop_in, reason="insufficient_key") from None
            except KeyStoreError as exc:
                raise RelayError(str(exc), failed_hop=hop_in) from None
            return
        try:
            material = xor_bytes(ct, self.store.take_range(pool, start, len(ct)))
        except InsufficientKeyError as exc:
            raise RelayError(str(exc), failed_hop=hop_in, reason="insufficient_key") from None
        except KeyStoreError as exc:
            raise RelayError(str(exc), failed_hop=hop_in) from None
        await self.forward(body, hop + 1, material)
