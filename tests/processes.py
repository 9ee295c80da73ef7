"""Stopping the real processes a test started (each in its own process group): SIGTERM to every group,
then wait, SIGKILL a group that outlives ``grace_s``. One way, used by every test that spawns daemons."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable


def stop_process_groups(procs: Iterable[subprocess.Popen[bytes]], grace_s: float = 10.0) -> None:
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
