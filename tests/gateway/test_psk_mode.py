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


def test_a_psk_file_readable_by_others_is_refused_naming_file_and_mode(tmp_path, pki):
    import pytest

    from gateway.config import SiteConfig
    from gateway.errors import GatewayConfigError
    from gateway.service import GatewayService
    from tests.gateway.harness import site_dicts

    a, _ = site_dicts(tmp_path, pki, "https://127.0.0.1:1", b_tunnel_port=1, sha_target="127.0.0.1:2", auth="psk")
    psk = a["peers"][0]["psk_file"]
    GatewayService(SiteConfig.model_validate(a))      # 0600: accepted
    (tmp_path / "a-b.psk").chmod(0o644)
    with pytest.raises(GatewayConfigError, match=r"peers\[site-b\].psk_file: .*a-b.psk has mode 0644"):
        GatewayService(SiteConfig.model_validate(a))
    assert psk.endswith("a-b.psk")
