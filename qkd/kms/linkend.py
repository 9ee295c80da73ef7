"""This node's end of an emulated QKD link: emulator + post-processing pipeline against the peer node.

For a feed of kind ``emulated`` on link ``L`` between this node and ``peer``:

* the node with the smaller ID is **Alice** (transmitter) and the initiator: it opens a WebSocket to
  ``<peer url>/kme/v1/links/L/channel`` (mutual TLS; the peer's certificate must name it, see
  :func:`qkd.kms.pki.kme_dns_name`), sends ``link.hello`` with the first block index, then runs block
  after block; the other node is **Bob** and answers in :meth:`EmulatedLinkEnd.handle_channel` (the
  caller's certificate CN must be Alice's node ID);
* block ``i`` is emulated at both ends with seed ``emulator_seed + i`` (``qkd.emulator.emulate_link``:
  the two ends hold the transmitter's and the receiver's bits of the same emulated run), then
  reconciled, verified and amplified by ``qkd.postprocess.link.LinkEnd``, which delivers identical key
  blocks in the same order at both ends into :class:`~qkd.kms.feeds.LinkKeySink`;
* QBER alarms of the pipeline's ``AlarmMonitor`` set/clear the link alarm of the pools;
* Alice claims block index ``i`` durably before running it, so a crash never runs a block twice;
* back-pressure: both ends wait before a block until their pools have room for ``pulses_per_block`` bits
  (emulated) and for the block's sifted bits (a block never distils more key than either).

Time-tag files (feed kind ``timetag-files``): instead of the emulator, block ``i`` is the receiver's
time-tag file ``timetag_files[i]`` sifted (clock recovery, slot assignment, basis sifting; seed
``sift_seed + i``) against the transmitter record ``transmitter_files[i]``, then estimated - the same
``(SiftedKey, ParameterEstimate)`` the emulator path gives. Both nodes are given the same file pairs and
sift them locally (the sifting exchange itself does not run over the channel; reconciliation,
verification and amplification do). The link ends after the last file pair.

Resynchronisation after a crash: each end deposits a distilled block when its own pipeline finishes it,
so a node that dies after its peer deposited block ``i`` and before it did would leave the two ends'
streams one block apart (every relay pad misaligned). Each deposit records where its block starts, in the
same transaction (:meth:`~qkd.kms.feeds.LinkKeySink.stream_state`); ``link.hello`` carries Alice's tail
and last block start, and Bob answers ``link.hello.ack``: equal tails - go on; one end ahead by exactly
its last block - that end drops the block (:meth:`~qkd.kms.store.KeyStore.truncate`, only if none of it
was used yet); anything else - the link stays down with an error in the log (relays over it would fail
the end-to-end check anyway: no wrong key is ever served).

Authentication of the classical channel: the frames run inside the mutually authenticated TLS session
between the two KMEs (computational authentication of both ends, the class of ``SignatureAuth``);
frame-level Wegman-Carter tags with pads replenished from distilled key across node restarts are not
wired here. EMULATED: the physics comes from the emulator, not from photons.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from qkd.kms.config import FeedSection
from qkd.kms.errors import KeyStoreError
from qkd.kms.pki import kme_dns_name

if TYPE_CHECKING:
    from qkd.kms.server import KmeService

log = logging.getLogger(__name__)

CHANNEL_PATH = "/kme/v1/links/{link}/channel"


def resync_action(mine: dict[str, int], peer: dict[str, int]) -> tuple[str, int]:
    """What Bob does with the two ends' ``stream_state``: ``("ok", tail)``, ``("drop_mine", offset)``,
    ``("drop_peer", offset)`` (that end holds exactly one block more: it drops it from ``offset``), or
    ``("mismatch", 0)``."""
    if mine["tail"] == peer["tail"]:
        return "ok", mine["tail"]
    if mine["tail"] > peer["tail"] and mine["last_block_start"] == peer["tail"]:
        return "drop_mine", mine["last_block_start"]
    if peer["tail"] > mine["tail"] and peer["last_block_start"] == mine["tail"]:
        return "drop_peer", peer["last_block_start"]
    return "mismatch", 0


class EmulatedLinkEnd:
    """Runs one end of an emulated link for :class:`~qkd.kms.server.KmeService`."""

    def __init__(self, feed: FeedSection, service: KmeService) -> None:
        self.feed = feed
        self.service = service
        self.link_id = feed.pool
        first, second = service.network.split_order(self.link_id)
        me = service.me
        self.role = "alice" if me == first else "bob"
        self.peer = second if me == first else first
        self.sink = service.sinks[self.link_id]
        self.blocks_done = 0
        self.results: list[Any] = []

    def _policy(self) -> Any:
        from qkd.postprocess.link import LinkPolicy
        return LinkPolicy(key_length=self.feed.key_length)

    @property
    def last_block(self) -> int | None:
        """Index after the last block this end runs (``None``: until the node stops)."""
        limits = [n for n in (self.feed.max_blocks,
                              len(self.feed.timetag_files) if self.feed.kind == "timetag-files" else 0) if n]
        return min(limits) if limits else None

    async def _block_input(self, index: int) -> tuple[Any, Any]:
        """``(SiftedKey, ParameterEstimate)`` of block ``index``, from the emulator or from files."""
        if self.feed.kind == "timetag-files":
            return await asyncio.to_thread(self._sift_files, index)
        return await self._emulate(index)

    def _sift_files(self, index: int) -> tuple[Any, Any]:
        from qkd.cli import load_transmitter
        from qkd.events.formats import read_timetags
        from qkd.postprocess.estimate import estimate
        from qkd.postprocess.sift import sift

        tags = read_timetags(self.feed.timetag_files[index])
        record = load_transmitter(Path(self.feed.transmitter_files[index]))
        key = sift(tags, record, window_ps=self.feed.window_ps, seed=self.feed.sift_seed + index)
        return key, estimate(key)

    async def _emulate(self, index: int) -> tuple[Any, Any]:
        from qkd.emulator import emulate_link
        from qkd.physics.presets import link_preset

        link = link_preset(self.feed.preset, self.feed.length_km)

        def work() -> tuple[Any, Any]:
            out = emulate_link(link, self.feed.pulses_per_block, self.feed.emulator_seed + index)
            return out[0], out[1]
        return await asyncio.to_thread(work)

    def _counter(self) -> str:
        return f"emulated-link/{self.link_id}/next-block"

    async def _run_blocks(self, channel: Any, start: int) -> None:
        from qkd.postprocess.link import LinkEnd

        end = LinkEnd(self.role, self.link_id, channel, self.sink, self._policy())
        end.alarms.subscribe(self.sink.on_alarm)
        index = start
        last = self.last_block
        while last is None or index < last:
            # back-pressure: a block never distils more key than it has pulses, so wait for that headroom
            while self.feed.kind == "emulated" and self.sink.headroom_bits() < self.feed.pulses_per_block:
                await asyncio.sleep(0.5)
            if self.role == "alice":
                self.service.store.set_counter(self._counter(), index + 1)   # claim the block first
            sifted, estimate = await self._block_input(index)
            # nor more than it has sifted bits (the bound for a block read from files)
            while self.sink.headroom_bits() < int(sifted.alice_bits.size):
                await asyncio.sleep(0.5)
            result = await end.process_block(index, sifted, estimate)
            self.results.append(result)
            self.blocks_done += 1
            index += 1
            if self.feed.block_interval_s:
                await asyncio.sleep(self.feed.block_interval_s)

    async def run_alice(self) -> None:
        """Alice's loop: connect, announce the first block, run blocks; reconnect after failures."""
        from qkd.postprocess.channel import ClassicalChannel, NoAuth, WebSocketTransport

        url = self.service.network.node_urls[self.peer] + CHANNEL_PATH.format(link=self.link_id)
        backoff = 0.5
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.service.client_ssl)) as session:
            while True:
                try:
                    ws = await session.ws_connect(url, server_hostname=kme_dns_name(self.peer), max_msg_size=0)
                    channel = ClassicalChannel(WebSocketTransport(ws), NoAuth(), initiator=True,
                                               link_id=self.link_id)
                    start = self.service.store.counter(self._counter())
                    await channel.send("link.hello", json.dumps({"start": start,
                                                                 **self.sink.stream_state()}).encode())
                    _, body = await channel.recv("link.hello.ack")
                    ack = json.loads(body)
                    if ack.get("error"):
                        raise RuntimeError(f"link {self.link_id!r}: peer refused to resume: {ack['error']}")
                    if ack.get("drop_from") is not None:
                        self.sink.drop_last_block(int(ack["drop_from"]))
                    log.info("emulated link up", extra={"event": "kms.link.up", "link": self.link_id,
                                                        "role": "alice", "start_block": start})
                    await self._run_blocks(channel, start)
                    await ws.close()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the link retries; the reason is logged
                    log.warning("emulated link down, retrying",
                                extra={"event": "kms.link.down", "link": self.link_id, "error": repr(exc)})
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)

    async def handle_channel(self, request: web.Request) -> web.StreamResponse:
        """Bob's end: accept Alice's WebSocket, read the first block index, run blocks until it closes."""
        from qkd.postprocess.channel import ClassicalChannel, NoAuth, WebSocketTransport

        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        channel = ClassicalChannel(WebSocketTransport(ws), NoAuth(), initiator=False, link_id=self.link_id)
        _, body = await channel.recv("link.hello")
        hello = json.loads(body)
        start = int(hello["start"])
        ack: dict[str, Any] = {}
        try:
            action, offset = resync_action(self.sink.stream_state(), hello)
            if action == "drop_mine":
                self.sink.drop_last_block(offset)
            elif action == "drop_peer":
                ack["drop_from"] = offset
            elif action == "mismatch":
                ack["error"] = (f"streams differ by more than one block (tail {self.sink.stream_state()['tail']} "
                                f"here, {hello['tail']} at the peer)")
        except KeyStoreError as exc:
            ack["error"] = str(exc)
        await channel.send("link.hello.ack", json.dumps(ack).encode())
        if "error" in ack:
            log.error("emulated link cannot resume", extra={"event": "kms.link.resync_failed",
                                                             "link": self.link_id, "error": ack["error"]})
            await ws.close()
            return ws
        log.info("emulated link up", extra={"event": "kms.link.up", "link": self.link_id, "role": "bob",
                                            "start_block": start})
        try:
            await self._run_blocks(channel, start)
        except Exception as exc:  # noqa: BLE001 - Alice reconnects; the reason is logged
            log.warning("emulated link channel ended", extra={"event": "kms.link.down", "link": self.link_id,
                                                              "error": repr(exc)})
        await ws.close()
        return ws
