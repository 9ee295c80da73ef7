"""Pipelined link runtime: several blocks in flight on their own sub-channels, committed in order, identical
pools at both ends; a failure in one block in flight handled by the supervision rules; a forged link hello
caught by the blocks' transcripts; the classical channel over real TCP through a delaying relay."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time

import pytest

from qkd.errors import QkdError
from qkd.physics import link_preset
from qkd.postprocess.channel import (
    ClassicalChannel,
    NoAuth,
    StepDeadline,
    WegmanCarterAuth,
    in_process_transports,
)
from qkd.postprocess.link import InMemorySink, LinkPolicy
from qkd.runtime import (
    Block,
    BlockSource,
    ChannelMux,
    EmulatedSource,
    IterableSource,
    LinkEndRuntime,
    LinkPairRuntime,
    LinkRuntimeError,
    MuxError,
    RuntimeConfig,
    StreamTransport,
    connect_tcp,
    emulated_blocks,
    run_link,
)
from qshift.scenario.netpath import ChannelPath

LINK = link_preset("snspd-fiber", 10.0)
ASYM = LinkPolicy(key_length="asymptotic")


class Recorded:
    """A block source that records when each block was read and can fail one read of one block."""

    def __init__(self, inner: BlockSource, fail_at: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_at = fail_at
        self.events: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    @property
    def last_index(self) -> int | None:
        return self.inner.last_index

    def block(self, index: int) -> Block:
        with self._lock:
            self.events.append(("read", index))
            if index == self.fail_at:
                self.fail_at = None
                raise InjectedFault(f"injected read-out fault in block {index}")
        return self.inner.block(index)


class InjectedFault(QkdError, cause="stage-error:source"):
    """A read-out fault the test injects into one block."""


def _keys(sink: object) -> list[bytes]:
    assert isinstance(sink, InMemorySink)
    return [k[2] for k in sink.keys]


async def test_blocks_in_flight_overlap_are_committed_in_order_and_both_pools_are_identical() -> None:
    # blocks emulated beforehand: reading one is instant, so the window fills up (emulating takes longer than
    # post-processing a block, and would keep one block in flight at a time)
    source = Recorded(IterableSource(list(emulated_blocks(LINK, 2_000_000, 11, 6))))
    done: list[int] = []

    def on_block(alice, bob) -> None:
        assert alice.block_index == bob.block_index and alice.status == bob.status
        source.events.append(("done", bob.block_index))
        done.append(bob.block_index)

    run = await asyncio.wait_for(run_link(source, "P", ASYM, on_block=on_block,
                                          config=RuntimeConfig(blocks_in_flight=3, max_restarts=0)), 60)
    assert done == list(range(6)) and [r.block_index for r in run.bob] == list(range(6))
    assert all(r.status == "delivered" for r in run.bob)
    # block 2 was read (in flight) before block 0 was committed: the blocks really overlapped
    assert source.events.index(("read", 2)) < source.events.index(("done", 0))
    assert _keys(run.alice_sink) == _keys(run.bob_sink) and len(set(_keys(run.bob_sink))) == 6
    meta = [k[3]["block_index"] for k in run.bob_sink.keys]          # type: ignore[attr-defined]
    assert meta == sorted(meta)
    # every block's leakage was counted on its own sub-channel: λ_EC > 0 for each
    assert all(r.disclosed_bits > 0 for r in run.bob)


async def test_a_failure_in_one_block_in_flight_cancels_the_rest_is_logged_once_with_its_block_and_restarts(
        caplog) -> None:
    caplog.set_level(logging.ERROR)
    source = Recorded(EmulatedSource(LINK, 2_000_000, 13), fail_at=3)
    pair = LinkPairRuntime("F", source, policy=ASYM,
                           config=RuntimeConfig(blocks_in_flight=3, idle_poll_s=0.05, backoff_initial_s=0.1))
    task = asyncio.create_task(pair.run())
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while pair.status.blocks["delivered"] < 5:
            assert loop.time() - t0 < 60, "no blocks after the restart"
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert pair.status.failures == {"stage-error:source": 1} and pair.status.restarts == 1
    failed = [r for r in caplog.records if getattr(r, "event", "") == "qkd.link.failed"]
    assert len(failed) == 1 and failed[0].block == 3 and failed[0].cause == "stage-error:source"
    assert pair.status.last_failure is not None and pair.status.last_failure["block"] == 3
    delivered = [r.block_index for r in pair.bob.results if r.status == "delivered"]
    assert 3 not in delivered and delivered == sorted(delivered) and len(set(delivered)) == len(delivered)
    before, after = [i for i in delivered if i < 3], [i for i in delivered if i > 3]
    assert before == list(range(len(before))) and after        # blocks in flight with block 3 were cancelled,
    assert all(r.block_index != 3 for r in pair.bob.results)      # none of them delivered (nor block 3) ...
    assert pair.alice.counter.next_index() > after[0] >= 4         # ... and not run again: Alice had claimed them
    assert _keys(pair.alice.sink) == _keys(pair.bob.sink)


async def test_a_forged_link_hello_is_caught_by_the_first_blocks_transcript() -> None:
    def forge(a_tr, b_tr):
        class Forging:
            def __init__(self, inner) -> None:
                self.inner = inner

            async def send_bytes(self, data: bytes) -> None:     # Bob's answer, altered on the way
                await self.inner.send_bytes(data.replace(b'"in_flight": 2', b'"in_flight": 1'))

            async def recv_bytes(self) -> bytes:
                return await self.inner.recv_bytes()

            async def close(self) -> None:
                await self.inner.close()
        return a_tr, Forging(b_tr)

    pair = LinkPairRuntime("H", EmulatedSource(LINK, 2_000_000, 3, max_blocks=3), policy=ASYM,
                           config=RuntimeConfig(blocks_in_flight=2, max_restarts=0), wrap_transports=forge)
    with pytest.raises(LinkRuntimeError, match="authentication: .*link hello"):
        await asyncio.wait_for(pair.run(), 30)
    assert pair.status.blocks["delivered"] == 0


async def test_a_message_beyond_the_blocks_in_flight_or_for_a_closed_block_fails_the_session() -> None:
    a_tr, b_tr = in_process_transports()
    mux = ChannelMux(b_tr, link_id="M", max_open=2)
    reader = asyncio.create_task(mux.run())
    sub = mux.open(5)
    await a_tr.send_bytes((5).to_bytes(8, "big") + b"x")
    assert await sub.recv_bytes() == b"x"
    await sub.close()
    await a_tr.send_bytes((4).to_bytes(8, "big") + b"late")         # block 4 is closed with block 5
    with pytest.raises(MuxError, match="block 4, whose sub-channel is closed"):
        await asyncio.wait_for(reader, 5)
    mux2 = ChannelMux(b_tr, link_id="M", max_open=2)
    reader2 = asyncio.create_task(mux2.run())
    for cid in (7, 8, 9):
        await a_tr.send_bytes(cid.to_bytes(8, "big") + b"y")
    with pytest.raises(MuxError, match="at most 2"):
        await asyncio.wait_for(reader2, 5)


async def test_a_message_that_has_arrived_is_taken_without_a_wait_and_a_failed_connection_fails_it_too() -> None:
    a_tr, b_tr = in_process_transports()
    mux = ChannelMux(b_tr, link_id="M", max_open=3)
    sub = mux.open(1)
    assert sub.recv_nowait() is None                               # nothing yet: the channel waits (deadline)
    mux.feed((1).to_bytes(8, "big") + b"first")
    mux.feed((1).to_bytes(8, "big") + b"second")
    assert sub.recv_nowait() == b"first" and await sub.recv_bytes() == b"second"
    # the channel on top takes a frame that is there without arming its step deadline, and still checks it
    channel = ClassicalChannel(mux.open(2), NoAuth(), initiator=False, step_timeout_s=0.05)
    peer = ClassicalChannel(_Into(mux, 2), NoAuth(), initiator=True)
    await peer.send("cascade.ask", b"ranges")
    assert await channel.recv("cascade.ask") == ("cascade.ask", b"ranges")
    with pytest.raises(StepDeadline):
        await channel.recv("cascade.ask")                           # nothing there: the deadline holds
    mux.fail(MuxError("link 'M': connection lost"))
    with pytest.raises(MuxError, match="connection lost"):
        sub.recv_nowait()
    with pytest.raises(MuxError, match="connection lost"):
        await sub.recv_bytes()                                      # and stays failed
    await a_tr.close()


class _Into:
    """A transport that hands what it sends straight to one sub-channel of a mux (the peer's frames arriving)."""

    def __init__(self, mux: ChannelMux, cid: int) -> None:
        self.mux, self.cid = mux, cid

    async def send_bytes(self, data: bytes) -> None:
        self.mux.feed(self.cid.to_bytes(8, "big") + data)

    async def recv_bytes(self) -> bytes:
        raise AssertionError("not used")

    async def close(self) -> None:
        return None


async def _tcp_pair_via(path_latency_ms: float) -> tuple[StreamTransport, StreamTransport, ChannelPath, asyncio.Server]:
    accepted: asyncio.Queue[StreamTransport] = asyncio.Queue()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.put_nowait(StreamTransport(reader, writer))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    path = ChannelPath("127.0.0.1", int(server.sockets[0].getsockname()[1]), seed=1, name="rtt")
    await path.start()
    path.latency_ms = path_latency_ms
    client = await connect_tcp("127.0.0.1", path.port)
    return client, await asyncio.wait_for(accepted.get(), 5), path, server


async def test_the_injected_round_trip_really_delays_the_classical_channel() -> None:
    for one_way_ms in (0.0, 5.0):
        client, server_side, path, server = await _tcp_pair_via(one_way_ms)
        try:
            rtts = []
            for _ in range(10):
                t0 = time.perf_counter()
                await client.send_bytes(b"ping")
                assert await server_side.recv_bytes() == b"ping"
                await server_side.send_bytes(b"pong")
                assert await client.recv_bytes() == b"pong"
                rtts.append(time.perf_counter() - t0)
            median = sorted(rtts)[len(rtts) // 2]
            if one_way_ms:
                assert 2 * one_way_ms / 1e3 <= median < 2 * one_way_ms / 1e3 + 0.05, median
            else:
                assert median < 0.01, median
        finally:
            await client.close()
            await path.stop()
            server.close()


async def test_two_link_ends_over_tcp_with_a_round_trip_deliver_identical_keys() -> None:
    psk = secrets.token_bytes(32 + 32 * 256)
    source = EmulatedSource(LINK, 2_000_000, 17, max_blocks=3)
    config = RuntimeConfig(blocks_in_flight=3, max_restarts=0)
    policy = ASYM           # Cascade: ~400 round trips a block, each through the relay's delay
    alice = LinkEndRuntime("T", "alice", source, InMemorySink(), policy, config,
                           wc_auth=WegmanCarterAuth.from_preshared(psk))
    bob = LinkEndRuntime("T", "bob", source, InMemorySink(), policy, config,
                         wc_auth=WegmanCarterAuth.from_preshared(psk))
    client, server_side, path, server = await _tcp_pair_via(1.0)
    try:
        await asyncio.wait_for(asyncio.gather(alice.session(client), bob.session(server_side)), 60)
    finally:
        await path.stop()
        server.close()
    assert [r.status for r in bob.results] == ["delivered"] * 3
    assert _keys(alice.sink) == _keys(bob.sink)
    assert path.connections == 1


async def test_refills_keep_pads_for_every_block_in_flight_once_the_preshared_pads_are_spent() -> None:
    blocks = list(emulated_blocks(LINK, 2_000_000, 19, 6))
    pair = LinkPairRuntime("R", IterableSource(blocks), policy=ASYM, preshared=secrets.token_bytes(32 + 32 * 6),
                           config=RuntimeConfig(blocks_in_flight=4, max_restarts=0), keep_results=None)
    await asyncio.wait_for(pair.run(), 60)
    assert [r.status for r in pair.bob.results] == ["delivered"] * 6
    for end in (pair.alice, pair.bob):            # 4 blocks in flight × 2 pads a block needs, per direction
        assert end.budget is not None and end.budget.available() >= 8
    assert pair.alice.budget.counters.refilled_bits == pair.bob.budget.counters.refilled_bits > 0
    assert _keys(pair.alice.sink) == _keys(pair.bob.sink)
