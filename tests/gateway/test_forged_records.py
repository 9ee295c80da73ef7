"""Records nobody authenticated (issue 15, gateway findings 3 and 4): a forged READY establishes nothing,
an injected ALERT or a burst of forged sealed records closes nothing and counts against nothing.

Real gateways, a real KME and a real intercepting proxy on loopback."""

from __future__ import annotations

import asyncio
import secrets
import struct

from gateway.wire import REC_ALERT, REC_SEALED
from tests.gateway.harness import metric, start_pair, transfer, wait_for


def forged_sealed(epoch: int = 0, sequence: int = 0, size: int = 64) -> bytes:
    """A SEALED record body an attacker can write: right epoch, a plausible sequence, no valid tag."""
    return struct.pack(">I", epoch) + struct.pack(">Q", sequence) + secrets.token_bytes(size)


async def test_a_forged_ready_establishes_no_session(tmp_path, pki, kme, sha_target):
    """The proxy replaces the responder's READY on the first connection with a forgery: the initiator
    registers nothing, reports nothing as connected, and fails that handshake as ``bad_ready``."""
    def fake_ready(direction, conn, index, rtype, body):
        if direction == "s2c" and conn == 0 and rtype == REC_SEALED:
            return [(rtype, forged_sealed())]
        return [(rtype, body)]

    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=fake_ready, wait=False)
    try:
        await wait_for(lambda: metric(pair.a, "gateway_handshake_failures_total", peer="site-b",
                                      reason="bad_ready") == 1, 10, "the forged READY refused")
        await pair.up()
        # The only session site-a ever registered is the honest one of the second connection.
        assert pair.a.service.peer_states["site-b"].sessions == 1
        assert pair.a.service.peer_states["site-b"].handshakes == 1
        assert metric(pair.a, "gateway_handshakes_total", peer="site-b", role="initiator", kind="handshake",
                      mode="hybrid-qkd") == 1
        assert (await transfer(pair.fa, 20_000, 20_000)).ok
    finally:
        await pair.stop()


async def test_an_injected_alert_closes_no_established_session(tmp_path, pki, kme, sha_target):
    def inject_alerts(direction, conn, index, rtype, body):
        if conn == 0 and rtype == REC_SEALED and index == 4:
            return [(REC_ALERT, b"bad_signature"), (rtype, body)]
        return [(rtype, body)]

    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=inject_alerts)
    try:
        first_a, first_b = pair.session_a(), pair.session_b()
        results = await asyncio.gather(*[transfer(pair.fa, 200_000, 200_000) for _ in range(3)])
        assert all(r.ok for r in results), results
        await wait_for(lambda: metric(pair.b, "gateway_records_rejected_total", peer="site-a",
                                      reason="unauthenticated_alert") == 1
                       and metric(pair.a, "gateway_records_rejected_total", peer="site-b",
                                  reason="unauthenticated_alert") == 1, 5, "both ALERTs dropped")
        assert not first_a.closed and not first_b.closed
        assert pair.session_a() is first_a and pair.session_b() is first_b
        assert first_a.bad_records == first_b.bad_records == 0
    finally:
        await pair.stop()


async def test_sixteen_forged_records_count_against_nothing(tmp_path, pki, kme, sha_target):
    """16 forged records (the default ``bad_record_threshold``) with sequence numbers that would pass for
    replays: each is dropped as ``tamper``; the session and its streams carry on."""
    def inject_forgeries(direction, conn, index, rtype, body):
        if direction == "c2s" and conn == 0 and rtype == REC_SEALED and index == 5:
            return [(REC_SEALED, forged_sealed(sequence=n % 2)) for n in range(16)] + [(rtype, body)]
        return [(rtype, body)]

    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=inject_forgeries)
    try:
        first = pair.session_b()
        results = await asyncio.gather(*[transfer(pair.fa, 200_000, 200_000) for _ in range(3)])
        assert all(r.ok for r in results), results
        await wait_for(lambda: metric(pair.b, "gateway_records_rejected_total", peer="site-a",
                                      reason="tamper") == 16, 5, "16 forgeries dropped")
        assert metric(pair.b, "gateway_records_rejected_total", peer="site-a", reason="replay") == 0
        assert not first.closed and pair.session_b() is first
        assert first.bad_records == 0 and first.dropped_records == 16
        assert pair.b.service.status()["peers"]["site-a"]["session"]["dropped_records"] == 16
    finally:
        await pair.stop()
