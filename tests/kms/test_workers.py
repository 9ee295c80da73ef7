"""``qshift kme serve --workers N``: worker processes share the port (SO_REUSEPORT) and the SQLite store;
each key still goes out once, and the node lives and dies whole."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from qkd.kms.client import KmeAdminClient, KmeClient, KmeRefusedError
from qkd.kms.testing import free_port, single_node_config, to_toml


def node_toml(tmp_path, pki, prefill_bits: int = 1 << 16) -> tuple[Path, str]:
    port = free_port()
    cfg = single_node_config(tmp_path, pki, port=port, prefill_bits=prefill_bits)
    cfg.topology.nodes[0].url = f"https://127.0.0.1:{port}"
    path = tmp_path / "node.toml"
    path.write_text(to_toml(cfg.model_dump(mode="json")))
    return path, cfg.topology.nodes[0].url


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(cond, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


async def test_two_workers_share_port_and_store_and_hand_out_each_key_once(tmp_path, pki, spawn_node):
    path, url = node_toml(tmp_path, pki)
    node = spawn_node(path, None, ("--workers", "2"))
    pids = node.ready["pids"]
    assert node.ready["workers"] == 2 and len(pids) == 2
    cpu0 = [cpu_s(p) for p in pids]
    # many connections (one client per task): the kernel spreads them over both workers
    async def pair(i: int) -> tuple[list, list]:
        async with KmeClient(url, pki.client_context("SAE_A")) as a, KmeClient(url, pki.client_context("SAE_B")) as b:
            keys = await a.enc_keys("SAE_B", 2, 256)
            # two redemptions of the same key_IDs, on different connections, possibly different workers
            async with KmeClient(url, pki.client_context("SAE_B")) as b2:
                got = await asyncio.gather(b.dec_keys("SAE_A", [k.key_id for k in keys]),
                                           b2.dec_keys("SAE_A", [k.key_id for k in keys]), return_exceptions=True)
            return keys, got

    results = await asyncio.gather(*(pair(i) for i in range(24)))
    busy = [cpu_s(p) - c for p, c in zip(pids, cpu0, strict=True)]
    assert all(b > 0 for b in busy), busy                       # both processes served requests
    issued = {k.key_id: bytes(k.key) for keys, _ in results for k in keys}
    assert len(issued) == 48 and len(set(issued.values())) == 48
    delivered = {}
    for keys, got in results:
        wins = [g for g in got if isinstance(g, list)]
        losses = [g for g in got if not isinstance(g, list)]
        assert len(wins) == 1 and len(losses) == 1 and isinstance(losses[0], KmeRefusedError)
        assert [k.key_id for k in wins[0]] == [k.key_id for k in keys]
        for k in wins[0]:
            assert k.key_id not in delivered
            delivered[k.key_id] = bytes(k.key)
    assert delivered == issued
    async with KmeAdminClient(url, pki.client_context("admin"), 5.0) as admin:
        report = await admin.pools()
    [local] = [p for p in report["pools"] if p["name"] == "local"]
    assert local["consumed_bits_total"] == 48 * 256
    assert report["deliveries"] == {"master:delivered": 48, "slave:delivered": 48}
    # a node is killed whole: killing worker 0 takes the other worker down (PR_SET_PDEATHSIG)
    node.kill(signal.SIGKILL)
    assert wait_until(lambda: not alive(pids[1]))


def test_a_worker_that_dies_stops_the_node_with_an_error(tmp_path, pki, spawn_node):
    path, _ = node_toml(tmp_path, pki, prefill_bits=0)
    node = spawn_node(path, None, ("--workers", "2"))
    os.kill(node.ready["pids"][1], signal.SIGKILL)
    assert wait_until(lambda: node.proc.poll() is not None)
    assert node.proc.returncode != 0


def test_workers_are_refused_for_a_node_running_emulated_link_ends(tmp_path, pki):
    import subprocess
    import sys

    from qkd.kms.testing import chain_node_config, chain_topology
    ports = {"KME_A": free_port(), "KME_B": free_port()}
    cfg = chain_node_config(tmp_path, pki, "KME_A", chain_topology(["KME_A", "KME_B"], ports, {"SAE_A": "KME_A"}),
                            ports)
    feeds = cfg.model_dump(mode="json")
    feeds["feeds"] = [{"pool": "KME_A-KME_B", "kind": "emulated"}] + feeds["feeds"][1:]
    path = tmp_path / "node.toml"
    path.write_text(to_toml(feeds))
    out = subprocess.run([sys.executable, "-m", "qshift.cli", "kme", "serve", str(path), "--workers", "2"],
                         capture_output=True, text=True, timeout=60)
    message = " ".join(w for w in out.stderr.split() if w.strip("│╭╮╰╯─"))   # rich may wrap it in a box
    assert out.returncode != 0 and "emulated link ends" in message
