"""The image (deploy/Dockerfile, .dockerignore) and the shipped configs (deploy/compose/*.toml) against the code."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from gateway.config import SiteConfig
from qkd.kms.config import KmeConfig
from qkd.kms.errors import QkdError
from qkd.kms.masterkey import load_or_create
from qshift.errors import ConfigError
from tests.deploy import layout
from tests.deploy.layout import COMPOSE_CONFIGS, DOCKERFILE, GATEWAY_CONFIGS, KME_CONFIGS, ROOT


# ---------------------------------------------------------------------------------------------- configs
@pytest.mark.parametrize("name", KME_CONFIGS + GATEWAY_CONFIGS)
def test_every_shipped_config_loads_with_the_loader_of_its_service(name: str) -> None:
    cfg = layout.load_any(COMPOSE_CONFIGS / name)
    assert isinstance(cfg, KmeConfig if name.startswith("kme") else SiteConfig)


def test_the_three_kme_configs_share_one_topology_and_each_link_one_seed() -> None:
    cfgs = [layout.load_any(COMPOSE_CONFIGS / n) for n in KME_CONFIGS]
    assert [c.node.id for c in cfgs] == ["KME_A", "KME_T", "KME_B"]
    assert cfgs[0].topology == cfgs[1].topology == cfgs[2].topology
    seeds: dict[str, set[str]] = {}
    for c in cfgs:
        for f in c.feeds:
            seeds.setdefault(f.pool, set()).add(f.seed)
    assert {k: len(v) for k, v in seeds.items()} == {"A-T": 1, "T-B": 1}
    # every node listens on the port its own topology URL names (other nodes dial that URL)
    for c in cfgs:
        url = next(n.url for n in c.topology.nodes if n.id == c.node.id)
        assert url.endswith(f":{c.node.listen_port}"), (c.node.id, url)


def test_gateway_configs_pin_each_other_and_name_the_saes_of_the_kme_topology() -> None:
    a, b = (layout.load_any(COMPOSE_CONFIGS / n) for n in GATEWAY_CONFIGS)
    kme_a = layout.load_any(COMPOSE_CONFIGS / "kme-a.toml")
    sae_node = {s.id: s.node for s in kme_a.topology.saes}
    assert a.kme.sae_id == "SAE_A" and sae_node["SAE_A"] == "KME_A"
    assert b.kme.sae_id == "SAE_B" and sae_node["SAE_B"] == "KME_B"
    assert a.peers[0].sae_id == b.kme.sae_id and b.peers[0].sae_id == a.kme.sae_id
    assert a.peers[0].public_key == b.identity.signing_key + ".pub"
    assert b.peers[0].public_key == a.identity.signing_key + ".pub"
    # A dials B's tunnel listener; the target A forwards to is one that B's reverse rule allows
    assert a.peers[0].connect.endswith(":" + b.tunnel.listen.rpartition(":")[2])
    assert a.forward[0].target in {r.target for r in b.reverse}
    # the KME each gateway talks to is its own site's node, at the port that node listens on
    for gw, kme in ((a, "kme-a.toml"), (b, "kme-b.toml")):
        node = layout.load_any(COMPOSE_CONFIGS / kme)
        assert gw.kme.url == next(n.url for n in node.topology.nodes if n.id == node.node.id)


def test_a_config_with_a_misspelt_key_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    text = (COMPOSE_CONFIGS / "kme-a.toml").read_text().replace("listen_port =", "listen_prot =")
    bad = tmp_path / "kme-a.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as err:
        layout.load_any(bad)
    assert "kme-a.toml" in str(err.value) and "listen_prot" in str(err.value)


def test_master_key_with_group_bits_is_refused_which_is_why_the_statefulset_keeps_fsgroup_off_it(
        tmp_path: Path) -> None:
    # deploy/k8s/kme.yaml sets fsGroupChangePolicy: OnRootMismatch because a recursive fsGroup change
    # makes files g+rw; a KME must then refuse to start rather than use a key others may read.
    path = tmp_path / "master.key"
    load_or_create(path)
    path.chmod(0o660)
    with pytest.raises(QkdError, match="0660"):
        load_or_create(path)


# ---------------------------------------------------------------------------------------------- image
def _dockerfile() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip("\\").strip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            if pending.strip():
                word, _, rest = pending.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for instr, args in _dockerfile():
        if instr == "FROM":
            current = stages.setdefault(args.split()[-1], [])
        current.append((instr, args))
    return stages


def test_dockerfile_is_multi_stage_and_the_runtime_runs_qshift_as_the_unprivileged_uid() -> None:
    stages = _stages()
    assert list(stages) == ["builder", "runtime"]
    runtime = stages["runtime"]
    users = [a for i, a in runtime if i == "USER"]
    assert users == [f"{layout.UID}:{layout.UID}"]
    # the USER comes after every RUN (nothing runs as root once the user is set) and the account exists
    last_run = max(n for n, (i, _) in enumerate(runtime) if i == "RUN")
    assert [n for n, (i, _) in enumerate(runtime) if i == "USER"][0] > last_run
    assert any(f"--uid {layout.UID}" in a for i, a in runtime if i == "RUN")
    assert ("ENTRYPOINT", '["qshift"]') in runtime
    # the runtime installs only the wheels the builder made: no compiler, no index
    assert not any("gcc" in a for i, a in runtime if i == "RUN")
    assert any("--no-index" in a and "--find-links /wheels" in a for i, a in runtime if i == "RUN")
    assert ("COPY", "--from=builder /wheels /wheels") in runtime
    # the builder refuses a wheel without compiled extensions
    assert any("pip wheel" in a and ".so" in a for i, a in stages["builder"] if i == "RUN")


def test_dockerfile_exposes_exactly_the_ports_the_shipped_configs_listen_on() -> None:
    [expose] = [a for i, a in _dockerfile() if i == "EXPOSE"]
    ports = {lst.port for n in KME_CONFIGS + GATEWAY_CONFIGS
             for lst in layout.listeners_of(layout.load_any(COMPOSE_CONFIGS / n))}
    assert {int(p) for p in expose.split()} == ports


def test_image_directories_for_mounts_are_the_ones_the_configs_use() -> None:
    [mk] = [a for i, a in _stages()["runtime"] if i == "RUN" and "install -d" in a]
    made = set(re.findall(r"(/\S+)", mk.split("install -d", 1)[1]))
    used = {str(Path(p).parent) for n in KME_CONFIGS + GATEWAY_CONFIGS
            for p in layout.file_paths_of(layout.load_any(COMPOSE_CONFIGS / n)) if p.startswith("/")}
    assert used <= made | {"/etc/qshift/config"}, used - made
    [workdir] = [a for i, a in _stages()["runtime"] if i == "WORKDIR"]
    assert workdir in made   # the KME store directory, owned by the qshift user


def _ignored(rel: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories decides."""
    parts = rel.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for negated, rx in patterns:
        if any(rx.fullmatch(c) for c in candidates):
            excluded = not negated
    return excluded


