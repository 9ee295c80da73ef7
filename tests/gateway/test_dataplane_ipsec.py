"""IPsec keyed by the gateway session, for real: strongSwan in two network namespaces, PPKs over VICI.

This kernel has no ESP, so each namespace runs ``charon`` with ``kernel-libipsec`` (ESP in user space
over a TUN device, ``ipsec0``). charon's pid file is a fixed path, so each runs in a mount namespace of
its own with a private /run; its VICI socket and log are in the test's directory. IKE authenticates with
a PSK here (the tunnel's identity is not what is tested); the PPK of each session epoch (RFC 8784) comes
from two real gateways' hybrid sessions, derived at both ends and loaded over VICI. Traffic is a UDP
echo between addresses behind each site (10.238.1.1 ↔ 10.238.2.1) through the ESP SA.

Needs root, ``ip netns``, ``unshare``, /dev/net/tun and charon with the kernel-libipsec and openssl
plugins (``.ci/run`` installs them); skips with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.dataplane import DataPlaneError
from gateway.dataplane.ipsec import ViciControl
from gateway.dataplane.ppk import derive_ikev2_ppk
from tests.gateway.harness import start_pair, wait_for
from tests.processes import stop_process_groups

pytestmark = pytest.mark.netns

CHARON = "/usr/lib/ipsec/charon"
PLUGINS = "/usr/lib/ipsec/plugins"
TAG = f"qi{os.getpid() % 100000}"
NS = {"a": f"{TAG}-a", "b": f"{TAG}-b"}
UNDERLAY = {"a": "10.239.0.1", "b": "10.239.0.2"}
INNER = {"a": "10.238.1.1", "b": "10.238.2.1"}
ECHO_PORT = 7910
SITE = {"a": "site-a", "b": "site-b"}
CONN = "site"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=30)


def in_ns(side: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", NS[side], *args]


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces, mount namespaces and TUN interfaces"
    if not shutil.which("ip") or not shutil.which("unshare"):
        return "iproute2 (ip) or util-linux (unshare) is not installed"
    if not os.access(CHARON, os.X_OK):
        return "strongSwan's charon is not installed (Debian strongswan-charon; .ci/run installs it)"
    for plugin, package in (("kernel-libipsec", "libcharon-extra-plugins"),
                            ("openssl", "libstrongswan-standard-plugins")):
        if not os.path.exists(f"{PLUGINS}/libstrongswan-{plugin}.so"):
            return f"charon's {plugin} plugin is not installed (Debian {package})"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun: kernel-libipsec needs TUN"
    try:
        import vici  # noqa: F401
    except ImportError:
        return "the vici Python package is not installed"
    probe = f"{TAG}-probe"
    result = sh("ip", "netns", "add", probe, check=False)
    if result.returncode != 0:
        return f"cannot create a network namespace: {result.stderr.strip()}"
    sh("ip", "netns", "del", probe, check=False)
    return None


SKIP_REASON = _unavailable()
if SKIP_REASON:
    pytestmark = [pytest.mark.netns, pytest.mark.skip(reason=SKIP_REASON)]

ECHO_SERVER = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    while True:
        data, addr = s.recvfrom(2048)
        s.sendto(data, addr)
""")

ECHO_CLIENT = textwrap.dedent("""
    import json, select, socket, struct, sys, time
    src, host, port, count, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    try:
        s.connect((host, port))
    except OSError as exc:   # no route: no SA installed one
        print(json.dumps({"sent": count, "received": 0, "missing": list(range(count))[:100], "error": str(exc)}))
        sys.exit(0)
    got = set()
    def drain(until):
        while True:
            left = until - time.monotonic()
            if left <= 0 or len(got) == count:
                return
            if select.select([s], [], [], left)[0]:
                try:
                    got.add(struct.unpack(">I", s.recv(2048)[:4])[0])
                except OSError:
                    pass
    t0 = time.monotonic()
    for i in range(count):
        drain(t0 + i * interval)
        try:
            s.send(struct.pack(">I", i) + bytes(60))
        except OSError:
            pass
    drain(time.monotonic() + 1.5)
    missing = sorted(set(range(count)) - got)
    print(json.dumps({"sent": count, "received": len(got), "missing": missing[:100]}))
""")


