"""Every error of ours is one line naming what and where, exit 2, no traceback (issue 17, item 6), for each
case the review found, against real files and the installed entry point."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.conftest import leftovers, one_line_error, qshift


def test_a_usage_error_names_the_command_and_the_option() -> None:
    one_line_error(qshift("qkd", "keyrate", "--decoy", "both"), "qshift qkd keyrate", "--decoy")
    one_line_error(qshift("no-such-command"), "No such command")
    one_line_error(qshift("pqc", "keygen", "Ed25519"), "--output")          # missing required option


def test_debug_shows_the_traceback_instead(tmp_path: Path) -> None:
    result = qshift("--debug", "kme", "pki", str(tmp_path), "--kme", "bad name")
    assert result.returncode == 2 and "Traceback (most recent call last)" in result.stderr


def test_inventory_reports_into_a_missing_directory_or_onto_a_directory_fail_before_the_scan(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    one_line_error(qshift("inventory", "scan", str(tmp_path / "src"), "--cbom", "/nonexistent/dir/c.json"),
                   "--cbom /nonexistent/dir/c.json", "/nonexistent/dir does not exist")
    one_line_error(qshift("inventory", "scan", str(tmp_path / "src"), "--html", str(tmp_path)),
                   "--html", "is a directory")
    assert leftovers(tmp_path) == ["src"]


@pytest.mark.parametrize(("plot", "needle"), [
    ("/nonexistent/k.png", "directory /nonexistent does not exist"),
    ("{tmp}/k.xyz", "expected a .png | .svg | .pdf file name"),
    ("{tmp}/adir", "expected a .png | .svg | .pdf file name"),      # no longer writes adir.png
    ("{tmp}", "is a directory"),
])
def test_keyrate_plot_path_is_checked(tmp_path: Path, plot: str, needle: str) -> None:
    target = plot.replace("{tmp}", str(tmp_path))
    one_line_error(qshift("qkd", "keyrate", "--plot", target), "--plot", needle)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("args", "needles"), [
    (["qkd", "satellite-pass", "--altitude-km", "-100"], ["--altitude-km"]),
    (["qkd", "satellite-pass", "--min-elevation-deg", "95"], ["--min-elevation-deg"]),
    (["qkd", "satellite-pass", "--min-elevation-deg", "90"], ["--min-elevation-deg", "below 90°"]),
    (["qkd", "satellite-pass", "--points", "1"], ["--points"]),
    (["qkd", "simulate", "--length-km", "-5"], ["--length-km"]),
    (["qkd", "simulate", "--seconds", "-1"], ["--seconds", "emulated link time"]),
    (["qkd", "simulate", "--eve", "1.5"], ["--eve"]),
    (["qkd", "keyrate", "--distances-km", "-10,5"], ["--distances-km", "≥ 0 km"]),
    (["qkd", "keyrate", "--nu", "0"], ["--nu"]),
    (["qkd", "run", "--length-km", "-1"], ["--length-km"]),
    (["qkd", "run", "--reconciler", "ldpc", "--ldpc-decoder", "fast"], ["--ldpc-decoder", "min-sum-8"]),
    (["qkd", "run", "--reconciler", "ldpc", "--ldpc-f-start", "0.9"], ["--ldpc-f-start"]),
    (["qkd", "sift", "--tx", "t.json", "--rx", "r.qtt", "--window-ps", "0"], ["--window-ps"]),
    (["inventory", "scan", ".", "--timeout-s", "0"], ["--timeout-s"]),
])
def test_nonsense_values_are_refused_with_the_option_named(args: list[str], needles: list[str]) -> None:
    one_line_error(qshift(*args), *needles)


def test_sift_names_the_missing_or_wrong_kind_of_input(tmp_path: Path) -> None:
    tx = tmp_path / "alice.json"
    tx.write_text("{}")
    one_line_error(qshift("qkd", "sift", "--tx", str(tx), "--rx", str(tmp_path / "nope.ptu")),
                   "--rx", "nope.ptu", "no such file")
    one_line_error(qshift("qkd", "sift", "--tx", str(tx), "--rx", str(tmp_path)), "--rx", "is a directory")
    one_line_error(qshift("qkd", "sift", "--tx", str(tmp_path / "t.txt"), "--rx", str(tx)), "--tx", "t.txt")


def test_emulate_into_a_missing_directory_or_with_a_wrong_kind_writes_nothing(tmp_path: Path) -> None:
    one_line_error(qshift("qkd", "emulate", "--out", "/nonexistent/x.qtt", "--tx-out", str(tmp_path / "t.json")),
                   "--out /nonexistent/x.qtt", "does not exist")
    one_line_error(qshift("qkd", "emulate", "--out", str(tmp_path / "x.qtt"), "--tx-out", str(tmp_path / "t.txt")),
                   "--tx-out", ".npz | .json")
    # rejected after emulating (too many slots for a per-slot record): neither file exists
    one_line_error(qshift("qkd", "emulate", "--out", str(tmp_path / "x.qtt"), "--tx-out", str(tmp_path / "t.npz"),
                          "--seconds", "0.2"), "--tx-out", "too many")
    assert leftovers(tmp_path) == []


def test_keygen_into_a_missing_directory_tree_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "k.key"
    one_line_error(qshift("pqc", "keygen", "Ed25519", "-o", str(target)), "--output", "does not exist")
    assert leftovers(tmp_path) == []


def test_keygen_never_replaces_a_key_without_force(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    assert qshift("pqc", "keygen", "Ed25519", "-o", str(key)).returncode == 0
    before = (key.read_bytes(), (tmp_path / "k.key.pub").read_bytes())
    one_line_error(qshift("pqc", "keygen", "Ed25519", "-o", str(key)), str(key), "--force")
    assert (key.read_bytes(), (tmp_path / "k.key.pub").read_bytes()) == before
    assert qshift("pqc", "keygen", "Ed25519", "-o", str(key), "--force").returncode == 0
    assert key.read_bytes() != before[0]
    assert leftovers(tmp_path) == ["k.key", "k.key.pub"]                  # no temporaries left


def test_kme_pki_refuses_a_file_path_a_bad_identity_and_an_existing_ca(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    one_line_error(qshift("kme", "pki", str(afile), "--kme", "KME_A"), str(afile), "not a directory")
    one_line_error(qshift("kme", "pki", str(tmp_path / "pki"), "--kme", "KME A"), "identity 'KME A'")
    one_line_error(qshift("kme", "pki", str(tmp_path / "pki"), "--kme", "KME_A", "--sae", "KME_A"), "given twice")
    pki = tmp_path / "pki"
    assert qshift("kme", "pki", str(pki), "--kme", "KME_A", "--sae", "SAE_A").returncode == 0
    ca = (pki / "ca.pem").read_bytes()
    one_line_error(qshift("kme", "pki", str(pki), "--kme", "KME_A"), "ca.pem", "refusing to overwrite a CA",
                   "--force")
    one_line_error(qshift("kme", "pki", str(pki), "--kme", "KME_B"), "ca.pem", "--force")   # a new CA each time
    assert (pki / "ca.pem").read_bytes() == ca and not (pki / "KME_B.pem").exists()
    assert qshift("kme", "pki", str(pki), "--kme", "KME_A", "--force").returncode == 0
    assert (pki / "ca.pem").read_bytes() != ca
    assert not [n for n in leftovers(pki) if n.startswith(".")]            # staging directory removed


def test_kme_status_cert_without_key(tmp_path: Path) -> None:
    one_line_error(qshift("kme", "status", str(tmp_path / "node.toml"), "--cert", str(tmp_path / "c.pem")),
                   "--cert", "--key")


def test_demo_out_pointing_at_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "report"
    afile.write_text("x")
    one_line_error(qshift("demo", "--out", str(afile)), "--out", "is a file")
    one_line_error(qshift("fallback-test", str(tmp_path / "s.toml"), "--out", str(afile)), "--out", "is a file")


def _node_toml(conf: Path, port: int) -> Path:
    """A one-node KME whose TLS paths are relative to its TOML and whose state is relative to the cwd."""
    path = conf / "node.toml"
    path.write_text(f"""
