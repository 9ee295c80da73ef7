"""Sifting between two parties over the authenticated classical channel: Alice holds only the transmitter
record, Bob only the time tags; bases, the sync sample and the disclosed bits travel as channel frames."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest

from qkd.events.emulate import emulate
from qkd.physics.presets import link_preset
from qkd.postprocess.channel import in_process_pair
from qkd.postprocess.estimate import estimate
from qkd.postprocess.sift import SiftError, SiftParameters, sift, sift_receiver, sift_transmitter


def _run(tags, tx, **kw):
    async def both():
        a, b = in_process_pair()
        return await asyncio.gather(sift_transmitter(a, tx, seed=5, **kw.get("alice", {})),
                                    sift_receiver(b, tags, window_ps=400.0, seed=5, **kw.get("bob", {}))), a, b
    return asyncio.run(both())


@pytest.fixture(scope="module")
def emulated():
    base = link_preset("gys", 25.0)
    link = replace(base, detector=replace(base.detector, jitter_ps=20.0, gate_width_ps=200.0),
                   clock_offset_ps=3700.0, clock_drift_ppm=2.0)
    return emulate(link, 20_000_000, seed=31)


def test_both_ends_get_equal_length_keys_and_identical_public_counts(emulated) -> None:
    (alice, bob), ch_a, ch_b = _run(emulated.tags, emulated.tx)
    assert alice.n_key == bob.n_key > 10_000
    assert np.array_equal(alice.key_slots, bob.key_slots)
    assert np.array_equal(alice.key_intensity, bob.key_intensity)
    for name in ("sifted", "disclosed", "errors", "detected", "sent"):
        assert np.array_equal(getattr(alice, name), getattr(bob, name)), name
    # the clock was recovered through the channel: 3.7 ns offset, 2 ppm drift
    assert bob.clock is not None and abs(bob.clock.offset_ps - 3700.0) < 2 and abs(bob.clock.drift_ppm - 2) < 0.01
    # the key QBER is that of the disclosed Z sample within statistics, and about e_det at 25 km
    key_qber = float(np.mean(alice.bits != bob.bits))
    sample = bob.errors[0].sum() / bob.disclosed[0].sum()
    assert abs(key_qber - sample) < 5 * np.sqrt(sample / bob.disclosed[0].sum())
    assert 0.02 < key_qber < 0.05
    # the ledger of both ends counts the same disclosed bits: sync sample + Z sample + X bits
    assert ch_a.ledger.disclosed_bits == ch_b.ledger.disclosed_bits
    assert ch_b.ledger.by_kind["sift.sync"] == bob.n_sync_disclosed
    # every disclosed sifted bit is on the ledger, plus the sync-sample bits of unmatched bases
    assert bob.disclosed.sum() <= ch_b.ledger.disclosed_bits <= bob.disclosed.sum() + bob.n_sync_disclosed
    est = estimate(bob)
    assert est.n_sifted == bob.n_key and est.qber_z == pytest.approx(bob.qber(0))


def test_channel_sifting_counts_equal_local_sifting_with_the_same_clock(emulated) -> None:
    local = sift(emulated.tags, emulated.tx, window_ps=400.0, seed=5)
    (alice, bob), _, _ = _run(emulated.tags, emulated.tx, bob={"clock": local.clock})
    # same clock, same multi-click choice: the same detections, bases and intensities on both paths
    assert np.array_equal(bob.detected, local.detected)
    assert np.array_equal(bob.sifted, local.sifted)


def test_a_peer_announcing_slots_outside_the_record_is_refused(emulated) -> None:
    async def scenario():
        a, b = in_process_pair()

        async def rogue_bob():
            await b.recv("sift.params")
            await b.send("sift.sync", b"")
            body = np.uint64(1).astype("<u8").tobytes() + np.int64(10**15).astype("<i8").tobytes() + b"\x00"
            await b.send("sift.bases", body)

        await asyncio.gather(sift_transmitter(a, emulated.tx, seed=1), rogue_bob())

    with pytest.raises(SiftError, match="outside the record"):
        asyncio.run(scenario())


def test_a_malformed_parameter_announcement_is_refused_by_name(emulated) -> None:
    async def scenario():
        a, b = in_process_pair()

        async def rogue_alice():
            await a.send("sift.params", b'{"period_ps": 1000.0, "n_slots": 5}')

        await asyncio.gather(rogue_alice(), sift_receiver(b, emulated.tags, window_ps=400.0, seed=5))

    with pytest.raises(SiftError, match="sift.params: malformed message"):
        asyncio.run(scenario())


def test_the_parameter_announcement_round_trips_the_transmitter_record(emulated) -> None:
    params = SiftParameters.of(emulated.tx)
    assert SiftParameters.from_json(params.to_json()) == params
    assert params.n_slots == emulated.tx.n_slots and params.intensities == tuple(emulated.tx.intensities)