def _dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    out = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pat = line.lstrip("!").strip("/")
        rx = ""
        i = 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif pat.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif pat[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            elif pat[i] == "?":
                rx, i = rx + "[^/]", i + 1
            else:
                rx, i = rx + re.escape(pat[i]), i + 1
        out.append((negated, re.compile(rx)))
    return out


def test_build_context_holds_the_packages_and_build_files_and_nothing_else() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    patterns = _dockerignore()
    sent = {f for f in tracked if not _ignored(f, patterns)}
    packages = ("qshift/", "pqc/", "qkd/", "gateway/", "inventory/")
    needed = {f for f in tracked if f.startswith(packages)} | {"pyproject.toml", "setup.py", "README.md"}
    assert needed <= sent, sorted(needed - sent)[:10]
    assert sent <= needed, sorted(sent - needed)[:10]
    # local build products are never sent: the builder compiles its own extensions
    for junk in ("qkd/postprocess/_sift.cpython-311-x86_64-linux-gnu.so", "qkd/postprocess/_sift.c",
                 "pqc/__pycache__/x.cpython-311.pyc", ".venv/bin/python", "tests/conftest.py"):
        assert _ignored(junk, patterns), junk
    # every COPY source of the builder is in the context
    for instr, args in _stages()["builder"]:
        if instr == "COPY":
            for src in args.split()[:-1]:
                assert any(f == src or f.startswith(src.rstrip("/") + "/") for f in sent), src