LOAD = "random nonce aes sha1 sha2 hmac gcm pem pkcs1 pubkey x509 kdf openssl kernel-libipsec kernel-netlink " \
       "socket-default vici"


def strongswan_conf(side: str, tmp: Path) -> Path:
    conf = tmp / f"strongswan-{side}.conf"
    conf.write_text(textwrap.dedent(f"""\
        charon {{
          load_modular = no
          load = {LOAD}
          install_routes = yes
          make_before_break = yes
          plugins {{
            vici {{
              socket = unix://{tmp}/{side}.vici
            }}
          }}
          filelog {{
            test {{
              path = {tmp}/charon-{side}.log
              flush_line = yes
              default = 1
              ike = 2
              cfg = 2
            }}
          }}
        }}
        """))
    return conf


@dataclass
class IpsecNet:
    tmp: Path
    procs: list[subprocess.Popen[bytes]]

    def vici(self, side: str) -> ViciControl:
        return ViciControl(str(self.tmp / f"{side}.vici"), timeout_s=10)

    def log(self, side: str) -> str:
        path = self.tmp / f"charon-{side}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def conn(self, side: str) -> dict[str, Any]:
        other = "b" if side == "a" else "a"
        return {"version": "2", "local_addrs": [UNDERLAY[side]], "remote_addrs": [UNDERLAY[other]],
                "proposals": ["aes256gcm16-prfsha256-x25519"], "rekey_time": "0",
                "local": {"auth": "psk", "id": UNDERLAY[side]}, "remote": {"auth": "psk", "id": UNDERLAY[other]},
                "children": {"net": {"local_ts": [f"{INNER[side]}/32"], "remote_ts": [f"{INNER[other]}/32"],
                                     "esp_proposals": ["aes256gcm16"], "start_action": "none",
                                     "rekey_time": "0"}}}


@pytest.fixture(scope="module")
def ipsecnet(tmp_path_factory) -> Iterator[IpsecNet]:
    tmp = tmp_path_factory.mktemp("ipsec")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for side in ("a", "b"):
            sh("ip", "netns", "add", NS[side])
            sh(*in_ns(side, "ip", "link", "set", "lo", "up"))
            sh(*in_ns(side, "ip", "addr", "add", f"{INNER[side]}/32", "dev", "lo"))
        sh("ip", "link", "add", f"{TAG}va", "netns", NS["a"], "type", "veth", "peer", "name", f"{TAG}vb",
           "netns", NS["b"])
        for side in ("a", "b"):
            sh(*in_ns(side, "ip", "addr", "add", f"{UNDERLAY[side]}/24", "dev", f"{TAG}v{side}"))
            sh(*in_ns(side, "ip", "link", "set", f"{TAG}v{side}", "up"))
            env = {**os.environ, "STRONGSWAN_CONF": str(strongswan_conf(side, tmp))}
            procs.append(subprocess.Popen(
                in_ns(side, "unshare", "-m", "sh", "-c", f"mount -t tmpfs tmpfs /run && exec {CHARON}"), env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 15
        while not all((tmp / f"{s}.vici").exists() for s in ("a", "b")):
            assert time.monotonic() < deadline, "charon did not open its VICI socket"
            assert all(p.poll() is None for p in procs), "charon exited"
            time.sleep(0.05)
        procs.append(subprocess.Popen(in_ns("b", sys.executable, "-c", ECHO_SERVER, INNER["b"], str(ECHO_PORT)),
                                      start_new_session=True))
        yield IpsecNet(tmp, procs)
    finally:
        stop_process_groups(procs)
        for side in ("a", "b"):
            sh("ip", "netns", "del", NS[side], check=False)
        leftovers = [n for n in sh("ip", "netns", "list").stdout.split() if n.startswith(TAG)]
        assert not leftovers, leftovers


async def echo(count: int, interval_s: float) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        *in_ns("a", sys.executable, "-c", ECHO_CLIENT, INNER["a"], INNER["b"], str(ECHO_PORT), str(count),
               str(interval_s)), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), count * interval_s + 30)
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def configure(net: IpsecNet, ppks: dict[str, Any], *, required: bool = True,
                    order: tuple[str, str] = ("a", "b")) -> None:
    """Both sites: IKE PSK, the epoch's PPK (when given) and the connection naming its PPK_ID."""
    for side in order:
        vici = net.vici(side)
        await vici.load_shared("ike-psk", "IKE", b"qshift-test-ike-psk-0123456789abcdef",
                               [UNDERLAY["a"], UNDERLAY["b"]])
        ppk = ppks.get(side)
        if ppk is not None:
            await vici.load_ppk(ppk)
        await vici.load_conn(CONN, net.conn(side), ppk_id=(ppk or ppks["a"]).ppk_id, ppk_required=required)


