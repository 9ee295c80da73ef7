"""Attacks through a real intercepting TCP proxy: each is rejected and counted."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.handshake import CH_OFFER, MSG_CLIENT_HELLO, MSG_FINISH, MSG_SERVER_HELLO, SH_SELECTION
from gateway.wire import (
    REC_ALERT,
    REC_HANDSHAKE,
    REC_SEALED,
    decode_message,
    encode_message,
    encode_record,
    read_record,
)
from tests.gateway.harness import make_identities, metric, start_pair, transfer, wait_for


def _sealed_mutator(action: str, at: int):
    """Act on the ``at``-th sealed record client->server of the first connection."""
    state = {"sealed": 0, "held": None}

    def mutate(direction, conn, index, rtype, body):
        if direction != "c2s" or conn != 0 or rtype != REC_SEALED:
            return [(rtype, body)]
        n = state["sealed"]
        state["sealed"] += 1
        if action == "replay" and n == at:
            return [(rtype, body), (rtype, body)]
        if action == "tamper" and at <= n < at + 3:
            flipped = bytearray(body)
            flipped[-1] ^= 0x01
            return [(rtype, bytes(flipped))]
        if action == "reorder" and n == at:
            state["held"] = body
            return []
        if action == "reorder" and n == at + 1:
            return [(rtype, body), (rtype, state["held"])]
        return [(rtype, body)]

    return mutate


async def test_replayed_frame_is_dropped_and_counted_and_streams_are_intact(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=_sealed_mutator("replay", 2))
    try:
        results = await asyncio.gather(*[transfer(pair.fa, 200_000, 100_000) for _ in range(3)])
        assert all(r.ok for r in results), results
        assert metric(pair.b, "gateway_records_rejected_total", peer="site-a", reason="replay") == 1
        assert pair.session_b() is not None and pair.session_b().bad_records == 1
    finally:
        await pair.stop()


async def test_tampered_frames_are_dropped_and_counted_but_never_held_against_the_session(
        tmp_path, pki, kme, sha_target):
    """A record that fails authentication is a forgery: dropped and counted, never a step towards
    ``bad_record_threshold`` (issue 15, finding 4); the stream that lost it is reset, not corrupted."""
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=_sealed_mutator("tamper", 1),
                            data={"bad_record_threshold": 3})
    try:
        first = pair.session_b()
        results = await asyncio.gather(*[transfer(pair.fa, 300_000, 1000) for _ in range(2)])
        await wait_for(lambda: metric(pair.b, "gateway_records_rejected_total", peer="site-a",
                                      reason="tamper") == 3, 5, "three tampered records dropped")
        assert all(r.ok or "digest" not in r.detail for r in results), results
        assert not first.closed and first.bad_records == 0 and first.dropped_records == 3
        assert metric(pair.b, "gateway_session_teardowns_total", peer="site-a", cause="bad_record_threshold") == 0
        assert (await transfer(pair.fa, 50_000, 50_000)).ok
        assert pair.session_b() is first
    finally:
        await pair.stop()


async def test_authentic_records_replayed_up_to_the_threshold_tear_the_session_down(
        tmp_path, pki, kme, sha_target):
    state = {"sealed": 0}

    def replay_three(direction, conn, index, rtype, body):
        if direction == "c2s" and conn == 0 and rtype == REC_SEALED:
            state["sealed"] += 1
            if state["sealed"] in (3, 4, 5):
                return [(rtype, body), (rtype, body)]
        return [(rtype, body)]

    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=replay_three,
                            data={"bad_record_threshold": 3})
    try:
        first = pair.session_b()
        await asyncio.gather(*[transfer(pair.fa, 300_000, 1000) for _ in range(2)])
        await wait_for(lambda: first.closed, 5, "teardown after 3 replayed authentic records")
        assert first.close_cause == "bad_record_threshold"
        assert metric(pair.b, "gateway_records_rejected_total", peer="site-a", reason="replay") == 3
        assert metric(pair.b, "gateway_session_teardowns_total", peer="site-a", cause="bad_record_threshold") == 1
        await wait_for(lambda: pair.session_b() not in (None, first), 10, "a new session")
        assert (await transfer(pair.fa, 50_000, 50_000)).ok
    finally:
        await pair.stop()


async def test_reordered_frame_is_rejected_and_counted_and_its_stream_reset_not_corrupted(
        tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=_sealed_mutator("reorder", 3))
    try:
        results = await asyncio.gather(*[transfer(pair.fa, 400_000, 1000) for _ in range(2)])
        assert metric(pair.b, "gateway_records_rejected_total", peer="site-a", reason="reorder") == 1
        # A stream that lost a record is reset; none delivers wrong bytes.
        assert all(r.ok or "digest" not in r.detail for r in results), results
    finally:
        await pair.stop()


def _rewrite_offer(change):
    """Rewrite the offer of the first ClientHello (connection 0) with ``change(offer)``."""
    def mutate(direction, conn, index, rtype, body):
        if direction == "c2s" and conn == 0 and rtype == REC_HANDSHAKE and index == 0:
            fields = decode_message(body, MSG_CLIENT_HELLO, set(range(1, 7)), set(range(1, 7)), "ClientHello")
            offer = json.loads(fields[CH_OFFER])
            change(offer)
            fields[CH_OFFER] = json.dumps(offer, sort_keys=True, separators=(",", ":")).encode()
            return [(rtype, encode_message(MSG_CLIENT_HELLO, fields))]
        return [(rtype, body)]
    return mutate


def _strip_offer(offer):      # "no QKD here": only pqc-only offered, no key_ID
    offer["modes"] = ["pqc-only"]
    offer["qkd"] = {"key_id": None, "sae_id": offer["qkd"]["sae_id"], "cause": "kme_unreachable"}


def _strip_key_id(offer):     # the hybrid offer stays, the key_ID goes
    offer["qkd"]["key_id"] = None
    offer["qkd"]["cause"] = "kme_unreachable"


def _weaken_policy(offer):    # the initiator's declared policy rewritten
    offer["policy"] = {"qkd": "off", "min_mode": "pqc-only"}


def _downgrade_selection(direction, conn, index, rtype, body):
    """Rewrite the responder's choice in the first ServerHello to pqc-only."""
    if direction == "s2c" and conn == 0 and rtype == REC_HANDSHAKE and index == 0:
        fields = decode_message(body, MSG_SERVER_HELLO, set(range(1, 8)), set(range(1, 8)), "ServerHello")
        selection = json.loads(fields[SH_SELECTION])
        selection["mode"] = "pqc-only"
        fields[SH_SELECTION] = json.dumps(selection, sort_keys=True, separators=(",", ":")).encode()
        return [(rtype, encode_message(MSG_SERVER_HELLO, fields))]
    return [(rtype, body)]


