"""The link runtime: the one supervised driver of a link's ends, for every block source and key sink.

:class:`LinkEndRuntime` drives one end (``alice`` or ``bob``) through *sessions*. A session is one
classical connection: the transport is wrapped in heartbeats (:class:`~qkd.runtime.liveness.LivenessTransport`),
the ends exchange ``link.hello`` / ``link.hello.ack`` (first block index, key-sink stream state, the
Wegman–Carter pads each has spent, blocks in flight), resynchronise (:func:`resync_action`), then run blocks
with :class:`~qkd.postprocess.link.LinkEnd` until the source ends or something fails. Structured
concurrency: the heartbeat tasks (whose reader feeds the sub-channels) and the block protocol run in one
:class:`asyncio.TaskGroup`, so a failure of any cancels the others; the block protocol's every step has a
deadline (``step_timeout_s``), each block one more (``block_timeout_s``), connecting one more
(``connect_timeout_s``).

**Pipelining.** Up to ``blocks_in_flight`` blocks (``RuntimeConfig``, the smaller of the two ends' values,
agreed in the hello; 1 with ``per-frame`` authentication, whose tags number every frame of the connection)
are in flight at once, each on its own sub-channel (:mod:`qkd.runtime.mux`): reading the source, begin,
reconciliation, verification, length and amplification of block ``i + 1`` overlap block ``i``'s — and a
long classical round trip no longer idles the link. Blocks are *committed* (transcript checkpoint, pad
refill, delivery, pool digest) one at a time in block order, so both ends spend pads in the same order and
deliver the same keys in the same order. Block ``i`` is admitted only once block ``i − depth`` is decided
at this end, so memory stays bounded and ``block.begin`` can carry the pool digest as of block
``i − depth``, which both ends hold; it also carries a digest of the session's hello, which puts the hello
in every block's authenticated transcript. A failure of any block in flight cancels the others, is logged
once with that block's number, and the session restarts fresh (the blocks that were in flight are not run
again: Alice's counter had claimed them). The blocks share one event loop; their O(n) compiled steps on
blocks of ≥ 2^20 bits (a Cascade pass's layout, the Toeplitz hash) run in worker threads with the GIL
released (:mod:`qkd.postprocess.offload`), so one link end uses more than one core.

A failed session is logged once with its typed cause and block number, sets the state to
``failed(cause)``, raises the link alarm, counts in ``qkd_link_failures_total{cause}`` and is restarted
with fresh channel state after a backoff that doubles up to ``backoff_max_s`` and resets after a session
that delivered a block. Nothing but cancellation is swallowed.

Who runs what:

* :func:`run_link` / :class:`LinkPairRuntime` — both ends in one process over in-process queues
  (``qshift qkd run``, tests, benchmarks);
* :meth:`LinkEndRuntime.run_initiator` — Alice's end connecting to the peer node (the KME's link ends);
* :meth:`LinkEndRuntime.accept` — Bob's end for each connection the peer opens (the KME's channel handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from qkd.errors import QkdError
from qkd.postprocess.authbudget import AuthBudget, AuthBudgetExhausted, check_auth_plan
from qkd.postprocess.channel import (
    Authenticator,
    ChannelError,
    ClassicalChannel,
    NoAuth,
    Transport,
    WegmanCarterAuth,
    in_process_transports,
)
from qkd.postprocess.link import (
    Alarm,
    AlarmMonitor,
    BlockDeadline,
    BlockResult,
    InMemorySink,
    KeySink,
    LinkEnd,
    LinkPolicy,
    PoolDigest,
    PreparedBlock,
)
from qkd.runtime.liveness import LivenessTransport, PeerClosed
from qkd.runtime.mux import CONTROL, ChannelMux
from qkd.runtime.sources import Block, BlockSource, IterableSource, NoDetections, SourceExhausted, as_key_block
from qkd.runtime.state import LinkStatus

log = logging.getLogger(__name__)


def _note_block(status: LinkStatus, result: BlockResult) -> None:
    """Record one decided block in ``status``: delivered or aborted, and the CHSH value of a BBM92 block."""
    if result.witness is not None:
        status.last_chsh = float(result.witness["chsh"])
    if result.status == "delivered":
        status.block_delivered(result.block_index, result.length_bits, result.qber_estimate, result.seconds)
    else:
        status.block_aborted(result.block_index, result.cause, result.reason, result.qber_estimate)


class ChannelAuthFailed(QkdError, cause="authentication"):
    """A block's transcript did not authenticate: the session restarts (pads realigned at ``link.hello``)."""


class ConnectFailed(QkdError, cause="connect"):
    """Alice could not open the classical connection to the peer (refused, TLS, timeout, HTTP error)."""


class LinkRuntimeError(QkdError, cause="resync"):
    """The link cannot run as configured, or the peer refused to resume (names the link and the reason)."""


