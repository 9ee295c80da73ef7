"""``qshift gateway show`` against real running gateways (issue 19, item 4).

Two gateways on loopback with a real KME (hybrid X-Wing + QKD sessions); site-a's peer has a WireGuard
data plane whose rotator the service feeds from its own ``keys_installed`` hook, on a stand-in interface
(this test runs everywhere; the real WireGuard is in tests/gateway/test_dataplane_wireguard.py). The
command runs as a user runs it (the console script, a subprocess) and reads the gateway's /status over
HTTP. The KME is killed and restarted: the fall back to ``pqc-only`` and the return show, with causes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from typing import Any

import pytest

from gateway.dataplane import RotationPolicy, WireGuardPeerSpec, WireGuardPskRotator
from qkd.kms.pki import make_pki
from tests.cli.conftest import REPO, one_line_error, qshift
from tests.gateway.harness import SAE_A, SAE_B, Kme, start_pair, start_sha_service, wait_for
from tests.gateway.test_dataplane_psk import PEER_KEY, FakeWg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def show(*args: str) -> Any:
    """``qshift gateway show ARGS`` in a thread (the gateways answer from this event loop meanwhile)."""
    return await asyncio.to_thread(qshift, "gateway", "show", *args)


async def show_json(url: str) -> dict[str, Any]:
    result = await show("--url", url, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
async def running(tmp_path):
    pki = make_pki(tmp_path / "pki", kmes=["KME_A"], saes=[SAE_A, SAE_B, "admin"])
    server, target = await start_sha_service()
    kme = Kme(tmp_path, pki, prefill_bits=1 << 16)
    await kme.start()
    pair = await start_pair(tmp_path, pki, kme.url, target)
    wg = FakeWg(interface="wg-show0")
    rot = WireGuardPskRotator(peer="site-b", local_site="site-a", control=wg, spec=WireGuardPeerSpec(PEER_KEY),
                              policy=RotationPolicy(rotation_interval_s=30, max_age_s=60, install_timeout_s=2,
                                                    retry_interval_s=0.05))
    service = pair.a.service
    service.dataplanes.rotators[rot.peer] = rot     # what a kind = "wireguard" peer gets, on a stand-in wg
    session = service.sessions[rot.peer]
    rot.offer(session.keys, session.status()["epoch"])
    rot.start()
    try:
        yield pair, kme, rot
    finally:
        await rot.stop()
        await pair.stop()
        if kme.running is not None:
            await kme.kill()
        server.close()


async def test_show_summarises_every_peer_of_a_running_gateway_and_its_fallback_and_return(running):
    pair, kme, rot = running
    url = f"http://127.0.0.1:{pair.a.mgmt_port}"
    await wait_for(lambda: rot.state == "up" and rot.status().mode == "hybrid-qkd", 5, "the first PSK")
    first = await show_json(url)
    assert first["site"] == "site-a" and [p["peer"] for p in first["peers"]] == ["site-b"]
    peer = first["peers"][0]
    assert (peer["data_plane"], peer["target"], peer["state"], peer["mode"], peer["key_epoch"]) == \
        ("wireguard", "wg-show0", "up", "hybrid-qkd", 0)
    assert 0 <= peer["key_age_s"] < 30 and 0 < peer["next_rotation_in_s"] <= 30
    assert peer["mode_transition"]["to"] == "hybrid-qkd" and peer["mode_transition"]["why"] == "session_start"
    assert peer["plane_transition"]["to"] == "up" and peer["plane_transition"]["why"] == "rotated"
    # site-b's peer has the TCP tunnel only: its session's epoch and mode
    other = (await show_json(f"http://127.0.0.1:{pair.b.mgmt_port}"))["peers"][0]
    assert (other["peer"], other["data_plane"], other["state"], other["mode"], other["key_epoch"]) == \
        ("site-a", "tcp-tunnel", "up", "hybrid-qkd", 0)

    # the KME dies: the next epoch is pqc-only, and so is the PSK the data plane uses; the table says why
    await kme.kill()
    await pair.session_a().rekey_now()
    await wait_for(lambda: rot.status().mode == "pqc-only", 10, "a pqc-only PSK")
    table = await show("--url", url)
    assert table.returncode == 0, table.stderr
    assert all(len(line) <= 80 for line in table.stdout.splitlines()), table.stdout
    for needle in ("gateway site-a", "site-b", "wireguard", "wg-show0", "pqc-only", "mode → pqc-only"):
        assert needle in table.stdout, (needle, table.stdout)
    fallback = (await show_json(url))["peers"][0]
    assert fallback["mode"] == "pqc-only" and fallback["key_epoch"] >= 1
    assert fallback["mode_transition"]["from"] == "hybrid-qkd" and fallback["mode_transition"]["to"] == "pqc-only"
    assert fallback["mode_transition"]["why"] not in (None, "session_start"), fallback["mode_transition"]
    assert fallback["mode_transition"]["why"][:8] in table.stdout, table.stdout

    # the KME is back: the next epoch is hybrid again
    await kme.start()
    await pair.session_a().rekey_now()
    await wait_for(lambda: rot.status().mode == "hybrid-qkd" and rot.status().psk_epoch > fallback["key_epoch"],
                   10, "a hybrid PSK again")
    back = (await show_json(url))["peers"][0]
    assert back["mode"] == "hybrid-qkd" and back["session_mode"] == "hybrid-qkd"
    assert back["mode_transition"]["to"] == "hybrid-qkd" and back["mode_transition"]["why"] == "qkd_restored"


async def test_an_unreachable_gateway_is_one_line_naming_where_the_url_came_from(tmp_path):
    port = _free_port()
    result = await show("--url", f"http://127.0.0.1:{port}")
    one_line_error(result, "--url", f"127.0.0.1:{port}", "cannot reach")
    shutil.copy(REPO / "deploy" / "examples" / "gateway-site-a.toml", tmp_path / "a.toml")
    text = (tmp_path / "a.toml").read_text()
    assert "\n[management]" in text
    (tmp_path / "a.toml").write_text(_with_management(text, f"127.0.0.1:{port}"))
    result = await asyncio.to_thread(qshift, "gateway", "show", "a.toml", cwd=tmp_path)
    one_line_error(result, "a.toml", "management.listen", f"127.0.0.1:{port}", "cannot reach")
    result = await show("--url", "127.0.0.1:9101")
    one_line_error(result, "--url", "expected http://")


def _with_management(toml: str, listen: str) -> str:
    """``toml`` with its ``[management] listen`` replaced by ``listen``."""
    out, in_management = [], False
    for line in toml.splitlines():
        if line.startswith("["):
            in_management = line.split("#")[0].strip() == "[management]"
        if in_management and line.split("=")[0].strip() == "listen":
            line = f'listen = "{listen}"'
        out.append(line)
    return "\n".join(out) + "\n"



def test_the_table_fits_80_columns_whatever_the_peer_reports_and_prints_brackets_as_text():
    """Rendering alone (rows as ``/status`` gives them): a long error with ``[...]`` in it wraps inside its
    column and is printed as it is (never read as markup); a peer with no session and no key says so."""
    import io
    import time

    from rich.console import Console

    from qshift.commands.gateway_show import peer_rows, show_table

    now = time.time()
    error = "install: 'wg set' on wg-long-name0 exited 1: [Errno 2] No such device [/red] " + "x" * 120
    status = {"site": "site-a", "peers": {
        "site-b": {"connected": True, "mode": "pqc-only", "session": {"epoch": 7, "key_age_s": 3.2, "rekeys": 7},
                   "last_transition": {"at": now - 4000, "from": "hybrid-qkd", "to": "pqc-only",
                                       "cause": "kme_unreachable"},
                   "data_plane": {"plane": "wireguard", "target": "wg-long-name0", "state": "stale",
                                  "mode": "pqc-only", "psk_epoch": 6, "psk_age_s": 200.0, "next_rotation_in_s": 0.0,
                                  "last_error": error, "last_transition": {"at": now - 30, "from": "up",
                                                                           "to": "stale", "reason": "no_fresh_psk"}}},
        "site-c": {"connected": False, "mode": None, "session": None, "last_transition": None,
                   "data_plane": {"kind": "tcp-tunnel"}}}}
    rows = peer_rows(status, now)
    assert [(r["peer"], r["data_plane"], r["state"], r["key_epoch"]) for r in rows] == \
        [("site-b", "wireguard", "stale", 6), ("site-c", "tcp-tunnel", "down", None)]
    assert rows[0]["mode_transition"]["ago_s"] == 4000 and rows[0]["plane_transition"]["why"] == "no_fresh_psk"
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(show_table("site-a", rows))
    text = out.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines()), text
    flat = "".join(line.strip("│┃ ") for line in text.splitlines())
    assert "[Errno 2]" in text and "[/red]" in flat and "none yet" in text and "no session" in text
    assert "kme_unreachable, 67" in text and "no_fresh_psk, 30 s ago" in text
    assert "x" * 60 not in flat, "a long error is cut short in the table (the JSON has it whole)"
