"""Two sites in network namespaces for the data-plane benchmarks (and tests): WireGuard or strongSwan.

- :class:`WgSites`: namespaces ``<tag>-a`` / ``<tag>-b`` joined by a veth pair, ``wireguard-go -f`` in each
  (the userspace WireGuard: no kernel module needed, TUN is), peers configured without a PSK;
- :class:`IpsecSites`: the same namespaces with ``charon`` in each (its own mount namespace for its fixed
  pid file, its VICI socket and log in ``tmp``), ESP in user space over TUN (``kernel-libipsec``), the
  IKE PSK loaded over VICI as swanctl would;
- :data:`ECHO_SERVER` / :data:`ECHO_CLIENT`: a numbered UDP echo that tells a lost request from a lost
  reply and a refused send; :meth:`Sites.sha_stream` a checksummed TCP stream; :meth:`Sites.iperf3_mbit_s`
  TCP throughput through the tunnel.

Plain classes, no pytest: ``bench/gateway.py`` uses them. Everything they start is in its own process
group and :meth:`Sites.stop` ends it and deletes the namespaces (it returns what it could not remove).
Needs root, ``ip``, /dev/net/tun and the tools named by :func:`wireguard_unavailable` /
:func:`ipsec_unavailable`, which say why when the machine cannot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.processes import stop_process_groups

CHARON = "/usr/lib/ipsec/charon"
PLUGINS = "/usr/lib/ipsec/plugins"
IKE_PSK = b"qshift-bench-ike-psk-0123456789abcdef"

#: UDP echo server at site B: echoes numbered packets; ``RST`` forgets what arrived, ``QRY [seq…]`` answers
#: which of those sequence numbers reached it (so the client tells a lost request from a lost reply).
ECHO_SERVER = textwrap.dedent("""
    import json, socket, struct, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    got = set()
    while True:
        data, addr = s.recvfrom(65535)
        if data.startswith(b"RST"):
            got.clear()
            s.sendto(b"RST", addr)
        elif data.startswith(b"QRY"):
            asked = json.loads(data[3:])
            s.sendto(b"ANS" + json.dumps(sorted(set(asked) & got)).encode(), addr)
        else:
            got.add(struct.unpack(">I", data[:4])[0])
            s.sendto(data, addr)
""")

#: UDP echo client at site A: ``src host port count interval_s``; prints JSON with ``sent``, ``received``,
#: ``missing``, ``lost_requests`` / ``lost_replies`` (when the server answered), ``send_errors`` (the local
#: stack refused: no route) and the wall-clock send time of each missing packet (to line up with logs).
ECHO_CLIENT = textwrap.dedent("""
    import json, select, socket, struct, sys, time
    src, host, port, count, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    try:
        s.connect((host, port))
    except OSError as exc:   # no route: nothing installed one
        print(json.dumps({"sent": count, "received": 0, "missing": list(range(count))[:100], "send_errors": [],
                          "error": str(exc)}))
        sys.exit(0)
    def control(message, prefix):
        for _ in range(3):
            try:
                s.send(message)
            except OSError:
                pass
            until = time.monotonic() + 0.3
            while time.monotonic() < until:
                if select.select([s], [], [], max(0, until - time.monotonic()))[0]:
                    try:
                        data = s.recv(65535)
                    except OSError:   # e.g. ICMP unreachable reported on the connected socket
                        continue
                    if data.startswith(prefix):
                        return data[len(prefix):]
        return None
    ready = control(b"RST", b"RST") is not None
    got, send_errors, sent_at = set(), [], {}
    def drain(until):
        while True:
            left = until - time.monotonic()
            if left <= 0 or len(got) == count:
                return
            if select.select([s], [], [], left)[0]:
                try:
                    data = s.recv(65535)
                except OSError:
                    continue
                if len(data) == 64:
                    got.add(struct.unpack(">I", data[:4])[0])
    t0 = time.monotonic()
    for i in range(count):
        drain(t0 + i * interval)
        sent_at[i] = time.time()
        try:
            s.send(struct.pack(">I", i) + bytes(60))
        except OSError:
            send_errors.append(i)
    drain(time.monotonic() + 1.5)
    missing = sorted(set(range(count)) - got)
    # which missing ones reached the server (unknown when it never answered)
    answer = (control(b"QRY" + json.dumps(missing[:500]).encode(), b"ANS") if ready else None) if missing else b"[]"
    reached = set(json.loads(answer)) if answer is not None else None
    out = {"sent": count, "received": len(got), "missing": missing[:100], "send_errors": send_errors[:100],
           "elapsed_s": round(time.monotonic() - t0, 3),
           "missing_sent_at": {str(i): round(sent_at[i], 4) for i in missing[:100]}}
    if reached is not None:
        out["lost_replies"] = sorted(i for i in missing if i in reached)
        out["lost_requests"] = sorted(i for i in missing if i not in reached and i not in send_errors)
    print(json.dumps(out))
