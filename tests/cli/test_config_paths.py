"""Paths inside a config file are taken relative to that file, so a command works from any directory
(issue 17, item 6: ``kme status``/``kme serve`` from another directory used to fail naming no file)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from qshift.config import resolve_paths
from tests.cli.conftest import QSHIFT, REPO, qshift
from tests.cli.test_errors import _node_toml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_resolve_paths_walks_tables_and_lists_and_leaves_absolute_and_empty_paths() -> None:
    data = {"tls": {"ca": "pki/ca.pem", "cert": "/etc/qshift/c.pem"},
            "feeds": [{"auth_psk_file": "pads.bin", "timetag_files": ["a.qtt", "b.qtt"]}, {"auth_psk_file": ""}]}
    resolve_paths(data, ["tls.ca", "tls.cert", "feeds[].auth_psk_file", "feeds[].timetag_files[]", "no.such"],
                  Path("/conf"))
    assert data == {"tls": {"ca": "/conf/pki/ca.pem", "cert": "/etc/qshift/c.pem"},
                    "feeds": [{"auth_psk_file": "/conf/pads.bin", "timetag_files": ["/conf/a.qtt", "/conf/b.qtt"]},
                              {"auth_psk_file": ""}]}


def test_kme_serve_and_status_from_other_directories(tmp_path: Path) -> None:
    conf, run, elsewhere = tmp_path / "conf", tmp_path / "run", tmp_path / "elsewhere"
    for d in (conf, run, elsewhere):
        d.mkdir()
    assert qshift("kme", "pki", str(conf / "pki"), "--kme", "KME_A", "--sae", "SAE_A").returncode == 0
    node = _node_toml(conf, free_port())
    proc = subprocess.Popen([QSHIFT, "kme", "serve", os.path.relpath(node, run)], cwd=run, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready = json.loads(proc.stdout.readline() or "{}")
        assert ready.get("event") == "kme.ready", proc.stderr.read() if proc.poll() is not None else ready
        status = qshift("kme", "status", os.path.relpath(node, elsewhere), "--json", cwd=elsewhere)
        assert status.returncode == 0, status.stderr
        assert [p["name"] for p in json.loads(status.stdout)["pools"]] == ["local"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert sorted(p.name for p in (run / "state").iterdir())[:2] == ["keys.sqlite", "master.key"]  # state: cwd
    assert not (elsewhere / "state").exists() and not (conf / "state").exists()


def test_gateway_check_from_another_directory(tmp_path: Path) -> None:
    conf, elsewhere = tmp_path / "conf", tmp_path / "elsewhere"
    conf.mkdir()
    elsewhere.mkdir()
    for name in ("gateway-site-a.toml", "gateway-site-b.toml"):
        shutil.copy(REPO / "deploy" / "examples" / name, conf / name)
    assert qshift("kme", "pki", str(conf / "var" / "kme" / "pki"), "--kme", "KME_A", "--kme", "KME_B",
                  "--sae", "SAE_A", "--sae", "SAE_B").returncode == 0
    for site in ("site-a", "site-b"):
        key = conf / "var" / "gateway" / f"{site}.key"
        assert qshift("pqc", "keygen", "MLDSA65-Ed25519", "-o", str(key)).returncode == 0
    for name, site in (("gateway-site-a.toml", "site-a"), ("gateway-site-b.toml", "site-b")):
        result = qshift("gateway", "check", f"../conf/{name}", "--json", cwd=elsewhere)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["site"] == site
