"""Policies (built-in and the documented example), Mosca exposure, SARIF, HTML, diff and the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory.errors import PolicyError
from inventory.report import html, sarif
from inventory.report.diff import diff
from inventory.risk import builtin_policy, load_policy
from inventory.scan import ScanOptions, run_scan
from tests.inventory.scans import NEW_CODE, OLD_CODE
from tests.inventory.scans import run_cli as _cli

REPO = Path(__file__).resolve().parents[2]


def _scan(tmp: Path, code: str, policy: str = "nist"):
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "app.py").write_text(code)
    (tmp / "sshd_config").write_text("KexAlgorithms ecdh-sha2-nistp256\n")
    return run_scan(ScanOptions(paths=[tmp], jobs=1), load_policy(policy))


def test_documented_example_policy_loads_and_overrides_the_builtin() -> None:
    pol = load_policy(str(REPO / "deploy" / "examples" / "inventory-policy.toml"))
    assert pol.name == "acme-2026" and pol.crqc_year == 2034
    assert pol.scope_for("/srv/billing/app.py").name == "customer-records"
    assert pol.scope_for("tls://example.com:443").name == "public-tls"
    assert pol.deadlines.disallowed == 2035


def test_unknown_policy_key_or_name_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('name = "x"\ncrqc_yaer = 2030\n')
    with pytest.raises(PolicyError, match="crqc_yaer"):
        load_policy(str(bad))
    with pytest.raises(PolicyError, match="unknown built-in"):
        builtin_policy("fips")


def test_nist_deadlines_follow_ir_8547_by_security_strength(tmp_path: Path) -> None:
    r = _scan(tmp_path, OLD_CODE)
    rsa2048 = r.assessments["algorithm:RSA-2048"]
    assert rsa2048.deadline == 2030 and "IR 8547" in rsa2048.deadline_reason  # 112-bit: deprecated after 2030
    p256 = r.assessments["algorithm:ECDH-P256"]
    assert p256.deadline == 2035  # 128-bit: disallowed after 2035
    assert "mlkem768x25519-sha256" in p256.recommendation and "KexAlgorithms" in p256.recommendation
    assert r.assessments["algorithm:MD5"].priority == "critical"


def test_cnsa2_rejects_ml_dsa_65_and_sets_signing_deadline_2030(tmp_path: Path) -> None:
    r = _scan(tmp_path, NEW_CODE + OLD_CODE.split("\n", 1)[1], policy="cnsa2")
    mldsa = r.assessments["algorithm:ML-DSA-65"]
    assert not mldsa.compliant and "ML-DSA-87" in mldsa.recommendation
    assert r.assessments["algorithm:SHA-256"].priority == "medium"  # CNSA 2.0 wants SHA-384+
    nist = _scan(tmp_path / "n", NEW_CODE)
    assert nist.assessments["algorithm:ML-DSA-65"].compliant


def test_mosca_inequality_marks_long_lived_data_at_risk(tmp_path: Path) -> None:
    r = _scan(tmp_path, OLD_CODE)
    m = r.assessments["algorithm:RSA-2048"].mosca
    assert m["at_risk"] == (m["shelf_life_years"] + m["migration_years"] > m["years_to_crqc"])
    assert m["at_risk"]  # 10 + 5 > 2035 - this year


def test_sarif_has_rules_per_status_and_results_with_regions(tmp_path: Path) -> None:
    r = _scan(tmp_path, OLD_CODE)
    doc = sarif.build(r.assets, r.assessments, "nist")
    assert doc["version"] == "2.1.0"
    rules = [x["id"] for x in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert {"QSHIFT-BROKEN-BY-SHOR", "QSHIFT-CLASSICALLY-BROKEN"} <= set(rules)
    md5 = next(x for x in doc["runs"][0]["results"] if x["properties"]["asset"] == "algorithm:MD5")
    assert md5["level"] == "error" and md5["ruleId"] == "QSHIFT-CLASSICALLY-BROKEN"
    assert md5["locations"][0]["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 5}
    assert rules[md5["ruleIndex"]] == md5["ruleId"]


def test_html_report_is_self_contained_with_three_charts_and_escapes_values(tmp_path: Path) -> None:
    r = _scan(tmp_path, OLD_CODE + "x = '<script>'\n")
    doc = r.to_dict()
    doc["assets"][0]["name"] = "<script>alert(1)</script>"
    page = html.render(doc)
    assert page.count("<svg") == 3 and "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_diff_shows_fixed_vulnerable_assets_and_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps(_scan(tmp_path / "a", OLD_CODE).to_dict()))
    new.write_text(json.dumps(_scan(tmp_path / "b", NEW_CODE).to_dict()))
    d = diff(old, new)
    assert set(d["vulnerable_fixed"]) == {"algorithm:RSA-2048", "algorithm:MD5"}
    assert d["vulnerable_introduced"] == []
    assert "algorithm:ML-DSA-65" in d["added"]
    assert d["progress"] == pytest.approx(2 / 3, abs=1e-4)  # ECDH-P256 in sshd_config is still there
    code, out, _ = _cli(["inventory", "diff", str(old), str(new), "--json"], capsys)
    assert code == 0 and json.loads(out)["progress"] == d["progress"]


def test_diff_of_a_non_scan_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("[1, 2]")
    code, _, err = _cli(["inventory", "diff", str(bogus), str(bogus)], capsys)
    assert code == 2 and "neither a qshift scan" in err and "Traceback" not in err


def test_cli_gate_exits_1_on_classically_broken_and_0_when_clean(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.py").write_text(OLD_CODE)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "a.py").write_text(NEW_CODE)
    base = ["inventory", "scan", "--fail-on", "classically-broken", "--json", "--jobs", "1"]
    code, out, err = _cli(base + [str(tmp_path / "bad")], capsys)
    assert code == 1 and "MD5" in err and json.loads(out)["summary"]["by_status"]["classically-broken"] == 1
    assert _cli(base + [str(tmp_path / "good")], capsys)[0] == 0


def test_cli_rejects_a_bad_endpoint_and_an_empty_scan_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["inventory", "scan", "--tls", "host:notaport"], capsys)
    assert code == 2 and "notaport" in err
    code, _, err = _cli(["inventory", "scan"], capsys)
    assert code == 2 and "nothing to scan" in err


def test_a_cbom_that_breaks_the_cyclonedx_schema_is_refused_with_a_typed_error() -> None:
    from inventory.errors import ReportError
    from inventory.report import cbom

    good = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
        {"type": "cryptographic-asset", "name": "RSA-2048", "bom-ref": "algorithm:RSA-2048",
         "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": {"primitive": "pke"}}}]}
    cbom.validate(json.dumps(good))
    bad = json.loads(json.dumps(good))
    bad["components"][0]["cryptoProperties"]["assetType"] = "spell"  # not in the 1.6 enumeration
    with pytest.raises(ReportError, match="CycloneDX 1.6"):
        cbom.validate(json.dumps(bad))
    with pytest.raises(ReportError, match="specVersion"):
        cbom.validate(json.dumps({**good, "specVersion": "1.5"}))


def test_manifest_pq_support_tells_a_pinned_old_release_from_a_bare_lower_bound() -> None:
    from inventory.sources.manifests import pq_support

    assert pq_support("pypi", "cryptography", "==46.0.1")[0] == "no"
    assert pq_support("pypi", "cryptography", ">=47")[0] == "yes"
    support, note = pq_support("pypi", "cryptography", ">=42")
    assert support == "unknown" and "does not require" in note
    assert pq_support("pypi", "cryptography", ">=42,<46")[0] == "no"
    assert pq_support("pypi", "cryptography", "")[0] == "unknown"
    assert pq_support("pypi", "pycryptodome", "==3.20.0")[0] == "no"


def test_config_protocol_versions_are_rated_sslv3_tls10_broken_and_tls12_shor_vulnerable(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("server {\n    ssl_protocols SSLv3 TLSv1 TLSv1.2 TLSv1.3;\n}\n")
    report = run_scan(ScanOptions(paths=[tmp_path], jobs=1))
    rated = {k.rsplit(":", 1)[1]: (r.status, r.priority) for k, r in report.assessments.items()}
    assert rated["sslv3"] == rated["tlsv1"] == ("classically-broken", "critical")
    assert rated["tlsv1.2"][0] == "broken-by-shor"
    assert rated["tlsv1.3"][0] == "unknown"  # depends on the groups, which this file does not set
    assert "RFC 7568" in report.assessments["protocol:nginx:sslv3"].recommendation
    from inventory.report import cbom

    doc = json.loads(cbom.render(report.assets, report.assessments))
    props = {c["name"]: c["cryptoProperties"]["protocolProperties"] for c in doc["components"]}
    assert props["TLSv1"] == {"type": "tls", "version": "1.0"} and props["TLSv1.3"]["version"] == "1.3"


def _endpoint(related: list[str], versions: list[str], groups: list[str]) -> tuple[str, str]:
    from inventory.model import AssetType, Finding, Location
    from inventory.normalise import normalise
    from inventory.risk import assess_all, builtin_policy

    f = Finding(raw="TLS h:443", asset_type=AssetType.PROTOCOL, source="tls", location=Location("tls://h:443"),
                confidence=1.0, network_facing=True, related=related,
                details={"id": "tls://h:443", "protocol": "tls", "versions": versions, "groups": groups})
    assets = normalise([f])
    r = assess_all(assets, builtin_policy("nist"))["protocol:tls://h:443"]
    return r.status, r.recommendation


def test_endpoint_is_rated_by_what_a_classical_client_can_still_negotiate() -> None:
    status, rec = _endpoint(["X25519MLKEM768", "X25519"], ["TLSv1.2", "TLSv1.3"], ["X25519MLKEM768", "x25519"])
    assert status == "broken-by-shor"
    assert "disable TLSv1.2" in rec and "x25519" in rec and "X25519MLKEM768" in rec
    status, _ = _endpoint(["X25519MLKEM768"], ["TLSv1.3"], ["X25519MLKEM768"])
    assert status == "hybrid"


def test_ca_bundle_roots_are_trust_anchors_to_track_not_certificates_to_reissue(tmp_path: Path) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from inventory.risk import assess_all, builtin_policy
    from inventory.scan import ScanOptions, run_scan

    pems = []
    for i in range(2):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Root {i}")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(i + 1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        pems.append(cert.public_bytes(serialization.Encoding.PEM))
    store = tmp_path / "certifi"
    store.mkdir()
    (store / "cacert.pem").write_bytes(b"".join(pems))
    report = run_scan(ScanOptions(paths=[tmp_path], jobs=1))
    rated = assess_all(report.assets, builtin_policy("nist"))
    anchors = [a for a in report.assets if a.asset_type.value == "certificate"]
    assert len(anchors) == 2 and all(a.details["trust_anchor"] for a in anchors)
    for a in anchors:
        r = rated[a.key]
        assert r.priority == "high" and "trust anchor" in r.recommendation and "reissue" not in r.recommendation.split(
            "nothing to reissue")[0]
