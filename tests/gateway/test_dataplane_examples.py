"""The documented WireGuard and IPsec site examples (issue 19, item 4): they load, ``qshift gateway check``
accepts them once their keys exist, the service builds the peer's rotator with the policy the file states,
and the strongSwan fragments agree with the IPsec site config (credentials for its identities, the VICI
socket it talks to, make-before-break, and no second definition of the connection qshift loads)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.config import SiteConfig
from qkd.kms.pki import make_pki
from qshift.cli import app
from qshift.config import load_config
from tests.gateway.harness import make_identities

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
KINDS = {"gateway-wireguard.toml": "wireguard", "gateway-ipsec.toml": "ipsec"}


def parse_strongswan_settings(text: str) -> dict[str, Any]:
    """strongswan.conf / swanctl.conf syntax (``name { … }`` sections, ``key = value``, ``#`` comments)."""
    root: dict[str, Any] = {}
    stack = [root]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            section: dict[str, Any] = {}
            stack[-1][line[:-1].strip()] = section
            stack.append(section)
        elif line == "}":
            assert len(stack) > 1, f"line {number}: '}}' without a section"
            stack.pop()
        else:
            key, eq, value = line.partition("=")
            assert eq, f"line {number}: {raw!r} is neither a section nor key = value"
            stack[-1][key.strip()] = value.strip()
    assert len(stack) == 1, "a section is not closed"
    return root


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_data_plane_examples_check_with_real_keys_and_build_their_rotator(name, tmp_path, monkeypatch):
    from gateway.service import GatewayService

    monkeypatch.chdir(tmp_path)
    (tmp_path / "var" / "gateway").mkdir(parents=True)
    make_pki(tmp_path / "var" / "kme" / "pki", kmes=["KME_A"], saes=["SAE_A", "SAE_B"])
    make_identities(tmp_path / "var" / "gateway")
    shutil.copy(EXAMPLES / name, tmp_path / name)
    result = CliRunner().invoke(app, ["gateway", "check", name, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["site"] == "site-a"

    site = load_config(tmp_path / name, SiteConfig)
    peer = site.peers[0]
    assert peer.kind == KINDS[name] and peer.connect
    service = GatewayService(site)
    rotator = service.dataplanes.rotators[peer.name]
    status = service.status()["peers"][peer.name]["data_plane"]
    assert (rotator.plane, status["plane"], status["state"], status["psk_epoch"]) == \
        (KINDS[name], KINDS[name], "waiting", None)
    table = peer.wireguard or peer.ipsec
    assert table is not None
    assert status["policy"]["rotation_interval_s"] == table.rotation_interval_s
    assert status["policy"]["max_age_s"] == table.max_age_s
    if peer.kind == "wireguard":
        assert status["target"] == "wg0" and status["policy"]["on_stale"] == "keep"
    else:   # qkd = "required": PPKs required by IKE, and a stale PPK ends the IKE SAs at once
        assert status["target"] == peer.ipsec.name and status["policy"]["on_stale"] == "remove"
        assert rotator.ppk_required and rotator.initiator


def test_the_strongswan_fragments_agree_with_the_ipsec_site_config():
    site = load_config(EXAMPLES / "gateway-ipsec.toml", SiteConfig)
    ipsec = site.peers[0].ipsec
    assert ipsec is not None
    conn = ipsec.connection
    charon = parse_strongswan_settings((EXAMPLES / "strongswan-qshift.conf").read_text())["charon"]
    assert charon["make_before_break"] == "yes"
    assert charon["plugins"]["vici"]["socket"] == f"unix://{ipsec.vici_socket}"
    swanctl = parse_strongswan_settings((EXAMPLES / "swanctl-qshift.conf").read_text())
    assert ipsec.name not in swanctl.get("connections", {}), "qshift loads this connection over VICI"
    ike = [s for name, s in swanctl["secrets"].items() if name.startswith("ike")]
    assert len(ike) == 1
    ids = {v for k, v in ike[0].items() if k.startswith("id")}
    assert ids == {conn["local"]["id"], conn["remote"]["id"]}
    assert not any(name.startswith("ppk") for name in swanctl["secrets"]), "PPKs come from qshift, per epoch"
    # the rotation replaces IKE SAs: neither the IKE nor the CHILD SA rekeys on its own
    assert conn["rekey_time"] == "0" and conn["children"][ipsec.child]["rekey_time"] == "0"
    assert conn["children"][ipsec.child]["start_action"] == "none"


def test_the_settings_parser_refuses_what_is_not_strongswan_syntax():
    with pytest.raises(AssertionError, match="not closed"):
        parse_strongswan_settings("charon {\n  a = b\n")
    with pytest.raises(AssertionError, match="neither a section"):
        parse_strongswan_settings("charon {\n  just words\n}\n")
    assert parse_strongswan_settings("a {\n  b {\n    c = d  # note\n  }\n}\n") == {"a": {"b": {"c": "d"}}}
