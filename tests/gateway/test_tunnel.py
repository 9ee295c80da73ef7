"""Data plane in one process: back-pressure, reverse-rule refusal, several peers, key hard limits,
the management endpoints."""

from __future__ import annotations

import asyncio
import struct

from gateway.config import SiteConfig
from gateway.session import Session
from tests.gateway.harness import (
    http_json,
    http_text,
    make_identities,
    metric,
    site_dicts,
    start_gateway,
    start_pair,
    transfer,
    wait_for,
)


async def test_a_stalled_reader_holds_back_its_own_stream_only_within_one_window(tmp_path, pki, kme):
    # The far-end service pours 32 MB into a stream whose local client never reads.
    async def pour(reader, writer):
        try:
            for _ in range(512):
                writer.write(b"\xab" * (1 << 16))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(pour, "127.0.0.1", 0)
    target = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    window = 256 * 1024
    pair = await start_pair(tmp_path, pki, kme.url, target, data={"stream_window_bytes": window})
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", pair.fa)
        await wait_for(lambda: pair.session_b() is not None and len(pair.session_b().streams) == 1, 5,
                       "stream open at site-b")
        await asyncio.sleep(1.0)
        far = next(iter(pair.session_b().streams.values()))
        near = next(iter(pair.session_a().streams.values()))
        # The sender never runs more than one window ahead of what the stalled side wrote out...
        assert far.sent - far.peer_consumed <= window
        # ...and the receiving gateway holds at most one window for it, not 32 MB.
        assert near.received - near.advertised <= window
        assert far.sent < 8 * 1024 * 1024
        # Reading now drains the stalled stream completely.
        total = 0
        while total < 512 * (1 << 16):
            chunk = await asyncio.wait_for(reader.read(1 << 20), 10)
            if not chunk:
                break
            total += len(chunk)
        assert total == 512 * (1 << 16)
        writer.close()
    finally:
        await pair.stop()
        server.close()


async def test_other_streams_keep_flowing_while_one_stream_is_stalled(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, data={"stream_window_bytes": 64 * 1024})
    try:
        # A stream that uploads 4 MB and asks for 8 MB back but never reads its answer.
        reader, writer = await asyncio.open_connection("127.0.0.1", pair.fa)
        writer.write(struct.pack(">Q", 8 << 20) + b"\0" * (4 << 20))
        writer.write_eof()
        await asyncio.sleep(0.3)
        results = await asyncio.wait_for(
            asyncio.gather(*[transfer(pair.fa, 300_000, 300_000) for _ in range(10)]), 20)
        assert all(r.ok for r in results), results
        writer.close()
    finally:
        await pair.stop()


async def test_stream_to_a_target_outside_the_reverse_rules_is_refused(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target)
    try:
        session = pair.session_a()
        reader, writer = await asyncio.open_connection("127.0.0.1", pair.fa)  # any local socket pair
        try:
            await session.open_stream("127.0.0.1:22", reader, writer)
            raise AssertionError("the peer opened a stream to a target outside its reverse rules")
        except Exception as exc:  # noqa: BLE001
            assert "did not open a stream to 127.0.0.1:22" in str(exc)
        assert (await transfer(pair.fa, 1000, 1000)).ok  # the session itself is fine
    finally:
        await pair.stop()


async def test_one_gateway_serves_several_peers_each_with_its_own_session(tmp_path, pki, kme, sha_target):
    from qkd.kms.testing import free_port

    ids = make_identities(tmp_path)
    (tmp_path / "c").mkdir()
    c_ids = make_identities(tmp_path / "c")
    port = free_port()
    a, b = site_dicts(tmp_path, pki, kme.url, b_tunnel_port=port, sha_target=sha_target, keys=ids)
    # site-c: a second dialer into site-b, with its own key pair, QKD off.
    c = {"site_id": "site-c", "identity": {"signing_key": c_ids["a_key"]},
         "tunnel": {"redial_interval_s": 0.2},
         "peers": [{"name": "site-b", "public_key": ids["b_pub"], "qkd": "off", "connect": f"127.0.0.1:{port}"}],
         "forward": [{"listen": "127.0.0.1:0", "peer": "site-b", "target": sha_target}]}
    b["peers"].append({"name": "site-c", "public_key": c_ids["a_pub"], "qkd": "off"})
    b["reverse"].append({"peer": "site-c", "target": sha_target})
    gb = await start_gateway(b)
    ga = await start_gateway(a)
    gc = await start_gateway(c)
    try:
        await wait_for(lambda: set(gb.service.sessions) == {"site-a", "site-c"}, 10, "two sessions at site-b")
        assert gb.service.sessions["site-a"].keys.mode == "hybrid-qkd"
        assert gb.service.sessions["site-c"].keys.mode == "pqc-only"
        assert gb.service.sessions["site-c"].keys.cause == "policy_off"
        fa, fc = ga.service.forward_addresses[0][1], gc.service.forward_addresses[0][1]
        results = await asyncio.gather(*[transfer(p, 200_000, 200_000) for p in [fa, fc] * 5])
        assert all(r.ok for r in results), results
        status = await http_json(gb.mgmt_port, "/status")
        assert set(status["peers"]) == {"site-a", "site-c"}
        assert status["peers"]["site-c"]["session"]["streams"] == 0
    finally:
        for g in (gc, ga, gb):
            await g.stop()


