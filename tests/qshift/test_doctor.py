"""``qshift doctor`` on this machine: every core capability is exercised for real and works."""

from __future__ import annotations

import json
import subprocess

from qshift.doctor import CheckResult, core_ok, run_checks
from tests.qshift.test_cli import run


def test_core_checks_pass_on_this_machine() -> None:
    results = {r.name: r for r in run_checks()}
    for name in ("ML-KEM-768", "ML-KEM-1024", "ML-DSA-44/65/87", "Cython extensions", "scapy pcap"):
        assert results[name].ok, f"{name}: {results[name].detail}"
    assert "1088 B" in results["ML-KEM-768"].detail  # FIPS 203 ML-KEM-768 ciphertext size
    assert "1568 B" in results["ML-KEM-1024"].detail
    assert "3309 B" in results["ML-DSA-44/65/87"].detail  # FIPS 204 ML-DSA-65 signature size
    assert "OpenSSL" in results["cryptography / OpenSSL"].detail


def test_liboqs_is_optional_and_never_fails_the_core() -> None:
    results = run_checks()
    liboqs = next(r for r in results if r.name.startswith("liboqs"))
    assert liboqs.core is False
    assert core_ok(results)


def test_core_ok_is_false_when_a_core_check_fails() -> None:
    assert not core_ok([CheckResult("x", False, "broken", core=True)])
    assert core_ok([CheckResult("x", False, "absent", core=False)])


def test_doctor_command_exit_code_and_json() -> None:
    result: subprocess.CompletedProcess[str] = run("doctor", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert {c["name"] for c in report["checks"]} >= {"ML-KEM-768", "Cython extensions"}