@dataclass(frozen=True)
class RuntimeConfig:
    """Deadlines, liveness and restart policy of a link end (seconds)."""

    heartbeat_s: float = 1.0
    silence_timeout_s: float = 5.0
    step_timeout_s: float = 30.0
    block_timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    block_interval_s: float = 0.0
    idle_poll_s: float = 0.25
    max_restarts: int | None = None     # None: restart for ever (services); a finite run gives up after this many
    #: blocks in flight at once (pipelining; the two ends use the smaller of their values). 4 keeps both cores
    #: of a 2-core node busy (one block computing at each end while others wait on the peer) at ~4 sifted
    #: blocks of memory; a long classical round trip needs more (about RTT / block time + 2).
    blocks_in_flight: int = 4

    def __post_init__(self) -> None:
        for name in ("heartbeat_s", "silence_timeout_s", "step_timeout_s", "block_timeout_s", "connect_timeout_s",
                     "backoff_initial_s", "backoff_max_s", "idle_poll_s"):
            if not getattr(self, name) > 0:
                raise LinkRuntimeError(f"link runtime: {name} must be positive, got {getattr(self, name)}")
        if self.blocks_in_flight < 1:
            raise LinkRuntimeError(f"link runtime: blocks_in_flight must be at least 1, got {self.blocks_in_flight}")
        if self.heartbeat_s >= self.silence_timeout_s:
            raise LinkRuntimeError(f"link runtime: heartbeat_s ({self.heartbeat_s}) must be below silence_timeout_s "
                                   f"({self.silence_timeout_s})")


class StreamSink(KeySink, Protocol):
    """A key sink that knows where its stream of blocks stands (the KME's key intake, :class:`InMemorySink`)."""

    def stream_state(self) -> dict[str, int]: ...

    def drop_last_block(self, start: int) -> None: ...


class BlockCounter(Protocol):
    """Where Alice claims block indices durably (a crash never runs a block twice)."""

    def next_index(self) -> int: ...

    def claim(self, index: int) -> None: ...


@dataclass
class MemoryCounter:
    """A :class:`BlockCounter` in memory (in-process runs)."""

    value: int = 0

    def next_index(self) -> int:
        return self.value

    def claim(self, index: int) -> None:
        self.value = index + 1


class StreamTracker:
    """Stream bookkeeping for a plain :class:`KeySink` (one without ``stream_state``): delivers through it
    and counts the bytes, so the runtime can compare the two ends' streams. A delivered block cannot be
    taken back from such a sink: ``drop_last_block`` raises."""

    def __init__(self, sink: KeySink) -> None:
        self.sink = sink
        self.tail = 0
        self.last_block_start = 0

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict[str, Any]) -> None:
        self.sink.deliver(link_id, key_id, key, metadata)
        self.last_block_start, self.tail = self.tail, self.tail + len(key)

    def stream_state(self) -> dict[str, int]:
        return {"tail": self.tail, "last_block_start": self.last_block_start}

    def drop_last_block(self, start: int) -> None:
        raise LinkRuntimeError(f"this key sink cannot give back the block delivered at byte {start}")


def as_stream_sink(sink: KeySink) -> StreamSink:
    """``sink`` itself when it keeps stream state, else a :class:`StreamTracker` around it."""
    if hasattr(sink, "stream_state") and hasattr(sink, "drop_last_block"):
        return sink  # type: ignore[return-value]
    return StreamTracker(sink)


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


def failure_cause(exc: BaseException) -> tuple[str, BaseException]:
    """The typed cause of a session failure and the exception that carries it (first of a group)."""
    if isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        if inner:
            return failure_cause(inner[0])
    cause = getattr(exc, "cause", None)
    if isinstance(cause, str) and cause:
        return cause, exc
    if isinstance(exc, TimeoutError):
        return "deadline", exc
    if isinstance(exc, ConnectionError | OSError):
        return "peer-closed", exc
    if isinstance(exc, ChannelError):
        return "channel", exc
    if isinstance(exc, QkdError) and type(exc).__name__.startswith(("KeyStore", "Capacity")):
        return "sink", exc
    return f"stage-error:{type(exc).__name__}", exc


async def _stoppable(run: Coroutine[Any, Any, None]) -> None:
    """Run a session in a task of its own: cancelling the caller (stopping the link end) always raises
    :class:`asyncio.CancelledError` here, even when the session ends with a failure instead — a task group
    whose child fails while it is being cancelled raises the failure, not the cancellation (Python 3.11), and
    a supervisor that took it for a failure would restart the session for ever instead of stopping."""
    task = asyncio.ensure_future(run)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):   # the session was stopped: its end is moot
            await task
        raise


class _CachedSource:
    """Both ends of an in-process pair read each block once (the two ends are given the same object)."""

    def __init__(self, source: BlockSource, keep: int = 3) -> None:
        self._source = source
        self._cache: dict[int, asyncio.Future[Block]] = {}
        self._keep = keep           # blocks behind the newest kept for the slower end (> its lag in blocks)
        self.name = source.name

    @property
    def last_index(self) -> int | None:
        return self._source.last_index

    async def block(self, index: int) -> Block:
        fut = self._cache.get(index)
        if fut is None:
            fut = asyncio.ensure_future(asyncio.to_thread(self._source.block, index))
            self._cache[index] = fut
            for old in [k for k in self._cache if k < index - self._keep]:
                del self._cache[old]
        return await asyncio.shield(fut)


