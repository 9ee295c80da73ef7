"""``qshift pqc algorithms``: JSON output, filters, table, bad options. The console script runs as a real
subprocess once; the other cases call the same entry point ``qshift.cli.main(argv)`` in-process (each
subprocess pays seconds of CLI import on the shared CI machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pqc.catalogue import ALGORITHMS
from qshift.cli import main


def _qshift(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``qshift`` console script (falls back to ``python -m qshift.cli``)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    script = Path(sys.executable).parent / "qshift"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "qshift.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60, env=env)


class _Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def qshift_in_process(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str) -> _Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return _Result(code, captured.out, captured.err)

    return run


def test_json_lists_every_entry_with_stable_keys() -> None:
    proc = _qshift("pqc", "algorithms", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["count"] == len(ALGORITHMS) == len(data["algorithms"])
    first = data["algorithms"][0]
    for key in ("name", "family", "primitive", "quantum_status", "quantum_security_bits", "nist_category",
                "oids", "tls_groups", "public_key_bytes", "ciphertext_bytes", "signature_bytes", "components"):
        assert key in first
    by_name = {a["name"]: a for a in data["algorithms"]}
    assert by_name["X25519MLKEM768"]["tls_groups"] == [0x11EC]
    assert by_name["ML-DSA-65"]["oids"] == ["2.16.840.1.101.3.4.3.18"]
    assert by_name["ML-KEM-768"]["quantum_status"] == "quantum-safe"


def test_filters_combine_family_status_and_primitive(qshift_in_process) -> None:  # noqa: ANN001
    data = json.loads(qshift_in_process("pqc", "algorithms", "--family", "ml-kem", "--json").stdout)
    assert sorted(a["name"] for a in data["algorithms"]) == ["ML-KEM-1024", "ML-KEM-512", "ML-KEM-768"]
    hybrids = json.loads(
        qshift_in_process("pqc", "algorithms", "--status", "hybrid", "--primitive", "kem", "--json").stdout
    )
    names = {a["name"] for a in hybrids["algorithms"]}
    assert {"X-Wing", "X25519MLKEM768", "SecP256r1MLKEM768", "mlkem768x25519-sha256"} <= names
    assert all(a["quantum_status"] == "hybrid" and a["primitive"] == "kem" for a in hybrids["algorithms"])


def test_rich_table_shows_name_category_sizes_and_status(qshift_in_process) -> None:  # noqa: ANN001
    proc = qshift_in_process("pqc", "algorithms", "--family", "ML-DSA")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for text in ("ML-DSA-44", "ML-DSA-87", "quantum-safe", "sig 3309", "pk 1952"):
        assert text in out
    assert "RSA-2048" not in out


def test_unknown_status_or_primitive_exits_2_and_names_the_choices(qshift_in_process) -> None:  # noqa: ANN001
    proc = qshift_in_process("pqc", "algorithms", "--status", "doomed")
    assert proc.returncode == 2
    assert "quantum-safe" in proc.stderr and "doomed" in proc.stderr
    assert qshift_in_process("pqc", "algorithms", "--primitive", "teleporter").returncode == 2


def test_family_with_no_entries_prints_an_empty_list_not_an_error(qshift_in_process) -> None:  # noqa: ANN001
    proc = qshift_in_process("pqc", "algorithms", "--family", "Enigma", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"count": 0, "algorithms": []}


def test_backends_column_lists_the_available_backends_of_the_real_registry() -> None:
    from rich.console import Console

    from pqc.backends import get_backend
    from qshift.commands.pqc_algorithms import algorithm_rows, render_table

    rows = algorithm_rows(family="ML-KEM")
    by_name = {r["name"]: r["backends"] for r in rows}
    assert by_name["ML-KEM-768"][0] == "cryptography" and by_name["ML-KEM-1024"][0] == "cryptography"
    expected_512 = ["liboqs"] if "ML-KEM-512" in get_backend("liboqs").status().algorithms else []
    assert by_name["ML-KEM-512"] == expected_512  # not in the cryptography backend
    console = Console(width=200, record=True)
    console.print(render_table(rows, "t"))
    text = console.export_text()
    assert "backends" in text and "cryptography" in text