@pytest.mark.parametrize(("mutate", "reason"), [
    (_rewrite_offer(_strip_offer), "transcript_mismatch"),
    (_rewrite_offer(_strip_key_id), "transcript_mismatch"),
    (_rewrite_offer(_weaken_policy), "transcript_mismatch"),
    (_downgrade_selection, "bad_signature"),
], ids=["strip-qkd-offer", "strip-key-id", "weaken-policy", "downgrade-selection"])
async def test_mitm_rewriting_the_negotiation_is_detected_and_no_session_forms(
        tmp_path, pki, kme, sha_target, mutate, reason):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=mutate, wait=False)
    try:
        await pair.up()
        assert metric(pair.a, "gateway_handshake_failures_total", peer="site-b", reason=reason) == 1
        # The responder never completed the rewritten handshake: its only session is the later honest one.
        assert pair.b.service.peer_states["site-a"].sessions == 1
        assert pair.session_a().keys.mode == pair.session_b().keys.mode == "hybrid-qkd"
        for gw, peer in ((pair.a, "site-b"), (pair.b, "site-a")):
            assert metric(gw, "gateway_mode_transitions_total", peer=peer, from_mode="none",
                          to_mode="pqc-only", cause="kme_unreachable") == 0
    finally:
        await pair.stop()


def _flip_confirmation(direction_wanted: str, index_wanted: int, msg_type: int, tag: int, tags: set[int]):
    """Flip the last byte of the key-confirmation MAC (field ``tag``) of a handshake message on connection 0."""
    def mutate(direction, conn, index, rtype, body):
        if direction == direction_wanted and conn == 0 and rtype == REC_HANDSHAKE and index == index_wanted:
            fields = decode_message(body, msg_type, tags, tags, "message")
            fields[tag] = fields[tag][:-1] + bytes((fields[tag][-1] ^ 1,))
            return [(rtype, encode_message(msg_type, fields))]
        return [(rtype, body)]
    return mutate