def _block_reader(source: BlockSource | _CachedSource) -> Callable[[int], Awaitable[Block]]:
    if isinstance(source, _CachedSource):
        return source.block

    async def read(index: int) -> Block:
        return await asyncio.to_thread(source.block, index)
    return read


class LinkEndRuntime:
    """One end of a link, supervised (see the module docstring).

    ``auth_mode``: ``transcript`` / ``per-frame`` (Wegman–Carter with ``wc_auth``, the pads both ends were
    provisioned with) or ``tls`` (the transport is a mutually authenticated TLS session: no key spent).
    ``headroom_bits``: the sink's free room (back-pressure). ``on_block``: called with each agreed result."""

    def __init__(self, link_id: str, role: str, source: BlockSource | _CachedSource, sink: KeySink,
                 policy: LinkPolicy | None = None, config: RuntimeConfig | None = None, *,
                 auth_mode: str = "transcript", wc_auth: WegmanCarterAuth | None = None,
                 counter: BlockCounter | None = None, headroom_bits: Callable[[], int] | None = None,
                 status: LinkStatus | None = None,
                 on_block: Callable[[BlockResult], None] | None = None, keep_results: int | None = 1000) -> None:
        if role not in ("alice", "bob"):
            raise LinkRuntimeError(f"link {link_id!r}: role must be 'alice' or 'bob', got {role!r}")
        if auth_mode in ("transcript", "per-frame") and wc_auth is None:
            raise LinkRuntimeError(f"link {link_id!r}: {auth_mode!r} authentication needs pre-shared Wegman–Carter "
                                   f"pads")
        if auth_mode not in ("transcript", "per-frame", "tls"):
            raise LinkRuntimeError(f"link {link_id!r}: authentication mode {auth_mode!r} is not supported by the "
                                   f"link runtime (use 'transcript', 'per-frame' or 'tls')")
        self.link_id = link_id
        self.role = role
        self.source = source
        self._read_block = _block_reader(source)
        self.sink = as_stream_sink(sink)
        self.policy = policy or LinkPolicy()
        self.config = config or RuntimeConfig()
        self.auth_mode = auth_mode
        self.wc_auth = wc_auth
        self.budget = AuthBudget(wc_auth, auth_mode, link_id) if wc_auth is not None else None
        self.counter = counter or MemoryCounter()
        self.headroom_bits = headroom_bits
        self.headroom_needed_bits = 0     # wait (stalled, pool-full) until the sink has this much room
        self.status = status or LinkStatus(link_id, role, auth_mode=auth_mode)
        self.status.auth_mode = auth_mode
        self.on_block = on_block
        self.digest = PoolDigest(link_id)
        self.alarm_monitor = AlarmMonitor(link_id, self.policy.alarm_threshold)
        # the latest block results (all of them for a finite run: keep_results=None); a service keeps a
        # bounded window, so memory stays flat however long the link runs
        self.results: deque[BlockResult] = deque(maxlen=keep_results)
        self.blocks_done = 0
        self.finished = False
        self._session_task: asyncio.Task[None] | None = None
        self._failing_block: int | None = None     # the block a session's failure happened in (its log line)
        # one read at a time, in index order (blocks are admitted in order; a source such as IterableSource
        # keeps only the blocks around the newest it read); Alice claims each block as its read starts
        self._read_lock = asyncio.Lock()
        self._ending = False                       # both ends said link.end: the peer may close
        self._update_auth_status()

    # -- one session -------------------------------------------------------------------------------------
    def _authenticator(self) -> Authenticator:
        return self.wc_auth if self.wc_auth is not None else NoAuth()

    def _channel(self, transport: Transport) -> ClassicalChannel:
        return ClassicalChannel(transport, self._authenticator(), initiator=self.role == "alice", link_id=self.link_id,
                                deferred=self.auth_mode == "transcript", step_timeout_s=self.config.step_timeout_s)

    async def session(self, transport: Transport) -> None:
        """Run one session over ``transport`` until the source ends (returns) or it fails (raises)."""
        cfg = self.config
        live = LivenessTransport(transport, heartbeat_s=cfg.heartbeat_s, silence_timeout_s=cfg.silence_timeout_s,
                                 link_id=self.link_id)
        mux = ChannelMux(live, link_id=self.link_id, max_open=2)
        live.attach(mux.feed, mux.fail)           # the heartbeat reader hands each message to its sub-channel
        self.status.sessions += 1
        self._failing_block = None
        self._ending = False
        try:
            async with asyncio.TaskGroup() as group:
                watch = group.create_task(self._until_ending(live.run()), name=f"{self.link_id}-{self.role}-liveness")
                await self._protocol(mux)
                watch.cancel()
        finally:
            # a closing handshake the peer may never answer (a silent path) must not delay the failure report
            with contextlib.suppress(Exception):
                async with asyncio.timeout(cfg.heartbeat_s):
                    await transport.close()

    async def _until_ending(self, run: Awaitable[None]) -> None:
        """``run`` (the heartbeats and reader), whose failure fails the session — except the peer closing the
        connection once both ends said ``link.end`` (the last messages are still delivered)."""
        try:
            await run
        except PeerClosed:
            if not self._ending:
                raise

    def _depth(self) -> int:
        """Blocks in flight this end accepts: one with per-frame tags (they number the connection's frames)."""
        return 1 if self.auth_mode == "per-frame" else self.config.blocks_in_flight

    async def _hello(self, channel: ClassicalChannel) -> tuple[int, int, str]:
        """Agree on the first block, the key-sink streams, the spent pads and the blocks in flight; returns the
        first block index, the number of blocks in flight and the digest of the hello and its answer."""
        pads = [self.wc_auth.next_seq(0), self.wc_auth.next_seq(1)] if self.wc_auth is not None else None
        state = self.sink.stream_state()
        ack: dict[str, Any]
        if self.role == "alice":
            start = self.counter.next_index()
            hello = {"start": start, "auth": self.auth_mode, "reconciler": self.policy.reconciler,
                     "protocol": self.policy.protocol, "pads": pads, "in_flight": self._depth(), **state}
            sent = json.dumps(hello).encode()
            await channel.send("link.hello", sent)
            _, body = await channel.recv("link.hello.ack")
            seen = hashlib.sha256(len(sent).to_bytes(4, "big") + sent + body).hexdigest()
            ack = json.loads(body)
            if ack.get("error"):
                raise LinkRuntimeError(f"link {self.link_id!r}: the peer refused to resume: {ack['error']}")
            if ack.get("drop_from") is not None:
                self.sink.drop_last_block(int(ack["drop_from"]))
            self._align_pads(channel, ack.get("pads"))
        else:
            _, received = await channel.recv("link.hello", idle=True)
            hello = json.loads(received)
            start = int(hello["start"])
            ack = {"pads": pads, "in_flight": max(1, min(self._depth(), int(hello.get("in_flight", 1))))}
            if hello.get("auth") != self.auth_mode:
                ack["error"] = f"authentication mode {hello.get('auth')!r} at the peer, {self.auth_mode!r} here"
            elif hello.get("protocol", "bb84-decoy") != self.policy.protocol:
                ack["error"] = (f"link kind {hello.get('protocol', 'bb84-decoy')!r} at the peer, "
                                f"{self.policy.protocol!r} here")
            elif hello.get("reconciler", "cascade") != self.policy.reconciler:
                ack["error"] = (f"reconciler {hello.get('reconciler', 'cascade')!r} at the peer, "
                                f"{self.policy.reconciler!r} here")
            else:
                try:
                    action, offset = resync_action(state, hello)
                    if action == "drop_mine":
                        self.sink.drop_last_block(offset)
                    elif action == "drop_peer":
                        ack["drop_from"] = offset
                    elif action == "mismatch":
                        ack["error"] = (f"key streams differ by more than one block (tail {state['tail']} here, "
                                        f"{hello['tail']} at the peer)")
                except QkdError as exc:
                    ack["error"] = str(exc)
            answer = json.dumps(ack).encode()
            await channel.send("link.hello.ack", answer)
            seen = hashlib.sha256(len(received).to_bytes(4, "big") + received + answer).hexdigest()
            if "error" in ack:
                raise LinkRuntimeError(f"link {self.link_id!r}: cannot resume: {ack['error']}")
            self._align_pads(channel, hello.get("pads"))
        # both ends now hold the same streams: the pool digest chains from there
        tail = self.sink.stream_state()["tail"]
        self.digest = PoolDigest(f"{self.link_id}@{tail}")
        depth = max(1, min(self._depth(), int(ack.get("in_flight", 1))))
        log.info("link session up", extra={"event": "qkd.link.up", "link_id": self.link_id, "role": self.role,
                                           "start_block": start, "auth": self.auth_mode, "in_flight": depth})
        return start, depth, seen

    def _align_pads(self, channel: ClassicalChannel, peer_pads: object) -> None:
        """Skip this end's pads to the peer's where the peer spent more (a session that failed mid-block)."""
        if self.wc_auth is None or not isinstance(peer_pads, list) or len(peer_pads) != 2:
            return
        for direction in (0, 1):
            self.wc_auth.skip_to(direction, int(peer_pads[direction]))
        channel.realign_auth()

    async def _protocol(self, mux: ChannelMux) -> None:
        """The hello on the control sub-channel, then blocks: admitted in index order while fewer than the
        agreed number are in flight, each prepared on its own sub-channel, committed in index order."""
        control = self._channel(mux.open(CONTROL))
        index, depth, session = await self._hello(control)
        start = index
        # control + blocks up to 2·depth ahead of this end's last commit (the peer admits a block once it has
        # decided the one `depth` before; a run of blocks aborted at begin lets it run ahead by that much)
        mux.max_open = 2 * depth + 2
        end = LinkEnd(self.role, self.link_id, control, self.sink, self.policy, budget=self.budget,
                      headroom_bits=self.headroom_bits, digest=self.digest, block_timeout_s=self.config.block_timeout_s)
        end.alarms = self.alarm_monitor
        end.pad_reserve_blocks = max(end.pad_reserve_blocks, depth)   # pads for every block in flight
        first_digest = self.digest.value
        decided: dict[int, str] = {}           # the pool digest after each of the last `depth` decided blocks
        reserved: dict[int, int] = {}          # sifted bits of the blocks in flight (sink room they may take)
        window: deque[tuple[int, asyncio.Task[PreparedBlock | None]]] = deque()
        loop = asyncio.get_running_loop()
        not_before = 0.0                       # no block is admitted before (after an abort; block_interval_s)
        last = self.source.last_index
        async with asyncio.TaskGroup() as blocks:
            while True:
                while len(window) < depth and (last is None or index < last):
                    wait = not_before - loop.time()
                    if wait > 0 and window:
                        break
                    if wait > 0:
                        await asyncio.sleep(wait)
                        continue
                    if not await self._may_admit(len(window)):
                        if window:
                            break                  # commit what is in flight first
                        continue                   # stalled (it waited)
                    digest = decided[index - depth] if index - depth >= start else first_digest
                    task = blocks.create_task(self._block(end, mux, index, digest, session, reserved),
                                              name=f"{self.link_id}-{self.role}-block-{index}")
                    window.append((index, task))
                    index += 1
                if not window:
                    break                          # the source's last block is done
                head, task = window[0]
                prepared = await task
                window.popleft()
                if prepared is None:               # the source ended at `head`: the later blocks cannot exist
                    for _, later in window:
                        later.cancel()
                    window.clear()
                    break
                try:
                    result = await self._commit(end, prepared)
                except Exception:
                    self._failing_block = head
                    raise
                mux.close(head)
                reserved.pop(head, None)
                decided[head] = self.digest.value
                for old in [k for k in decided if k <= head - depth]:
                    del decided[old]
                self._record(result)
                if result.cause == "authentication":
                    # the two ends may have spent different pads: a new session realigns them (link.hello)
                    raise ChannelAuthFailed(f"link {self.link_id!r} block {result.block_index}: {result.reason}")
                last = self.source.last_index
                if result.status != "delivered":
                    # no hot loop on a link that cannot distil (a cut fiber aborts each block at once)
                    not_before = loop.time() + self.config.idle_poll_s * (2 if result.cause == "backpressure" else 1)
                elif self.config.block_interval_s:
                    not_before = loop.time() + self.config.block_interval_s
        await self._goodbye(mux)
        self.finished = True
        log.info("link source finished", extra={"event": "qkd.link.finished", "link_id": self.link_id,
                                                "role": self.role, "blocks": index})

    async def _goodbye(self, mux: ChannelMux) -> None:
        """The source has ended at this end: ``link.end`` both ways on the control sub-channel, so Alice closes
        the connection only once Bob has committed every block too (a close racing Bob's last commits would
        fail his session). A fresh channel: per-frame tags number from the pads spent since the hello."""
        closing = self._channel(mux.open(CONTROL))
        if self.role == "alice":
            await closing.send("link.end", b"")
            self._ending = True
            await closing.recv("link.end")
        else:
            await closing.recv("link.end", idle=True)
            self._ending = True
            await closing.send("link.end", b"")

    async def _block(self, end: LinkEnd, mux: ChannelMux, index: int, digest: str, session: str,
                     reserved: dict[int, int]) -> PreparedBlock | None:
        """Read block ``index`` and prepare it on its own sub-channel; None when the source has ended. A
        failure is raised with this end remembering the block it happened in (logged with the failure)."""
        channel = self._channel(mux.open(index))
        try:
            try:
                async with self._read_lock:
                    # yield once first: when the block before failed, the session's cancellation (scheduled
                    # right after this wake-up) arrives here, before this block is claimed or read
                    await asyncio.sleep(0)
                    if self.role == "alice":
                        self.counter.claim(index)      # claim first: a crash never runs a block twice
                    async with asyncio.timeout(self.config.block_timeout_s):
                        block = await self._read_block(index)
            except TimeoutError:
                raise BlockDeadline(f"link {self.link_id!r} block {index}: the source gave no block within "
                                    f"{self.config.block_timeout_s} s") from None
            except SourceExhausted:
                return None
            except NoDetections as exc:
                return await end.prepare_abort(index, "too-few-counts", str(exc), channel=channel, digest=digest,
                                               session=session)
            key_block = as_key_block(block)
            ahead = sum(bits for i, bits in reserved.items() if i < index)
            reserved[index] = int(key_block.key_bits(self.role).size)
            return await end.prepare(index, key_block, channel=channel, digest=digest, session=session,
                                     reserved_bits=ahead)
        except Exception:
            if self._failing_block is None:
                self._failing_block = index
            raise

    async def _may_admit(self, in_flight: int) -> bool:
        """Whether one more block may start: with none in flight, wait (stalled) for pads and sink room as a
        sequential link does; with some in flight, only if the pads and the sink can take it beside them
        (else the caller commits first)."""
        if not in_flight:
            return await self._budget_allows_block() and await self._sink_has_room()
        if self.budget is not None and self.budget.available() <= in_flight:    # one pad each at its checkpoint
            return False
        return self.headroom_bits is None or self.headroom_bits() >= self.headroom_needed_bits * (in_flight + 1)

    async def _commit(self, end: LinkEnd, prepared: PreparedBlock) -> BlockResult:
        """Commit one block (in block order). ``transcript`` mode: the budget is checked right before the
        block's checkpoint, so it measures exactly the pads that checkpoint spends; both ends hold the same
        pad counts here, so both stall here together until pads are provisioned."""
        if self.budget is not None and self.auth_mode == "transcript" and prepared.checkpoint:
            while not await self._budget_allows_block():
                pass
        return await end.commit(prepared)

    async def _budget_allows_block(self) -> bool:
        """Both ends hold the same pad counts, so both stall here together (no message needed)."""
        if self.budget is None:
            return True
        try:
            self.budget.check_can_start()
        except AuthBudgetExhausted as exc:
            if self.status.state != "stalled":
                log.warning("%s", exc, extra={"event": "qkd.link.auth_budget", "link_id": self.link_id})
            self.status.stalled("auth-budget", alarm=True)
            self._update_auth_status()
            await asyncio.sleep(self.config.idle_poll_s)
            return False
        return True

    async def _sink_has_room(self) -> bool:
        """Back-pressure: a full key sink is not a fault (no alarm), the link waits ``stalled(pool-full)``."""
        if self.headroom_bits is None or self.headroom_bits() >= self.headroom_needed_bits:
            return True
        self.status.stalled("pool-full", alarm=False)
        await asyncio.sleep(self.config.idle_poll_s)
        return False

    def _record(self, result: BlockResult) -> None:
        self.results.append(result)
        self.blocks_done += 1
        _note_block(self.status, result)
        self._update_auth_status()
        if self.on_block is not None:
            self.on_block(result)

    def _update_auth_status(self) -> None:
        if self.budget is not None:
            self.status.auth_consumed_bits = self.budget.counters.consumed_bits
            self.status.auth_produced_bits = self.budget.counters.produced_bits + self.budget.counters.refilled_bits
            self.status.auth_pads_available = self.budget.available()
        else:
            self.status.auth_produced_bits = self.status.secret_bits

    # -- supervision ---------------------------------------------------------------------------------------
    def session_failed(self, exc: BaseException) -> str:
        """Log, count and alarm one failed session; returns its cause."""
        cause, carrier = failure_cause(exc)
        self.status.failed(cause, f"{type(carrier).__name__}: {carrier}", self.failing_block)
        return cause

    @property
    def failing_block(self) -> int | None:
        """The block the last session failed in (the block in flight that failed), else the last decided."""
        return self._failing_block if self._failing_block is not None else self.status.last_block

    async def _connect(self, connect: Callable[[], Awaitable[Transport]]) -> Transport:
        """``connect()`` within ``connect_timeout_s``; any failure is a :class:`ConnectFailed`."""
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                return await connect()
        except TimeoutError:
            raise ConnectFailed(f"link {self.link_id!r}: no connection to the peer within "
                                f"{self.config.connect_timeout_s} s") from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised typed, with the reason
            raise ConnectFailed(f"link {self.link_id!r}: cannot connect to the peer: {exc!r}") from exc

    async def run_initiator(self, connect: Callable[[], Awaitable[Transport]]) -> None:
        """Alice: connect, run a session, and restart it after every failure until the source ends."""
        backoff = self.config.backoff_initial_s
        first = True
        while not self.finished:
            if not first:
                self.status.restarts += 1
            first = False
            delivered = self.status.blocks["delivered"]
            try:
                transport = await self._connect(connect)
                await _stoppable(self.session(transport))
            except asyncio.CancelledError:
                self.status.stopped()
                raise
            except Exception as exc:  # noqa: BLE001 - logged, counted and alarmed with its typed cause
                self.session_failed(exc)
                if self.status.blocks["delivered"] > delivered:
                    backoff = self.config.backoff_initial_s
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, self.config.backoff_max_s)
        self.status.stopped()

    async def accept(self, transport: Transport) -> None:
        """Bob: run a session on a connection the peer opened; a newer connection replaces an older one.
        A failure is logged, counted and alarmed (Alice reconnects); it does not propagate."""
        previous = self._session_task
        if previous is not None and not previous.done():
            previous.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        task = asyncio.current_task()
        self._session_task = task
        if self.status.sessions:
            self.status.restarts += 1
        try:
            await _stoppable(self.session(transport))
        except asyncio.CancelledError:
            if task is not None and task.cancelling():
                raise
        except Exception as exc:  # noqa: BLE001 - logged, counted and alarmed with its typed cause
            self.session_failed(exc)
        else:
            self.status.stopped()

    async def watch_peer(self) -> None:
        """Bob: mark the link ``stalled(no-peer)`` (alarmed) while no session is up for longer than the
        silence bound (Alice's node is down or cannot reach this one)."""
        down_since: float | None = None
        while not self.finished:
            await asyncio.sleep(self.config.idle_poll_s)
            up = self._session_task is not None and not self._session_task.done()
            if up:
                down_since = None
                continue
            down_since = down_since or time.monotonic()
            if time.monotonic() - down_since > self.config.silence_timeout_s and self.status.state != "stalled":
                self.status.stalled("no-peer", alarm=True)


