"""The data-plane figures of ``bench/gateway.py`` (issue 19, item 3): WireGuard and IPsec keyed by qshift.

Two sites in network namespaces (``tests/netns/dataplane.py``: wireguard-go, or charon with user-space
ESP) and two real gateway processes (``qshift gateway serve``'s code, site TOMLs with ``kind =
"wireguard"`` / ``"ipsec"``, a KME process, hybrid-qkd sessions) that key them: each session epoch
installs a WireGuard PSK (``wg set`` in the namespace) or an IKEv2 PPK and a new IKE SA (VICI).

1. **Throughput**: iperf3 TCP A -> B through the tunnel while the gateways rotate the key every
   ``rotate_every_s`` (10 s, the issue's figure) against the same tunnel with the gateways stopped (the
   key stays as installed, nothing rotates); runs alternated, median of each; bar: ratio >= 0.98.
2. **Loss**: a numbered UDP echo (100 packets/s) across ``rotations`` rotations (100; every
   ``loss_every_s``), lost requests and replies told apart; for WireGuard the run also spans WireGuard's
   own re-handshake (every 120 s), which is when a PSK is used.
3. **Install time**: the rotator's ``last_install_ms`` of every epoch (from ``/status``) against the bare
   operation by hand in the same run (``wg set … preshared-key`` of the same PSK; for IPsec a hand-made
   make-before-break: initiate a new IKE SA, wait the same overlap, terminate the old one).

Rows the machine cannot run (no root, no TUN, tools missing) are skipped with the reason printed; the
figures of an earlier run stay in the results file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from _common import BenchResult

from tests.netns.dataplane import IpsecSites, Sites, WgSites, ipsec_unavailable, sh, wireguard_unavailable

ECHO_PPS = 100


def dataplane_defaults(quick: bool) -> dict[str, Any]:
    """Rotation and run lengths: the issue's (100 rotations, every 10 s; 30 s iperf3 runs, two of each), or
    a smoke run's."""
    if quick:
        return {"rotations": 10, "rotate_every_s": 10.0, "loss_every_s": 1.5, "seconds": 10.0, "rounds": 1}
    return {"rotations": 100, "rotate_every_s": 10.0, "loss_every_s": 10.0, "seconds": 30.0, "rounds": 2}


async def _status(port: int) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/status") as r:
        return await r.json()


async def _plane(port: int, peer: str) -> dict[str, Any]:
    plane: dict[str, Any] = (await _status(port))["peers"][peer]["data_plane"]
    return plane


async def _wait_keyed(ports: dict[str, int], timeout_s: float = 60.0) -> int:
    """Wait until both gateways' data planes are up with the same key epoch; that epoch."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            a, b = await _plane(ports["ma"], "site-b"), await _plane(ports["mb"], "site-a")
            last = (a.get("state"), a.get("psk_epoch"), b.get("state"), b.get("psk_epoch"), a.get("last_error"))
            if a["state"] == b["state"] == "up" and a["psk_epoch"] == b["psk_epoch"] is not None:
                return int(a["psk_epoch"])
        except Exception:  # noqa: BLE001 - gateways still starting
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the data planes were not keyed within {timeout_s} s (last seen {last})")


class Recorder:
    """Polls both gateways' /status: every key epoch seen and its install time (ms) per site."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.installs: dict[str, dict[int, float]] = {"a": {}, "b": {}}
        self.failures: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for side, port, peer in (("a", self.ports["ma"], "site-b"), ("b", self.ports["mb"], "site-a")):
                try:
                    plane = await _plane(port, peer)
                except Exception:  # noqa: BLE001 - one missed poll is not a figure
                    continue
                if plane.get("psk_epoch") is not None and plane.get("last_install_ms") is not None:
                    self.installs[side].setdefault(int(plane["psk_epoch"]), float(plane["last_install_ms"]))
                self.failures[side] = plane.get("failures")
            await asyncio.sleep(0.1)

    async def __aenter__(self) -> Recorder:
        self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def epochs(self) -> int:
        return max([0, *self.installs["a"], *self.installs["b"]])


async def _throughput(lab: Any, sites: Sites, start: Callable[[float], Awaitable[dict[str, int]]],
                      rotate_every_s: float, seconds: float, rounds: int) -> dict[str, Any]:
    """iperf3 through the tunnel with the gateways rotating (``qshift``) and stopped (``fixed``), alternated."""
    runs: dict[str, list[float]] = {"qshift": [], "fixed": []}
    rotations: list[int] = []
    for _ in range(rounds):
        ports = await start(rotate_every_s)
        first = await _wait_keyed(ports)
        runs["qshift"].append(await sites.iperf3_mbit_s(seconds))
        rotations.append(int((await _plane(ports["ma"], "site-b"))["psk_epoch"]) - first)
        lab.stop_gateways()
        runs["fixed"].append(await sites.iperf3_mbit_s(seconds))
    return {"runs": runs, "rotations_during_runs": rotations}


