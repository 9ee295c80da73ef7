"""Long run of the link runtime: thousands of blocks without a death, with flat memory and identical key
streams at both ends. CI runs a short version; ``make soak`` (QSHIFT_SLOW=1) runs 10,000 blocks.

The blocks are a handful of emulated acquisitions cycled (the emulator is not what is under test here:
every block is still reconciled, verified, amplified with a fresh seed, confirmed and authenticated
between the two ends, so every delivered key differs)."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import itertools
import os
import tracemalloc

import pytest

from qkd.emulator import emulate_link
from qkd.physics import link_preset
from qkd.postprocess.link import KeySink, LinkPolicy
from qkd.runtime import IterableSource, LinkPairRuntime, RuntimeConfig


class DigestSink:
    """Keeps a running SHA-256 of the delivered stream and its length, not the keys (flat memory)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.tail = 0
        self.last_block_start = 0
        self.blocks = 0

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict) -> None:
        self.hash.update(key_id.encode() + key)
        self.last_block_start, self.tail = self.tail, self.tail + len(key)
        self.blocks += 1

    def stream_state(self) -> dict[str, int]:
        return {"tail": self.tail, "last_block_start": self.last_block_start}

    def drop_last_block(self, start: int) -> None:
        raise AssertionError("no block is ever dropped in a run without faults")


def _cycled_blocks(n_blocks: int):
    link = link_preset("snspd-fiber", 10.0)
    base = [emulate_link(link, 1_000_000, seed) for seed in range(6)]
    return itertools.islice(itertools.cycle(base), n_blocks)


async def _soak(n_blocks: int) -> tuple[LinkPairRuntime, DigestSink, DigestSink, list[int]]:
    a_sink, b_sink = DigestSink(), DigestSink()
    sinks: tuple[KeySink, KeySink] = (a_sink, b_sink)
    pair = LinkPairRuntime("soak", IterableSource(_cycled_blocks(n_blocks)), policy=LinkPolicy(key_length="asymptotic"),
                           config=RuntimeConfig(max_restarts=0), alice_sink=sinks[0], bob_sink=sinks[1],
                           keep_results=16)
    samples: list[int] = []

    async def sample_memory() -> None:
        while True:
            await asyncio.sleep(0.5)
            gc.collect()
            samples.append(tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    sampler = asyncio.create_task(sample_memory())
    try:
        await pair.run()
    finally:
        sampler.cancel()
        tracemalloc.stop()
    return pair, a_sink, b_sink, samples


def _check(pair: LinkPairRuntime, a_sink: DigestSink, b_sink: DigestSink, samples: list[int], n: int) -> None:
    assert pair.status.failures == {} and pair.status.restarts == 0
    assert pair.status.blocks["delivered"] + pair.status.blocks["aborted"] == n
    assert pair.status.blocks["delivered"] >= 0.95 * n
    assert a_sink.blocks == b_sink.blocks == pair.status.blocks["delivered"]
    assert a_sink.tail == b_sink.tail and a_sink.hash.digest() == b_sink.hash.digest()   # identical pools
    assert pair.alice.digest.value == pair.bob.digest.value
    if len(samples) >= 8:                               # flat memory: the last quarter no higher than the second
        quarter = len(samples) // 4
        early = max(samples[quarter:2 * quarter])
        late = max(samples[-quarter:])
        assert late <= early * 1.10 + 2_000_000, (early, late)


async def test_a_short_soak_runs_without_a_death_with_identical_streams() -> None:
    n = 100
    pair, a_sink, b_sink, samples = await _soak(n)
    _check(pair, a_sink, b_sink, samples, n)


@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
async def test_ten_thousand_blocks_without_a_death_flat_memory_and_identical_pools() -> None:
    n = int(os.environ.get("QSHIFT_SOAK_BLOCKS", "10000"))
    pair, a_sink, b_sink, samples = await _soak(n)
    _check(pair, a_sink, b_sink, samples, n)