class LinkPairRuntime:
    """Both ends of a link in one process over in-process queues, supervised as one: a failure of either
    end cancels the other and the pair restarts with fresh channel state."""

    def __init__(self, link_id: str, source: BlockSource, *, policy: LinkPolicy | None = None,
                 config: RuntimeConfig | None = None, auth_mode: str = "transcript",
                 alice_sink: KeySink | None = None, bob_sink: KeySink | None = None,
                 preshared: bytes | None = None, headroom_bits: Callable[[], int] | None = None,
                 on_block: Callable[[BlockResult, BlockResult], None] | None = None, keep_results: int | None = 1000,
                 wrap_transports: Callable[[Transport, Transport], tuple[Transport, Transport]] | None = None) -> None:
        import secrets

        if auth_mode not in ("transcript", "per-frame"):
            raise LinkRuntimeError(f"link {link_id!r}: an in-process pair authenticates with Wegman–Carter "
                                   f"('transcript' or 'per-frame'), not {auth_mode!r}")
        expected = getattr(source, "expected_secret_bits_per_block", None)
        if expected is not None:
            check_auth_plan(auth_mode, float(expected()), link_id)
        psk = preshared if preshared is not None else secrets.token_bytes(32 + 32 * 1024)
        cfg = config or RuntimeConfig()
        shared = _CachedSource(source, keep=2 * cfg.blocks_in_flight + 2)
        self.link_id = link_id
        self.config = cfg
        self.status = LinkStatus(link_id, "pair", auth_mode=auth_mode)
        self._pending: dict[int, BlockResult] = {}          # one end's result until the other's is in
        self._pending_bob: dict[int, BlockResult] = {}
        self._on_block = on_block
        self._wrap = wrap_transports
        self.alice = LinkEndRuntime(link_id, "alice", shared, alice_sink if alice_sink is not None else InMemorySink(),
                                    policy, self.config, auth_mode=auth_mode,
                                    wc_auth=WegmanCarterAuth.from_preshared(psk), headroom_bits=headroom_bits,
                                    on_block=self._alice_block, keep_results=keep_results)
        self.bob = LinkEndRuntime(link_id, "bob", shared, bob_sink if bob_sink is not None else InMemorySink(),
                                  policy, self.config, auth_mode=auth_mode,
                                  wc_auth=WegmanCarterAuth.from_preshared(psk), headroom_bits=headroom_bits,
                                  on_block=self._bob_block, keep_results=keep_results)
        self.alice.status.on_change(self._end_changed)
        self.bob.status.on_change(self._end_changed)
        self.started = time.perf_counter()

    def _end_changed(self, status: LinkStatus) -> None:
        """Both ends stall together (same pad counts, same sink room) — with blocks in flight one may get there a
        block's step later: the pair is stalled once both are, for the same reason."""
        a, b = self.alice.status, self.bob.status
        if a.state == b.state == "stalled" and a.reason == b.reason:
            self.status.stalled(b.reason, alarm=a.alarm or b.alarm)

    def _alice_block(self, result: BlockResult) -> None:
        bob = self._pending_bob.pop(result.block_index, None)
        if bob is None:
            self._pending[result.block_index] = result
        elif self._on_block is not None:
            self._on_block(result, bob)

    def _bob_block(self, result: BlockResult) -> None:
        # Bob's end speaks for the pair (both agreed on the outcome)
        _note_block(self.status, result)
        self.status.auth_consumed_bits = self.bob.status.auth_consumed_bits
        self.status.auth_produced_bits = self.bob.status.auth_produced_bits
        self.status.auth_pads_available = self.bob.status.auth_pads_available
        # the ends commit a block at about the same time, in either order (blocks in flight): pair them
        alice = self._pending.pop(result.block_index, None)
        if alice is None:
            self._pending_bob[result.block_index] = result
        elif self._on_block is not None:
            self._on_block(alice, result)

    def _align_pads(self) -> None:
        """Before a session: both ends skip to the pads the further one spent (never reuse a pad)."""
        a, b = self.alice.wc_auth, self.bob.wc_auth
        if a is None or b is None:
            return
        for direction in (0, 1):
            seq = max(a.next_seq(direction), b.next_seq(direction))
            a.skip_to(direction, seq)
            b.skip_to(direction, seq)

    async def _sessions(self, a_tr: Transport, b_tr: Transport) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.alice.session(a_tr), name=f"{self.link_id}-alice")
            group.create_task(self.bob.session(b_tr), name=f"{self.link_id}-bob")

    async def run(self) -> None:
        """Run until the source ends; restart after every failure (cancel to stop)."""
        backoff = self.config.backoff_initial_s
        first = True
        while not (self.alice.finished and self.bob.finished):
            if not first:
                self.status.restarts += 1
            first = False
            self.alice.finished = self.bob.finished = False
            delivered = self.status.blocks["delivered"]
            self._align_pads()
            a_tr, b_tr = in_process_transports()
            if self._wrap is not None:
                a_tr, b_tr = self._wrap(a_tr, b_tr)
            try:
                await _stoppable(self._sessions(a_tr, b_tr))
            except asyncio.CancelledError:
                self.status.stopped()
                raise
            except Exception as exc:  # noqa: BLE001 - logged, counted and alarmed with its typed cause
                cause, carrier = failure_cause(exc)
                block = next((e._failing_block for e in (self.alice, self.bob) if e._failing_block is not None),
                             self.status.last_block)
                self.status.failed(cause, f"{type(carrier).__name__}: {carrier}", block)
                limit = self.config.max_restarts
                if limit is not None and self.status.restarts >= limit:
                    raise LinkRuntimeError(f"link {self.link_id!r} failed {self.status.restarts + 1} times, last: "
                                           f"{cause}: {carrier}") from carrier
                if self.status.blocks["delivered"] > delivered:
                    backoff = self.config.backoff_initial_s
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, self.config.backoff_max_s)
        self.status.stopped()


