"""Key-source policy: fallback to pqc-only when the KME fails, return to hybrid when it recovers,
fail closed under ``required``. A real KME on loopback is killed, emptied and alarmed."""

from __future__ import annotations

import asyncio
import logging
import os

from tests.gateway.harness import Kme, http_json, http_text, metric, start_pair, transfer, wait_for

FAST_REKEY = {"interval_s": 0.4, "hard_limit_s": 30.0}


#: pool size of the ``kme_ctl`` fixture's KME (conftest.py)
KME_PREFILL_BITS = 1 << 16


def _mode(pair) -> tuple[str | None, str | None]:
    sa, sb = pair.session_a(), pair.session_b()
    return (sa.keys.mode if sa else None), (sb.keys.mode if sb else None)


async def _fault_and_recover(pair, inject, clear, cause: str) -> None:
    """Streams flow while ``inject`` forces pqc-only and ``clear`` brings hybrid back at a later rekey."""
    first_a, first_b = pair.session_a(), pair.session_b()
    assert _mode(pair) == ("hybrid-qkd", "hybrid-qkd")
    flows = [asyncio.create_task(transfer(port, 1_500_000, 300_000, pause_s=2.5))
             for port in [pair.fa] * 6 + [pair.fb] * 6]
    await asyncio.sleep(0.3)
    await inject()
    await wait_for(lambda: _mode(pair) == ("pqc-only", "pqc-only"), 10, "fallback to pqc-only")
    status = (await http_json(pair.a.mgmt_port, "/status"))["peers"]["site-b"]
    assert status["mode"] == "pqc-only"
    # A KME killed between site-a's enc_keys and site-b's dec_keys is first seen by site-b, which cannot
    # redeem the key_ID: the same fault, reported as the peer's (``peer_key_...``).
    accepted = {cause, "peer_key_" + cause} if cause == "kme_unreachable" else {cause}
    first = status["last_transition"]["cause"]
    assert status["last_transition"]["to"] == "pqc-only" and first in accepted, status["last_transition"]
    assert status["session"]["fallback_cause"] in accepted
    await clear()
    await wait_for(lambda: _mode(pair) == ("hybrid-qkd", "hybrid-qkd"), 10, "return to hybrid-qkd")
    results = await asyncio.gather(*flows)
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    # Same sessions throughout: nothing was torn down, every stream completed byte-exact.
    assert pair.session_a() is first_a and pair.session_b() is first_b
    assert first_a.rekeys >= 2
    after = (await http_json(pair.a.mgmt_port, "/status"))["peers"]["site-b"]
    assert after["last_transition"]["to"] == "hybrid-qkd" and after["last_transition"]["cause"] == "qkd_restored"
    assert metric(pair.a, "gateway_qkd_fallbacks_total", peer="site-b", cause=first) >= 1
    assert metric(pair.a, "gateway_mode_transitions_total", peer="site-b", from_mode="hybrid-qkd",
                  to_mode="pqc-only", cause=first) == 1
    assert metric(pair.a, "gateway_mode_transitions_total", peer="site-b", from_mode="pqc-only",
                  to_mode="hybrid-qkd", cause="qkd_restored") == 1
    text = await http_text(pair.a.mgmt_port, "/metrics")
    assert f'gateway_qkd_fallbacks_total{{cause="{first}",peer="site-b"}}' in text


async def test_killed_kme_means_pqc_only_without_broken_streams_and_restart_means_hybrid_again(
        tmp_path, pki, kme_ctl, sha_target, caplog):
    caplog.set_level(logging.INFO, logger="gateway")
    pair = await start_pair(tmp_path, pki, kme_ctl.url, sha_target, rekey=FAST_REKEY)
    try:
        await _fault_and_recover(pair, kme_ctl.kill, kme_ctl.start, "kme_unreachable")
        events = [r for r in caplog.records if getattr(r, "event", "") == "gateway.mode_change"]
        assert any(r.to_mode == "pqc-only" and r.cause in ("kme_unreachable", "peer_key_kme_unreachable")
                   and r.levelno == logging.WARNING
                   for r in events)
        assert any(r.to_mode == "hybrid-qkd" and r.cause == "qkd_restored" for r in events)
    finally:
        await pair.stop()


