"""A bad file never stops a scan, a dead worker is survived, and exit codes tell a crash from a finding."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inventory.model import Finding
from inventory.rules import pyast, registry
from inventory.sources import certs, files
from tests.inventory.scans import run_cli as _cli

CRYPTO_PY = "import hashlib\nhashlib.md5(b'x')\n"


class _Unpicklable(Exception):
    """Like cryptography's DuplicateExtension: carries an object the worker pool cannot send back."""

    def __init__(self) -> None:
        super().__init__("duplicate extension")
        self.handle = lambda: None


def _tree(tmp_path: Path, n: int = 40) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    for i in range(n):
        (root / f"m{i:03d}.py").write_text(CRYPTO_PY)
    (root / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    return root


@pytest.mark.parametrize("jobs", [1, 2])
def test_parser_exception_of_any_type_skips_that_file_and_the_scan_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    root = _tree(tmp_path)

    def boom(*a: object, **k: object) -> list[object]:
        raise _Unpicklable()

    monkeypatch.setattr(certs, "scan", boom)
    r = files.scan_paths([root], files.WalkOptions(), jobs=jobs, chunk_size=8)
    assert len(r.findings) == 40
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in r.skipped}
    assert reasons["bad.pem"].startswith("analysis failed: _Unpicklable")


def test_a_file_that_kills_its_worker_is_skipped_and_every_other_file_is_scanned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    (root / "killer.py").write_text(CRYPTO_PY)
    real = pyast.scan

    def crash_on_killer(path: str, data: bytes) -> list[Finding]:
        if path.endswith("killer.py"):
            os._exit(7)  # a segfault in a native parser looks the same to the pool
        return real(path, data)

    monkeypatch.setitem(registry.SCANNERS, "python", crash_on_killer)
    r = files.scan_paths([root], files.WalkOptions(), jobs=2, chunk_size=8)
    assert len(r.findings) == 40
    crashed = [s for s in r.skipped if s.path.endswith("killer.py")]
    assert len(crashed) == 1 and "crashed its worker" in crashed[0].reason
    assert r.stats.files_seen == 42


def test_exit_0_when_clean_and_1_only_for_a_fail_on_hit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.py").write_text(CRYPTO_PY)
    code, out, _ = _cli(["inventory", "scan", str(tmp_path), "--json"], capsys)
    assert code == 0 and '"MD5"' in out
    code, _, err = _cli(["inventory", "scan", str(tmp_path), "--json", "--fail-on", "classically-broken"], capsys)
    assert code == 1 and "MD5" in err
    code, _, _ = _cli(["inventory", "scan", str(tmp_path), "--json", "--fail-on", "broken-by-shor"], capsys)
    assert code == 0


@pytest.mark.parametrize("argv, needle", [
    (["inventory", "scan", "/nonexistent/qshift-path"], "/nonexistent/qshift-path: no such file"),
    (["inventory", "scan", "{tmp}", "--fail-on", "bogus"], "--fail-on bogus"),
    (["inventory", "scan", "{tmp}", "--fail-on", "high,sometimes"], "--fail-on sometimes"),
    (["inventory", "scan", "{tmp}", "--cbom", "{tmp}/no/such/dir/x.json"], "--cbom"),
    (["inventory", "scan", "--pcap", "/nonexistent/c.pcap"], "/nonexistent/c.pcap: no such file"),
    (["inventory", "scan", "--tls", "127.0.0.1:1", "--timeout", "1"], "--allow-unreachable"),
])
def test_usage_and_io_errors_exit_2_with_one_line_and_no_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    (tmp_path / "a.py").write_text(CRYPTO_PY)
    code, _, err = _cli([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unreachable_endpoint_allowed_is_listed_as_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, _ = _cli(["inventory", "scan", "--tls", "127.0.0.1:1", "--timeout", "1", "--allow-unreachable",
                         "--json"], capsys)
    assert code == 0 and json.loads(out)["skipped"][0]["path"] == "tls://127.0.0.1:1"


def test_an_internal_error_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from inventory import scan as scan_mod

    def broken(*a: object, **k: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(scan_mod, "run_scan", broken)
    (tmp_path / "a.py").write_text(CRYPTO_PY)
    code, _, err = _cli(["inventory", "scan", str(tmp_path)], capsys)
    assert code == 2 and err.startswith("error: internal error: KeyError") and "Traceback" not in err


def _hang_on(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the Python analysis of files called ``name`` burn minutes of CPU (catastrophic backtracking)."""
    import re

    real = pyast.scan

    def hang_on_one(path: str, data: bytes) -> list[Finding]:
        if path.endswith(name):
            re.match(r"(a+)+$", "a" * 64 + "b")
        return real(path, data)

    monkeypatch.setitem(registry.SCANNERS, "python", hang_on_one)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_whose_analysis_hangs_is_skipped_at_its_deadline_and_the_scan_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    root = _tree(tmp_path, n=12)
    (root / "hang.py").write_text(CRYPTO_PY)
    _hang_on(monkeypatch, "hang.py")
    r = files.scan_paths([root], files.WalkOptions(file_deadline_s=0.3), jobs=jobs, chunk_size=4)
    assert len(r.findings) == 12
    timed_out = [s for s in r.skipped if s.path.endswith("hang.py")]
    assert len(timed_out) == 1 and timed_out[0].reason == "timed out: analysis took over 0.3 CPU-s"


def test_the_cli_file_deadline_reaches_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import json

    root = _tree(tmp_path, n=3)
    (root / "hang.py").write_text(CRYPTO_PY)
    _hang_on(monkeypatch, "hang.py")
    code, out, _ = _cli(["inventory", "scan", str(root), "-j", "1", "--file-deadline-s", "0.4", "--json"], capsys)
    assert code == 0
    skipped = [s for s in json.loads(out)["skipped"] if s["path"].endswith("hang.py")]
    assert skipped and "over 0.4 CPU-s" in skipped[0]["reason"]
    code, _, err = _cli(["inventory", "scan", str(root), "--file-deadline-s", "0"], capsys)
    assert code == 2 and "--file-deadline-s" in err


def test_the_deadline_restores_the_previous_signal_handler_and_timer() -> None:
    import signal

    before = signal.getsignal(signal.SIGVTALRM)
    with files.cpu_deadline(5.0):
        assert signal.getitimer(signal.ITIMER_VIRTUAL)[0] > 0
    assert signal.getsignal(signal.SIGVTALRM) is before
    assert signal.getitimer(signal.ITIMER_VIRTUAL) == (0.0, 0.0)