""")


#: TCP sink at site B: for each connection, SHA-256 and length of everything received, sent back.
SHA_SERVER = textwrap.dedent("""
    import hashlib, socket, sys
    srv = socket.create_server((sys.argv[1], int(sys.argv[2])))
    while True:
        conn, _ = srv.accept()
        digest, n = hashlib.sha256(), 0
        while True:
            data = conn.recv(65536)
            if not data:
                break
            digest.update(data)
            n += len(data)
        conn.sendall(f"{digest.hexdigest()} {n}".encode())
        conn.close()
""")

#: TCP source at site A: ``src host port bytes seconds``: random bytes paced over ``seconds``, then the
#: sink's digest compared with its own; prints JSON ``{"bytes", "received", "digest_ok", "elapsed_s"}``.
SHA_CLIENT = textwrap.dedent("""
    import hashlib, json, os, socket, sys, time
    src, host, port, total, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.create_connection((host, port), timeout=30, source_address=(src, 0))
    digest, sent, chunk, t0 = hashlib.sha256(), 0, 16384, time.monotonic()
    while sent < total:
        block = os.urandom(min(chunk, total - sent))
        digest.update(block)
        s.sendall(block)
        sent += len(block)
        ahead = t0 + seconds * sent / total - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        data = s.recv(256)
        if not data:
            break
        answer += data
    theirs, received = answer.decode().split()
    print(json.dumps({"bytes": sent, "received": int(received), "digest_ok": theirs == digest.hexdigest(),
                      "elapsed_s": round(time.monotonic() - t0, 3)}))
""")


def sh(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=30, input=input)


def netns_unavailable(need_tun: bool = True) -> str | None:
    """Why this machine cannot run hosts in network namespaces, with TUN devices unless ``need_tun`` is
    False (None when it can): root, ``ip``, /dev/net/tun, and a probe namespace that can be created."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces" + (" and TUN interfaces" if need_tun else "")
    if not shutil.which("ip"):
        return "iproute2 (ip) is not installed"
    if need_tun and not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    probe = f"qp{os.getpid() % 100000}-probe"
    result = sh("ip", "netns", "add", probe, check=False)
    if result.returncode != 0:
        return f"cannot create a network namespace: {result.stderr.strip()}"
    sh("ip", "netns", "del", probe, check=False)
    return None


def wireguard_unavailable(need_iperf3: bool = True) -> str | None:
    tools = [("wireguard-go", "wireguard-go"), ("wg", "wireguard-tools")] + ([("iperf3", "iperf3")] if need_iperf3
                                                                              else [])
    for tool, package in tools:
        if not shutil.which(tool):
            return f"{tool} is not installed (Debian package {package}; .ci/run installs it)"
    return netns_unavailable()


def ipsec_unavailable(need_iperf3: bool = True) -> str | None:
    if not shutil.which("unshare"):
        return "util-linux (unshare) is not installed"
    if not os.access(CHARON, os.X_OK):
        return "strongSwan's charon is not installed (Debian strongswan-charon)"
    for plugin, package in (("kernel-libipsec", "libcharon-extra-plugins"),
                            ("openssl", "libstrongswan-standard-plugins"), ("vici", "strongswan-swanctl")):
        if not os.path.exists(f"{PLUGINS}/libstrongswan-{plugin}.so"):
            return f"charon's {plugin} plugin is not installed (Debian {package})"
    if need_iperf3 and not shutil.which("iperf3"):
        return "iperf3 is not installed (Debian package iperf3; .ci/run installs it)"
    try:
        import vici  # noqa: F401
    except ImportError:
        return "the vici Python package is not installed"
    return netns_unavailable()


