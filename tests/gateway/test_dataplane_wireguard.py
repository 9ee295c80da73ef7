"""WireGuard keyed by the gateway session, for real: two network namespaces, ``wireguard-go`` in each.

Site A and site B are namespaces joined by a veth pair (10.233.0.1 / .2); each runs ``wireguard-go -f`` on
its own interface (the userspace implementation: this kernel has no WireGuard module; the control
sockets under /var/run/wireguard/ are shared by all namespaces, so every interface has a name of its
own). The tunnel carries 10.234.0.1 ↔ 10.234.0.2. Two real gateways (in this process, on loopback, with
a real KME: hybrid X-Wing + QKD sessions) negotiate the session; a :class:`WireGuardPskRotator` at each
end, fed by its gateway's ``keys_installed`` hook as the service will feed it, derives each epoch's PSK
and installs it with ``wg`` inside its namespace.

Traffic is a UDP echo with sequence numbers (loss counted packet by packet, requests and replies apart),
a checksummed TCP stream, and iperf3 for throughput. The sites are ``tests/netns/dataplane.py``'s
:class:`WgSites` (the benchmark runs the same).
Needs root, ``ip netns``, /dev/net/tun, ``wireguard-go`` and ``wg`` (``.ci/run`` installs the Debian
packages); skips with the reason otherwise. Leaves no namespace, interface or process behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.dataplane import RotationPolicy, WgTool, WireGuardPeerSpec, WireGuardPskRotator, metrics_text
from gateway.dataplane.psk import derive_wireguard_psk
from tests.gateway.harness import start_pair, wait_for
from tests.netns.dataplane import WgSites, sh, wireguard_unavailable

pytestmark = pytest.mark.netns

TAG = f"qw{os.getpid() % 100000}"
#: The two sites (namespaces, wireguard-go in each): ``tests/netns/dataplane.py``, as the benchmark runs them.
SITES = WgSites(TAG, subnet=233)
NS, IFACE, UNDERLAY, INNER, PORT = SITES.ns, SITES.iface, SITES.underlay, SITES.inner, SITES.port
PEER_NAME = {"a": "site-b", "b": "site-a"}          # the gateway peer each side's WireGuard peer belongs to
SITE = {"a": "site-a", "b": "site-b"}

SKIP_REASON = wireguard_unavailable(need_iperf3=False)
if SKIP_REASON:
    pytestmark = [pytest.mark.netns, pytest.mark.skip(reason=SKIP_REASON)]


def in_ns(side: str, *args: str) -> list[str]:
    return SITES.in_ns(side, *args)


class WgNet:
    """What the tests use of :data:`SITES`: ``wg`` on each side, each side's view of its peer."""

    def tool(self, side: str) -> WgTool:
        return WgTool(IFACE[side], netns=NS[side])

    def spec(self, side: str) -> WireGuardPeerSpec:
        """Side ``side``'s view of its peer (the other side)."""
        other = "b" if side == "a" else "a"
        return WireGuardPeerSpec(public_key=SITES.peer_key(side), endpoint=f"{UNDERLAY[other]}:{PORT[other]}",
                                 allowed_ips=(f"{INNER[other]}/32",))

    def reset_peers(self) -> None:
        """Both peers removed and recreated without a PSK: no WireGuard session, no PSK of ours."""
        for side in ("a", "b"):
            spec = self.spec(side)
            sh(*in_ns(side, "wg", "set", IFACE[side], "peer", spec.public_key, "remove"))
            sh(*in_ns(side, "wg", "set", IFACE[side], "peer", spec.public_key, "endpoint", spec.endpoint or "",
                      "allowed-ips", ",".join(spec.allowed_ips)))

    def wg_psk(self, side: str) -> str | None:
        """The PSK ``wg show`` reports on ``side`` for its peer (None when the peer is absent)."""
        return SITES.psk(side)

    def latest_handshake(self, side: str) -> int:
        return SITES.latest_handshake(side)


@pytest.fixture(scope="module")
def wgnet() -> Iterator[WgNet]:
    with SITES.running():
        yield WgNet()


async def echo(count: int, interval_s: float) -> dict[str, Any]:
    """UDP echo A -> B -> A through the tunnel: ``count`` numbered packets, one every ``interval_s``."""
    return await SITES.echo(count, interval_s)


