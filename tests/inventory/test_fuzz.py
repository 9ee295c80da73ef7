"""Corrupted inputs to the certificate, config, wire and capture parsers raise typed errors only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.errors import InventoryError
from inventory.sources import certs, configs, files, pcap
from inventory.wire import ssh as sshw
from inventory.wire import tls as tlsw
from tests.inventory import fixture_tree

FUZZ = settings(max_examples=int(os.environ.get("QSHIFT_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _seed_stores() -> dict[str, bytes]:
    """One real, well-formed input per certificate/key format: the fuzzer corrupts these."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

    leaf, ca, leaf_key, ca_key = fixture_tree.make_chain()
    ed = ed25519.Ed25519PrivateKey.generate()
    pem = leaf.public_bytes(serialization.Encoding.PEM)
    return {
        "x.pem": pem + ca.public_bytes(serialization.Encoding.PEM),
        "x.der": leaf.public_bytes(serialization.Encoding.DER),
        "x.p12": pkcs12.serialize_key_and_certificates(b"k", leaf_key, leaf, [ca], serialization.NoEncryption()),
        "x.p7b": pkcs7.serialize_certificates([leaf, ca], serialization.Encoding.DER),
        "authorized_keys": ed.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                        serialization.PublicFormat.OpenSSH) + b" a@b\n",
        "id_ed25519": ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()),
        "x.jwk": json.dumps({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}).encode(),
    }


SEED_STORES = _seed_stores()
SEED_HELLO = tlsw.record(22, tlsw.build_client_hello([0x1301, 0xC02F], [0x11EC, 0x1D], {0x1D: b"\x01" * 32}))
SEED_KEXINIT = sshw.build_kexinit(["mlkem768x25519-sha256"], ["ssh-ed25519"], ["aes256-gcm@openssh.com"],
                                  ["hmac-sha2-256"])


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    b = bytearray(data)
    for pos, val in edits:
        if b:
            b[pos % len(b)] = val
    return bytes(b[: max(0, len(b) - cut)])


edits = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=12)


def _certs_case(e, cut: int, name: str) -> None:
    data = _mutate(SEED_STORES[name], e, cut)
    try:
        certs.scan(name, data)
    except InventoryError:
        pass


CERT_STRATEGIES = (edits, st.integers(0, 400), st.sampled_from(sorted(SEED_STORES)))


@FUZZ
@given(*CERT_STRATEGIES)
def test_corrupted_certificates_and_keys_raise_only_typed_errors(e, cut: int, name: str) -> None:
    _certs_case(e, cut, name)


@FUZZ
@given(st.text(max_size=400), st.sampled_from(["sshd", "nginx", "apache", "haproxy", "openssl.cnf", "java.security"]))
def test_arbitrary_config_text_raises_only_typed_errors(text: str, kind: str) -> None:
    try:
        for f in configs.scan("c", text, kind):
            assert f.location.line >= 1
    except InventoryError:
        pass


@FUZZ
@given(edits, st.integers(0, 300))
def test_corrupted_client_hello_and_kexinit_raise_only_typed_errors(e, cut: int) -> None:
    for seed in (SEED_HELLO, SEED_KEXINIT):
        data = _mutate(seed, e, cut)
        try:
            msgs, _ = tlsw.handshake_messages(data)
            for m in msgs:
                tlsw.parse_client_hello(m.body)
                tlsw.parse_server_hello(m.body)
        except InventoryError:
            pass
        try:
            sshw.parse_kexinit(data)
        except InventoryError:
            pass


def _seed_pcap() -> bytes:
    from scapy.all import IP, TCP, Ether, Raw, wrpcap

    pkts = [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=443, seq=1, flags="S"),
            Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=443, seq=2) / Raw(SEED_HELLO),
            Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=22, seq=2) /
            Raw(b"SSH-2.0-x\r\n" + sshw.packet(SEED_KEXINIT))]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "seed.pcap"
        wrpcap(str(p), pkts)
        return p.read_bytes()


SEED_PCAP = _seed_pcap()


@FUZZ
@given(edits, st.integers(0, 600))
def test_corrupted_pcaps_raise_only_typed_errors_and_the_file_walker_never_raises(e, cut: int) -> None:
    data = _mutate(SEED_PCAP, e, cut)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.pcap"
        p.write_bytes(data)
        try:
            pcap.scan(p)
        except InventoryError:
            pass
        result = files.scan_file(p, str(p), files.WalkOptions())
        assert result.stats.files_seen == 1


@pytest.mark.slow
def test_long_fuzz_of_every_parser_raises_only_typed_errors() -> None:
    """The same properties with ``QSHIFT_LONG_FUZZ_EXAMPLES`` (default 5,000) examples each (slow: soak runs)."""
    long = settings(FUZZ, max_examples=int(os.environ.get("QSHIFT_LONG_FUZZ_EXAMPLES", "5000")))
    cases = [
        (_certs_case, CERT_STRATEGIES),
        (test_arbitrary_config_text_raises_only_typed_errors.hypothesis.inner_test,
         (st.text(max_size=2000), st.sampled_from(["sshd", "nginx", "apache", "haproxy", "openssl.cnf",
                                                     "java.security"]))),
        (test_corrupted_client_hello_and_kexinit_raise_only_typed_errors.hypothesis.inner_test,
         (edits, st.integers(0, 300))),
        (test_corrupted_pcaps_raise_only_typed_errors_and_the_file_walker_never_raises.hypothesis.inner_test,
         (edits, st.integers(0, 600))),
    ]
    for fn, strategies in cases:
        long(given(*strategies)(fn))()
