"""pcap/pcapng analysis: real loopback handshakes captured with scapy, and crafted PQ ClientHellos."""

from __future__ import annotations

import os
import ssl
import struct
from pathlib import Path

import pytest
from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap
from scapy.utils import PcapNgWriter

from inventory.model import AssetType
from inventory.normalise import normalise
from inventory.sources import pcap
from inventory.wire import tls as tlsw
from tests.inventory import netutil

needs_sniff = pytest.mark.skipif(not netutil.can_sniff(), reason="loopback capture needs root")


def _write(packets: list, path: Path) -> Path:
    if path.suffix == ".pcapng":
        with PcapNgWriter(str(path)) as w:
            for p in packets:
                w.write(p)
    else:
        wrpcap(str(path), packets)
    return path


def _protocol(result, proto: str):
    return next(f for f in result.findings if f.asset_type is AssetType.PROTOCOL and f.details["protocol"] == proto)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return netutil.self_signed_rsa(tmp_path_factory.mktemp("tlscert"))


@needs_sniff
@pytest.mark.parametrize("suffix", [".pcap", ".pcapng"])
def test_captured_tls13_handshake_reports_offered_and_negotiated_group_and_suite(
        tmp_path: Path, certs: tuple[Path, Path], suffix: str) -> None:
    server = netutil.TlsServer(*certs)
    try:
        with netutil.capture(server.port) as packets:
            assert netutil.tls_client(server.port, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    finally:
        server.close()
    result = pcap.scan(_write(packets, tmp_path / f"tls13{suffix}"))
    proto = _protocol(result, "tls")
    d = proto.details
    assert d["endpoint"] == f"127.0.0.1:{server.port}"
    assert "TLSv1.3" in d["client_versions"]
    assert d["negotiated_version"] == "TLSv1.3"
    assert d["negotiated_group"] == "X25519"
    assert d["negotiated_cipher_suite"] in ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                                            "TLS_CHACHA20_POLY1305_SHA256")
    assert "X25519" in d["offered_groups"] and "X25519" in d["key_share_groups"]
    assert proto.location.frame is not None and proto.location.frame >= 1
    negotiated = [f for f in result.findings if f.details.get("role") == "negotiated"]
    assert {f.raw for f in negotiated} == {d["negotiated_group"], d["negotiated_cipher_suite"]}
    # TLS 1.3 certificates are encrypted: none may be reported from the capture
    assert not [f for f in result.findings if f.asset_type is AssetType.CERTIFICATE]


@needs_sniff
def test_captured_tls12_handshake_reports_the_server_certificate_chain(tmp_path: Path,
                                                                        certs: tuple[Path, Path]) -> None:
    server = netutil.TlsServer(*certs, max_version=ssl.TLSVersion.TLSv1_2)
    try:
        with netutil.capture(server.port) as packets:
            assert netutil.tls_client(server.port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    finally:
        server.close()
    result = pcap.scan(_write(packets, tmp_path / "tls12.pcapng"))
    d = _protocol(result, "tls").details
    assert d["negotiated_version"] == "TLSv1.2"
    assert d["negotiated_cipher_suite"].startswith("TLS_ECDHE_RSA_WITH_")
    cert = next(f for f in result.findings if f.asset_type is AssetType.CERTIFICATE)
    assert cert.details["subject"] == "CN=localhost"
    assert cert.network_facing and cert.location.frame is not None
    names = {a.name for a in normalise(result.findings)}
    assert {"RSA-2048", "RSASSA-PKCS1-v1_5-SHA256"} <= names


@needs_sniff
@pytest.mark.parametrize("suffix", [".pcap", ".pcapng"])
def test_captured_ssh_kexinit_exchange_reports_both_sides_and_the_negotiated_kex(tmp_path: Path, suffix: str) -> None:
    server = netutil.SshServer()
    try:
        with netutil.capture(server.port) as packets:
            netutil.ssh_client(server.port)
    finally:
        server.close()
    result = pcap.scan(_write(packets, tmp_path / f"ssh{suffix}"))
    d = _protocol(result, "ssh").details
    assert d["server_banner"].startswith("SSH-2.0-OpenSSH_9.9")
    assert d["client_kex"] == netutil.CLIENT_KEX
    assert d["server_kex"] == netutil.SERVER_KEX
    # RFC 4253 §7.1: first client algorithm the server supports
    assert d["negotiated"]["kex"] == "mlkem768x25519-sha256"
    assert d["negotiated"]["host_key"] == "ssh-ed25519"
    names = {a.name for a in normalise(result.findings)}
    assert {"mlkem768x25519-sha256", "X25519", "ECDH-P256", "MODP-2048", "Ed25519"} <= names


def _tcp(src: str, dst: str, sport: int, dport: int, seq: int, payload: bytes = b"", flags: str = "PA"):
    return Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, seq=seq, flags=flags) / Raw(payload)


def _server_hello(group: int, suite: int = 0x1301) -> bytes:
    exts = struct.pack(">HHH", 43, 2, 0x0304) + struct.pack(">HHHH", 51, 4 + 1120, group, 1120) + os.urandom(1120)
    body = struct.pack(">H", 0x0303) + os.urandom(32) + b"\x00" + struct.pack(">HB", suite, 0) + \
        struct.pack(">H", len(exts)) + exts
    return tlsw.record(22, bytes([2]) + len(body).to_bytes(3, "big") + body, 0x0303)


