"""Helpers shared by the KME tests that start node processes from a TOML file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from qkd.kms.client import KmeClient
from qkd.kms.config import KmeConfig
from qkd.kms.testing import to_toml


def _without_nones(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _without_nones(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_without_nones(v) for v in x]
    return x


def write_toml(cfg: KmeConfig, path: Path) -> None:
    """Write ``cfg`` as a node TOML file (TOML has no null: unset options are left out)."""
    path.write_text(to_toml(_without_nones(cfg.model_dump(mode="json"))))


def feed_node_config(tmp_path: Path, pki: Any, node: str, topo: dict[str, Any], ports: dict[str, int],
                     feed: dict[str, Any]) -> KmeConfig:
    """An in-process node ``node`` of a chain topology, its store under ``tmp_path/node``, running ``feed``."""
    return KmeConfig.model_validate({
        "node": {"id": node, "listen_port": ports[node], "db_path": str(tmp_path / node / "k.sqlite"),
                 "master_key_path": str(tmp_path / node / "m.key")},
        "tls": {"ca": str(pki.ca), "cert": str(pki.cert(node)), "key": str(pki.key(node))},
        "topology": topo,
        "feeds": [feed],
    })


async def until(predicate: Callable[[], bool], timeout_s: float, what: str,
                detail: Callable[[], str] | None = None) -> float:
    """Wait (polling every 50 ms) until ``predicate()``; fail the test naming ``what`` after ``timeout_s`` (s).
    Returns the seconds waited."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    while not predicate():
        if loop.time() - t0 > timeout_s:
            pytest.fail(f"{what} not within {timeout_s} s" + (f": {detail()}" if detail else ""))
        await asyncio.sleep(0.05)
    return loop.time() - t0


async def metrics_text(kme: Any, pki: Any) -> str:
    """The node's ``/metrics`` page, fetched as SAE_A (a client certificate the KME accepts)."""
    connector = aiohttp.TCPConnector(ssl=pki.client_context("SAE_A"))
    async with aiohttp.ClientSession(connector=connector) as session, session.get(f"{kme.url}/metrics") as resp:
        assert resp.status == 200
        return str(await resp.text())


async def assert_sae_c_redeems_sae_a_keys(a: Any, t: Any, pki: Any, number: int = 2) -> None:
    """SAE_A takes ``number`` keys for SAE_C at node ``a``; SAE_C redeems the same keys at node ``t`` over the
    link (ETSI GS QKD 014 ``enc_keys`` / ``dec_keys``)."""
    async with KmeClient(a.url, pki.client_context("SAE_A")) as sae_a, \
            KmeClient(t.url, pki.client_context("SAE_C")) as sae_c:
        keys = await sae_a.enc_keys("SAE_C", number=number)
        got = await sae_c.dec_keys("SAE_A", [k.key_id for k in keys])
    assert [g.key for g in got] == [k.key for k in keys]