class Sites:
    """Two namespaces ``<tag>-a`` and ``<tag>-b`` joined by a veth pair; ``inner`` addresses behind each
    site are what the tunnel carries (subclasses set it up)."""

    ECHO_PORT = 7920
    SHA_PORT = 7921

    def __init__(self, tag: str, subnet: int) -> None:
        self.tag = tag
        self.ns = {"a": f"{tag}-a", "b": f"{tag}-b"}
        self.underlay = {"a": f"10.{subnet}.0.1", "b": f"10.{subnet}.0.2"}
        self.inner = {"a": f"10.{subnet + 1}.0.1", "b": f"10.{subnet + 1}.0.2"}
        self.procs: list[subprocess.Popen[bytes]] = []

    def in_ns(self, side: str, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns[side], *args]

    def _namespaces(self) -> None:
        for side in ("a", "b"):
            sh("ip", "netns", "add", self.ns[side])
            sh(*self.in_ns(side, "ip", "link", "set", "lo", "up"))
        sh("ip", "link", "add", f"{self.tag}va", "netns", self.ns["a"], "type", "veth", "peer", "name",
           f"{self.tag}vb", "netns", self.ns["b"])
        for side in ("a", "b"):
            sh(*self.in_ns(side, "ip", "addr", "add", f"{self.underlay[side]}/24", "dev", f"{self.tag}v{side}"))
            sh(*self.in_ns(side, "ip", "link", "set", f"{self.tag}v{side}", "up"))

    def spawn(self, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        """Create the namespaces and start the site's processes (each subclass: its data plane)."""
        raise NotImplementedError

    def start_echo_server(self) -> None:
        """The UDP echo and the TCP digest sink at site B."""
        self.spawn(self.in_ns("b", sys.executable, "-c", ECHO_SERVER, self.inner["b"], str(self.ECHO_PORT)))
        self.spawn(self.in_ns("b", sys.executable, "-c", SHA_SERVER, self.inner["b"], str(self.SHA_PORT)))

    def stop(self) -> list[str]:
        """End every process started here, delete the namespaces; what is left behind (should be [])."""
        stop_process_groups(self.procs)
        self.procs.clear()
        for side in ("a", "b"):
            sh("ip", "netns", "del", self.ns[side], check=False)
        return [n for n in sh("ip", "netns", "list").stdout.split() if n.startswith(self.tag)]

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """The sites started (:meth:`start`, even half-way) and, on leaving, stopped; an AssertionError naming
        the namespaces left behind if :meth:`stop` could not remove them all."""
        try:
            self.start()
            yield
        finally:
            leftovers = self.stop()
            assert not leftovers, leftovers

    async def echo(self, count: int, interval_s: float) -> dict[str, Any]:
        """UDP echo A -> B -> A through the tunnel: ``count`` numbered packets, one every ``interval_s``."""
        proc = await asyncio.create_subprocess_exec(
            *self.in_ns("a", sys.executable, "-c", ECHO_CLIENT, self.inner["a"], self.inner["b"],
                        str(self.ECHO_PORT), str(count), str(interval_s)),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), count * interval_s + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"echo client failed: {err.decode(errors='replace')[-500:]}")
        result: dict[str, Any] = json.loads(out)
        return result

    async def sha_stream(self, total_bytes: int, seconds: float) -> dict[str, Any]:
        """A checksummed TCP stream A -> B through the tunnel, paced over ``seconds``."""
        proc = await asyncio.create_subprocess_exec(
            *self.in_ns("a", sys.executable, "-c", SHA_CLIENT, self.inner["a"], self.inner["b"], str(self.SHA_PORT),
                        str(total_bytes), str(seconds)),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), seconds + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"checksummed stream failed: {err.decode(errors='replace')[-500:]}")
        result: dict[str, Any] = json.loads(out)
        return result

    async def iperf3_mbit_s(self, seconds: float) -> float:
        """TCP throughput A -> B through the tunnel (Mbit/s, iperf3's receiver side)."""
        server = subprocess.Popen(self.in_ns("b", "iperf3", "-s", "-1", "-B", self.inner["b"]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            await asyncio.sleep(0.5)
            proc = await asyncio.create_subprocess_exec(
                *self.in_ns("a", "iperf3", "-c", self.inner["b"], "-B", self.inner["a"], "-t", str(seconds), "-J"),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), seconds + 30)
            if proc.returncode != 0:
                raise RuntimeError(f"iperf3 failed: {(out + err).decode(errors='replace')[-500:]}")
            return float(json.loads(out)["end"]["sum_received"]["bits_per_second"]) / 1e6
        finally:
            stop_process_groups([server], grace_s=2)


class WgSites(Sites):
    """WireGuard between the two sites: interfaces ``<tag>a`` / ``<tag>b`` (unique names: wireguard-go's
    control sockets in /var/run/wireguard/ are shared by all namespaces)."""

    def __init__(self, tag: str, subnet: int = 235) -> None:
        super().__init__(tag, subnet)
        self.iface = {"a": f"{tag}a", "b": f"{tag}b"}
        self.port = {"a": 51911, "b": 51912}
        self.keys: dict[str, tuple[str, str]] = {}

    def start(self) -> None:
        self._namespaces()
        for side in ("a", "b"):
            self.spawn(self.in_ns(side, "wireguard-go", "-f", self.iface[side]))
            private = sh("wg", "genkey").stdout.strip()
            self.keys[side] = (private, sh("wg", "pubkey", input=private + "\n").stdout.strip())
        deadline = time.monotonic() + 10
        while not all(os.path.exists(f"/var/run/wireguard/{self.iface[s]}.sock") for s in ("a", "b")):
            if time.monotonic() > deadline:
                raise RuntimeError("wireguard-go did not create its interfaces")
            time.sleep(0.05)
        for side in ("a", "b"):
            other = "b" if side == "a" else "a"
            sh(*self.in_ns(side, "wg", "set", self.iface[side], "private-key", "/dev/stdin", "listen-port",
                           str(self.port[side])), input=self.keys[side][0] + "\n")
            sh(*self.in_ns(side, "ip", "addr", "add", f"{self.inner[side]}/24", "dev", self.iface[side]))
            sh(*self.in_ns(side, "ip", "link", "set", self.iface[side], "up"))
            sh(*self.in_ns(side, "wg", "set", self.iface[side], "peer", self.keys[other][1], "endpoint",
                           f"{self.underlay[other]}:{self.port[other]}", "allowed-ips", f"{self.inner[other]}/32"))
        self.start_echo_server()

    def stop(self) -> list[str]:
        left = super().stop()
        return left + [f"/var/run/wireguard/{self.iface[s]}.sock" for s in ("a", "b")
                       if os.path.exists(f"/var/run/wireguard/{self.iface[s]}.sock")]

    def peer_key(self, side: str) -> str:
        """The WireGuard public key of ``side``'s peer (the other site)."""
        return self.keys["b" if side == "a" else "a"][1]

    def psk(self, side: str) -> str | None:
        out = sh(*self.in_ns(side, "wg", "show", self.iface[side], "preshared-keys")).stdout
        for line in out.splitlines():
            key, psk = line.split("\t")
            if key == self.peer_key(side):
                return psk
        return None

    def latest_handshake(self, side: str) -> int:
        out = sh(*self.in_ns(side, "wg", "show", self.iface[side], "latest-handshakes")).stdout
        for line in out.splitlines():
            key, when = line.split("\t")
            if key == self.peer_key(side):
                return int(when)
        return 0

    def peer_toml(self, side: str) -> str:
        """The ``[peers.wireguard]`` table of ``side``'s gateway for its peer (``kind = "wireguard"``)."""
        return (f'kind = "wireguard"\n[peers.wireguard]\ninterface = "{self.iface[side]}"\n'
                f'public_key = "{self.peer_key(side)}"\nnetns = "{self.ns[side]}"\n')


class IpsecSites(Sites):
    """strongSwan between the two sites: charon with kernel-libipsec in each namespace; IKE authenticates
    with a PSK (loaded over VICI), the gateways add a PPK per epoch. Connection ``site``, CHILD ``net``."""

    CONN = "site"
    LOAD = ("random nonce aes sha1 sha2 hmac gcm pem pkcs1 pubkey x509 kdf openssl kernel-libipsec "
            "kernel-netlink socket-default vici")

    def __init__(self, tag: str, tmp: Path, subnet: int = 237, log_levels: str = "default = 1") -> None:
        super().__init__(tag, subnet)
        self.tmp = tmp
        #: charon's file log levels (``subsystem = level`` lines), e.g. ``ike = 2`` to see PPK use.
        self.log_levels = log_levels

    def vici_socket(self, side: str) -> str:
        return str(self.tmp / f"{side}.vici")

    def log(self, side: str) -> str:
        path = self.tmp / f"charon-{side}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def conn(self, side: str) -> dict[str, Any]:
        other = "b" if side == "a" else "a"
        return {"version": "2", "local_addrs": [self.underlay[side]], "remote_addrs": [self.underlay[other]],
                "proposals": ["aes256gcm16-prfsha256-x25519"], "rekey_time": "0",
                "local": {"auth": "psk", "id": self.underlay[side]},
                "remote": {"auth": "psk", "id": self.underlay[other]},
                "children": {"net": {"local_ts": [f"{self.inner[side]}/32"], "remote_ts": [f"{self.inner[other]}/32"],
                                     "esp_proposals": ["aes256gcm16"], "start_action": "none", "rekey_time": "0"}}}

    def _conf(self, side: str) -> Path:
        conf = self.tmp / f"strongswan-{side}.conf"
        levels = "\n".join(f"          {line.strip()}" for line in self.log_levels.splitlines())
        conf.write_text(textwrap.dedent(f"""\
            charon {{
              load_modular = no
              load = {self.LOAD}
              install_routes = yes
              make_before_break = yes
              plugins {{
                vici {{
                  socket = unix://{self.vici_socket(side)}
                }}
              }}
              filelog {{
                sites {{
                  path = {self.tmp}/charon-{side}.log
                  flush_line = yes
                  time_format = %T
                  time_add_ms = yes
            """) + levels + "\n    }\n  }\n}\n")
        return conf

    def start(self) -> None:
        self._namespaces()
        for side in ("a", "b"):
            sh(*self.in_ns(side, "ip", "addr", "add", f"{self.inner[side]}/32", "dev", "lo"))
            env = {**os.environ, "STRONGSWAN_CONF": str(self._conf(side))}
            self.spawn(self.in_ns(side, "unshare", "-m", "sh", "-c",
                                  f"mount -t tmpfs tmpfs /run && exec {CHARON}"), env=env)
        deadline = time.monotonic() + 15
        while not all(os.path.exists(self.vici_socket(s)) for s in ("a", "b")):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError("charon did not open its VICI socket")
            time.sleep(0.05)
        self.start_echo_server()

    async def load_ike_psk(self) -> None:
        """The IKE credentials, as ``swanctl --load-creds`` loads them from swanctl.conf."""
        from gateway.dataplane.ipsec import ViciControl

        for side in ("a", "b"):
            await ViciControl(self.vici_socket(side)).load_shared(
                "ike-psk", "IKE", IKE_PSK, [self.underlay["a"], self.underlay["b"]])

    def peer_toml(self, side: str) -> str:
        """The ``[peers.ipsec]`` table of ``side``'s gateway (site A initiates)."""
        lines = ['kind = "ipsec"', "[peers.ipsec]", f'vici_socket = "{self.vici_socket(side)}"',
                 f'name = "{self.CONN}"', 'child = "net"', f"initiator = {'true' if side == 'a' else 'false'}",
                 "install_timeout_s = 10.0"]
        conn = self.conn(side)
        flat = {k: v for k, v in conn.items() if not isinstance(v, dict)}
        lines.append("[peers.ipsec.connection]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in flat.items()]
        for part in ("local", "remote"):
            lines.append(f"[peers.ipsec.connection.{part}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in conn[part].items()]
        lines.append("[peers.ipsec.connection.children.net]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in conn["children"]["net"].items()]
        return "\n".join(lines) + "\n"
