"""In-process KMEs for tests and demos: configs for one node or a chain, on free loopback ports (:func:`free_port`).

::

    pki = make_pki(tmp_path / "pki", kmes=["KME_A"], saes=["SAE_A", "SAE_B", "admin"])
    kme = await start_kme(single_node_config(tmp_path, pki, saes=["SAE_A", "SAE_B"], prefill_bits=1 << 20))
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as client: ...
    kme.service.set_link_alarm("local", True, qber=0.12)   # make enc_keys answer 503 link_alarm
    await kme.stop()

The ``local`` pool of these nodes is pre-filled from the OS RNG: SYNTHETIC key, no QKD link made it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

from qkd.kms.config import KmeConfig
from qkd.kms.pki import PkiFiles


def single_node_config(directory: str | Path, pki: PkiFiles, *, node_id: str = "KME_A",
                       saes: tuple[str, ...] | list[str] = ("SAE_A", "SAE_B"), prefill_bits: int = 1 << 20,
                       admin_ids: tuple[str, ...] | list[str] = ("admin",), port: int = 0,
                       **limits: int) -> KmeConfig:
    """One KME serving ``saes`` (all attached to it) from a synthetic ``local`` pool of ``prefill_bits``."""
    d = Path(directory)
    return KmeConfig.model_validate({
        "node": {"id": node_id, "listen_port": port, "db_path": str(d / f"{node_id}.sqlite"),
                 "master_key_path": str(d / f"{node_id}.master.key"), "admin_ids": list(admin_ids)},
        "tls": {"ca": str(pki.ca), "cert": str(pki.cert(node_id)), "key": str(pki.key(node_id))},
        "limits": limits,
        "topology": {"nodes": [{"id": node_id, "url": f"https://127.0.0.1:{port}"}],
                     "saes": [{"id": s, "node": node_id} for s in saes]},
        "feeds": ([{"pool": "local", "kind": "synthetic-os-rng", "prefill_bits": prefill_bits}]
                  if prefill_bits else []),
    })


_PORT_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PORT = 10_000


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range of ephemeral ports (those it gives to ``bind(0)`` and to outgoing connections)."""
    try:
        low, high = (int(v) for v in _PORT_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999         # Linux's default
    return low, high


_handed_out: set[int] = set()


def free_port() -> int:
    """An unused loopback TCP port for a server whose port must be known before it starts (a node's URL in its
    peers' configs) and that may be restarted on it.

    Drawn at random *outside* the kernel's ephemeral range: a port released by ``bind(0)`` is one the kernel
    hands out again to the next outgoing connection on the machine (any process's), which then holds it when
    the server binds ("address already in use"; seen in a 2-hour scenario soak beside a benchmark). Ports
    outside that range are only ever taken by name. Drawn uniformly over those ports, and never the same port
    twice in one process: a test that names several servers' ports before starting any of them would otherwise
    get one port twice about once in 20,000 draws (a fresh-clone CI run met it: two KMEs of one fixture on one
    port). Falls back to an ephemeral port if none is free."""
    low, high = _ephemeral_range()
    spans = [(a, b) for a, b in ((_LOWEST_PORT, low - 1), (high + 1, 65535)) if b - a >= 100]
    total = sum(b - a + 1 for a, b in spans)
    if len(_handed_out) > total // 2:                   # a long-lived process: forget the oldest half's worth
        _handed_out.clear()
    rng = random.SystemRandom()
    for _ in range(200 if spans else 0):
        index = rng.randrange(total)
        for a, b in spans:
            if index <= b - a:
                port = a + index
                break
            index -= b - a + 1
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chain_topology(nodes: list[str], ports: dict[str, int], saes: dict[str, str]) -> dict:
    """Topology dict of a chain ``nodes[0] – nodes[1] – …`` with links ``"X-Y"`` and SAE attachments."""
    return {"nodes": [{"id": n, "url": f"https://127.0.0.1:{ports[n]}"} for n in nodes],
            "links": [{"id": f"{a}-{b}", "a": a, "b": b} for a, b in zip(nodes, nodes[1:], strict=False)],
            "saes": [{"id": s, "node": n} for s, n in saes.items()]}


def chain_node_config(directory: str | Path, pki: PkiFiles, node_id: str, topology: dict, ports: dict[str, int],
                      *, seed: str = "test-seed", prefill_bits: int = 1 << 20,
                      admin_ids: tuple[str, ...] | list[str] = ("admin",)) -> KmeConfig:
    """Config of one node of a chain; every link is fed from a synthetic shared seed (both ends agree)."""
    d = Path(directory)
    my_links = [lk["id"] for lk in topology["links"] if node_id in (lk["a"], lk["b"])]
    return KmeConfig.model_validate({
        "node": {"id": node_id, "listen_port": ports[node_id], "db_path": str(d / f"{node_id}.sqlite"),
                 "master_key_path": str(d / f"{node_id}.master.key"), "admin_ids": list(admin_ids)},
        "tls": {"ca": str(pki.ca), "cert": str(pki.cert(node_id)), "key": str(pki.key(node_id))},
        "topology": topology,
        "feeds": [{"pool": lk, "kind": "synthetic-shared-seed", "seed": seed, "prefill_bits": prefill_bits}
                  for lk in my_links] + [{"pool": "local", "kind": "synthetic-os-rng", "prefill_bits": prefill_bits}],
    })


def to_toml(data: dict) -> str:
    """Minimal TOML writer for KME configs (tables, arrays of tables, strings, numbers, bools, lists)."""
    import json

    def scalar(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        raise TypeError(f"to_toml: unsupported value {type(v).__name__}")

    lines: list[str] = []

    def table(prefix: str, d: dict, header: str | None) -> None:
        if header:
            lines.append(header)
        nested: list[tuple[str, object, bool]] = []
        for k, v in d.items():
            if v is None:          # TOML has no null: an unset optional field is left out
                continue
            if isinstance(v, tuple):
                v = list(v)
            if isinstance(v, dict):
                nested.append((k, v, False))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                nested.append((k, v, True))
            else:
                lines.append(f"{k} = {scalar(v)}")
        for k, v, is_array in nested:
            name = f"{prefix}{k}"
            if is_array:
                for item in v:  # type: ignore[attr-defined]
                    table(name + ".", item, f"[[{name}]]")
            else:
                table(name + ".", v, f"[{name}]")  # type: ignore[arg-type]

    table("", data, None)
    return "\n".join(lines) + "\n"
