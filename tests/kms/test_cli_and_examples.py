"""``qshift kme`` commands and the example configs of the A–T–B chain."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from qkd.kms.config import KmeConfig
from qkd.kms.testing import free_port, single_node_config, to_toml
from qshift.commands.kme import app
from qshift.config import load_config

EXAMPLES = ["kme-a.toml", "kme-t.toml", "kme-b.toml"]


def test_example_chain_configs_load_and_share_one_topology():
    root = Path(__file__).resolve().parents[2] / "deploy" / "examples"
    cfgs = [load_config(root / name, KmeConfig) for name in EXAMPLES]
    assert [c.node.id for c in cfgs] == ["KME_A", "KME_T", "KME_B"]
    assert cfgs[0].topology == cfgs[1].topology == cfgs[2].topology
    assert {f.pool for f in cfgs[1].feeds} == {"A-T", "T-B"}
    seeds = {(f.pool, f.seed) for c in cfgs for f in c.feeds}
    assert len({p for p, _ in seeds}) == len(seeds)   # both ends of a link use the same seed


def test_pki_command_writes_ca_and_identity_certificates_with_0600_keys(tmp_path):
    result = CliRunner().invoke(app, ["pki", str(tmp_path), "--kme", "KME_A", "--sae", "SAE_A", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for ident in ("KME_A", "SAE_A"):
        cert = x509.load_pem_x509_certificate(open(data["identities"][ident]["cert"], "rb").read())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ident
        assert stat.S_IMODE(os.stat(data["identities"][ident]["key"]).st_mode) == 0o600


def test_status_command_prints_the_pools_of_a_running_node(tmp_path, pki, spawn_node):
    cfg = single_node_config(tmp_path, pki, port=free_port(), prefill_bits=8192)
    cfg.topology.nodes[0].url = f"https://127.0.0.1:{cfg.node.listen_port}"
    path = tmp_path / "node.toml"
    path.write_text(to_toml(cfg.model_dump(mode="json")))
    spawn_node(path)
    result = CliRunner().invoke(app, ["status", str(path), "--json"])
    assert result.exit_code == 0, result.output
    [local] = json.loads(result.output)["pools"]
    assert (local["name"], local["stored_bits"]) == ("local", 8192)
    result = CliRunner().invoke(app, ["status", str(path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "KME_A pools" in result.output and "8,192" in result.output
