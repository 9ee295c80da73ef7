"""Fixtures: one PKI per test module (real X.509 certs), one real KME on a loopback port per test."""

from __future__ import annotations

import pytest

from qkd.kms.pki import make_pki
from qkd.kms.server import start_kme
from qkd.kms.testing import single_node_config

IDENTITIES_KME = ["KME_A", "KME_T", "KME_B"]
IDENTITIES_SAE = ["SAE_A", "SAE_B", "SAE_C", "admin"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), kmes=IDENTITIES_KME, saes=IDENTITIES_SAE)


@pytest.fixture
async def kme(tmp_path, pki):
    """KME_A serving SAE_A, SAE_B and SAE_C with 2^16 bits of synthetic local key."""
    running = await start_kme(single_node_config(tmp_path, pki, saes=["SAE_A", "SAE_B", "SAE_C"],
                                                 prefill_bits=1 << 16))
    yield running
    await running.stop()


class NodeProcess:
    """``python -m qshift.cli kme serve <toml>`` as a real child process."""

    def __init__(self, toml_path, env: dict | None = None, args: tuple[str, ...] = ()):
        import os
        import subprocess
        import sys
        self.toml_path = toml_path
        self.proc = subprocess.Popen([sys.executable, "-m", "qshift.cli", "kme", "serve", str(toml_path), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})

    def wait_ready(self, timeout_s: float = 30.0) -> dict:
        import json
        import selectors
        import time
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sel.select(timeout=0.1):
                line = self.proc.stdout.readline()
                if not line:
                    break
                msg = json.loads(line)
                if msg.get("event") == "kme.ready":
                    return msg
        raise RuntimeError(f"node {self.toml_path} not ready: rc={self.proc.poll()} "
                           f"stderr={self.proc.stderr.read() if self.proc.poll() is not None else ''}")

    def kill(self, sig=None) -> None:
        import signal
        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def spawn_node():
    procs = []

    def spawn(toml_path, env: dict | None = None, args: tuple[str, ...] = ()) -> NodeProcess:
        p = NodeProcess(toml_path, env, args)
        procs.append(p)
        p.ready = p.wait_ready()
        return p

    yield spawn
    for p in procs:
        if p.proc.poll() is None:
            p.kill()
