"""One classical session between two link-end runtimes in one process, for tests of what the link hello refuses."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from qkd.postprocess import InMemorySink, LinkPolicy
from qkd.postprocess.channel import WegmanCarterAuth, in_process_transports
from qkd.runtime import BlockSource, LinkEndRuntime

Refusal = pytest.ExceptionInfo[ExceptionGroup]


def refused_session(source: BlockSource, alice_policy: LinkPolicy, bob_policy: LinkPolicy, *, n_pads: int = 64,
                    timeout_s: float = 30.0) -> tuple[LinkEndRuntime, LinkEndRuntime, Refusal]:
    """Run Alice's session against Bob's (Wegman–Carter pads from one pre-shared key) and return both ends and the
    failure the session ended with — a task group's, so grouped; the test fails if the session did not fail."""
    psk = secrets.token_bytes(32 + 32 * n_pads)
    alice = LinkEndRuntime("mix", "alice", source, InMemorySink(), alice_policy,
                           wc_auth=WegmanCarterAuth.from_preshared(psk))
    bob = LinkEndRuntime("mix", "bob", source, InMemorySink(), bob_policy, wc_auth=WegmanCarterAuth.from_preshared(psk))

    async def run() -> None:
        ta, tb = in_process_transports()
        bob_task = asyncio.ensure_future(bob.session(tb))
        try:
            await asyncio.wait_for(alice.session(ta), timeout_s)
        finally:
            bob_task.cancel()
            await asyncio.gather(bob_task, return_exceptions=True)

    with pytest.raises(ExceptionGroup) as info:
        asyncio.run(run())
    return alice, bob, info
