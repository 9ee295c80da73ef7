"""A link that reconciles with LDPC instead of Cascade, end to end on the link runtime: blocks delivered,
both pools identical, the reconciler's report on every block, and far fewer round trips than Cascade."""

from __future__ import annotations

import asyncio

import pytest

from qkd.physics import link_preset
from qkd.postprocess.link import InMemorySink, LinkPolicy
from qkd.runtime import EmulatedSource, run_link

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
    import secrets

    from qkd.postprocess.channel import WegmanCarterAuth, in_process_transports
    from qkd.runtime import LinkEndRuntime
    from qkd.runtime.runtime import LinkRuntimeError

    psk = secrets.token_bytes(32 + 32 * 4096)
    source = EmulatedSource(LINK, 2_000_000, 5, max_blocks=1)
    ldpc = LinkPolicy(key_length="asymptotic", reconciler="ldpc")
    alice = LinkEndRuntime("mix", "alice", source, InMemorySink(), ldpc, wc_auth=WegmanCarterAuth.from_preshared(psk))
    bob = LinkEndRuntime("mix", "bob", source, InMemorySink(), LinkPolicy(key_length="asymptotic"),
                         wc_auth=WegmanCarterAuth.from_preshared(psk))

    async def run() -> None:
        ta, tb = in_process_transports()
        bob_task = asyncio.ensure_future(bob.session(tb))
        try:
            await asyncio.wait_for(alice.session(ta), 30)
        finally:
            bob_task.cancel()
            await asyncio.gather(bob_task, return_exceptions=True)

    with pytest.raises(ExceptionGroup) as info:   # a session is a task group: its failure comes grouped
        asyncio.run(run())
    assert info.group_contains(LinkRuntimeError, match="reconciler 'ldpc' at the peer, 'cascade' here")
