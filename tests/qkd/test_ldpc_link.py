"""A link that reconciles with LDPC instead of Cascade, end to end on the link runtime: blocks delivered,
both pools identical, the reconciler's report on every block, and far fewer round trips than Cascade."""

from __future__ import annotations

import asyncio

import pytest

from qkd.physics import link_preset
from qkd.postprocess.link import InMemorySink, LinkPolicy
from qkd.runtime import EmulatedSource, run_link
from tests.qkd.sessions import refused_session

LINK = link_preset("snspd-fiber", 10.0)


@pytest.mark.timeout(240)
def test_an_ldpc_link_delivers_identical_keys_with_a_few_round_trips_per_block() -> None:
    runs = {}
    for reconciler in ("ldpc", "cascade"):
        policy = LinkPolicy(key_length="asymptotic", reconciler=reconciler)
        sinks = (InMemorySink(), InMemorySink())
        run = asyncio.run(asyncio.wait_for(run_link(EmulatedSource(LINK, 20_000_000, 31, max_blocks=2), "ldpc",
                                                    policy, *sinks), 200))
        runs[reconciler] = run
        assert all(r.status == "delivered" for r in run.bob), [(r.cause, r.reason) for r in run.bob]
        assert [k[2] for k in sinks[0].keys] == [k[2] for k in sinks[1].keys] and sinks[0].total_bits > 0
        assert all(r.reconciliation and r.reconciliation["reconciler"] == reconciler for r in run.bob)
    ldpc = [r.reconciliation for r in runs["ldpc"].bob]
    cascade = [r.reconciliation for r in runs["cascade"].bob]
    # blind retries at ~1 % QBER cost up to ~20 round trips on these small blocks; Cascade needs hundreds
    assert all(rep["decoded"] and rep["round_trips"] <= 25 for rep in ldpc)            # type: ignore[index]
    assert max(r["round_trips"] for r in ldpc) * 5 < min(r["round_trips"] for r in cascade)  # type: ignore[index]
    # every disclosed bit counted: the key length used what the ledger saw
    for r in runs["ldpc"].bob:
        assert r.key_length is not None and r.key_length["lambda_ec"] == r.reconciliation["disclosed_bits"]  # type: ignore[index]


@pytest.mark.timeout(60)
def test_ends_that_chose_different_reconcilers_refuse_the_session_naming_both() -> None:
    from qkd.runtime.runtime import LinkRuntimeError

    source = EmulatedSource(LINK, 2_000_000, 5, max_blocks=1)
    ldpc = LinkPolicy(key_length="asymptotic", reconciler="ldpc")
    _, _, info = refused_session(source, ldpc, LinkPolicy(key_length="asymptotic"), n_pads=4096)
    assert info.group_contains(LinkRuntimeError, match="reconciler 'ldpc' at the peer, 'cascade' here")