@dataclass
class LinkRun:
    """Both ends' block results and sinks of :func:`run_link`."""

    link_id: str
    alice: list[BlockResult]
    bob: list[BlockResult]
    alice_sink: KeySink
    bob_sink: KeySink
    alarms: list[Alarm]
    seconds: float
    disclosed_bits: int
    status: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        import numpy as np

        delivered = [r for r in self.bob if r.status == "delivered"]
        aborted: dict[str, int] = {}
        for r in self.bob:
            if r.status != "delivered":
                aborted[r.cause] = aborted.get(r.cause, 0) + 1
        sifted = sum(r.n_sifted for r in self.bob)
        secret = sum(r.length_bits for r in delivered)
        effs = [r.reconciliation["efficiency_realised"] for r in self.bob if r.reconciliation and
                math.isfinite(r.reconciliation["efficiency_realised"])]
        return {"link_id": self.link_id, "blocks": len(self.bob), "delivered": len(delivered), "aborted": aborted,
                "sifted_bits": sifted, "secret_bits": secret, "seconds": self.seconds,
                "mean_qber": float(np.nanmean([r.qber_estimate for r in self.bob])) if self.bob else float("nan"),
                "mean_efficiency": float(np.mean(effs)) if effs else float("nan"),
                "disclosed_bits": self.disclosed_bits, "alarms": [a.__dict__ for a in self.alarms],
                "failures": self.status.get("failures", {}), "restarts": self.status.get("restarts", 0)}