async def test_empty_key_pool_means_pqc_only_and_a_refill_means_hybrid_again(tmp_path, pki, sha_target):
    ctl = Kme(tmp_path, pki, prefill_bits=256 * 3)   # three keys: the handshake and two rekeys
    await ctl.start()
    pair = await start_pair(tmp_path, pki, ctl.url, sha_target, rekey=FAST_REKEY)

    async def nothing() -> None:
        return None

    async def refill() -> None:
        ctl.running.service.deposit("local", os.urandom(32 * 64))

    try:
        await _fault_and_recover(pair, nothing, refill, "key_exhausted")
    finally:
        await pair.stop()
        await ctl.kill()


async def test_link_alarm_means_pqc_only_and_clearing_it_means_hybrid_again(tmp_path, pki, kme_ctl, sha_target):
    pair = await start_pair(tmp_path, pki, kme_ctl.url, sha_target, rekey=FAST_REKEY)

    async def alarm() -> None:
        kme_ctl.running.service.set_link_alarm("local", True, qber=0.14)

    async def clear() -> None:
        kme_ctl.running.service.set_link_alarm("local", False)

    try:
        await _fault_and_recover(pair, alarm, clear, "link_alarm")
    finally:
        await pair.stop()


async def test_required_policy_with_the_kme_down_carries_no_data_and_says_why(tmp_path, pki, kme_ctl, sha_target):
    await kme_ctl.kill()
    pair = await start_pair(tmp_path, pki, kme_ctl.url, sha_target, wait=False, qkd_a="required",
                            qkd_b="required", min_mode_a="hybrid-qkd", min_mode_b="hybrid-qkd",
                            data={"open_timeout_s": 1.0})
    try:
        await wait_for(lambda: metric(pair.a, "gateway_handshake_failures_total", peer="site-b",
                                      reason="qkd_required") >= 1, 10, "qkd_required failure")
        result = await transfer(pair.fa, 10_000, 10_000)
        assert not result.ok
        assert pair.session_a() is None and pair.session_b() is None
        status = (await http_json(pair.a.mgmt_port, "/status"))["peers"]["site-b"]
        assert status["connected"] is False and status["last_error_reason"] == "qkd_required"
        assert "requires a QKD key" in status["last_error"] and "kme_unreachable" in status["last_error"]
        assert metric(pair.b, "gateway_stream_bytes_total", peer="site-a", direction="from_peer") == 0
    finally:
        await pair.stop()


async def test_required_policy_fails_closed_at_rekey_when_the_kme_dies(tmp_path, pki, kme_ctl, sha_target):
    pair = await start_pair(tmp_path, pki, kme_ctl.url, sha_target, qkd_a="required", qkd_b="required",
                            rekey=FAST_REKEY)
    try:
        first = pair.session_a()
        assert first.keys.mode == "hybrid-qkd"
        await kme_ctl.kill()
        await wait_for(lambda: first.closed, 10, "session closed at the failed rekey")
        assert first.close_cause == "rekey_failed:qkd_required"
        assert pair.session_a() is None
        assert metric(pair.a, "gateway_handshake_failures_total", peer="site-b", reason="qkd_required") >= 1
    finally:
        await pair.stop()


async def test_responder_min_mode_hybrid_refuses_a_peer_that_offers_only_pqc(tmp_path, pki, kme_ctl, sha_target):
    pair = await start_pair(tmp_path, pki, kme_ctl.url, sha_target, wait=False, qkd_a="off",
                            min_mode_b="hybrid-qkd")
    try:
        # Refused at the ClientHello, before site-a has proven who it is: charged to no peer (issue 15, 5).
        await wait_for(lambda: metric(pair.b, "gateway_handshake_failures_total", peer="unauthenticated",
                                      reason="qkd_required") >= 1, 10, "site-b refusing pqc-only")
        await wait_for(lambda: metric(pair.a, "gateway_handshake_failures_total", peer="site-b",
                                      reason="peer_refused") >= 1, 10, "site-a told why")
        assert "qkd_required" in pair.a.service.peer_states["site-b"].last_error
        assert pair.session_a() is None and pair.session_b() is None
    finally:
        await pair.stop()
