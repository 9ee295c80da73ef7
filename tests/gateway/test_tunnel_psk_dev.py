from __future__ import annotations

import asyncio

from qkd.kms.testing import free_port
from tests.gateway.harness import site_dicts, start_gateway, transfer, wait_for


async def test_dev(tmp_path, pki, kme, sha_target):
    port = free_port()
    a, b = site_dicts(tmp_path, pki, kme.url, b_tunnel_port=port, sha_target=sha_target)
    gb = await start_gateway(b)
    ga = await start_gateway(a)
    try:
        await wait_for(lambda: "site-b" in ga.service.sessions and "site-a" in gb.service.sessions, 10, "session")
        print(ga.service.status())
        fa = ga.service.forward_addresses[0][1]
        fb = gb.service.forward_addresses[0][1]
        res = await asyncio.gather(*[transfer(fa, 100_000, 50_000) for _ in range(5)],
                                   *[transfer(fb, 70_000, 10_000) for _ in range(5)])
        assert all(r.ok for r in res), res
        task = ga.service.sessions["site-b"].rekey_now()
        await task
        res = await asyncio.gather(*[transfer(fa, 100_000, 50_000) for _ in range(5)])
        assert all(r.ok for r in res), res
        print(ga.service.status())
        print(gb.service.status())
    finally:
        await ga.stop()
        await gb.stop()
