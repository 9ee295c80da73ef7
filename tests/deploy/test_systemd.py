"""deploy/systemd against the code: ExecStart runs real ``qshift`` commands on the shipped configs, the
hardening leaves the services what they need (ports >= 1024 without capabilities, state only in the
StateDirectory, IP and Unix sockets), and ``systemd-analyze`` accepts the units when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qkd.kms.config import KmeConfig
from qshift.cli import app
from tests.deploy import layout
from tests.deploy.layout import COMPOSE_CONFIGS, SYSTEMD, UID

UNITS = {"qshift-kme@.service": layout.KME_CONFIGS, "qshift-gateway@.service": layout.GATEWAY_CONFIGS}
QSHIFT = "/opt/qshift/bin/qshift"
HARDENING = {
    "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native", "UMask": "0077",
}
VENV_QSHIFT = Path(sys.executable).parent / "qshift"


def service(name: str) -> dict[str, list[str]]:
    return layout.unit(SYSTEMD / name)["Service"]


def one(name: str, key: str) -> str:
    [value] = service(name)[key]
    return value


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    i = 1
    while argv[i].startswith("--"):
        i += 2
    return argv[1:i], argv[i:]


@pytest.mark.parametrize("name", list(UNITS))
def test_unit_is_hardened(name: str) -> None:
    svc = service(name)
    for key, value in HARDENING.items():
        assert svc.get(key) == [value], f"{name}: {key}={svc.get(key)}"
    assert svc["SystemCallFilter"][0] == "@system-service"
    assert set(svc["RestrictAddressFamilies"][0].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert one(name, "User") == "qshift" and one(name, "Group") == "qshift"
    assert "DynamicUser" not in svc   # the key files are group-readable by a fixed qshift group


def test_sysusers_account_is_the_image_uid() -> None:
    lines = [ln.split() for ln in (SYSTEMD / "qshift.sysusers").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert ["g", "qshift", str(UID)] in lines
    assert any(ln[:3] == ["u", "qshift", f"{UID}:{UID}"] for ln in lines)


@pytest.mark.parametrize("name", list(UNITS))
def test_exec_lines_are_real_qshift_commands(name: str) -> None:
    # in-process (the real Typer app); test_compose_processes runs the same commands from the venv binary
    for key in [k for k in ("ExecStartPre", "ExecStart") if k in service(name)]:
        argv = layout.exec_argv(one(name, key))
        assert argv[0] == QSHIFT, argv
        options, sub = _split(argv)
        assert sub[-1] == "/etc/qshift/%i.toml", sub
        result = CliRunner().invoke(app, [*options, *sub[:2], "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage: qshift" in result.output or "Usage: root" in result.output, result.output


@pytest.mark.parametrize(("name", "config"), [(u, c) for u, cs in UNITS.items() for c in cs])
def test_every_instance_config_loads_and_fits_the_sandbox(name: str, config: str) -> None:
    instance = config.removesuffix(".toml")
    _, sub = _split(layout.exec_argv(one(name, "ExecStart")))
    assert sub[-1].replace("%i", instance) == f"/etc/qshift/{config}"
    cfg = layout.load_any(COMPOSE_CONFIGS / config)
    assert sub[0] == ("kme" if isinstance(cfg, KmeConfig) else "gateway")
    state = "/var/lib/" + one(name, "StateDirectory").replace("%i", instance)
    assert one(name, "WorkingDirectory").replace("%i", instance) == state
    for path in layout.file_paths_of(cfg):
        if path.startswith("/"):   # read-only under ProtectSystem=strict, visible (not /home, /root, /tmp)
            assert path.startswith("/etc/qshift/"), path
        # relative paths (the KME store, its master key) land in the writable state directory
    for lst in layout.listeners_of(cfg):    # CapabilityBoundingSet= is empty: no CAP_NET_BIND_SERVICE
        assert lst.port >= 1024, lst


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verifies_the_units_and_rates_them_well_hardened(tmp_path: Path) -> None:
    for name in UNITS:
        text = (SYSTEMD / name).read_text().replace(QSHIFT, str(VENV_QSHIFT))   # verify checks the binary
        (tmp_path / name).write_text(text)
    instances = [f"qshift-kme@{c.removesuffix('.toml')}.service" for c in layout.KME_CONFIGS] + \
                [f"qshift-gateway@{c.removesuffix('.toml')}.service" for c in layout.GATEWAY_CONFIGS]
    result = subprocess.run(["systemd-analyze", "verify", *instances], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "qshift" not in result.stdout + result.stderr, result.stdout + result.stderr
    for instance in (instances[0], instances[-1]):
        sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", instance], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        if "--offline" in sec.stderr and sec.returncode != 0:
            pytest.skip("this systemd-analyze has no --offline security review")
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", sec.stdout)
        assert match, sec.stdout[-2000:] + sec.stderr
        assert float(match.group(1)) <= 2.0, sec.stdout   # systemd's scale: 0 (locked down) to 10 (exposed)
