"""The compose topology run as real processes on loopback: what the containers would run, minus the containers.

Each service of ``deploy/docker-compose.yml`` is started with its own command (image ENTRYPOINT + command, or
its entrypoint), its working directory and its volumes mapped to directories of the test: named volumes
become ``tmp/volumes/<name>``, bind mounts the files of ``deploy/`` (configs are copied with their paths
mapped through *that service's* mounts, so a path that is not mounted fails the test). Service host names
become 127.0.0.1 and every topology port a free port. The ``init`` service's script makes the PKI and the
identity keys; ``depends_on: service_healthy`` waits on each service's own compose health check command.
Processes run with ``no_new_privs`` and, where the kernel has it, ``PR_SET_MDWE`` (what systemd's
``MemoryDenyWriteExecute=yes`` uses): the services must work under both. Then one HTTP request crosses
the tunnel from site A to web-b at site B, keyed by a QKD key relayed A -> T -> B.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from qkd.kms.testing import free_port, to_toml
from qshift.cli import app
from qshift.config import read_toml
from tests.deploy import layout
from tests.deploy.layout import DEPLOY
from tests.processes import stop_process_groups

BIN = Path(sys.executable).parent
PR_SET_NO_NEW_PRIVS, PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 38, 65, 1
_LIBC = ctypes.CDLL(None, use_errno=True)      # loaded in the parent: the child only calls prctl


def _harden() -> None:
    """Child side, before exec: no privilege gain, and no writable+executable memory when supported."""
    _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _LIBC.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)   # EINVAL on kernels < 6.3: ignored
    os.umask(0o077)


def _mdwe_supported() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import ctypes; l = ctypes.CDLL(None, use_errno=True); "
                            "print(l.prctl(65, 1, 0, 0, 0))"], capture_output=True, text=True, timeout=30)
    return probe.stdout.strip() == "0"


class Topology:
    """Maps the compose world (service names, ports, container paths) onto this machine."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.spec = layout.compose()
        self.services: dict[str, Any] = self.spec["services"]
        ports = {lst.port for n in layout.KME_CONFIGS + layout.GATEWAY_CONFIGS
                 for lst in layout.listeners_of(layout.load_any(layout.COMPOSE_CONFIGS / n))}
        ports.add(int(self.services["web-b"]["entrypoint"][3]))
        self.ports = {p: free_port() for p in sorted(ports)}
        hosts = "|".join(re.escape(h) for h in sorted(self.services, key=len, reverse=True))
        self._rx = re.compile(rf"(?:\b(?:{hosts}|0\.0\.0\.0|127\.0\.0\.1):)?\b(" +
                              "|".join(str(p) for p in self.ports) + r")\b")

    def text(self, s: str) -> str:
        """Host names and topology ports in ``s`` -> 127.0.0.1 and the test's ports (one pass)."""
        if s == "0.0.0.0":
            return "127.0.0.1"

        def sub(m: re.Match[str]) -> str:
            port = str(self.ports[int(m.group(1))])
            return f"127.0.0.1:{port}" if ":" in m.group(0) else port
        return self._rx.sub(sub, s)

    def host_path(self, service: str, container_path: str) -> Path:
        """Where ``container_path`` of ``service`` lives here (AssertionError when it is not mounted)."""
        svc = self.services[service]
        mounts = [tuple(v.split(":")[:2]) for v in svc.get("volumes", [])]
        found = layout.mount_target(mounts, container_path)  # type: ignore[arg-type]
        assert found, f"{service}: {container_path} is not mounted"
        source, rest = found
        base = (DEPLOY / source).resolve() if source.startswith("./") else self.tmp / "volumes" / source
        if not source.startswith("./"):
            base.mkdir(parents=True, exist_ok=True)
        return base / rest if rest else base

    def config_copy(self, service: str, host_file: Path) -> Path:
        """The config file with paths mapped through ``service``'s mounts, hosts and ports rewritten."""
        def walk(value: Any, key: str = "") -> Any:
            if isinstance(value, dict):
                return {k: walk(v, k) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, key) for v in value]
            if isinstance(value, str):
                return str(self.host_path(service, value)) if value.startswith("/") else self.text(value)
            if key == "listen_port" and isinstance(value, int):
                return self.ports[value]
            return value
        out = self.tmp / "configs" / service / host_file.name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_toml(walk(read_toml(host_file))))
        return out

    def argv(self, service: str, words: list[str]) -> list[str]:
        out = []
        for word in words:
            if word == "qshift":
                out.append(str(BIN / "qshift"))
            elif word == "python":
                out.append(sys.executable)
            elif word.startswith("/"):
                path = self.host_path(service, word)
                out.append(str(self.config_copy(service, path) if path.suffix == ".toml" else path))
            else:
                out.append(self.text(word))
        return out

    def command(self, service: str) -> list[str]:
        svc = self.services[service]
        if "entrypoint" in svc:
            return self.argv(service, list(svc["entrypoint"]))
        return self.argv(service, ["qshift", *svc["command"]])

    def cwd(self, service: str) -> Path:
        svc = self.services[service]
        if "working_dir" in svc:
            return self.host_path(service, svc["working_dir"])
        path = self.tmp / "cwd" / service
        path.mkdir(parents=True, exist_ok=True)
        return path

    def healthcheck(self, service: str) -> list[str] | None:
        test = self.services[service].get("healthcheck", {}).get("test")
        if not test:
            return None
        assert test[0] == "CMD", test
        return self.argv(service, test[1:])

    def order(self) -> list[str]:
        """Services in ``depends_on`` order (init first)."""
        done: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            for dep in self.services[name].get("depends_on", {}):
                visit(dep)
            done.append(name)
        for name in self.services:
            visit(name)
        return done


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[tuple[list[subprocess.Popen[bytes]], Path]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs, tmp_path
    stop_process_groups(procs, grace_s=15)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return env


def _logs(tmp: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1200:]}" for p in sorted(tmp.glob("logs/*")))


def _wait_healthy(topo: Topology, name: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    check = topo.healthcheck(name)
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{name} exited with {proc.returncode}\n{_logs(topo.tmp)}"
        if check is None:      # no health check (web-b): its port accepts
            ok = subprocess.run([sys.executable, "-c", "import socket, sys; socket.create_connection("
                                 f"('127.0.0.1', {topo.ports[8080]}), 1)"], capture_output=True).returncode == 0
        else:
            ok = subprocess.run(check, capture_output=True, timeout=10).returncode == 0
        if ok:
            return
        time.sleep(0.3)
    raise AssertionError(f"{name}: health check never passed\n{_logs(topo.tmp)}")


def test_compose_services_run_as_processes_and_carry_a_request_through_the_hybrid_tunnel(processes) -> None:
    procs, tmp = processes
    topo = Topology(tmp)
    (tmp / "logs").mkdir()
    env = _env()
    deadline = time.monotonic() + 120
    order = topo.order()
    assert order[0] == "init" and set(order) == set(topo.services)

    # init: the real script, paths mapped through init's own volumes ($$ is compose's escape for $)
    init = topo.services["init"]
    script = init["command"][0].replace("$$", "$")
    for _source, target in sorted((v.split(":")[:2] for v in init["volumes"]), key=lambda m: -len(m[1])):
        script = script.replace(target, str(topo.host_path("init", target)))
    result = subprocess.run([*init["entrypoint"], script], env=env, cwd=topo.cwd("init"), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (tmp / "volumes/pki/ca.key").exists()      # the CA key does not outlive init

    started: dict[str, subprocess.Popen[bytes]] = {}
    for name in order[1:]:
        for dep, cond in topo.services[name].get("depends_on", {}).items():
            if cond.get("condition") == "service_healthy":
                _wait_healthy(topo, dep, started[dep], deadline)
        log = open(tmp / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(topo.command(name), cwd=topo.cwd(name), env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_harden)
        procs.append(proc)
        started[name] = proc
    for name in order[1:]:
        _wait_healthy(topo, name, started[name], deadline)

    # site A's client -> gateway-a forward port -> tunnel -> gateway-b -> web-b
    page = (DEPLOY / "compose/www/index.html").read_text()
    forward = topo.ports[18080]
    body, last = None, None
    while time.monotonic() < deadline and body is None:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{forward}/", timeout=10).read().decode()
        except OSError as exc:
            last = exc
            time.sleep(0.5)
    assert body == page, f"{last}\n{_logs(tmp)}"

    mgmt = topo.ports[9101]
    status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{mgmt}/status", timeout=10).read())
    peer = status["peers"]["site-b"]
    assert peer["connected"] and peer["mode"] == "hybrid-qkd", (peer, _logs(tmp))
    assert peer["session"]["qkd_key_id"], peer
    # the KME stores are where the volumes are: each node's SQLite store and 0600 master key
    for node in ("kme-a", "kme-t", "kme-b"):
        store = tmp / "volumes" / f"{node}-store"
        assert (store / "keys.sqlite").is_file()
        assert (store / "master.key").stat().st_mode & 0o777 == 0o600
    _kubernetes_probes_pass(topo)
    # the systemd gateway unit's ExecStartPre on the same configs and keys
    for name in ("gateway-a", "gateway-b"):
        config = next(Path(a) for a in topo.command(name) if a.endswith(".toml"))
        result = CliRunner().invoke(app, ["gateway", "check", str(config)])
        assert result.exit_code == 0 and ": ok" in result.output, result.output
    assert all(p.poll() is None for p in procs), _logs(tmp)
    if not _mdwe_supported():
        print("PR_SET_MDWE unsupported by this kernel: ran without the W^X restriction")


def _kubernetes_probes_pass(topo: Topology) -> None:
    """Every probe of deploy/k8s, made against the process of the same name (ports mapped as above)."""
    for _, obj in layout.k8s_objects():
        if obj["kind"] not in ("StatefulSet", "Deployment"):
            continue
        name = obj["metadata"]["name"]
        [c] = obj["spec"]["template"]["spec"]["containers"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = c.get(kind)
            if probe is None:
                continue
            if "tcpSocket" in probe:
                socket.create_connection(("127.0.0.1", topo.ports[probe["tcpSocket"]["port"]]), 3).close()
            else:
                get = probe["httpGet"]
                url = f"http://127.0.0.1:{topo.ports[get['port']]}{get['path']}"
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert 200 <= response.status < 400, (name, kind)
                    if get["path"] == "/healthz":
                        assert json.loads(response.read())["ok"] is True, (name, kind)


def test_the_rewriting_refuses_a_container_path_that_no_volume_mounts(tmp_path: Path) -> None:
    topo = Topology(tmp_path)
    with pytest.raises(AssertionError, match="not mounted"):
        topo.host_path("gateway-a", "/etc/qshift/secret-elsewhere/site-a.key")
    assert shutil.which(str(BIN / "qshift"))
