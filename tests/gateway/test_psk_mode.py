"""PSK authentication: hybrid sessions in both directions, a rekey with a fresh QKD key, ChaCha20."""

from __future__ import annotations

import asyncio

from tests.gateway.harness import start_pair, transfer, wait_for


async def test_psk_sessions_carry_streams_both_ways_and_rekey_to_a_fresh_qkd_key(tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, auth="psk", data={"aead": "chacha20-poly1305"})
    try:
        first_key_id = pair.session_a().keys.key_id
        assert pair.session_a().keys.mode == pair.session_b().keys.mode == "hybrid-qkd"
        assert pair.session_a().keys.aead == "chacha20-poly1305"
        results = await asyncio.gather(*[transfer(pair.fa, 100_000, 50_000) for _ in range(5)],
                                       *[transfer(pair.fb, 70_000, 10_000) for _ in range(5)])
        assert all(r.ok for r in results), results
        await pair.session_a().rekey_now()
        await wait_for(lambda: pair.session_b().rekeys == 1, 5, "site-b to install the new keys")
        assert pair.session_a().rekeys == 1
        assert pair.session_a().keys.key_id == pair.session_b().keys.key_id != first_key_id
        results = await asyncio.gather(*[transfer(pair.fa, 100_000, 50_000) for _ in range(5)])
        assert all(r.ok for r in results), results
    finally:
        await pair.stop()
