"""This node's end of a QKD link, run by the link runtime (:mod:`qkd.runtime`) into this node's key intake.

For a feed of kind ``emulated`` or ``timetag-files`` on link ``L`` between this node and ``peer``:

* the node with the smaller ID is **Alice** (transmitter) and the initiator: its runtime opens a WebSocket
  to ``<peer url>/kme/v1/links/L/channel`` (or ``channel_url``; mutual TLS, the peer's certificate must
  name it, see :func:`qkd.kms.pki.kme_dns_name`) and reconnects after every failure with a backoff; the
  other node is **Bob** and runs a session for each connection in :meth:`KmeLinkEnd.handle_channel` (the
  caller's certificate CN must be Alice's node ID);
* block ``i`` comes from the feed's source (:func:`feed_source`): the emulator with seed
  ``emulator_seed + i`` at both ends (each holds its own side's bits of the same emulated run) — decoy
  BB84, or with ``protocol = "bbm92"`` an entanglement-based link (both stations' time tags, coincidences,
  the entanglement witness) —, or the time-tag file pair ``i`` sifted with seed ``sift_seed + i``; the
  runtime's sessions reconcile, verify, amplify and confirm it, and both ends deliver the agreed key into
  :class:`~qkd.kms.feeds.LinkKeySink`;
* Alice claims block index ``i`` durably (store counter) before running it, so a crash never runs a block
  twice; ``link.hello`` resynchronises the two ends' key streams after a crash (one end ahead by exactly
  its last block drops it; anything else keeps the link down with the reason, and no wrong key is served);
* the link's state (:class:`~qkd.runtime.state.LinkStatus`) drives the alarm of its pools: raised by any
  failure, aborted block or empty authentication budget, cleared only by a confirmed, delivered block;
  while raised, ``enc_keys`` over the link answers 503 and relays over it are refused.

Authentication of the classical channel is chosen per feed (``auth``): ``tls`` — the frames run inside
the mutually authenticated TLS session between the two KMEs (computational; no key spent); or
``transcript`` — Wegman–Carter over each block's transcript, with pads from ``auth_psk_file`` refilled
from the link's own key (information-theoretic). The budget and its use are in the link's status.
EMULATED feeds: the physics comes from the emulator, not from photons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from qkd.kms.config import FeedSection
from qkd.kms.pki import kme_dns_name
from qkd.physics.freespace import FreeSpaceChannel
from qkd.physics.link import Link
from qkd.physics.presets import link_preset
from qkd.postprocess.channel import Transport, WebSocketTransport, WegmanCarterAuth
from qkd.postprocess.ldpc import LdpcPolicy
from qkd.postprocess.link import BlockResult, LinkPolicy
from qkd.runtime import (
    BlockSource,
    EmulatedSource,
    EntangledSource,
    LinkEndRuntime,
    LinkFaults,
    RuntimeConfig,
    SharedEmulation,
    TimetagFileSource,
    resync_action,
)
from qkd.runtime.sources import EntangledFileSource

if TYPE_CHECKING:
    from qkd.kms.server import KmeService

log = logging.getLogger(__name__)

CHANNEL_PATH = "/kme/v1/links/{link}/channel"
#: log-amplitude variance of the ``turbulence`` option (moderate scintillation)
TURBULENCE_LOG_VARIANCE = 0.3


def feed_link(feed: FeedSection) -> Link:
    """The emulated hardware of an ``emulated`` feed: the preset at ``length_km`` (free-space presets: the
    path length when given), with the feed's basis and intensity choice and turbulence."""
    link = link_preset(feed.preset, feed.length_km)
    channel = link.channel
    if isinstance(channel, FreeSpaceChannel):
        if "length_km" in feed.model_fields_set:
            channel = replace(channel, distance_m=feed.length_km * 1e3)
        channel = replace(channel, scintillation_log_variance=TURBULENCE_LOG_VARIANCE if feed.turbulence else 0.0)
        link = replace(link, channel=channel)
    source = link.source
    if feed.p_z is not None:
        source = replace(source, p_z=feed.p_z)
        link = replace(link, bob_p_z=feed.p_z)
    if feed.intensity_probabilities is not None:
        source = replace(source, intensity_probabilities=feed.intensity_probabilities)
    return replace(link, source=source)


