"""The README's "Deploying two sites in five minutes" block, run literally as a bash script.

The block is extracted from README.md as it stands and run unchanged in a scratch copy of the repository
layout it expects (``.venv`` → this venv, a copy of ``deploy/examples/``): PKI, three KMEs relaying
A -> T -> B, two gateway identities, two gateways, the tunnel in ``hybrid-qkd``, KME A killed (``pqc-only``),
KME A restarted (``hybrid-qkd`` again), ``kme status``. Every step runs on loopback, so none is skipped.
The harness only adds a prologue (``set -u``; kill the background jobs on exit) and a time limit.

The example configs use fixed loopback ports (KMEs 8441-8443, gateways 7443, 9101, 9102, 15432); the test
is skipped when one of them is taken, rather than racing whatever holds it.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import REPO

PORTS = (8441, 8442, 8443, 7443, 9101, 9102, 15432)
SECTION = "## Deploying two sites in five minutes"


def walkthrough() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(SECTION):]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "no ```sh block in the walkthrough section"
    return match.group(1)


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now: with SO_REUSEADDR, as asyncio's and aiohttp's servers bind, so
    the TIME-WAIT connections of an earlier run (of this test, or of another test on the same port) do not count."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_walkthrough_block_uses_only_real_commands() -> None:
    script = walkthrough()
    assert script.startswith(". .venv/bin/activate\ncd deploy/examples\n")
    for needle in ("qshift kme pki", "qshift kme serve", "qshift pqc keygen", "qshift gateway serve",
                   "kill %3", "qshift kme status"):
        assert needle in script, needle


def test_the_readme_walkthrough_runs_as_a_script(tmp_path: Path) -> None:
    busy = [p for p in PORTS if not _port_free(p)]
    if busy:
        pytest.skip(f"loopback ports of the example configs in use: {busy}")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "deploy").mkdir()
    subprocess.run(["cp", "-r", str(REPO / "deploy" / "examples"), str(tmp_path / "deploy" / "examples")],
                   check=True)
    prologue = "set -u\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
    (tmp_path / "walkthrough.sh").write_text(prologue + walkthrough())
    try:
        result = subprocess.run(["bash", "walkthrough.sh"], cwd=tmp_path, capture_output=True, text=True,
                                timeout=240)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"walkthrough did not finish: {exc.stdout!r} {exc.stderr!r}"[-3000:])
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "MLDSA65-Ed25519 key pair" in out and "test PKI in var/kme/pki" in out
    assert '"mode": "hybrid-qkd"' in out and '"mode": "pqc-only"' in out
    assert "KME KME_A pools" in out
    examples = tmp_path / "deploy" / "examples"
    assert (examples / "var" / "kme" / "KME_A" / "keys.sqlite").exists()
    assert (examples / "var" / "gateway" / "site-a.key.pub").exists()
    assert "Traceback" not in result.stderr