async def test_keys_past_the_hard_limit_are_refused_and_the_session_closes(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target)
    try:
        session: Session = pair.session_a()
        session._send_epoch.created -= 10_000  # this epoch's keys are now far older than rekey.hard_limit_s
        result = await transfer(pair.fa, 10_000, 10_000)
        assert not result.ok
        await wait_for(lambda: session.closed, 5, "close on expired keys")
        assert session.close_cause == "keys_expired"
    finally:
        await pair.stop()


async def test_management_endpoints_report_health_status_and_prometheus_metrics(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target)
    try:
        assert (await transfer(pair.fa, 100_000, 5_000)).ok
        health = await http_json(pair.a.mgmt_port, "/healthz")
        assert health == {"ok": True, "site": "site-a"}
        status = (await http_json(pair.a.mgmt_port, "/status"))["peers"]["site-b"]
        session = status["session"]
        assert status["mode"] == "hybrid-qkd" and session["qkd_key_id"]
        assert session["bytes_to_peer"] >= 100_000 and session["bytes_from_peer"] >= 5_000
        assert session["key_age_s"] >= 0 and status["last_transition"]["cause"] == "session_start"
        text = await http_text(pair.a.mgmt_port, "/metrics")
        assert 'gateway_session_up{peer="site-b"} 1.0' in text
        assert 'gateway_session_mode{mode="hybrid-qkd",peer="site-b"} 1.0' in text
        assert "gateway_stream_bytes_total" in text and "gateway_key_age_seconds" in text
    finally:
        await pair.stop()


def test_site_config_rejects_a_rule_naming_an_unknown_peer():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="forward\\[0\\].peer: unknown peer 'nowhere'"):
        SiteConfig.model_validate({"site_id": "x", "forward": [{"listen": "127.0.0.1:1", "peer": "nowhere",
                                                                "target": "127.0.0.1:2"}]})


async def test_unreachable_reverse_target_refuses_the_stream_and_closes_the_local_connection(
        tmp_path, pki, kme):
    from qkd.kms.testing import free_port

    dead = f"127.0.0.1:{free_port()}"  # allowed by the reverse rule, but nothing listens there
    pair = await start_pair(tmp_path, pki, kme.url, dead, data={"open_timeout_s": 2.0})
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", pair.fa)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        assert pair.session_a() is not None and not pair.session_a().streams
    finally:
        await pair.stop()


async def test_half_close_by_the_far_service_first_still_carries_the_rest_of_the_upload(tmp_path, pki, kme):
    import hashlib
    import os

    received: dict[str, bytes] = {}

    async def answer_then_listen(reader, writer):
        writer.write(b"\x5a" * 200_000)
        writer.write_eof()                      # the far service is done talking...
        digest, total = hashlib.sha256(), 0
        while chunk := await reader.read(1 << 16):   # ...but keeps listening
            digest.update(chunk)
            total += len(chunk)
        received["digest"], received["total"] = digest.digest(), total.to_bytes(8, "big")
        writer.close()

    server = await asyncio.start_server(answer_then_listen, "127.0.0.1", 0)
    target = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pair = await start_pair(tmp_path, pki, kme.url, target)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", pair.fa)
        upload = os.urandom(2_000_000)
        writer.write(upload[:500_000])
        await writer.drain()
        got = await asyncio.wait_for(reader.read(), 10)     # EOF arrives while we are still sending
        assert got == b"\x5a" * 200_000
        writer.write(upload[500_000:])
        writer.write_eof()
        await writer.drain()
        await wait_for(lambda: "digest" in received, 10, "the far service to see our EOF")
        assert received["digest"] == hashlib.sha256(upload).digest()
        assert int.from_bytes(received["total"], "big") == len(upload)
        await wait_for(lambda: not pair.session_a().streams and not pair.session_b().streams, 5,
                       "the stream to end on both gateways once both halves are closed")
        writer.close()
    finally:
        await pair.stop()
        server.close()


def test_site_config_rejects_a_kme_timeout_that_would_outlast_the_handshake(tmp_path, pki):
    import pytest
    from pydantic import ValidationError

    a, _ = site_dicts(tmp_path, pki, "https://127.0.0.1:1", b_tunnel_port=1, sha_target="127.0.0.1:2")
    a["tunnel"]["handshake_timeout_s"] = 2.5
    with pytest.raises(ValidationError, match=r"kme.timeout_s = 2.0: .* before tunnel.handshake_timeout_s = 2.5"):
        SiteConfig.model_validate(a)


async def test_records_under_keys_past_the_receive_hard_limit_are_refused_as_expired(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, data={"bad_record_threshold": 2})
    try:
        receiver: Session = pair.session_b()
        receiver._recv_epochs[0].frames_received = receiver.rekey_cfg.hard_limit_frames   # as if 2^32 arrived
        results = await asyncio.gather(transfer(pair.fa, 10_000, 10_000), transfer(pair.fa, 10_000, 10_000))
        assert not any(r.ok for r in results)
        await wait_for(lambda: receiver.closed, 5, "close on records past the hard limit")
        assert receiver.close_cause == "bad_record_threshold"
        assert metric(pair.b, "gateway_records_rejected_total", peer="site-a", reason="expired") == 2
    finally:
        await pair.stop()