def feed_source(feed: FeedSection, faults: LinkFaults | None = None, end: str = "") -> BlockSource:
    """The block source of a link-end feed (decoy-BB84 or BBM92 emulator, or time-tag files)."""
    if feed.protocol == "bbm92" and feed.kind == "timetag-files":
        ent = feed.entangled
        return EntangledFileSource(feed.timetag_files, feed.bob_timetag_files, window_ps=ent.coincidence_window_ps,
                                   sift_seed=feed.sift_seed, z_sample_fraction=ent.z_sample_fraction,
                                   witness_eps=ent.witness_eps, name=f"{feed.pool} entangled time-tag files")
    if feed.protocol == "bbm92":
        ent = feed.entangled
        return EntangledSource.over_fiber(
            feed.length_km, feed.emulator_seed, pair_rate_hz=ent.pair_rate_hz, visibility=ent.visibility,
            window_ps=ent.coincidence_window_ps, block_seconds=ent.block_seconds,
            attenuation_db_per_km=ent.attenuation_db_per_km, bob_clock_offset_ps=ent.bob_clock_offset_ps,
            bob_clock_drift_ppm=ent.bob_clock_drift_ppm, faults=faults, max_blocks=feed.max_blocks or None,
            z_sample_fraction=ent.z_sample_fraction, witness_eps=ent.witness_eps,
            name=f"{feed.pool} entangled-pair emulator", end=end)
    if feed.kind == "timetag-files":
        return TimetagFileSource(feed.timetag_files, feed.transmitter_files, window_ps=feed.window_ps,
                                 sift_seed=feed.sift_seed, name=f"{feed.pool} time-tag files")
    return EmulatedSource(feed_link(feed), feed.pulses_per_block, feed.emulator_seed, faults=faults,
                          max_blocks=feed.max_blocks or None, name=f"{feed.pool} emulator", end=end)


def link_policy(feed: FeedSection) -> LinkPolicy:
    """The post-processing policy of an emulated or time-tag feed: its key length, abort threshold, reconciler
    (with the LDPC decoder and first-attempt efficiency of this end) and link kind."""
    ldpc = LdpcPolicy(decoder=feed.ldpc_decoder, f_start=feed.ldpc_f_start) if feed.reconciler == "ldpc" else None
    return LinkPolicy(key_length=feed.key_length, qber_abort=feed.qber_abort, reconciler=feed.reconciler,
                      ldpc=ldpc, protocol=feed.protocol)


def runtime_config(feed: FeedSection) -> RuntimeConfig:
    return RuntimeConfig(heartbeat_s=feed.heartbeat_s, silence_timeout_s=feed.silence_timeout_s,
                         step_timeout_s=feed.step_timeout_s, block_timeout_s=feed.block_timeout_s,
                         connect_timeout_s=feed.connect_timeout_s, backoff_max_s=feed.backoff_max_s,
                         block_interval_s=feed.block_interval_s)


def _block_bits_bound(feed: FeedSection) -> int:
    """An upper bound on the sifted bits of one block (the sink room a block may need): the pulses of a
    decoy-BB84 block, the pairs a BBM92 block's source emits on average (×1.1 for the Poisson spread)."""
    if feed.kind != "emulated":
        return 0
    if feed.protocol == "bbm92":
        return int(1.1 * feed.entangled.pair_rate_hz * feed.entangled.block_seconds)
    return feed.pulses_per_block


class _StoreCounter:
    """Alice's durable block claims (a store counter)."""

    def __init__(self, service: KmeService, name: str) -> None:
        self._store = service.store
        self._name = name

    def next_index(self) -> int:
        return self._store.counter(self._name)

    def claim(self, index: int) -> None:
        self._store.run(lambda tx: tx.set_counter(self._name, index + 1))