async def established(net: IpsecNet) -> list[dict[str, Any]]:
    return [sa for sa in await net.vici("a").ike_sas(CONN) if sa.get("state") == "ESTABLISHED"]


@pytest.fixture
async def pair(tmp_path, pki, kme, sha_target, ipsecnet):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target)
    yield pair
    await pair.stop()
    for side in ("a", "b"):
        try:
            await ipsecnet.vici(side).terminate(CONN)
        except DataPlaneError:
            pass   # nothing to terminate


def ppks_of(pair: Any) -> dict[str, Any]:
    epoch = pair.session_a().status()["epoch"]
    assert pair.session_b().status()["epoch"] == epoch
    return {"a": derive_ikev2_ppk(pair.session_a().keys, local_site="site-a", epoch=epoch),
            "b": derive_ikev2_ppk(pair.session_b().keys, local_site="site-b", epoch=epoch)}


async def test_ike_uses_the_ppk_both_gateways_derived_and_esp_carries_traffic(pair, ipsecnet):
    ppks = ppks_of(pair)
    assert ppks["a"].ppk_id == ppks["b"].ppk_id and ppks["a"].value == ppks["b"].value
    await configure(ipsecnet, ppks)
    await ipsecnet.vici("a").initiate("net", CONN)
    assert len(await established(ipsecnet)) == 1
    for side in ("a", "b"):
        assert f"using PPK for PPK_ID '{ppks['a'].ppk_id}'" in ipsecnet.log(side)
    result = await echo(40, 0.01)
    assert result["missing"] == [], result
    assert ppks["a"].value.hex() not in ipsecnet.log("a") + ipsecnet.log("b")


async def test_a_wrong_or_missing_ppk_refuses_ike_when_ppks_are_required(pair, ipsecnet):
    ppks = ppks_of(pair)
    await pair.session_a().rekey_now()
    await wait_for(lambda: pair.session_b().rekeys == 1, 5, "site-b to install epoch 1")
    later = derive_ikev2_ppk(pair.session_b().keys, local_site="site-b", epoch=1)
    # B holds another epoch's PPK under A's PPK_ID: the IKE_AUTH exchange fails
    wrong = type(later)(value=later.value, ppk_id=ppks["a"].ppk_id, epoch=0, mode=later.mode)
    await configure(ipsecnet, {"a": ppks["a"], "b": wrong})
    with pytest.raises(DataPlaneError):
        await ipsecnet.vici("a").initiate("net", CONN)
    assert await established(ipsecnet) == []
    assert (await echo(10, 0.02))["received"] == 0
    # B has no PPK under that id at all
    await ipsecnet.vici("b").unload_shared(ppks["a"].ppk_id)
    with pytest.raises(DataPlaneError):
        await ipsecnet.vici("a").initiate("net", CONN)
    assert await established(ipsecnet) == []


