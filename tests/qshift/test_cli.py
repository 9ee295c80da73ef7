"""The ``qshift`` CLI as a user runs it: a real subprocess of the installed entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qshift.cli import main

QSHIFT = shutil.which("qshift") or str(Path(sys.executable).parent / "qshift")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QSHIFT, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_help_lists_every_sub_app_and_command(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)  # from outside the repository
    assert result.returncode == 0
    for name in ("inventory", "pqc", "qkd", "kme", "gateway", "demo", "fallback-test", "doctor", "version"):
        assert name in result.stdout, name


def test_version_prints_the_distribution_version() -> None:
    from importlib.metadata import version

    result = run("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"qshift {version('qshift')}"


def test_our_error_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = run("fallback-test", str(tmp_path / "s.toml"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "fallback-test", str(tmp_path / "s.toml"))
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_bad_log_format_is_rejected() -> None:
    assert run("--log-format", "xml", "version").returncode == 2


def test_main_returns_exit_codes_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert main(["fallback-test", "nowhere.toml"]) == 2
    assert capsys.readouterr().err.strip() == "error: nowhere.toml: file not found"