async def iperf3_mbit_s(seconds: float) -> float | None:
    """TCP throughput A -> B through the tunnel (None without iperf3)."""
    if not shutil.which("iperf3"):
        return None
    return await SITES.iperf3_mbit_s(seconds)


class Sites:
    """Two real gateways, each feeding a rotator through its own data-plane hook (``GatewayService.
    dataplanes``: ``keys_installed`` → ``DataPlanes.keys_installed`` → the rotator), as a gateway whose peer
    has ``kind = "wireguard"`` does; the rotators are placed on the running services because the WireGuard
    interfaces' keys exist only once the namespaces are up."""

    def __init__(self, pair: Any, net: WgNet, policy: RotationPolicy) -> None:
        self.pair = pair
        self.rot = {side: WireGuardPskRotator(peer=PEER_NAME[side], local_site=SITE[side], control=net.tool(side),
                                              spec=net.spec(side), policy=policy) for side in ("a", "b")}
        for side, service in (("a", pair.a.service), ("b", pair.b.service)):
            rot = self.rot[side]
            service.dataplanes.rotators[rot.peer] = rot
            session = service.sessions[rot.peer]
            rot.offer(session.keys, session.status()["epoch"])
            rot.start()

    def epochs(self) -> tuple[int | None, int | None]:
        return self.rot["a"].status().psk_epoch, self.rot["b"].status().psk_epoch

    async def rekey(self) -> int:
        """One session rekey; returns the new epoch once both rotators have installed its PSK."""
        await self.pair.session_a().rekey_now()
        epoch = self.pair.session_a().status()["epoch"]
        await wait_for(lambda: self.epochs() == (epoch, epoch) and all(r.state == "up" for r in self.rot.values()),
                       10, f"both ends to install the PSK of epoch {epoch}")
        return epoch

    async def stop(self) -> None:
        for rot in self.rot.values():
            await rot.stop()
        await self.pair.stop()


@pytest.fixture
async def sites_factory(tmp_path, pki, kme, sha_target, wgnet):
    made: list[Sites] = []

    async def make(policy: RotationPolicy | None = None, **pair_kw: Any) -> Sites:
        wgnet.reset_peers()
        pair = await start_pair(tmp_path, pki, kme.url, sha_target, **pair_kw)
        sites = Sites(pair, wgnet, policy or RotationPolicy(install_timeout_s=5, retry_interval_s=0.2))
        made.append(sites)
        return sites

    yield make
    for sites in made:
        await sites.stop()


async def test_traffic_flows_through_wireguard_keyed_by_the_psk_both_gateways_derived(sites_factory, wgnet):
    sites = await sites_factory()
    await wait_for(lambda: sites.epochs() == (0, 0), 10, "both ends to install epoch 0")
    keys_a, keys_b = sites.pair.session_a().keys, sites.pair.session_b().keys
    assert keys_a.mode == "hybrid-qkd"
    expect_a = derive_wireguard_psk(keys_a, local_site="site-a", epoch=0).wg_key_line().decode().strip()
    expect_b = derive_wireguard_psk(keys_b, local_site="site-b", epoch=0).wg_key_line().decode().strip()
    assert wgnet.wg_psk("a") == expect_a == expect_b == wgnet.wg_psk("b")
    result = await echo(40, 0.01)
    assert result["missing"] == [], result
    assert wgnet.latest_handshake("a") > 0 and wgnet.latest_handshake("b") > 0
    mbit_s = await iperf3_mbit_s(2)
    print(f"\nthroughput through WireGuard (wireguard-go, derived PSK): {mbit_s} Mbit/s")
    assert mbit_s is None or mbit_s > 1
    st = sites.rot["a"].status()
    assert (st.state, st.mode, st.psk_epoch) == ("up", "hybrid-qkd", 0)
    assert st.psk_fingerprint == sites.rot["b"].status().psk_fingerprint
    assert expect_a not in json.dumps(st.to_dict()) and expect_a not in metrics_text(sites.rot.values()).decode()
    # the gateway's own /status and /metrics show the data plane of that peer
    shown = sites.pair.a.service.status()["peers"][PEER_NAME["a"]]["data_plane"]
    assert shown["psk_epoch"] == 0 and shown["state"] == "up" and expect_a not in json.dumps(shown)
    from prometheus_client import generate_latest
    assert b"gateway_wireguard" in generate_latest(sites.pair.a.service.metrics.registry)