class KmeLinkEnd:
    """This node's end of one QKD link for :class:`~qkd.kms.server.KmeService` (see the module docstring).

    ``faults``: the emulated link's fault knobs (a scenario shares one object between the two ends)."""

    def __init__(self, feed: FeedSection, service: KmeService, faults: LinkFaults | None = None) -> None:
        self.feed = feed
        self.service = service
        self.link_id = feed.pool
        first, second = service.network.split_order(self.link_id)
        self.role = "alice" if service.me == first else "bob"
        self.peer = second if service.me == first else first
        self.sink = service.sinks[self.link_id]
        self.faults = faults or LinkFaults()
        self.source = feed_source(feed, self.faults, end=service.me)
        wc_auth = None
        if feed.auth == "transcript":
            wc_auth = WegmanCarterAuth.from_preshared(Path(feed.auth_psk_file).read_bytes())
        self.runtime = LinkEndRuntime(
            self.link_id, self.role, self.source, self.sink,
            link_policy(feed),
            runtime_config(feed),
            auth_mode=feed.auth, wc_auth=wc_auth,
            counter=_StoreCounter(service, f"emulated-link/{self.link_id}/next-block"),
            headroom_bits=self.sink.headroom_bits)
        self.runtime.headroom_needed_bits = _block_bits_bound(feed)
        self.status = self.runtime.status
        # the pools' alarm survives a restart in the store: the status starts from it, so the first
        # confirmed block clears it (an alarm clears only on evidence)
        raised, _ = service.store.alarm(self.sink.pools[0])
        if raised:
            self.status.alarm, self.status.alarm_reason = True, "raised before this node started"
        self.status.on_alarm(self._on_alarm)
        self.paused = False
        self._task: asyncio.Task[None] | None = None

    def use_faults(self, faults: LinkFaults, shared: SharedEmulation | None = None) -> None:
        """Share the emulated link's fault knobs (and, with ``shared``, its emulated blocks) with the other end
        when both run in one process (scenarios, the demo)."""
        self.faults = faults
        if isinstance(self.source, EmulatedSource | EntangledSource):
            self.source.faults = faults
            self.source.shared = shared

    def start(self) -> None:
        """Start the end's supervised task (Alice connects; Bob watches for a missing peer)."""
        if self._task is None or self._task.done():
            self.paused = False
            self._task = asyncio.create_task(self.run(), name=f"link-end-{self.link_id}")
            self._task.add_done_callback(self._task_ended)

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            self.runtime.session_failed(exc)

    async def stop(self) -> None:
        """Stop the end: its task and its session end; channels are refused until :meth:`start`."""
        self.paused = True
        tasks = [t for t in (self._task, self.runtime._session_task) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.status.stopped()

    def release(self) -> None:
        """After the last :meth:`stop`: drop the cached emulated blocks and the window of block results, so
        a closed service that something still references holds no block data."""
        shared = getattr(self.source, "shared", None)
        if shared is not None:
            shared.clear()
        self.runtime.results.clear()

    def _on_alarm(self, raised: bool, qber: float | None, reason: str) -> None:
        self.service.set_link_alarm(self.link_id, raised, qber)

    @property
    def results(self) -> list[BlockResult]:
        """The latest block results (a bounded window)."""
        return list(self.runtime.results)

    @property
    def blocks_done(self) -> int:
        return self.runtime.blocks_done

    def snapshot(self) -> dict[str, Any]:
        return {**self.status.snapshot(), "peer": self.peer, "source": self.source.name, "protocol": self.feed.protocol}

    def exhaust_pads(self) -> int:
        """Spend every Wegman–Carter pad left (fault testing: the budget forced empty); returns how many."""
        auth = self.runtime.wc_auth
        if auth is None:
            return 0
        spent = 0
        for direction in (0, 1):
            left = auth.pads_available(direction)
            auth.skip_to(direction, auth.next_seq(direction) + left)
            spent += left
        return spent

    def provision_pads(self, material: bytes) -> None:
        """Add Wegman–Carter pads (the same bytes at both nodes: first half initiator→responder)."""
        auth = self.runtime.wc_auth
        if auth is None:
            raise ValueError(f"link {self.link_id!r} does not use Wegman–Carter authentication")
        half = len(material) // 2 // 16 * 16
        auth.replenish(material[:half], material[half:2 * half])

    def _channel_url(self) -> str:
        base = self.feed.channel_url or self.service.network.node_urls[self.peer]
        return base.rstrip("/") + CHANNEL_PATH.format(link=self.link_id)

    async def run(self) -> None:
        """Alice: connect and run sessions until the source ends (restarts after failures); Bob: watch for
        a missing peer (sessions arrive through :meth:`handle_channel`)."""
        if self.role == "bob":
            await self.runtime.watch_peer()
            return
        url = self._channel_url()
        connector = aiohttp.TCPConnector(ssl=self.service.client_ssl)
        async with aiohttp.ClientSession(connector=connector) as session:
            async def connect() -> Transport:
                ws = await session.ws_connect(url, server_hostname=kme_dns_name(self.peer), max_msg_size=0)
                return WebSocketTransport(ws)
            await self.runtime.run_initiator(connect)

    async def handle_channel(self, request: web.Request) -> web.StreamResponse:
        """Bob's end: accept Alice's WebSocket and run a session on it until it ends or fails."""
        if self.paused:
            raise web.HTTPServiceUnavailable(text=f"link end {self.link_id!r} is stopped")
        ws = web.WebSocketResponse(max_msg_size=0, timeout=self.feed.heartbeat_s)
        await ws.prepare(request)
        try:
            await self.runtime.accept(WebSocketTransport(ws))
        finally:
            if not ws.closed:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.feed.heartbeat_s):
                        await asyncio.shield(ws.close())
        return ws


#: the name the KME used before the runtime drove its link ends
EmulatedLinkEnd = KmeLinkEnd

__all__ = ["CHANNEL_PATH", "EmulatedLinkEnd", "KmeLinkEnd", "feed_link", "feed_source", "resync_action",
           "runtime_config"]