def test_crafted_x25519mlkem768_hello_split_across_out_of_order_segments_is_reassembled(tmp_path: Path) -> None:
    share = os.urandom(1184 + 32)  # ML-KEM-768 encapsulation key ‖ X25519 share: 1,216 bytes
    hello = tlsw.record(22, tlsw.build_client_hello([0x1301, 0x1302], [0x11EC, 0x001D], {0x11EC: share}))
    assert len(hello) > 1300
    c, s = ("10.0.0.1", 40000), ("10.0.0.2", 443)
    isn = 1000
    parts = [hello[:500], hello[500:1000], hello[1000:]]
    syn = _tcp(c[0], s[0], c[1], s[1], isn, flags="S")
    segs = [_tcp(c[0], s[0], c[1], s[1], isn + 1 + 500 * i, p) for i, p in enumerate(parts)]
    sh = _tcp(s[0], c[0], s[1], c[1], 5000, _server_hello(0x11EC))
    # wire order: segment 3, segment 1 (retransmitted twice), segment 2, then the ServerHello
    path = _write([syn, segs[2], segs[0], segs[0], segs[1], sh], tmp_path / "pq.pcapng")
    result = pcap.scan(path)
    assert result.skipped == []
    d = _protocol(result, "tls").details
    assert d["key_share_groups"] == {"X25519MLKEM768": 1216}
    assert d["offered_groups"] == ["X25519MLKEM768", "X25519"]
    assert d["negotiated_group"] == "X25519MLKEM768"
    offered = next(f for f in result.findings if f.raw == "X25519MLKEM768" and f.details["role"] == "offered-by-client")
    assert offered.location.frame == 3  # the frame that carried the first byte of the ClientHello
    assets = {a.name: a for a in normalise(result.findings)}
    assert assets["X25519MLKEM768"].quantum_status.value == "hybrid"


def test_a_gap_in_the_stream_stops_reassembly_without_error(tmp_path: Path) -> None:
    hello = tlsw.record(22, tlsw.build_client_hello([0x1301], [0x11EC], {0x11EC: os.urandom(1216)}))
    c, s = ("10.0.0.1", 40001), ("10.0.0.2", 443)
    pkts = [_tcp(c[0], s[0], c[1], s[1], 1, flags="S"), _tcp(c[0], s[0], c[1], s[1], 2, hello[:600]),
            _tcp(c[0], s[0], c[1], s[1], 2 + 900, hello[900:])]
    result = pcap.scan(_write(pkts, tmp_path / "gap.pcap"))
    assert [f for f in result.findings if f.asset_type is AssetType.PROTOCOL] == []


def test_ikev2_sa_proposal_reports_encryption_prf_and_additional_mlkem_key_exchange(tmp_path: Path) -> None:
    ike = netutil.ike_sa_init(os.urandom(8))
    pkt = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=500, dport=500) / Raw(ike)
    result = pcap.scan(_write([pkt], tmp_path / "ike.pcap"))
    d = _protocol(result, "ikev2").details
    assert d["proposals"] == [{"ENCR": ["AES-256-GCM"], "PRF": ["HMAC-SHA256"], "KE": ["X25519"],
                               "ADDKE": ["ML-KEM-768"]}]
    assert {a.name for a in normalise(result.findings)} >= {"AES-256-GCM", "X25519", "ML-KEM-768"}


def test_non_capture_file_is_a_typed_error(tmp_path: Path) -> None:
    p = tmp_path / "not.pcap"
    p.write_bytes(b"this is not a capture at all")
    from inventory.errors import MalformedInputError

    with pytest.raises(MalformedInputError):
        pcap.scan(p)


def test_capture_scan_yields_a_valid_cbom_linking_protocols_to_their_algorithms(tmp_path: Path) -> None:
    import json

    from inventory.report import cbom
    from inventory.scan import ScanOptions, run_scan

    hello = tlsw.record(22, tlsw.build_client_hello([0x1301], [0x11EC], {0x11EC: os.urandom(1216)}))
    c, s = ("10.0.0.1", 40002), ("10.0.0.2", 443)
    tls = _write([_tcp(c[0], s[0], c[1], s[1], 1, flags="S"), _tcp(c[0], s[0], c[1], s[1], 2, hello),
                  _tcp(s[0], c[0], s[1], c[1], 7000, _server_hello(0x11EC))], tmp_path / "tls.pcapng")
    ike_packet = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=500, dport=500)
    ike = _write([ike_packet / Raw(netutil.ike_sa_init(os.urandom(8)))],
                 tmp_path / "ike.pcap")
    report = run_scan(ScanOptions(pcaps=[tls, ike]))
    doc = json.loads(cbom.render(report.assets, report.assessments))  # validated against CycloneDX 1.6
    protocols = [c for c in doc["components"] if c["cryptoProperties"]["assetType"] == "protocol"]
    assert {p["cryptoProperties"]["protocolProperties"]["type"] for p in protocols} == {"tls", "ike"}
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    refs = {c["bom-ref"]: c["name"] for c in doc["components"]}
    tls_ref = next(p["bom-ref"] for p in protocols if p["cryptoProperties"]["protocolProperties"]["type"] == "tls")
    assert "X25519MLKEM768" in {refs[r] for r in deps[tls_ref]}
    ike_ref = next(p["bom-ref"] for p in protocols if p["cryptoProperties"]["protocolProperties"]["type"] == "ike")
    assert {"ML-KEM-768", "AES-256-GCM"} <= {refs[r] for r in deps[ike_ref]}