async def test_live_psk_rotation_under_continuous_traffic_loses_no_packet(sites_factory, wgnet):
    sites = await sites_factory()
    await wait_for(lambda: sites.epochs() == (0, 0), 10, "both ends to install epoch 0")
    traffic = asyncio.ensure_future(echo(200, 0.02))    # 50 packets/s for 4 s
    await asyncio.sleep(0.3)
    seen = []
    for _ in range(5):
        seen.append(await sites.rekey())
        assert wgnet.wg_psk("a") == wgnet.wg_psk("b")
        await asyncio.sleep(0.3)
    result = await traffic
    print(f"\nrotations {seen} under {result['sent']} echo packets: {result['sent'] - result['received']} lost")
    assert seen == [1, 2, 3, 4, 5]
    assert result["missing"] == [], result
    assert sites.rot["a"].rotations == sites.rot["b"].rotations == 6
    assert sites.rot["a"].status().failures == {} == sites.rot["b"].status().failures
    # the current PSK works for a fresh WireGuard handshake: drop A's session state and go again
    spec = wgnet.spec("a")
    await wgnet.tool("a").remove_peer(spec.public_key)
    sh(*in_ns("a", "wg", "set", IFACE["a"], "peer", spec.public_key, "endpoint", spec.endpoint or "",
              "allowed-ips", ",".join(spec.allowed_ips), "preshared-key", "/dev/stdin"),
       input=wgnet.wg_psk("b") + "\n")
    assert (await echo(20, 0.02))["missing"] == []


async def test_mismatched_psks_prevent_the_wireguard_handshake(sites_factory, wgnet):
    sites = await sites_factory()
    await wait_for(lambda: sites.epochs() == (0, 0), 10, "both ends to install epoch 0")
    for rot in sites.rot.values():
        await rot.stop()
    wgnet.reset_peers()
    keys_a, keys_b = sites.pair.session_a().keys, sites.pair.session_b().keys
    await wgnet.tool("a").add_peer(wgnet.spec("a"), derive_wireguard_psk(keys_a, local_site="site-a", epoch=0))
    wrong = derive_wireguard_psk(keys_b, local_site="site-b", epoch=1)     # B one epoch ahead of A
    await wgnet.tool("b").add_peer(wgnet.spec("b"), wrong)
    result = await echo(30, 0.05)
    assert result["received"] == 0, result
    assert wgnet.latest_handshake("a") == 0 == wgnet.latest_handshake("b")
    # the same PSK at B (and a fresh handshake state at A): traffic flows
    right = derive_wireguard_psk(keys_b, local_site="site-b", epoch=0)
    await wgnet.tool("b").set_psk(wgnet.spec("b").public_key, right)
    await wgnet.tool("a").remove_peer(wgnet.spec("a").public_key)
    await wgnet.tool("a").add_peer(wgnet.spec("a"), derive_wireguard_psk(keys_a, local_site="site-a", epoch=0))
    assert (await echo(20, 0.02))["missing"] == []


async def test_required_removes_the_peer_when_no_fresh_psk_is_agreed_and_restores_it_with_the_next(
        sites_factory, wgnet):
    policy = RotationPolicy.for_peer("required", rotation_interval_s=2.0, max_age_s=3.0, install_timeout_s=5,
                                     retry_interval_s=0.2)
    sites = await sites_factory(policy, qkd_a="required", qkd_b="required")
    await wait_for(lambda: sites.epochs() == (0, 0), 10, "both ends to install epoch 0")
    assert (await echo(10, 0.02))["missing"] == []
    # no rekey: the PSK expires at both ends and the peers go
    await wait_for(lambda: all(r.state == "removed" for r in sites.rot.values()), 6, "fail-closed removal")
    for side in ("a", "b"):
        assert wgnet.wg_psk(side) is None
        st = sites.rot[side].status()
        assert st.removals == {"psk_expired": 1} and st.last_transition["reason"] == "psk_expired"
    text = metrics_text(sites.rot.values()).decode()
    assert f'gateway_wireguard_peer_state{{interface="{IFACE["a"]}",peer="site-b",state="removed"}} 1.0' in text
    assert (await echo(10, 0.02))["received"] == 0
    # a fresh epoch: both peers are recreated with its PSK and a new WireGuard handshake succeeds
    epoch = await sites.rekey()
    assert wgnet.wg_psk("a") == wgnet.wg_psk("b") is not None
    assert sites.rot["a"].status().last_transition["reason"] == "peer_restored"
    assert (await echo(10, 0.02))["missing"] == [], f"epoch {epoch}"


