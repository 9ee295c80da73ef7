"""Helpers of the CLI tests: the installed ``qshift`` entry point run as a user runs it (a subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QSHIFT = shutil.which("qshift", path=str(Path(sys.executable).parent)) or str(Path(sys.executable).parent / "qshift")


def qshift(*args: str, cwd: Path | None = None, timeout: float = 120, columns: int = 80,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``qshift ARGS`` (the console script of this venv) and capture its output."""
    full_env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", **(env or {})}
    return subprocess.run([QSHIFT, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=full_env)


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert: exit 2, stderr is exactly one line ``error: …`` naming every needle, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    """Names in ``directory`` (temporaries included: they are hidden files)."""
    return sorted(p.name for p in directory.iterdir())
