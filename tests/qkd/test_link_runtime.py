"""The link runtime drives both ends of a link supervised: a failure of either end cancels the other and is
logged once with its typed cause, counted, alarmed and restarted; the ends agree on every block; the
authentication budget stalls the link instead of killing it; nothing waits for ever."""

from __future__ import annotations

import asyncio
import logging
import secrets

import pytest

from qkd.physics import link_preset
from qkd.postprocess.authbudget import AuthBudgetExceeded, check_auth_plan
from qkd.postprocess.channel import in_process_transports
from qkd.postprocess.link import InMemorySink, LinkPolicy, PoolMismatch
from qkd.runtime import (
    EmulatedSource,
    LinkFaults,
    LinkPairRuntime,
    LivenessTransport,
    PeerSilent,
    RuntimeConfig,
    metrics_text,
    run_link,
)

LINK = link_preset("snspd-fiber", 10.0)
ASYM = LinkPolicy(key_length="asymptotic")
FAST = RuntimeConfig(idle_poll_s=0.05, backoff_initial_s=0.1, backoff_max_s=0.4)


async def _until(predicate, timeout_s: float, what: str) -> float:
    """Seconds until ``predicate()`` holds; fails naming ``what`` after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    while not predicate():
        if loop.time() - t0 > timeout_s:
            pytest.fail(f"{what} not within {timeout_s} s")
        await asyncio.sleep(0.02)
    return loop.time() - t0


async def test_an_exhausted_authentication_budget_stalls_alarms_and_recovers_when_refilled(caplog) -> None:
    caplog.set_level(logging.WARNING)
    pair = LinkPairRuntime("L", EmulatedSource(LINK, 2_000_000, 5), policy=ASYM, config=FAST)
    task = asyncio.create_task(pair.run())
    try:
        await _until(lambda: pair.status.blocks["delivered"] >= 2, 30, "two delivered blocks")
        for end in (pair.alice, pair.bob):                 # spend every pad at both ends
            auth = end.wc_auth
            for direction in (0, 1):
                auth.skip_to(direction, auth.next_seq(direction) + auth.pads_available(direction))
        took = await _until(lambda: pair.status.label == "stalled(auth-budget)", 10, "stalled(auth-budget)")
        assert took < 5 and pair.status.alarm
        assert pair.alice.status.label == pair.bob.status.label == "stalled(auth-budget)"
        assert any(getattr(r, "event", "") == "qkd.link.state" and r.reason == "auth-budget" for r in caplog.records)
        text = metrics_text([pair.status])
        assert 'qkd_link_state{link="L",role="pair",state="stalled"} 1' in text
        assert 'qkd_link_alarm{link="L",role="pair"} 1' in text
        delivered = pair.status.blocks["delivered"]
        material = secrets.token_bytes(32 * 64)             # an operator provisions fresh pads at both ends
        for end in (pair.alice, pair.bob):
            end.wc_auth.replenish(material[:1024], material[1024:])
        await _until(lambda: pair.status.blocks["delivered"] > delivered + 1, 20, "blocks after the refill")
        assert pair.status.state == "running" and not pair.status.alarm
        snap = pair.status.snapshot()["authentication"]
        assert snap["mode"] == "transcript" and 0 < snap["consumed_bits"] < snap["produced_bits"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert pair.status.state == "stopped"


async def test_a_stage_error_at_one_end_cancels_the_other_is_typed_counted_and_the_link_restarts() -> None:
    faults = LinkFaults()
    source = EmulatedSource(LINK, 2_000_000, 9, faults=faults, end="A")
    pair = LinkPairRuntime("L", source, policy=ASYM, config=FAST)
    task = asyncio.create_task(pair.run())
    try:
        await _until(lambda: pair.status.blocks["delivered"] >= 1, 30, "a first block")
        faults.readout_errors["A"] = 2
        await _until(lambda: pair.status.failures.get("stage-error:source", 0) == 2, 20, "two typed failures")
        assert pair.status.alarm and pair.status.last_failure["cause"] == "stage-error:source"
        delivered = pair.status.blocks["delivered"]
        await _until(lambda: pair.status.blocks["delivered"] > delivered, 20, "a block after the restarts")
        assert pair.status.state == "running" and not pair.status.alarm and pair.status.restarts >= 2
        # both ends delivered the same keys in the same order, none twice
        a_sink, b_sink = pair.alice.sink, pair.bob.sink
        assert isinstance(a_sink, InMemorySink) and isinstance(b_sink, InMemorySink)
        assert [k[2] for k in a_sink.keys] == [k[2] for k in b_sink.keys]
        assert len({k[1] for k in b_sink.keys}) == len(b_sink.keys)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_finite_run_gives_up_after_its_restarts_with_the_cause_instead_of_hanging() -> None:
    faults = LinkFaults(readout_errors={"A": 100})
    source = EmulatedSource(LINK, 2_000_000, 9, faults=faults, end="A", max_blocks=3)
    with pytest.raises(Exception, match="stage-error:source"):
        await asyncio.wait_for(run_link(source, "L", ASYM, config=RuntimeConfig(backoff_initial_s=0.05,
                                                                                max_restarts=2)), 30)


async def test_the_pools_diverging_is_detected_at_the_next_block_and_fails_the_session() -> None:
    pair = LinkPairRuntime("L", EmulatedSource(LINK, 2_000_000, 3), policy=ASYM, config=FAST)
    task = asyncio.create_task(pair.run())
    try:
        await _until(lambda: pair.status.blocks["delivered"] >= 1, 30, "a first block")
        pair.bob.digest.advance(99, "forged", 8, "00")        # Bob's pool no longer matches Alice's
        await _until(lambda: pair.status.pool_mismatches >= 1, 20, "the pool mismatch")
        assert pair.status.last_failure["cause"] == PoolMismatch.cause and pair.status.alarm
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_silent_peer_is_detected_within_the_bound_whatever_the_protocol_waits_for() -> None:
    a_tr, b_tr = in_process_transports()
    alive = LivenessTransport(a_tr, heartbeat_s=0.1, silence_timeout_s=0.5, link_id="L")
    # the other end never runs its heartbeat: it is silent without closing
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    with pytest.raises(PeerSilent, match="nothing received"):
        await asyncio.wait_for(alive.run(), 5)
    assert 0.5 <= loop.time() - t0 < 0.8
    with pytest.raises(PeerSilent):                         # and a receive waiting in the protocol fails too
        await asyncio.wait_for(alive.recv_bytes(), 1)
    del b_tr


def test_a_configuration_whose_authentication_costs_more_than_it_distils_is_refused_at_start() -> None:
    far = EmulatedSource(link_preset("snspd-fiber", 200.0), 100_000, 1)
    with pytest.raises(AuthBudgetExceeded, match=r"'per-frame' needs about \d+ bits of key per block, more than"):
        LinkPairRuntime("far", far, auth_mode="per-frame")
    check_auth_plan("transcript", far.expected_secret_bits_per_block() + 1000, "ok")   # O(1) tags: fine


async def test_per_frame_authentication_that_costs_more_than_a_block_distils_fails_with_that_cause() -> None:
    # 4·10^6 pulses at 10 km distil ~60 kbit; Cascade's ~500 frames per direction cost ~130 kbit of pads
    with pytest.raises(Exception, match="auth-budget-exceeded"):
        await asyncio.wait_for(run_link(EmulatedSource(LINK, 4_000_000, 21, max_blocks=4), "pf", ASYM,
                                        auth_mode="per-frame",
                                        config=RuntimeConfig(backoff_initial_s=0.05, max_restarts=0)), 60)


async def test_per_frame_authentication_refills_from_delivered_key_in_proportion_to_its_use() -> None:
    run = await asyncio.wait_for(run_link(EmulatedSource(LINK, 20_000_000, 21, max_blocks=3), "pf", ASYM,
                                          auth_mode="per-frame"), 120)
    assert [r.status for r in run.bob] == ["delivered"] * 3
    assert [k[2] for k in run.alice_sink.keys] == [k[2] for k in run.bob_sink.keys]
    auth = run.status["authentication"]
    assert auth["mode"] == "per-frame" and auth["consumed_bits"] > 0
    assert auth["produced_bits"] > auth["consumed_bits"]        # the link pays for its own authentication


def test_the_alarm_rises_at_once_on_an_attack_and_only_on_repeats_for_ordinary_aborts_and_clears_on_evidence():
    from qkd.runtime import LinkStatus

    seen: list[bool] = []
    status = LinkStatus("L", "alice")
    status.on_alarm(lambda raised, qber, reason: seen.append(raised))
    status.block_delivered(0, 8000, 0.01, 1.0)
    status.block_aborted(1, "verification", "keys differ", 0.01)    # FER ~1e-2: statistics, not an attack
    assert status.label == "aborting(verification)" and not status.alarm
    status.block_aborted(2, "zero-length", "short", 0.01)
    assert not status.alarm
    status.block_aborted(3, "verification", "keys differ", 0.01)    # three in a row: the link is not well
    assert status.alarm and "3 blocks in a row" in status.alarm_reason
    status.block_delivered(4, 8000, 0.01, 1.0)                        # only a confirmed block clears it
    assert not status.alarm and status.state == "running"
    status.block_aborted(5, "qber", "QBER 0.25", 0.25)               # an attack: at once
    assert status.alarm and status.label == "aborting(qber)"
    status.block_aborted(6, "backpressure", "full", 0.01)            # a full pool is no fault
    assert status.label == "stalled(pool-full)" and status.alarm     # and does not clear the alarm either
    assert seen == [True, False, True]


def test_the_key_rate_is_bits_per_wall_second_between_decided_blocks_not_over_each_blocks_latency():
    """With blocks in flight, each block's latency spans its neighbours': 4 blocks of 8,000 bits decided
    0.1 s apart, each 0.4 s from start to delivery, are 80 kbit/s, not 20. The first block of a session has
    no predecessor and is rated over its own latency; a failure forgets the predecessor."""
    import time

    from qkd.runtime import LinkStatus
    from qkd.runtime.state import RATE_ALPHA

    status = LinkStatus("L", "alice")
    status.block_delivered(0, 8000, 0.01, 0.4)
    assert status.key_rate_bps == pytest.approx(20_000)
    for index in (1, 2, 3, 4, 5, 6, 7, 8):
        time.sleep(0.1)
        status.block_delivered(index, 8000, 0.01, 0.4)
    assert 55_000 < status.key_rate_bps < 82_000, status.key_rate_bps   # EWMA from 20k towards 80k (sleep >= 0.1 s)
    status.failed("connect", "peer gone", None)
    assert status.key_rate_bps == 0.0
    status.block_delivered(9, 8000, 0.01, 0.4)         # a new session: over its own latency again, smoothed from 0
    assert status.key_rate_bps == pytest.approx(RATE_ALPHA * 20_000)