async def _loss(sites: Sites, start: Callable[[float], Awaitable[dict[str, int]]], rotations: int,
                every_s: float, handshakes: Callable[[], int] | None) -> dict[str, Any]:
    ports = await start(every_s)
    first = await _wait_keyed(ports)
    before = handshakes() if handshakes else None
    seen_handshakes: set[int] = set()
    # each epoch starts when the last one's rekey finished, so rotations come a little slower than every_s
    # (98 in 1,010 s at 10 s): leave 3 % and one interval for at least ``rotations`` inside the echo
    seconds = rotations * every_s * 1.03 + every_s
    async with Recorder(ports) as rec:
        echo = asyncio.ensure_future(sites.echo(int(seconds * ECHO_PPS), 1 / ECHO_PPS))
        while not echo.done():
            if handshakes:
                seen_handshakes.add(handshakes())
            await asyncio.sleep(1.0)
        result = await echo
        await asyncio.sleep(0.3)
    return {"echo": result, "rotations": rec.epochs() - first, "installs": rec.installs, "failures": rec.failures,
            "ports": ports, "wireguard_handshakes_seen": sorted(h for h in seen_handshakes if h and h != before)}


def _loss_row(plane: str, loss: dict[str, Any], every_s: float) -> BenchResult:
    echo = loss["echo"]
    lost = echo["sent"] - echo["received"]
    params = {"rotations": loss["rotations"], "rotate_every_s": every_s, "echo_packets_per_s": ECHO_PPS,
              "lost_requests": echo.get("lost_requests"), "lost_replies": echo.get("lost_replies"),
              "send_errors": echo["send_errors"], "rotator_failures": loss["failures"]}
    if plane == "wireguard":
        params["wireguard_handshakes_during_run"] = len(loss["wireguard_handshakes_seen"])
        params["note"] = ("WireGuard uses a PSK only in its handshakes (every 120 s): the run spans at least "
                          "one, made with a PSK rotated meanwhile")
    else:
        params["note"] = ("each rotation is a new IKE SA (the PPK enters at IKE_AUTH); a reply the IKE "
                          "responder sends between installing its new outbound SA and the initiator "
                          "installing the inbound one is lost (gateway/dataplane/ipsec.py)")
    return BenchResult(f"{plane}: packets lost over {loss['rotations']} key rotations", float(lost), "packets",
                       "echo packets sent (ratio = fraction lost)", float(echo["sent"]), params)


def _install_row(plane: str, loss: dict[str, Any], baseline_ms: list[float], baseline: str,
                 note: str) -> BenchResult:
    samples = [ms for side in ("a", "b") for epoch, ms in loss["installs"][side].items() if epoch > 0]
    initiator = [ms for epoch, ms in loss["installs"]["a"].items() if epoch > 0]
    values = initiator if plane == "ipsec" else samples
    return BenchResult(f"{plane}: key install time (median)", statistics.median(values) if values else float("nan"),
                       "ms", baseline, statistics.median(baseline_ms),
                       {"samples": len(values), "max_ms": max(values) if values else None,
                        "baseline_samples_ms": [round(x, 2) for x in baseline_ms], "note": note})


def _throughput_row(plane: str, tp: dict[str, Any], rotate_every_s: float, seconds: float,
                    tunnel: str) -> BenchResult:
    return BenchResult(f"{plane}: throughput while qshift rotates the key every {rotate_every_s:g} s",
                       statistics.median(tp["runs"]["qshift"]), "Mbit/s",
                       f"the same {plane} tunnel without qshift (key fixed)", statistics.median(tp["runs"]["fixed"]),
                       {"iperf3_seconds": seconds, "runs_Mbit_s": {k: [round(x, 1) for x in v]
                                                                    for k, v in tp["runs"].items()},
                        "rotations_during_runs": tp["rotations_during_runs"], "bar_ratio": 0.98,
                        "tunnel": tunnel})


