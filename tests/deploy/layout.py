"""The deployment files of ``deploy/`` read as data: compose services, Kubernetes objects, systemd units, configs.

Helpers shared by the tests of ``tests/deploy``: they parse the real files (PyYAML for compose and the
manifests, ``tomllib`` + the real pydantic loaders for the configs) and map container paths to files.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gateway.config import SiteConfig, split_host_port
from qkd.kms.config import KmeConfig
from qshift.config import load_config, read_toml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
COMPOSE_CONFIGS = DEPLOY / "compose"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
DOCKERFILE = DEPLOY / "Dockerfile"

KME_CONFIGS = ("kme-a.toml", "kme-t.toml", "kme-b.toml")
GATEWAY_CONFIGS = ("gateway-site-a.toml", "gateway-site-b.toml")
IMAGE = "qshift:0.1.0"
UID = 10001


def config_kind(name: str) -> str:
    """``"kme"`` or ``"gateway"`` for a config file name of ``deploy/compose``."""
    if name in KME_CONFIGS:
        return "kme"
    if name in GATEWAY_CONFIGS:
        return "gateway"
    raise AssertionError(f"{name}: not a shipped config")


def load_any(path: Path) -> KmeConfig | SiteConfig:
    """Load a shipped config with the loader its service uses (``qshift kme serve`` / ``gateway serve``)."""
    model = KmeConfig if config_kind(path.name) == "kme" else SiteConfig
    return load_config(path, model)


def file_paths_of(cfg: KmeConfig | SiteConfig) -> list[str]:
    """Every file path a config names (absolute ones must be mounted; relative ones live in the cwd)."""
    if isinstance(cfg, KmeConfig):
        return [cfg.node.db_path, cfg.node.master_key_path, cfg.tls.ca, cfg.tls.cert, cfg.tls.key]
    paths = [p for p in (cfg.identity.signing_key,) if p]
    if cfg.kme is not None:
        paths += [cfg.kme.ca_file, cfg.kme.cert_file, cfg.kme.key_file]
    for peer in cfg.peers:
        paths += [p for p in (peer.public_key, peer.psk_file) if p]
    return paths


@dataclass(frozen=True)
class Listener:
    """A TCP port a config makes its process listen on, and what for."""

    port: int
    role: str            # kme-api | tunnel | management | forward


def listeners_of(cfg: KmeConfig | SiteConfig) -> list[Listener]:
    if isinstance(cfg, KmeConfig):
        return [Listener(cfg.node.listen_port, "kme-api")]
    out = [Listener(split_host_port(cfg.management.listen, "management")[1], "management")]
    if cfg.tunnel.listen:
        out.append(Listener(split_host_port(cfg.tunnel.listen, "tunnel")[1], "tunnel"))
    out += [Listener(split_host_port(r.listen, "forward")[1], "forward") for r in cfg.forward]
    return out


def outbound_of(cfg: KmeConfig | SiteConfig) -> list[tuple[str, int]]:
    """``(host, port)`` every connection the process opens goes to (KME neighbours, KME, peer, targets)."""
    if isinstance(cfg, KmeConfig):
        urls = {n.id: n.url for n in cfg.topology.nodes}
        me = cfg.node.id
        neighbours = [lk.b if lk.a == me else lk.a for lk in cfg.topology.links if me in (lk.a, lk.b)]
        return [_url_host_port(urls[n]) for n in neighbours]
    out = []
    if cfg.kme is not None:
        out.append(_url_host_port(cfg.kme.url))
    out += [split_host_port(p.connect, "connect") for p in cfg.peers if p.connect]
    out += [split_host_port(r.target, "reverse") for r in cfg.reverse]
    return out


def _url_host_port(url: str) -> tuple[str, int]:
    m = re.fullmatch(r"https://([^:/]+):(\d+)/?", url)
    assert m, f"{url}: expected https://host:port"
    return m.group(1), int(m.group(2))


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _yaml_docs(path: Path) -> tuple[Any, ...]:
    return tuple(yaml.load_all(path.read_text(), Loader=_Loader))


def compose() -> dict[str, Any]:
    """deploy/docker-compose.yml (parsed once per test session; callers must not modify it)."""
    return _yaml_docs(COMPOSE_FILE)[0]


def k8s_objects() -> list[tuple[str, dict[str, Any]]]:
    """``(file name, object)`` for every document of every ``deploy/k8s/*.yaml`` (kustomization excluded)."""
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in _yaml_docs(path):
            if doc is not None:
                out.append((path.name, doc))
    return out


def kustomization() -> dict[str, Any]:
    return _yaml_docs(K8S / "kustomization.yaml")[0]


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as ``{section: {key: [values in order]}}`` (repeated keys accumulate)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith(("#", ";")):
            continue
        if text.startswith("[") and text.endswith("]"):
            current = sections.setdefault(text[1:-1], {})
            continue
        assert current is not None and "=" in text, f"{path.name}:{number}: not key=value in a section"
        key, _, value = text.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def exec_argv(line: str) -> list[str]:
    return shlex.split(line)


def mount_target(mounts: list[tuple[str, str]], container_path: str) -> tuple[str, str] | None:
    """The ``(source, rest)`` of the longest mount covering ``container_path`` (``None`` when unmounted)."""
    best = None
    p = PurePosixPath(container_path)
    for source, target in mounts:
        t = PurePosixPath(target)
        if p == t or t in p.parents:
            if best is None or len(t.parts) > len(PurePosixPath(best[1]).parts):
                best = (source, target)
    if best is None:
        return None
    return best[0], str(p.relative_to(best[1])) if p != PurePosixPath(best[1]) else ""


def raw_config(name: str) -> dict[str, Any]:
    return read_toml(COMPOSE_CONFIGS / name)
