"""A self-contained run of three KMEs A – T – B on loopback, for ``qshift demo``.

:func:`relay_demo_step` makes a throw-away PKI, starts KME_A, KME_T and KME_B in-process (mutual TLS on
ephemeral ports; links fed from a SYNTHETIC shared seed, clearly not QKD key), has SAE_A get a key at
KME_A with enc_keys and SAE_B redeem it at KME_B with dec_keys, and returns a one-line summary. It raises
if the keys differ or a hop did not consume exactly |K| bits.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from qkd.kms.client import KmeClient
from qkd.kms.pki import make_pki
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_node_config, chain_topology, free_port

NODES = ["KME_A", "KME_T", "KME_B"]


async def run_relay_demo(directory: Path, number: int = 4, size_bits: int = 256) -> dict[str, Any]:
    """Run the A – T – B relay once in ``directory``; returns what happened (no key material)."""
    pki = make_pki(directory / "pki", kmes=NODES, saes=["SAE_A", "SAE_B"])
    ports = {n: free_port() for n in NODES}
    topo = chain_topology(NODES, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B"})
    kmes = {n: await start_kme(chain_node_config(directory / n, pki, n, topo, ports, seed="qshift-demo",
                                                 prefill_bits=1 << 16, admin_ids=[]))
            for n in NODES}
    try:
        hop_pools = [("KME_A", "KME_A-KME_T:KME_A>KME_T"), ("KME_T", "KME_A-KME_T:KME_A>KME_T"),
                     ("KME_T", "KME_T-KME_B:KME_T>KME_B"), ("KME_B", "KME_T-KME_B:KME_T>KME_B")]
        before = [kmes[n].service.store.available_bits(p) for n, p in hop_pools]
        async with KmeClient(kmes["KME_A"].url, pki.client_context("SAE_A")) as a, \
                KmeClient(kmes["KME_B"].url, pki.client_context("SAE_B")) as b:
            status = await a.status("SAE_B")
            keys = await a.enc_keys("SAE_B", number=number, size_bits=size_bits)
            got = await b.dec_keys("SAE_A", [k.key_id for k in keys])
        if [g.key for g in got] != [k.key for k in keys]:
            raise RuntimeError("SAE_B's keys differ from SAE_A's")
        used = [b0 - kmes[n].service.store.available_bits(p) for (n, p), b0 in zip(hop_pools, before, strict=True)]
        if any(u != number * size_bits for u in used):
            raise RuntimeError(f"link key consumed per hop end {used}, expected {number * size_bits} bits each")
        for delivered in keys + got:
            delivered.wipe()
        return {"keys": number, "size_bits": size_bits, "route": "KME_A->KME_T->KME_B",
                "consumed_bits_per_hop": number * size_bits, "stored_key_count_before": status["stored_key_count"],
                "key_ids": [k.key_id for k in keys]}
    finally:
        for kme in kmes.values():
            await kme.stop()


def relay_demo_step() -> str:
    """Run :func:`run_relay_demo` in a temporary directory; one line for the demo table."""
    with tempfile.TemporaryDirectory() as d:
        r = asyncio.run(run_relay_demo(Path(d)))
    return (f"SAE_A@KME_A -> SAE_B@KME_B via KME_T: {r['keys']} x {r['size_bits']}-bit keys equal at both SAEs, "
            f"{r['consumed_bits_per_hop']} bits of link key per hop (synthetic link feeds)")