async def _measure(lab: Any, sites: WgSites | IpsecSites, *, rotations: int, rotate_every_s: float,
                   loss_every_s: float, seconds: float, rounds: int,
                   handshakes: Callable[[], int] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Throughput (:func:`_throughput`) and loss over key rotations (:func:`_loss`) with two gateway processes
    keying ``sites``' data plane (rotation every ``rotate_every_s`` / ``loss_every_s`` s); gateways stopped after."""

    async def start(every_s: float) -> dict[str, int]:
        lab.stop_gateways()
        return lab.start_pair("127.0.0.1:9", every_s, False,
                              peer_extra={"a": sites.peer_toml("a"), "b": sites.peer_toml("b")})

    tp = await _throughput(lab, sites, start, rotate_every_s, seconds, rounds)
    loss = await _loss(sites, start, rotations, loss_every_s, handshakes)
    lab.stop_gateways()
    return tp, loss


@contextlib.contextmanager
def _sites_up(lab: Any, sites: Sites) -> Iterator[None]:
    """The sites started; on leaving, the gateways stopped and the sites' processes and namespaces removed
    (what is left behind is printed)."""
    try:
        sites.start()
        yield
    finally:
        lab.stop_gateways()
        left = sites.stop()
        if left:
            print(f"left behind: {left}")


def _skipped(plane: str, reason: str | None) -> bool:
    """True (and the reason printed) when this machine cannot run ``plane``'s rows."""
    if reason:
        print(f"{plane} rows skipped: {reason}")
    return reason is not None


async def wireguard_rows(lab: Any, tmp: Path, *, rotations: int, rotate_every_s: float, loss_every_s: float,
                         seconds: float, rounds: int) -> list[BenchResult]:
    if _skipped("wireguard", wireguard_unavailable()):
        return []
    sites = WgSites(f"qb{os.getpid() % 100000}")
    with _sites_up(lab, sites):
        tp, loss = await _measure(lab, sites, rotations=rotations, rotate_every_s=rotate_every_s,
                                  loss_every_s=loss_every_s, seconds=seconds, rounds=rounds,
                                  handshakes=lambda: sites.latest_handshake("a"))
        equal = sites.psk("a") == sites.psk("b") is not None
        # the bare operation: `wg set … preshared-key` of the PSK already installed (nothing changes)
        psk = sites.psk("a") or ""
        bare = []
        for _ in range(15):
            started = time.perf_counter()
            sh(*sites.in_ns("a", "wg", "set", sites.iface["a"], "peer", sites.peer_key("a"), "preshared-key",
                            "/dev/stdin"), input=psk + "\n")
            bare.append((time.perf_counter() - started) * 1e3)
        rows = [_throughput_row("wireguard", tp, rotate_every_s, seconds, "wireguard-go (userspace) in "
                                "two network namespaces over a veth pair"),
                _loss_row("wireguard", loss, loss_every_s),
                _install_row("wireguard", loss, bare, "bare `ip netns exec … wg set … preshared-key` (median)",
                             "both sites' installs of every epoch after the first (ip netns exec + wg set "
                                  f"through a pipe); PSKs equal at both ends at the end: {equal}")]
        return rows


async def ipsec_rows(lab: Any, tmp: Path, *, rotations: int, rotate_every_s: float, loss_every_s: float,
                     seconds: float, rounds: int) -> list[BenchResult]:
    if _skipped("ipsec", ipsec_unavailable()):
        return []
    from gateway.dataplane.ipsec import ViciControl

    sites = IpsecSites(f"qc{os.getpid() % 100000}", tmp)
    with _sites_up(lab, sites):
        await sites.load_ike_psk()
        tp, loss = await _measure(lab, sites, rotations=rotations, rotate_every_s=rotate_every_s,
                                  loss_every_s=loss_every_s, seconds=seconds, rounds=rounds, handshakes=None)
        # the same switch by hand over VICI, without qshift: a PPK of our own loaded at both ends with the
        # connection naming it, a new IKE SA, the same overlap, the old IKE SAs ended
        from gateway.dataplane.ppk import IkePpk

        vici = {side: ViciControl(sites.vici_socket(side), timeout_s=10) for side in ("a", "b")}
        bare = []
        for i in range(5):
            ppk = IkePpk(value=bytearray(os.urandom(32)), ppk_id=f"bench-{os.getpid()}-{i}", epoch=i, mode="pqc-only")
            started = time.perf_counter()
            for side in ("b", "a"):
                await vici[side].load_ppk(ppk)
                await vici[side].load_conn(sites.CONN, sites.conn(side), ppk_id=ppk.ppk_id, ppk_required=False)
            before = [sa.get("uniqueid") for sa in await vici["a"].ike_sas(sites.CONN)]
            await vici["a"].initiate("net", sites.CONN)
            await asyncio.sleep(1.0)
            for ike_id in before:
                await vici["a"].terminate(sites.CONN, ike_id)
            bare.append((time.perf_counter() - started) * 1e3)
        return [_throughput_row("ipsec", tp, rotate_every_s, seconds, "strongSwan 5.9 charon, ESP in user "
                                "space (kernel-libipsec over TUN), two namespaces over a veth pair"),
                _loss_row("ipsec", loss, loss_every_s),
                _install_row("ipsec", loss, bare, "by hand over VICI: PPK + connection loaded at both ends, "
                             "new IKE SA, 1 s overlap, old ended (median)",
                             "the initiator's install: load PPK + reload connection + new IKE SA (IKE_SA_INIT, "
                             "IKE_AUTH with the PPK) + overlap_s = 1 s + old IKE SA ended")]
