"""An entanglement-based (BBM92) link as a link kind, end to end on the link runtime: both stations' time tags
(independent clocks) → coincidences → sifting and the entanglement witness → Cascade → verification →
Tomamichel et al. 2012 finite key → Toeplitz → identical keys at both ends. An intercept-resend attacker on
Bob's arm breaks the witness: every block aborts with cause ``witness``, the alarm is raised (log, metrics,
status) and no key is delivered. Ends configured for different link kinds refuse the session, naming both."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import ValidationError

from qkd.kms.config import FeedSection
from qkd.postprocess.channel import in_process_pair
from qkd.postprocess.link import CONFIRM_BITS, InMemorySink, LinkEnd, LinkKindMismatch, LinkPolicy
from qkd.runtime import EntangledSource, LinkFaults, LinkPairRuntime, RuntimeConfig
from qkd.runtime.runtime import LinkRuntimeError
from qkd.runtime.sources import as_key_block
from tests.qkd.sessions import refused_session

BBM92 = LinkPolicy(key_length="finite", protocol="bbm92")


def _source(seed: int, blocks: int, eve: float = 0.0) -> EntangledSource:
    # 25 km of fibre, the source in the middle, 10^6 pairs/s, 0.5 s of time tags per block
    return EntangledSource.over_fiber(25.0, seed, max_blocks=blocks, faults=LinkFaults(eve_fraction=eve or None))


def _run_pair(source: EntangledSource, policy: LinkPolicy = BBM92,
              ) -> tuple[LinkPairRuntime, InMemorySink, InMemorySink]:
    sinks = (InMemorySink(), InMemorySink())
    pair = LinkPairRuntime("ent", source, policy=policy, config=RuntimeConfig(max_restarts=0, idle_poll_s=0.01),
                           alice_sink=sinks[0], bob_sink=sinks[1], keep_results=None)
    asyncio.run(asyncio.wait_for(pair.run(), 100))
    return pair, *sinks


@pytest.mark.timeout(120)
def test_a_bbm92_link_delivers_identical_verified_keys_of_finite_key_length() -> None:
    source = _source(seed=3, blocks=2)
    pair, alice, bob = _run_pair(source)
    results = list(pair.bob.results)
    assert [r.status for r in results] == ["delivered", "delivered"], [(r.cause, r.reason) for r in results]
    assert [k[2] for k in alice.keys] == [k[2] for k in bob.keys] and alice.total_bits > 5_000
    assert [k[1] for k in alice.keys] == [k[1] for k in bob.keys]                    # same key IDs
    for r in results:
        assert r.protocol == "bbm92" and r.verification is not None and r.verification["ok"]
        # Tomamichel et al. 2012 Eq. 2 terms, in whole bytes, less the sacrificed confirmation tag
        assert r.key_length is not None and r.key_length["mode"] == "finite-tlgr12"
        assert r.length_bits == r.key_length["length"] // 8 * 8 - CONFIRM_BITS
        assert r.key_length["lambda_ec"] == r.reconciliation["disclosed_bits"]     # type: ignore[index]
        assert r.witness is not None and r.witness["certified"] and r.witness["chsh"] > 2.6
        assert 0 < r.qber_estimate < 0.05
    assert all(k[3]["protocol"] == "bbm92" for k in alice.keys + bob.keys)
    assert pair.status.state == "stopped" and not pair.status.alarm      # the finite source ended
    assert pair.status.last_chsh is not None and pair.status.last_chsh > 2.6
    # the closed form ([MFL07], asymptotic) lies above the finite key of 2.5·10^4-bit blocks, not far above
    mean = sum(r.length_bits for r in results) / len(results)
    assert 1.1 < source.expected_secret_bits_per_block() / mean < 1.8


@pytest.mark.timeout(120)
def test_an_intercept_resend_attacker_on_one_arm_aborts_with_the_witness_alarm_and_no_key(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    pair, alice, bob = _run_pair(_source(seed=5, blocks=2, eve=1.0))
    results = list(pair.bob.results)
    assert [(r.status, r.cause) for r in results] == [("aborted", "witness")] * 2
    for r in list(pair.alice.results) + results:
        assert "entanglement not certified" in r.reason and "S = " in r.reason
        assert r.witness is not None and not r.witness["certified"] and r.witness["chsh"] <= 2.0
        assert r.length_bits == 0
    assert not alice.keys and not bob.keys                                       # never a key
    # the alarm reaches status, metrics and the log exactly as a QBER abort does
    snap = pair.status.snapshot()
    assert snap["alarm"] and snap["alarm_reason"] == "block 1 aborted: witness"     # the latest aborted block
    assert snap["aborts"] == {"witness": 2} and snap["blocks"] == {"delivered": 0, "aborted": 2}
    assert snap["last_chsh"] is not None and snap["last_chsh"] <= 2.0
    lines = pair.status.metrics_lines()
    assert 'qkd_link_aborts_total{link="ent",role="pair",cause="witness"} 2' in lines
    assert 'qkd_link_alarm{link="ent",role="pair"} 1' in lines
    assert any(line.startswith('qkd_link_chsh{link="ent",role="pair"} 1.') for line in lines)
    alarms = [r for r in caplog.records if getattr(r, "event", "") == "qkd.link.alarm" and r.alarm]
    assert alarms and "witness" in alarms[0].reason
    blocks = [r for r in caplog.records if getattr(r, "event", "") == "qkd.block"]
    assert blocks and all(r.cause == "witness" and r.status == "aborted" for r in blocks)


@pytest.mark.timeout(60)
def test_ends_configured_for_different_link_kinds_refuse_the_session_naming_both() -> None:
    alice, bob, info = refused_session(_source(seed=7, blocks=1), BBM92, LinkPolicy(key_length="finite"))
    assert info.group_contains(LinkRuntimeError, match="link kind 'bbm92' at the peer, 'bb84-decoy' here")
    assert not alice.results and not bob.results


async def test_a_block_of_another_link_kind_is_refused_before_anything_is_sent() -> None:
    block = as_key_block(EntangledSource.over_fiber(25.0, 9, block_seconds=0.05).block(0))
    a_channel, _ = in_process_pair(link_id="L")
    end = LinkEnd("alice", "L", a_channel, InMemorySink(), LinkPolicy())          # a decoy-BB84 end
    with pytest.raises(LinkKindMismatch, match="a 'bbm92' block on a link configured for 'bb84-decoy'"):
        await end.process(0, block)
    assert a_channel.ledger.disclosed_bits == 0


def test_a_bbm92_feed_is_emulated_or_recorded_and_its_hardware_table_needs_the_protocol() -> None:
    feed = FeedSection.model_validate({"pool": "L", "kind": "emulated", "protocol": "bbm92",
                                       "entangled": {"pair_rate_hz": 2e6, "block_seconds": 0.25}})
    assert feed.protocol == "bbm92" and feed.entangled.pair_rate_hz == 2e6
    with pytest.raises(ValidationError, match="protocol 'bbm92' runs on an emulated or a timetag-files feed"):
        FeedSection.model_validate({"pool": "L", "kind": "synthetic-shared-seed", "protocol": "bbm92"})
    # recorded files: both stations' time tags, no transmitter record; Bob's files only on a bbm92 feed
    files = FeedSection.model_validate({"pool": "L", "kind": "timetag-files", "protocol": "bbm92",
                                        "timetag_files": ["a.qtt"], "bob_timetag_files": ["b.ptu"]})
    assert files.bob_timetag_files == ["b.ptu"]
    with pytest.raises(ValidationError, match="a bbm92 link has no transmitter record"):
        FeedSection.model_validate({"pool": "L", "kind": "timetag-files", "protocol": "bbm92",
                                    "timetag_files": ["a.qtt"], "transmitter_files": ["a.json"]})
    with pytest.raises(ValidationError, match="bob_timetag_files are a bbm92 link's second station"):
        FeedSection.model_validate({"pool": "L", "kind": "timetag-files", "timetag_files": ["a.qtt"],
                                    "transmitter_files": ["a.json"], "bob_timetag_files": ["b.ptu"]})
    with pytest.raises(ValidationError, match=r"\[feeds.entangled\] describes a bbm92 link"):
        FeedSection.model_validate({"pool": "L", "kind": "emulated", "entangled": {"pair_rate_hz": 2e6}})
    dumped = FeedSection.model_validate({"pool": "L", "kind": "emulated"}).model_dump()   # a written-back config
    assert "entangled" in dumped and FeedSection.model_validate(dumped).protocol == "bb84-decoy"
    with pytest.raises(ValueError, match="link protocol must be one of bb84-decoy, bbm92"):
        LinkPolicy(protocol="e91")


@pytest.mark.timeout(120)
def test_qkd_run_kind_bbm92_delivers_identical_keys_and_an_attack_on_one_arm_delivers_nothing() -> None:
    import json

    from typer.testing import CliRunner

    from qshift.commands.qkd_run import app

    out = CliRunner().invoke(app, ["--kind", "bbm92", "--length-km", "25", "--wall-seconds", "0",
                                   "--key-length", "finite", "--json"])
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert s["kind"] == "bbm92" and s["delivered"] == s["blocks"] >= 1 and s["keys_identical"] is True
    assert 0 < s["secret_rate_bps_link"] < s["sifted_rate_bps_link"] and s["block_seconds"] == 0.5
    out = CliRunner().invoke(app, ["--kind", "bbm92", "--wall-seconds", "0", "--eve", "intercept-resend:1.0",
                                   "--json"])
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert s["delivered"] == 0 and s["secret_bits"] == 0 and s["aborted"] == {"witness": s["blocks"]}
    refused = CliRunner().invoke(app, ["--kind", "bbm92", "--channel", "free-space", "--json"])
    assert refused.exit_code == 2 and "fiber only" in refused.output