async def test_a_killed_kme_means_pqc_only_psks_and_its_return_hybrid_ones_with_traffic_flowing_all_along(
        tmp_path, pki, sha_target, wgnet):
    """The issue's fallback run: under a checksummed TCP stream and the echo, the KME dies (the next PSK is
    derived from a pqc-only epoch, loudly), comes back (hybrid again); WireGuard carries everything."""
    from tests.gateway.harness import Kme

    ctl = Kme(tmp_path, pki, prefill_bits=1 << 16)
    await ctl.start()
    wgnet.reset_peers()
    pair = await start_pair(tmp_path, pki, ctl.url, sha_target)
    sites = Sites(pair, wgnet, RotationPolicy(install_timeout_s=5, retry_interval_s=0.2))
    try:
        await wait_for(lambda: sites.epochs() == (0, 0), 10, "both ends to install epoch 0")
        stream = asyncio.ensure_future(SITES.sha_stream(4 << 20, 6.0))
        traffic = asyncio.ensure_future(echo(300, 0.02))
        await asyncio.sleep(0.5)
        await ctl.kill()
        await pair.session_a().rekey_now()     # (the key-path watcher may rekey as well: epochs are not counted)
        await wait_for(lambda: all(r.status().mode == "pqc-only" for r in sites.rot.values()), 10, "pqc-only PSKs")
        fallback = pair.a.service.status()["peers"]["site-b"]
        assert fallback["data_plane"]["mode"] == "pqc-only" and fallback["last_transition"]["to"] == "pqc-only"
        await ctl.start()
        await pair.session_a().rekey_now()
        await wait_for(lambda: all(r.status().mode == "hybrid-qkd" for r in sites.rot.values())
                       and sites.epochs()[0] == sites.epochs()[1], 15, "hybrid PSKs again at both ends")
        assert pair.a.service.status()["peers"]["site-b"]["last_transition"]["cause"] == "qkd_restored"
        assert wgnet.wg_psk("a") == wgnet.wg_psk("b")
        result, tcp = await traffic, await stream
        print(f"\nKME killed and back: {result['sent'] - result['received']} of {result['sent']} echo packets lost, "
              f"{tcp['received']} of {tcp['bytes']} stream bytes, digest ok: {tcp['digest_ok']}")
        assert result["missing"] == [], result
        assert tcp["digest_ok"] and tcp["received"] == tcp["bytes"] == 4 << 20, tcp
        text = metrics_text(sites.rot.values()).decode()
        assert f'gateway_wireguard_psk_mode{{interface="{IFACE["a"]}",mode="hybrid-qkd",peer="site-b"}} 1.0' in text
    finally:
        await sites.stop()
        if ctl.running is not None:
            await ctl.kill()


@pytest.mark.slow
@pytest.mark.timeout(420)
async def test_psk_rotation_every_10_s_across_a_wireguard_rekey_loses_no_packet(sites_factory, wgnet):
    """WireGuard starts its own handshake after 120 s: it must succeed with the PSK rotated meanwhile,
    with traffic flowing all along."""
    sites = await sites_factory()
    await wait_for(lambda: sites.epochs() == (0, 0), 10, "both ends to install epoch 0")
    traffic = asyncio.ensure_future(echo(20 * 150, 0.05))
    await asyncio.sleep(1)
    first = wgnet.latest_handshake("a")
    assert first > 0
    rotations = 0
    started = time.monotonic()
    while time.monotonic() - started < 145:
        await asyncio.sleep(10)
        await sites.rekey()
        rotations += 1
    result = await traffic
    later = max(wgnet.latest_handshake("a"), wgnet.latest_handshake("b"))
    print(f"\n{rotations} rotations, WireGuard handshakes at +0 and +{later - first} s, "
          f"{result['sent'] - result['received']} of {result['sent']} packets lost")
    assert later >= first + 120
    assert result["missing"] == [], result
