"""Precision and recall of a scan over a fixture tree with every supported kind of source (= 1.0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory.model import AssetType
from inventory.report import cbom
from inventory.scan import ScanOptions, ScanReport, run_scan
from tests.inventory import fixture_tree


def observed(report: ScanReport) -> set[tuple[str, str, int, int]]:
    """(label, path, line, column) of every occurrence of every asset."""
    out = set()
    for a in report.assets:
        if a.asset_type is AssetType.ALGORITHM:
            label = a.name
        elif a.asset_type is AssetType.CERTIFICATE:
            label = "cert:" + a.details["subject"]
        elif a.asset_type is AssetType.MATERIAL:
            label = "key:" + a.details.get("algorithm", a.name)
        else:
            label = a.key
        for f in a.occurrences:
            out.add((label, f.location.uri, f.location.line or 0, f.location.column or 0))
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, shared_vectors: Path) -> tuple[Path, set]:
    root = tmp_path_factory.mktemp("fixture")
    expected = set(fixture_tree.build(root, shared_vectors))
    return root, expected


@pytest.fixture(scope="module")
def report(tree: tuple[Path, set]) -> ScanReport:
    root, _ = tree
    return run_scan(ScanOptions(paths=[root], exclude=("vendor/*",), max_file_bytes=fixture_tree.MAX_FILE_BYTES,
                                jobs=2, pkcs12_passwords=(fixture_tree.P12_PASSWORD.encode(),)))


def test_fixture_scan_has_precision_and_recall_one_with_locations(tree: tuple[Path, set], report: ScanReport) -> None:
    _, expected = tree
    got = observed(report)
    missing = sorted(expected - got)
    extra = sorted(got - expected)
    precision = len(got & expected) / len(got)
    recall = len(got & expected) / len(expected)
    assert (missing, extra) == ([], []), f"missing={missing}\nextra={extra}"
    assert precision == 1.0 and recall == 1.0


def test_bad_files_are_skipped_with_path_and_reason_and_the_scan_goes_on(tree: tuple[Path, set],
                                                                           report: ScanReport) -> None:
    root, _ = tree
    reasons = {Path(s.path).relative_to(root).as_posix(): s.reason for s in report.skipped}
    for rel, start in fixture_tree.BAD_REASONS.items():
        assert reasons.get(rel, "").startswith(start), (rel, reasons.get(rel))
    summary = report.summary()
    assert summary["skipped"] == len(report.skipped) >= 4


def test_gitignored_and_excluded_files_are_not_scanned(report: ScanReport) -> None:
    where = {f.location.uri for f in report.findings}
    assert not any("ignored/" in w or "vendor/" in w for w in where)


def test_fixture_cbom_validates_against_cyclonedx_1_6_and_links_cert_key_algorithm(report: ScanReport) -> None:
    doc = json.loads(cbom.render(report.assets, report.assessments))
    assert doc["specVersion"] == "1.6"
    comps = {c["bom-ref"]: c for c in doc["components"]}
    leaf = next(c for c in doc["components"] if c["name"] == "CN=leaf.example")
    props = leaf["cryptoProperties"]["certificateProperties"]
    assert comps[props["signatureAlgorithmRef"]]["name"] == "ECDSA-SHA256"
    key = comps[props["subjectPublicKeyRef"]]
    assert key["cryptoProperties"]["assetType"] == "related-crypto-material"
    assert comps[key["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"]]["name"] == "RSA-2048"
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    assert props["subjectPublicKeyRef"] in deps[leaf["bom-ref"]]
    rsa = comps["algorithm:RSA-2048"]
    assert rsa["cryptoProperties"]["algorithmProperties"]["classicalSecurityLevel"] == 112
    assert rsa["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"] == 0
    mlkem = comps["algorithm:ML-KEM-768"]
    assert mlkem["cryptoProperties"]["oid"] == "2.16.840.1.101.3.4.4.2"
    assert mlkem["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"] == 3
    tdes = comps["algorithm:3DES-ECB"]["cryptoProperties"]["algorithmProperties"]  # Java "DESede/ECB/PKCS5Padding"
    assert (tdes["mode"], tdes["padding"]) == ("ecb", "pkcs5")
    assert comps["algorithm:AES-128-ECB"]["cryptoProperties"]["algorithmProperties"]["mode"] == "ecb"
    occ = rsa["evidence"]["occurrences"]
    assert any(o["location"].endswith("src/app.py") and o["line"] == 4 for o in occ)


def test_every_asset_gets_a_status_priority_and_recommendation(report: ScanReport) -> None:
    for a in report.assets:
        r = report.assessments[a.key]
        assert r.recommendation
        if a.algorithm is not None:
            assert r.status == a.algorithm.quantum_status.value
    md5 = report.assessments["algorithm:MD5"]
    assert (md5.status, md5.priority) == ("classically-broken", "critical")
    assert report.assessments["algorithm:X25519MLKEM768"].priority == "none"
    assert report.assessments["protocol:go:tlsv1.2"].status == "broken-by-shor"  # tls.Config MinVersion
    assert report.assessments["protocol:java:tlsv1.1"].status == "classically-broken"  # RFC 8996
    assert report.assessments["protocol:cpp:tlsv1.0"].priority == "critical"
    nginx_ecdh = report.assessments["algorithm:ECDH-P256"]
    assert "X25519MLKEM768" in nginx_ecdh.recommendation


def test_fifo_and_dangling_symlink_are_skipped_with_reasons_and_never_block(tmp_path: Path) -> None:
    import os

    (tmp_path / "ok.py").write_text("import hashlib\nhashlib.sha1()\n")
    os.mkfifo(tmp_path / "pipe.pem")  # opening it for reading without O_NONBLOCK would wait for a writer
    (tmp_path / "gone.crt").symlink_to(tmp_path / "nowhere.crt")
    (tmp_path / "lib.so").write_bytes(b"\x7fELF" + b"\x00" * 64)
    report = run_scan(ScanOptions(paths=[tmp_path], jobs=1))
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {"pipe.pem": "not a regular file", "gone.crt": "broken symlink"}
    assert [a.name for a in report.assets] == ["SHA-1"]
    assert report.summary()["skipped_by_reason"] == {"not a regular file": 1, "broken symlink": 1}


def test_certificates_report_issuer_validity_key_signature_and_chain_role(report: ScanReport) -> None:
    certs = {a.details["subject"]: a.details for a in report.assets if a.asset_type is AssetType.CERTIFICATE}
    leaf, root = certs["CN=leaf.example"], certs["CN=Test Root"]
    assert (leaf["chain_role"], root["chain_role"]) == ("leaf", "root")
    assert leaf["issuer"] == "CN=Test Root" and leaf["key_bits"] == 2048
    assert leaf["not_valid_before"] < leaf["not_valid_after"]
    assert (root["curve"], root["signature_algorithm_oid"]) == ("secp384r1", "1.2.840.10045.4.3.3")
    kem = certs["CN=kem.example"]  # ML-KEM-768 key certified by an ML-DSA-65 CA
    assert kem["public_key_algorithm_oid"] == "2.16.840.1.101.3.4.4.2"
    assert kem["signature_algorithm_oid"] == "2.16.840.1.101.3.4.3.18"
    assert kem["chain_role"] == "leaf" and kem["issuer"] == "CN=PQ CA"


def test_prefilter_keeps_ssl_pins_without_crypto_imports_and_imports_late_in_a_file(tmp_path: Path) -> None:
    (tmp_path / "pin.py").write_text("import ssl\nctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1_2)\n")
    (tmp_path / "late.py").write_text("x = 1\n" * 5000 + "def f():\n    import hashlib\n    return hashlib.md5()\n")
    report = run_scan(ScanOptions(paths=[tmp_path], jobs=1))
    where = {a.key: [str(f.location) for f in a.occurrences] for a in report.assets}
    assert where == {"protocol:python:tlsv1.2": [f"{tmp_path / 'pin.py'}:2:7"],
                     "algorithm:MD5": [f"{tmp_path / 'late.py'}:5003:12"]}