async def run_link(blocks: Iterable[Block] | BlockSource, link_id: str = "link", policy: LinkPolicy | None = None,
                   alice_sink: KeySink | None = None, bob_sink: KeySink | None = None,
                   on_block: Callable[[BlockResult, BlockResult], None] | None = None, *,
                   auth_mode: str = "transcript", config: RuntimeConfig | None = None) -> LinkRun:
    """Run both ends in-process over ``blocks`` (an iterable of ``(SiftedKey, ParameterEstimate)`` or a
    :class:`BlockSource`) with the supervised pair runtime; ``on_block(alice_result, bob_result)`` after each
    block. Returns when the blocks end; raises :class:`LinkRuntimeError` after ``config.max_restarts``
    failed sessions (default 2 for this finite run)."""
    source: BlockSource = blocks if isinstance(blocks, BlockSource) else IterableSource(blocks)
    alice_sink = alice_sink if alice_sink is not None else InMemorySink()
    bob_sink = bob_sink if bob_sink is not None else InMemorySink()
    pair = LinkPairRuntime(link_id, source, policy=policy, config=config or RuntimeConfig(max_restarts=2),
                           auth_mode=auth_mode, alice_sink=alice_sink, keep_results=None,
                           bob_sink=bob_sink, on_block=on_block)
    t0 = time.perf_counter()
    await pair.run()
    disclosed = sum(r.disclosed_bits for r in pair.bob.results)   # all of them: keep_results=None
    return LinkRun(link_id, list(pair.alice.results), list(pair.bob.results), alice_sink, bob_sink,
                   pair.bob.alarm_monitor.events,
                   time.perf_counter() - t0, disclosed, pair.status.snapshot())


__all__ = ["BlockCounter", "LinkEndRuntime", "LinkPairRuntime", "LinkRun", "LinkRuntimeError", "MemoryCounter",
           "RuntimeConfig", "StreamSink", "StreamTracker", "as_stream_sink", "failure_cause", "resync_action",
           "run_link"]
