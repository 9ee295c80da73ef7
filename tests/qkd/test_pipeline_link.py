"""The link pipeline on the physics emulator: identical keys at both ends of a 25 km link; intercept-resend
raises the QBER as theory says and stops delivery; failed blocks are never delivered; alarms fire."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest

from qkd.emulator import emulate_link
from qkd.physics.presets import link_preset
from qkd.postprocess.link import InMemorySink, LinkPolicy
from qkd.runtime import emulated_blocks, run_link, with_eavesdropper

LINK = link_preset("snspd-fiber", 25)
ASYM = LinkPolicy(key_length="asymptotic")


class RecordingSink:
    """A sink as the KME store would implement it: only the protocol, no base class."""

    def __init__(self) -> None:
        self.delivered: dict[str, bytes] = {}
        self.meta: dict[str, dict] = {}

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict) -> None:
        assert key_id not in self.delivered
        self.delivered[key_id] = key
        self.meta[key_id] = metadata


def test_both_ends_of_an_emulated_25_km_link_deliver_identical_keys() -> None:
    a_sink, b_sink = RecordingSink(), RecordingSink()
    run = asyncio.run(run_link(emulated_blocks(LINK, 3 * 10**6, 11, n_blocks=2), "alice-bob", ASYM, a_sink, b_sink))
    assert [r.status for r in run.bob] == ["delivered", "delivered"]
    assert a_sink.delivered.keys() == b_sink.delivered.keys() and len(a_sink.delivered) == 2
    for kid, key in a_sink.delivered.items():
        assert key == b_sink.delivered[kid]
        m = b_sink.meta[kid]
        assert len(key) * 8 == m["length_bits"] > 10_000   # whole bytes: no non-secret padding bits
        assert m["eps_sec"] == 1e-10 and m["eps_cor"] == 1e-15 and m["disclosed_bits"] > 0
    # the two blocks' keys are different keys
    k1, k2 = list(a_sink.delivered.values())
    assert k1 != k2
    s = run.summary()
    assert s["secret_bits"] == sum(m["length_bits"] for m in b_sink.meta.values())
    assert 1.0 < s["mean_efficiency"] < 1.2


def test_intercept_resend_on_all_pulses_delivers_nothing_and_raises_the_alarm() -> None:
    alarms = []
    for policy in (ASYM, LinkPolicy()):
        run = asyncio.run(run_link(emulated_blocks(with_eavesdropper(LINK, 1.0), 3 * 10**6, 21, n_blocks=1),
                                   policy=policy))
        assert run.alice_sink.keys == [] and run.bob_sink.keys == []
        assert {r.cause for r in run.bob} == {"qber"}
        assert all(0.20 < r.qber_estimate < 0.30 for r in run.bob)   # 25 % from the attack plus the link's own
        alarms += run.alarms
    assert alarms and alarms[0].kind == "qber-alarm"


def test_intercept_resend_on_a_fraction_raises_qber_by_a_quarter_of_it_and_stops_delivery() -> None:
    clean = asyncio.run(run_link(emulated_blocks(LINK, 5 * 10**6, 31, n_blocks=1), policy=ASYM))
    attacked = asyncio.run(run_link(emulated_blocks(with_eavesdropper(LINK, 0.3), 5 * 10**6, 31, n_blocks=1),
                                    policy=ASYM))
    rise = attacked.bob[0].qber_estimate - clean.bob[0].qber_estimate
    assert rise == pytest.approx(0.3 / 4, abs=0.015)
    assert clean.bob[0].status == "delivered"
    assert attacked.bob[0].status == "aborted" and attacked.bob_sink.keys == []


def test_a_block_failing_verification_is_discarded_at_both_ends() -> None:
    key, est = emulate_link(LINK, 3 * 10**6, 41)
    rng = np.random.default_rng(0)
    # Bob's bits far noisier than the estimate says: Cascade cannot finish, verification must catch it
    bad = dataclasses.replace(key, bob_bits=key.bob_bits ^ (rng.random(key.n_key) < 0.15).astype(np.uint8))
    a_sink, b_sink = InMemorySink(), InMemorySink()
    run = asyncio.run(run_link([(bad, est), (key, est)], policy=ASYM, alice_sink=a_sink, bob_sink=b_sink))
    assert (run.bob[0].status, run.bob[0].cause) == ("aborted", "verification")
    assert (run.alice[0].status, run.alice[0].cause) == ("aborted", "verification")
    assert [r.status for r in run.bob][1] == "delivered"   # the link carries on with the next block
    assert len(a_sink.keys) == len(b_sink.keys) == 1 and a_sink.keys[0][2] == b_sink.keys[0][2]


def test_finite_key_mode_reports_zero_length_with_its_reason_for_a_short_block() -> None:
    run = asyncio.run(run_link(emulated_blocks(LINK, 3 * 10**6, 51, n_blocks=1)))
    r = run.bob[0]
    assert r.status == "aborted" and r.cause in ("zero-length", "too-few-counts") and r.reason
    assert run.bob_sink.keys == []


def test_sink_repr_never_shows_key_material() -> None:
    sink = InMemorySink()
    sink.deliver("l", "id", b"\x13\x37" * 8, {"length_bits": 128})
    assert "1337" not in repr(sink) and "\\x13" not in repr(sink)