@pytest.mark.parametrize(("mutate", "detector", "peer"), [
    # confirm_R in ServerHello: the initiator checks it
    (_flip_confirmation("s2c", 0, MSG_SERVER_HELLO, 7, set(range(1, 8))), "a", "site-b"),
    # confirm_I in Finish: the responder checks it (after auth_I verified: charged to site-a)
    (_flip_confirmation("c2s", 1, MSG_FINISH, 2, {1, 2, 3}), "b", "site-a"),
], ids=["confirm-r", "confirm-i"])
async def test_a_wrong_key_confirmation_stops_the_handshake_before_any_data(
        tmp_path, pki, kme, sha_target, mutate, detector, peer):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=mutate, wait=False)
    try:
        await pair.up()
        gw = pair.a if detector == "a" else pair.b
        assert metric(gw, "gateway_handshake_failures_total", peer=peer, reason="bad_confirmation") == 1
        assert pair.b.service.peer_states["site-a"].sessions == 1 and pair.a.service.peer_states["site-b"].sessions == 1
        # Nothing sealed ever crossed connection 0: no data before both confirmations.
        assert not [1 for d, conn, i, t, body in pair.proxy.seen if conn == 0 and t == REC_SEALED]
    finally:
        await pair.stop()


async def _send_client_hello(port: int, hello: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(encode_record(REC_HANDSHAKE, hello))
        await writer.drain()
        return await asyncio.wait_for(read_record(reader), 5)
    finally:
        writer.close()


async def test_replayed_client_hello_is_rejected_as_replayed_then_as_stale(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, mutate=True,
                            tunnel_extra={"max_clock_skew_s": 1.0})
    try:
        hello = next(body for d, conn, i, t, body in pair.proxy.seen if d == "c2s" and t == REC_HANDSHAKE)
        port = pair.b.service.tunnel_address[1]
        rtype, body = await _send_client_hello(port, hello)
        assert (rtype, body) == (REC_ALERT, b"replayed")
        # Anyone can resend a ClientHello: the failure is charged to no peer (issue 15, finding 5).
        assert metric(pair.b, "gateway_handshake_failures_total", peer="unauthenticated", reason="replayed") == 1
        await asyncio.sleep(1.2)
        rtype, body = await _send_client_hello(port, hello)
        assert (rtype, body) == (REC_ALERT, b"stale")
        assert metric(pair.b, "gateway_handshake_failures_total", peer="unauthenticated", reason="stale") == 1
        assert pair.b.service.peer_states["site-a"].sessions == 1
    finally:
        await pair.stop()


async def _handshake_failure(gw, peer: str, reason: str) -> None:
    """Wait (10 s at most) until gateway ``gw`` has counted a failed handshake with ``peer`` for ``reason``."""
    await wait_for(lambda: metric(gw, "gateway_handshake_failures_total", peer=peer, reason=reason) >= 1, 10,
                   f"{reason} counted for {peer} at {gw.service.config.site_id}")


async def test_wrong_psk_fails_both_ways_with_its_reason(tmp_path, pki, kme, sha_target):
    def other_psk(gb):  # site-b holds a different PSK for site-a than site-a holds
        gb.service.ctx.peers["site-a"].psk = bytearray(b"\x42" * 32)

    pair = await start_pair(tmp_path, pki, kme.url, sha_target, wait=False, before_a=other_psk, auth="psk")
    try:
        await _handshake_failure(pair.a, "site-b", "bad_psk_mac")
        assert pair.session_a() is None and pair.session_b() is None
    finally:
        await pair.stop()


def _pinning_a_stranger(tmp_path, pinned: str) -> dict[str, str]:
    """Both sites' identities, but the public key in ``pinned`` (``a_pub``: what site-b pins for site-a;
    ``b_pub``: what site-a pins for site-b) is a third party's."""
    keys = make_identities(tmp_path)
    (tmp_path / "other").mkdir()
    keys[pinned] = make_identities(tmp_path / "other")[pinned]
    return keys


async def test_wrong_pinned_peer_key_fails_the_handshake_with_bad_signature(tmp_path, pki, kme, sha_target):
    keys = _pinning_a_stranger(tmp_path, "a_pub")   # site-b pins a key that is not site-a's
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, wait=False, keys=keys)
    try:
        # site-a's signature does not verify: it has not proven who it is, so no peer is charged.
        await _handshake_failure(pair.b, "unauthenticated", "bad_signature")
        await _handshake_failure(pair.a, "site-b", "peer_refused")   # site-a told of the refusal
        assert pair.session_a() is None and pair.session_b() is None
        assert "bad_signature" in pair.a.service.peer_states["site-b"].last_error
    finally:
        await pair.stop()


async def test_impostor_responder_with_another_key_is_rejected_by_the_initiator(tmp_path, pki, kme, sha_target):
    keys = _pinning_a_stranger(tmp_path, "b_pub")   # site-a pins a key site-b does not hold
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, wait=False, keys=keys)
    try:
        await _handshake_failure(pair.a, "site-b", "bad_signature")
        assert pair.session_a() is None and pair.session_b() is None
    finally:
        await pair.stop()
