"""Latency and loss on the classical channel (TCP semantics: late, in order, never dropped for good),
over the real in-process channel pair of qkd.postprocess with Wegman-Carter authentication."""

from __future__ import annotations

import asyncio
import math
import random
import statistics

import pytest

from qkd.postprocess.channel import in_process_pair
from qshift.scenario.impairment import MAX_RTO_S, MIN_RTO_S, ImpairedTransport, delivery_delay_s
from qshift.scenario.model import ClassicalPathFault


def test_delay_is_latency_plus_doubling_timeouts_per_loss() -> None:
    rng = random.Random(5)
    assert delivery_delay_s(40.0, 0.0, rng) == pytest.approx(0.040)
    delays = [delivery_delay_s(0.0, 0.5, rng) for _ in range(8_000)]
    allowed = [0.0] + [sum(min(MIN_RTO_S * 2 ** i, MAX_RTO_S) for i in range(k)) for k in range(1, 30)]
    assert all(any(math.isclose(d, a, abs_tol=1e-9) for a in allowed) for d in delays)
    # k losses before the delivering transmission: probability p^k (1 - p)
    assert statistics.fmean(d == 0.0 for d in delays) == pytest.approx(0.5, abs=0.03)
    assert statistics.fmean(d == pytest.approx(MIN_RTO_S) for d in delays) == pytest.approx(0.25, abs=0.03)


async def test_messages_arrive_late_in_order_and_authenticated() -> None:
    alice, bob = in_process_pair(link_id="test")
    impaired = ImpairedTransport(alice.transport, seed=3)
    alice.transport = impaired
    impaired.latency_ms = 300.0
    impaired.loss = 0.3
    loop = asyncio.get_running_loop()
    sent_at = {}
    for i in range(40):
        sent_at[i] = loop.time()
        await alice.send("n", i.to_bytes(2, "big"))
    got, late = [], []
    for _ in range(40):
        _, body = await bob.recv("n")
        i = int.from_bytes(body, "big")
        got.append(i)
        late.append(loop.time() - sent_at[i])
    assert got == list(range(40))                  # in order, none lost
    assert min(late) >= 0.295                      # every message at least the one-way latency late
    assert max(late) >= 0.3 + MIN_RTO_S - 0.01     # some waited for a retransmission (30% loss, 40 messages)
    # lifting the fault: later messages go straight through again (well under the 300 ms they took before)
    impaired.latency_ms = 0.0
    impaired.loss = 0.0
    t0 = loop.time()
    await alice.send("n", b"\x00\x00")
    await bob.recv("n")
    assert loop.time() - t0 < 0.25
    await impaired.close()


def test_loss_of_every_transmission_is_refused_by_the_scenario_schema() -> None:
    with pytest.raises(ValueError, match="must be below 0.9"):
        ClassicalPathFault(kind="loss", at_s=1, link="A-B", value=1.0)
