"""deploy/docker-compose.yml against the code: images, users, commands, mounts, ports, networks, health checks.

There is no container engine here: the file is parsed (PyYAML, merge keys resolved) and every reference in
it is checked against the configs it mounts, loaded with the real loaders, and against the ``qshift`` CLI.
``test_compose_processes.py`` then runs the same services as processes.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qshift.cli import app
from tests.deploy import layout
from tests.deploy.layout import DEPLOY, IMAGE, UID

SERVICES = ("kme-a", "kme-t", "kme-b", "gateway-a", "gateway-b", "web-b")
LOADER = {"kme": "kme", "gateway": "gateway"}


def services() -> dict:
    return layout.compose()["services"]


def mounts(svc: dict) -> list[tuple[str, str]]:
    """``(source, container target)`` of a service's volumes (``:ro`` dropped)."""
    out = []
    for spec in svc.get("volumes", []):
        source, target = spec.split(":")[:2]
        out.append((source, target))
    return out


def qshift_argv(svc: dict) -> list[str] | None:
    """The ``qshift`` arguments a service runs (image ENTRYPOINT ``qshift`` + command), or None."""
    if "entrypoint" in svc:
        return None
    return list(svc["command"])


def subcommand(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``qshift`` argv into global options and the sub-command words + arguments."""
    i = 0
    while argv[i].startswith("--"):
        i += 2
    return argv[:i], argv[i:]


def config_of(name: str) -> tuple[str, str, Path]:
    """(kind, container path, host file) of the config a serving service reads."""
    svc = services()[name]
    _, sub = subcommand(qshift_argv(svc))
    assert sub[1] == "serve", sub
    container_path = sub[2]
    found = layout.mount_target(mounts(svc), container_path)
    assert found, f"{name}: config {container_path} is not mounted"
    source, rest = found
    assert source.startswith("./"), f"{name}: config comes from {source}, expected a file of deploy/"
    return sub[0], container_path, (DEPLOY / source / rest).resolve()


def test_every_service_runs_the_qshift_image_unprivileged_read_only_without_capabilities() -> None:
    svcs = services()
    assert set(svcs) == {"init", *SERVICES}
    for name, svc in svcs.items():
        assert svc["image"] == IMAGE, name
        assert svc["user"] == f"{UID}:{UID}", name
        assert svc["read_only"] is True, name
        assert svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert "privileged" not in svc and "cap_add" not in svc, name
    assert svcs["init"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / svcs["init"]["build"]["context"] / svcs["init"]["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("name", [s for s in SERVICES if s != "web-b"])
def test_service_command_is_a_real_qshift_command_on_a_mounted_config_that_loads(name: str) -> None:
    argv = qshift_argv(services()[name])
    options, sub = subcommand(argv)
    result = CliRunner().invoke(app, [*options, *sub[:2], "--help"])
    assert result.exit_code == 0, result.output
    kind, _, host_file = config_of(name)
    assert host_file.parent == layout.COMPOSE_CONFIGS, host_file
    cfg = layout.load_any(host_file)
    assert layout.config_kind(host_file.name) == LOADER[kind]
    assert cfg is not None


@pytest.mark.parametrize("name", [s for s in SERVICES if s != "web-b"])
def test_every_file_a_config_names_is_mounted_in_its_container(name: str) -> None:
    svc = services()[name]
    _, _, host_file = config_of(name)
    cfg = layout.load_any(host_file)
    vols = layout.compose()["volumes"]
    for path in layout.file_paths_of(cfg):
        if not path.startswith("/"):     # relative: the working directory, which must be the store volume
            workdir = svc["working_dir"]
            source, rest = layout.mount_target(mounts(svc), workdir)
            assert rest == "" and source in vols, f"{name}: working_dir {workdir} is not a named volume"
            continue
        found = layout.mount_target(mounts(svc), path)
        assert found, f"{name}: {path} (from {host_file.name}) is not mounted"
        assert found[0] in vols, f"{name}: {path} should come from a named volume, not {found[0]}"


def test_each_kme_keeps_its_store_in_a_volume_of_its_own() -> None:
    stores = {}
    for name in ("kme-a", "kme-t", "kme-b"):
        svc = services()[name]
        source, _ = layout.mount_target(mounts(svc), svc["working_dir"])
        stores[name] = source
        assert f"{source}:{svc['working_dir']}" in svc["volumes"], "store must be writable"
    assert len(set(stores.values())) == 3


def _init_outputs() -> tuple[set[str], set[str]]:
    script = services()["init"]["command"][0]
    pki = re.search(r"qshift kme pki (\S+) (.*)", script)
    assert pki, script
    args = shlex.split(pki.group(2))
    ids = [args[i + 1] for i, a in enumerate(args) if a in ("--kme", "--sae")]
    pki_files = {"ca.pem"} | {f"{i}.{ext}" for i in ids for ext in ("pem", "key")}
    sites = re.search(r"for site in ([^;]+);", script).group(1).split()
    keygen = re.search(r"qshift pqc keygen MLDSA65-Ed25519 -o (\S+)", script).group(1)
    identity = set()
    for site in sites:
        key = Path(keygen.replace("$$site", site)).name
        identity |= {key, key + ".pub"}
    return pki_files, identity


def test_the_init_service_makes_every_certificate_key_and_identity_the_configs_name() -> None:
    pki_files, identity_files = _init_outputs()
    init_mounts = dict((t, s) for s, t in mounts(services()["init"]))
    made = {f"{init_mounts['/etc/qshift/pki']}/{f}" for f in pki_files - {"ca.key"}} | \
           {f"{init_mounts['/etc/qshift/identity']}/{f}" for f in identity_files}
    for name in SERVICES:
        if name == "web-b":
            continue
        svc = services()[name]
        cfg = layout.load_any(config_of(name)[2])
        for path in layout.file_paths_of(cfg):
            if path.startswith("/"):
                source, rest = layout.mount_target(mounts(svc), path)
                assert f"{source}/{rest}" in made, f"{name}: nothing makes {path}"
    # KME certificates name the hosts the other services dial (TLS host name check)
    script = services()["init"]["command"][0]
    hosts = set(re.findall(r"--host (\S+)", script))
    dialled = {h for n in layout.KME_CONFIGS + layout.GATEWAY_CONFIGS
               for h, _ in layout.outbound_of(layout.load_any(layout.COMPOSE_CONFIGS / n)) if h.startswith("kme")}
    assert dialled <= hosts, dialled - hosts


def _listeners(name: str) -> set[int]:
    if name == "web-b":
        return {int(services()[name]["entrypoint"][3])}
    return {lst.port for lst in layout.listeners_of(layout.load_any(config_of(name)[2]))}


def test_published_ports_and_health_checks_use_the_ports_the_configs_listen_on() -> None:
    for name in SERVICES:
        svc = services()[name]
        ports = _listeners(name)
        for spec in svc.get("ports", []):
            container = int(spec.rsplit(":", 1)[1])
            assert container in ports, f"{name}: publishes {container}, listens on {ports}"
        if name == "web-b":
            continue
        test = svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        [port] = [int(p) for p in re.findall(r"\b(\d{4,5})\b", test[3])]
        cfg = layout.load_any(config_of(name)[2])
        role = "kme-api" if name.startswith("kme") else "management"
        assert layout.Listener(port, role) in layout.listeners_of(cfg), (name, port)
        if role == "management":
            assert "/healthz" in test[3]
    # the tunnel port is what the other site reaches: published by gateway-b
    b = layout.load_any(config_of("gateway-b")[2])
    tunnel = next(lst.port for lst in layout.listeners_of(b) if lst.role == "tunnel")
    assert f"{tunnel}:{tunnel}" in services()["gateway-b"]["ports"]


def test_every_host_a_config_dials_is_a_service_on_a_shared_network_listening_on_that_port() -> None:
    svcs = services()
    for name in SERVICES:
        if name == "web-b":
            continue
        cfg = layout.load_any(config_of(name)[2])
        for host, port in layout.outbound_of(cfg):
            assert host in svcs, f"{name} dials {host}: no such service"
            shared = set(svcs[name]["networks"]) & set(svcs[host]["networks"])
            assert shared, f"{name} and {host} share no network"
            assert port in _listeners(host), f"{name} dials {host}:{port}; {host} listens on {_listeners(host)}"


def test_internal_networks_keep_kmes_off_the_wan_and_dependencies_exist() -> None:
    spec = layout.compose()
    nets = spec["networks"]
    svcs = spec["services"]
    for name in ("kme-a", "kme-t", "kme-b", "web-b"):
        assert all(nets[n].get("internal") for n in svcs[name]["networks"]), name
    for name, svc in svcs.items():
        for dep in svc.get("depends_on", {}):
            assert dep in svcs, (name, dep)
        for source, _ in mounts(svc):
            assert source.startswith("./") or source in spec["volumes"], (name, source)
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), source
