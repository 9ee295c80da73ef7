"""A private key and the certificate of its public key are one asset, wherever in the scan each was found:
the certificate lists the key file among its locations, the key names its certificates, and the CBOM relates
the certificate, its public key and the private key (``subjectPublicKeyRef``, the same
``relatedCryptoMaterialProperties.id`` on both halves, ``dependencies``). Real keys and certificates, made
with ``cryptography``, for every family it can sign with: RSA, ECDSA, Ed25519, ML-DSA."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from inventory.model import AssetType
from inventory.report import cbom
from inventory.scan import ScanOptions, ScanReport, run_scan

ENC, PF = serialization.Encoding, serialization.PrivateFormat

KEYS: dict[str, tuple[Callable[[], Any], hashes.HashAlgorithm | None, str]] = {
    "rsa": (lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072), hashes.SHA256(), "RSA-3072"),
    "ec": (lambda: ec.generate_private_key(ec.SECP384R1()), hashes.SHA384(), "ECDSA-P384"),
    "ed25519": (ed25519.Ed25519PrivateKey.generate, None, "Ed25519"),
    "mldsa": (mldsa.MLDSA65PrivateKey.generate, None, "ML-DSA-65"),
}


def _cert(key: Any, cn: str, digest: hashes.HashAlgorithm | None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, digest))


def _scan(root: Path) -> tuple[ScanReport, dict[str, Any]]:
    report = run_scan(ScanOptions(paths=[root], jobs=1))
    return report, json.loads(cbom.render(report.assets, report.assessments))


def _one(report: ScanReport, asset_type: AssetType) -> Any:
    found = [a for a in report.assets if a.asset_type is asset_type]
    assert len(found) == 1, [a.key for a in found]
    return found[0]


@pytest.mark.parametrize("family", sorted(KEYS))
@pytest.mark.parametrize("layout", ["same-dir", "elsewhere"])
def test_a_private_key_and_its_certificate_are_one_linked_asset(tmp_path: Path, family: str, layout: str) -> None:
    make, digest, name = KEYS[family]
    key = make()
    key_path = tmp_path / "etc" / "ssl" / "private" / "site.key"
    cert_path = (key_path.parent if layout == "same-dir" else tmp_path / "srv" / "www" / "certs") / "site.crt"
    for p in (key_path, cert_path):
        p.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(ENC.PEM, PF.PKCS8, serialization.NoEncryption()))
    cert_path.write_bytes(_cert(key, f"{family}.example", digest).public_bytes(ENC.PEM))

    report, doc = _scan(tmp_path)
    cert = _one(report, AssetType.CERTIFICATE)
    pair = _one(report, AssetType.MATERIAL)  # one key asset: the private key file and the certificate's copy
    assert pair.name == name or pair.details.get("algorithm") == name
    assert pair.details["kind"] == "private-key"
    assert pair.details["certificates"] == [cert.key]
    assert cert.details["key"] == pair.key
    assert cert.details["private_key"] == [f"{key_path}:1:1"]
    assert {f.location.uri for f in cert.occurrences} == {str(cert_path), str(key_path)}  # two locations
    assert {f.location.uri for f in pair.occurrences} == {str(cert_path), str(key_path)}

    comps = {c["bom-ref"]: c for c in doc["components"]}
    cert_c = comps[cert.key.replace(" ", "_")]
    public_ref = cert_c["cryptoProperties"]["certificateProperties"]["subjectPublicKeyRef"]
    public = comps[public_ref]["cryptoProperties"]["relatedCryptoMaterialProperties"]
    private_ref = public_ref.replace("related-crypto-material:key:", "related-crypto-material:private-key:")
    private = comps[private_ref]["cryptoProperties"]["relatedCryptoMaterialProperties"]
    assert (public["type"], private["type"]) == ("public-key", "private-key")
    assert public["id"] == private["id"] == pair.details["id"]
    assert public["algorithmRef"] == private["algorithmRef"] == f"algorithm:{name}"
    assert [o["location"] for o in comps[public_ref]["evidence"]["occurrences"]] == [str(cert_path)]
    assert [o["location"] for o in comps[private_ref]["evidence"]["occurrences"]] == [str(key_path)]
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    assert {public_ref, private_ref} <= deps[cert_c["bom-ref"]]
    assert public_ref in deps[private_ref] and f"algorithm:{name}" in deps[private_ref]


def test_a_pkcs12_store_holding_key_and_certificate_is_one_asset_with_one_location(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(key, "p12.example", hashes.SHA256())
    (tmp_path / "store.p12").write_bytes(pkcs12.serialize_key_and_certificates(b"s", key, cert, None,
                                                                               serialization.NoEncryption()))
    report, doc = _scan(tmp_path)
    cert_a = _one(report, AssetType.CERTIFICATE)
    pair = _one(report, AssetType.MATERIAL)
    assert pair.details["certificates"] == [cert_a.key] and pair.details["kind"] == "private-key"
    assert {str(f.location) for f in cert_a.occurrences} == {f"{tmp_path / 'store.p12'}:1:1"}
    kinds = sorted(c["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"] for c in doc["components"]
                   if c["cryptoProperties"]["assetType"] == "related-crypto-material")
    assert kinds == ["private-key", "public-key"]


def test_a_key_without_its_certificate_and_a_certificate_without_its_key_stay_apart(tmp_path: Path) -> None:
    lone_key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "lone.key").write_bytes(lone_key.private_bytes(ENC.PEM, PF.PKCS8, serialization.NoEncryption()))
    (tmp_path / "other.crt").write_bytes(_cert(other, "other.example", hashes.SHA256()).public_bytes(ENC.PEM))
    report, doc = _scan(tmp_path)
    cert = _one(report, AssetType.CERTIFICATE)
    keys = {a.details["kind"]: a for a in report.assets if a.asset_type is AssetType.MATERIAL}
    assert set(keys) == {"private-key", "public-key"}
    assert "private_key" not in cert.details and "certificates" not in keys["private-key"].details
    assert keys["public-key"].details["certificates"] == [cert.key]
    assert {str(f.location.uri) for f in cert.occurrences} == {str(tmp_path / "other.crt")}
    types = sorted(c["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"] for c in doc["components"]
                   if c["cryptoProperties"]["assetType"] == "related-crypto-material")
    assert types == ["private-key", "public-key"]


def test_a_key_with_a_chain_links_only_to_the_certificate_of_its_own_public_key(tmp_path: Path) -> None:
    from tests.inventory import fixture_tree

    leaf, ca, leaf_key, _ = fixture_tree.make_chain()
    (tmp_path / "chain.pem").write_bytes(leaf.public_bytes(ENC.PEM) + ca.public_bytes(ENC.PEM))
    (tmp_path / "leaf.key").write_bytes(leaf_key.private_bytes(ENC.PEM, PF.TraditionalOpenSSL,
                                                               serialization.NoEncryption()))
    report, _ = _scan(tmp_path)
    certs = {a.details["subject"]: a for a in report.assets if a.asset_type is AssetType.CERTIFICATE}
    assert certs["CN=leaf.example"].details["private_key"] == [f"{tmp_path / 'leaf.key'}:1:1"]
    assert "private_key" not in certs["CN=Test Root"].details


def test_the_terminal_table_shows_a_key_with_its_certificate_in_one_row(tmp_path: Path) -> None:
    from rich.console import Console

    from inventory.report import table

    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "site.key").write_bytes(key.private_bytes(ENC.PEM, PF.PKCS8, serialization.NoEncryption()))
    (tmp_path / "site.crt").write_bytes(_cert(key, "row.example", hashes.SHA256()).public_bytes(ENC.PEM))
    report, _ = _scan(tmp_path)
    console = Console(width=160, record=True, color_system=None)
    table.render(report.to_dict(), console)
    text = console.export_text()
    assert "CN=row.example" in text and "(+1)" in text and "its private key" in text
    assert "related-crypto-material" not in text
    assert "1 key(s) shown with their certificate(s)" in text
