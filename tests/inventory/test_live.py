"""Live endpoints on loopback: a Python ``ssl`` TLS server, a scripted hybrid-PQ TLS server, a scripted SSH server."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from inventory.model import AssetType
from inventory.report import cbom
from inventory.scan import ScanOptions, run_scan
from inventory.sources import live_ssh, live_tls
from inventory.wire import tls as tlsw
from tests.inventory import netutil


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory):
    cert, key = netutil.self_signed_rsa(tmp_path_factory.mktemp("live"), cn="live.example")
    server = netutil.TlsServer(cert, key)
    yield server
    server.close()


@pytest.fixture(scope="module")
def ssh_server():
    server = netutil.SshServer()
    yield server
    server.close()


def _protocol(result):
    return next(f for f in result.findings if f.asset_type is AssetType.PROTOCOL)


async def test_python_ssl_server_is_probed_for_versions_suites_groups_and_certificate(tls_server) -> None:
    result = await live_tls.probe("127.0.0.1", tls_server.port, timeout=5)
    d = _protocol(result).details
    assert {"TLSv1.2", "TLSv1.3"} <= set(d["versions"])
    assert "TLSv1.0" not in d["versions"]  # Python's default minimum is TLS 1.2
    assert {"X25519", "ECDH-P256", "ECDH-P384"} <= set(d["groups"])
    # the system OpenSSL 3.0 behind Python's ssl has no ML-KEM groups: the probe must say so
    assert d["pq_groups"] == {"X25519MLKEM768": False, "SecP256r1MLKEM768": False, "SecP384r1MLKEM1024": False}
    assert {"TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"} <= set(d["cipher_suites"])
    assert "TLS_RSA_WITH_AES_128_CBC_SHA" not in d["cipher_suites"]  # no RSA key exchange at SECLEVEL defaults
    cert = next(f for f in result.findings if f.asset_type is AssetType.CERTIFICATE)
    assert cert.details["subject"] == "CN=live.example" and cert.details["key_bits"] == 2048
    assert d["default_negotiation"]["version"] == "TLSv1.3"


class _PqTlsServer:
    """Scripted TLS 1.3 server: accepts only X25519MLKEM768 with a 1,216-byte key share, alerts otherwise."""

    def __init__(self) -> None:
        self.seen_share_sizes: list[int] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = b""
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(65536), 5)
                if not chunk:
                    return
                buf += chunk
                msgs, _ = tlsw.handshake_messages(buf)
                if msgs:
                    break
            hello = tlsw.parse_client_hello(msgs[0].body)
            self.seen_share_sizes += list(hello.key_shares.values())
            if hello.key_shares.get(0x11EC) == 1216 and 0x0304 in hello.supported_versions:
                exts = struct.pack(">HHH", 43, 2, 0x0304) + struct.pack(">HHHH", 51, 4 + 1120, 0x11EC, 1120)
                exts += os.urandom(1120)
                body = struct.pack(">H", 0x0303) + os.urandom(32) + b"\x00" + struct.pack(">HB", 0x1301, 0) + \
                    struct.pack(">H", len(exts)) + exts
                writer.write(tlsw.record(22, bytes([2]) + len(body).to_bytes(3, "big") + body, 0x0303))
            else:
                writer.write(bytes([21, 3, 3, 0, 2, 2, 40]))  # fatal handshake_failure
            await writer.drain()
        finally:
            writer.close()


async def test_scripted_server_accepting_x25519mlkem768_is_reported_pq_ready() -> None:
    pq = _PqTlsServer()
    server = await asyncio.start_server(pq.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await live_tls.probe("127.0.0.1", port, timeout=3)
    d = _protocol(result).details
    assert d["pq_groups"] == {"X25519MLKEM768": True, "SecP256r1MLKEM768": False, "SecP384r1MLKEM1024": False}
    assert d["groups"] == ["X25519MLKEM768"]
    assert 1216 in pq.seen_share_sizes  # a real-size ML-KEM-768 + X25519 key share was sent
    assert "TLSv1.3" in d["versions"]


async def test_ssh_server_kexinit_is_read_and_pq_kex_reported(ssh_server) -> None:
    result = await live_ssh.probe("127.0.0.1", ssh_server.port, timeout=5)
    d = _protocol(result).details
    assert d["banner"] == "SSH-2.0-OpenSSH_9.9 scripted"
    assert d["kex_algorithms"] == netutil.SERVER_KEX
    assert d["pq_kex_offered"] == ["mlkem768x25519-sha256"]
    assert d["host_key_algorithms"] == netutil.SERVER_HOSTKEYS


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_endpoint_is_an_error_unless_allowed(tls_server) -> None:
    from inventory.errors import EndpointError

    dead = _closed_port()
    with pytest.raises(EndpointError, match=f"tls://127.0.0.1:{dead}.*--allow-unreachable"):
        run_scan(ScanOptions(tls=[("127.0.0.1", tls_server.port), ("127.0.0.1", dead)], timeout_s=3))


def test_scan_of_many_endpoints_reports_each_and_skips_the_dead_one_when_allowed(tls_server, ssh_server) -> None:
    dead = _closed_port()
    report = run_scan(ScanOptions(tls=[("127.0.0.1", tls_server.port), ("127.0.0.1", dead)],
                                  ssh=[("127.0.0.1", ssh_server.port), ("127.0.0.1", dead)], timeout_s=3,
                                  allow_unreachable=True))
    keys = {a.key for a in report.assets}
    assert f"protocol:tls://127.0.0.1:{tls_server.port}" in keys
    assert f"protocol:ssh://127.0.0.1:{ssh_server.port}" in keys
    skipped = {s.path for s in report.skipped}
    assert {f"tls://127.0.0.1:{dead}", f"ssh://127.0.0.1:{dead}"} <= skipped
    tls = report.assessments[f"protocol:tls://127.0.0.1:{tls_server.port}"]
    assert tls.status == "broken-by-shor" and "X25519MLKEM768" in tls.recommendation
    ssh = report.assessments[f"protocol:ssh://127.0.0.1:{ssh_server.port}"]
    # the server offers mlkem768x25519-sha256 but still gives classical clients curve25519 and friends
    assert ssh.status == "broken-by-shor" and ssh.priority in ("high", "critical")
    assert "mlkem768x25519-sha256" in ssh.recommendation and "curve25519-sha256" in ssh.recommendation
    cbom.validate(cbom.render(report.assets, report.assessments))


def test_cli_scan_of_live_endpoints_writes_cbom_json_and_gates_on_status(tls_server, ssh_server,
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "cbom.json"
    sarif = tmp_path / "scan.sarif"
    # one real process (its imports dominate the cost): reports are written, then the gate fails the run
    cmd = [sys.executable, "-m", "qshift.cli", "inventory", "scan", "--tls", f"127.0.0.1:{tls_server.port}",
           "--ssh", f"127.0.0.1:{ssh_server.port}", "--json", "--cbom", str(out), "--sarif", str(sarif),
           "--fail-on", "broken-by-shor"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "broken-by-shor" in proc.stderr and "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["by_type"]["protocol"] == 2
    cbom.validate(out.read_text())
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