[node]
id = "KME_A"
listen_port = {port}
db_path = "state/keys.sqlite"
master_key_path = "state/master.key"
admin_ids = ["admin"]
[tls]
ca = "pki/ca.pem"
cert = "pki/KME_A.pem"
key = "pki/KME_A.key"
[[topology.nodes]]
id = "KME_A"
url = "https://127.0.0.1:{port}"
[[topology.saes]]
id = "SAE_A"
node = "KME_A"
[[feeds]]
pool = "local"
kind = "synthetic-os-rng"
prefill_bits = 4096
""")
    return path


def test_kme_serve_names_the_missing_tls_file_and_creates_no_state(tmp_path: Path) -> None:
    conf, run = tmp_path / "conf", tmp_path / "run"
    conf.mkdir()
    run.mkdir()
    node = _node_toml(conf, 0)
    one_line_error(qshift("kme", "serve", str(node), cwd=run), "tls.ca", str(conf / "pki" / "ca.pem"),
                   "no such file")
    one_line_error(qshift("kme", "status", str(node), cwd=run), "tls.ca")
    assert leftovers(run) == []                                         # no fresh master.key / keys.sqlite


def test_a_port_already_in_use_is_one_line_for_kme_serve_and_gateway_serve(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        conf = tmp_path / "conf"
        conf.mkdir()
        assert qshift("kme", "pki", str(conf / "pki"), "--kme", "KME_A", "--sae", "SAE_A").returncode == 0
        node = _node_toml(conf, port)
        one_line_error(qshift("kme", "serve", str(node), cwd=tmp_path, timeout=60), str(node), str(port))
        site = tmp_path / "site.toml"
        site.write_text(f'site_id = "site-a"\n[management]\nlisten = "127.0.0.1:{port}"\n')
        one_line_error(qshift("gateway", "serve", str(site), cwd=tmp_path, timeout=60), str(site), "cannot listen",
                       str(port))