async def test_ppk_rotators_follow_the_session_and_fail_closed_under_required(
        tmp_path, pki, kme, sha_target, ipsecnet):
    """The supervised rotators at both sites: each rekey of the gateway session brings a new PPK and a new
    IKE SA with traffic flowing; with no fresh epoch the PPK expires and, under ``required``, both sites
    take the peer away (IKE SAs terminated, connection unloaded); the next epoch restores it."""
    from gateway.dataplane import RotationPolicy
    from gateway.dataplane.ipsec import IpsecPpkRotator
    from gateway.dataplane.metrics import metrics_text

    for side in ("a", "b"):
        await ipsecnet.vici(side).load_shared("ike-psk", "IKE", b"qshift-test-ike-psk-0123456789abcdef",
                                              [UNDERLAY["a"], UNDERLAY["b"]])
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, qkd_a="required", qkd_b="required")
    policy = RotationPolicy.for_peer("required", rotation_interval_s=2.5, max_age_s=4.0, install_timeout_s=10,
                                     retry_interval_s=0.3)
    rot = {side: IpsecPpkRotator(peer="site-b" if side == "a" else "site-a", local_site=SITE[side],
                                 control=ipsecnet.vici(side), connection=CONN, conn=ipsecnet.conn(side), child="net",
                                 initiator=side == "a", policy=policy) for side in ("a", "b")}
    try:
        for side, service in (("a", pair.a.service), ("b", pair.b.service)):
            original = service.keys_installed

            def keys_installed(session: Any, old: Any, new: Any, kind: str, _orig: Any = original,
                               _rot: IpsecPpkRotator = rot[side]) -> None:
                _orig(session, old, new, kind)
                _rot.offer(new, session.status()["epoch"])

            service.keys_installed = keys_installed
            session = service.sessions[rot[side].peer]
            rot[side].offer(session.keys, session.status()["epoch"])
            rot[side].start()

        def both(epoch: int) -> bool:
            return all(r.state == "up" and r.status().psk_epoch == epoch for r in rot.values())

        await wait_for(lambda: both(0), 15, "both sites keyed with epoch 0")
        assert rot["a"].status().peer_id == rot["b"].status().peer_id
        traffic = asyncio.ensure_future(echo(150, 0.02))
        t0 = time.monotonic()
        marks = []
        for epoch in (1, 2):
            await asyncio.sleep(0.6)
            marks.append(round(time.monotonic() - t0, 2))
            await pair.session_a().rekey_now()
            await wait_for(lambda e=epoch: both(e), 15, f"both sites keyed with epoch {epoch}")
            marks.append(round(time.monotonic() - t0, 2))
        result = await traffic
        lost = result["sent"] - result["received"]
        print(f"\nIPsec PPK rotators, 2 rotations under {result['sent']} echo packets: {lost} lost "
              f"(rekeys started/keyed at {marks} s, missing {result['missing']})")
        # Measured: 0 in most runs, now and then 1 packet at the moment the new IKE SA's CHILD SA is installed
        # (the responder sends on its new outbound SA before the initiator has installed the inbound one;
        # a fresh IKE SA has none of the delayed-outbound care strongSwan takes on a CHILD SA rekey).
        assert lost <= 2, result
        assert len(await established(ipsecnet)) == 1
        # no fresh epoch: the PPK expires, both sites take the peer away
        await wait_for(lambda: all(r.state == "removed" for r in rot.values()), 10, "fail-closed removal")
        assert await established(ipsecnet) == []
        assert (await echo(10, 0.02))["received"] == 0
        assert rot["a"].status().removals == {"psk_expired": 1}
        text = metrics_text(rot.values()).decode()
        assert f'gateway_ipsec_peer_state{{connection="{CONN}",peer="site-b",state="removed"}} 1.0' in text
        # the next epoch restores it
        await pair.session_a().rekey_now()
        await wait_for(lambda: both(3), 15, "both sites keyed again with epoch 3")
        assert (await echo(20, 0.02))["missing"] == []
    finally:
        for r in rot.values():
            await r.stop()
        await pair.stop()
        for side in ("a", "b"):
            try:
                await ipsecnet.vici(side).terminate(CONN)
            except DataPlaneError:
                pass
