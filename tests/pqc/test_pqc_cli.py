"""``qshift pqc keygen`` and ``qshift pqc bench`` through the real CLI: the console script in a subprocess
for the deployment case, ``qshift.cli.main(argv)`` in-process (same entry point, same error mapping)
for the rest, because each subprocess pays the full CLI import (seconds on the shared CI machine)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.primitives import load_public_key, load_signing_key
from pqc.keys import read_private_key, read_public_key
from pqc.signatures import CompositeMLDSA65Ed25519PrivateKey
from qshift.cli import main


def _qshift(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    script = Path(sys.executable).parent / "qshift"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "qshift.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


class _Run:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # noqa: ANN201
    def invoke(*args: str) -> _Run:
        code = main(list(args))
        captured = capsys.readouterr()
        return _Run(code, captured.out, captured.err)

    return invoke


def test_keygen_composite_identity_as_the_compose_file_does_and_the_gateway_loads_it(tmp_path: Path) -> None:
    key = tmp_path / "identity" / "site-a.key"  # directory created (0700) like the compose init step needs
    proc = _qshift("pqc", "keygen", "MLDSA65-Ed25519", "-o", str(key), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["algorithm"] == "MLDSA65-Ed25519" and info["public_key"] == f"{key}.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    signer = load_signing_key(str(key), "identity.signing_key")
    assert isinstance(signer, CompositeMLDSA65Ed25519PrivateKey)
    pinned = load_public_key(f"{key}.pub", "peer.public_key")
    pinned.verify(signer.sign(b"transcript", b"ctx"), b"transcript", b"ctx")
    assert signer.private_bytes_raw().hex()[:16] not in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["ML-KEM-768", "mlkem1024", "X-Wing", "ML-DSA-65", "Ed25519", "X25519"])
def test_keygen_writes_a_loadable_pair_for_each_key_algorithm(tmp_path: Path, name: str, run) -> None:  # noqa: ANN001
    key = tmp_path / "k.pem"
    proc = run("pqc", "keygen", name, "-o", str(key))
    assert proc.returncode == 0, proc.stderr
    private = read_private_key(key)
    assert read_public_key(f"{key}.pub") == private.public_key()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_keygen_refuses_to_overwrite_without_force_and_rejects_non_key_algorithms(tmp_path: Path, run) -> None:  # noqa: ANN001
    key = tmp_path / "k.key"
    assert run("pqc", "keygen", "Ed25519", "-o", str(key)).returncode == 0
    before = key.read_bytes()
    refused = run("pqc", "keygen", "Ed25519", "-o", str(key))
    assert refused.returncode == 2 and "exists; refusing to overwrite" in refused.stderr
    assert key.read_bytes() == before
    assert run("pqc", "keygen", "Ed25519", "-o", str(key), "--force").returncode == 0
    assert key.read_bytes() != before
    aead = run("pqc", "keygen", "AES-256-GCM", "-o", str(tmp_path / "a.key"))
    assert aead.returncode == 2 and "has no key pair" in aead.stderr and "Traceback" not in aead.stderr
    unknown = run("pqc", "keygen", "NoSuchAlg", "-o", str(tmp_path / "b.key"))
    assert unknown.returncode == 2 and "NoSuchAlg" in unknown.stderr


def test_bench_json_gives_ops_per_second_for_every_operation_of_the_chosen_algorithms(run) -> None:  # noqa: ANN001
    proc = run("pqc", "bench", "-a", "ML-KEM-768", "-a", "ML-DSA-44", "-a", "X25519", "--min-time-s", "0.01",
                   "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["results"]
    got = {(r["algorithm"], r["operation"]) for r in rows}
    assert got == {("ML-KEM-768", "keygen"), ("ML-KEM-768", "encaps"), ("ML-KEM-768", "decaps"),
                   ("ML-DSA-44", "keygen"), ("ML-DSA-44", "sign"), ("ML-DSA-44", "verify"),
                   ("X25519", "keygen"), ("X25519", "exchange")}
    for row in rows:
        assert row["ops"] >= 3 and row["ops_per_s"] == pytest.approx(row["ops"] / row["seconds"])
        assert row["backend"] == "cryptography"


def test_bench_table_by_default_covers_every_available_algorithm(run) -> None:  # noqa: ANN001
    proc = run("pqc", "bench", "--min-time-s", "0.002")
    assert proc.returncode == 0, proc.stderr
    for name in ("ML-KEM-768", "ML-KEM-1024", "X-Wing", "X25519MLKEM768", "ML-DSA-87", "MLDSA65-Ed25519"):
        assert name in proc.stdout
    assert "ops/s" in proc.stdout
