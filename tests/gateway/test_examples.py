"""The documented site examples load, and ``qshift gateway check`` accepts them once their keys exist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.config import SiteConfig
from qkd.kms.pki import make_pki
from qshift.cli import app
from qshift.config import load_config
from tests.gateway.harness import make_identities

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


@pytest.mark.parametrize("name", ["gateway-site-a.toml", "gateway-site-b.toml"])
def test_example_site_configs_validate(name):
    site = load_config(EXAMPLES / name, SiteConfig)
    assert site.peers and site.forward and site.reverse and site.kme is not None


def test_example_pair_is_consistent_and_checks_with_real_keys(tmp_path, monkeypatch):
    a = load_config(EXAMPLES / "gateway-site-a.toml", SiteConfig)
    b = load_config(EXAMPLES / "gateway-site-b.toml", SiteConfig)
    assert a.peers[0].name == b.site_id and b.peers[0].name == a.site_id
    assert a.peers[0].connect == b.tunnel.listen and b.peers[0].connect is None
    assert {r.target for r in b.reverse} == {r.target for r in a.forward}
    assert {r.target for r in a.reverse} == {r.target for r in b.forward}
    # Lay out the files the examples name, relative to a working directory, and check both sites.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var" / "gateway").mkdir(parents=True)
    make_pki(tmp_path / "var" / "kme" / "pki", kmes=["KME_A", "KME_B"], saes=["SAE_A", "SAE_B"])
    keys = make_identities(tmp_path / "var" / "gateway")
    assert keys["a_pub"].endswith("site-a.key.pub")
    shutil.copy(EXAMPLES / "gateway-site-a.toml", tmp_path / "a.toml")
    shutil.copy(EXAMPLES / "gateway-site-b.toml", tmp_path / "b.toml")
    runner = CliRunner()
    for name, site in (("a.toml", "site-a"), ("b.toml", "site-b")):
        result = runner.invoke(app, ["gateway", "check", name, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["site"] == site


def test_check_names_the_missing_key_file(tmp_path, monkeypatch, capsys):
    from qshift.cli import main

    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "gateway-site-a.toml", tmp_path / "a.toml")
    assert main(["gateway", "check", "a.toml"]) == 2
    err = capsys.readouterr().err
    assert "identity.signing_key" in err and "var/gateway/site-a.key" in err


@pytest.mark.parametrize("url", ["http://127.0.0.1:8443", "HTTP://kme.example:443", "ftp://kme", "kme:8443",
                                 "https://"])
def test_a_kme_url_that_is_not_https_is_refused(url):
    """Issue 15, finding 8: QKD keys travel only over mutual TLS; the config says so at load time."""
    data = load_config(EXAMPLES / "gateway-site-a.toml", SiteConfig).model_dump(exclude_none=True)
    data["kme"]["url"] = url
    with pytest.raises(ValueError, match="kme.url: .* is not an https:// URL"):
        SiteConfig.model_validate(data)
    data["kme"]["url"] = "https://127.0.0.1:8443"
    assert SiteConfig.model_validate(data).kme.url == "https://127.0.0.1:8443"


WG_KEY = "YUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="   # 32 bytes, base64, as `wg show` prints a key


def test_a_peer_chooses_its_data_plane_and_the_service_keys_it(tmp_path) -> None:
    """Issue 19: ``kind`` per peer; a WireGuard peer needs its table (and a table its kind); the service
    builds a rotator for it and shows its data plane under the peer in /status."""
    from gateway.service import GatewayService

    data = load_config(EXAMPLES / "gateway-site-a.toml", SiteConfig).model_dump(exclude_none=True)
    data["identity"].pop("signing_key", None)
    peer = data["peers"][0]
    psk = tmp_path / "peer.psk"
    psk.write_text("ab" * 32)
    psk.chmod(0o600)
    peer.update(auth="psk", psk_file=str(psk))
    peer.pop("public_key", None)
    data.pop("kme", None)                     # no KME needed to build the service
    for p in data["peers"]:
        p["qkd"] = "off"
    peer["kind"] = "wireguard"
    with pytest.raises(ValueError, match=r"kind = 'wireguard' needs a \[peers.wireguard\] table"):
        SiteConfig.model_validate(data)
    peer["wireguard"] = {"interface": "wg-qshift0", "public_key": WG_KEY}
    service = GatewayService(SiteConfig.model_validate(data))
    plane = service.status()["peers"][peer["name"]]["data_plane"]
    assert plane["state"] != "up" and plane["psk_epoch"] is None     # nothing installed before a session
    assert set(service.dataplanes.rotators) == {peer["name"]}
    peer["kind"] = "tcp-tunnel"
    with pytest.raises(ValueError, match=r"a \[peers.wireguard\] table needs kind = 'wireguard'"):
        SiteConfig.model_validate(data)
    del peer["wireguard"]
    plain = GatewayService(SiteConfig.model_validate(data))
    assert plain.status()["peers"][peer["name"]]["data_plane"] == {"kind": "tcp-tunnel"}
