"""``qshift kme``: run a KME node, show its pools, make a test PKI (ETSI GS QKD 014).

``serve`` prints one JSON line ``{"event": "kme.ready", "node": ..., "url": ...}`` on stdout when the node
listens (scripts and tests wait for it) and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from qshift.config import load_config

T = TypeVar("T")

app = typer.Typer(help="Key management entity: ETSI GS QKD 014 key delivery and trusted-node relay.",
                  no_args_is_help=True)


def _load(config: Path):
    from qkd.kms.config import KmeConfig
    return load_config(config, KmeConfig)


@app.command()
def serve(config: Annotated[Path, typer.Argument(help="Node TOML file (see deploy/examples/kme-*.toml).")]) -> None:
    """Run a KME node: its ETSI GS QKD 014 API, key store, link feeds and relay endpoint."""
    from qkd.kms.server import start_kme

    cfg = _load(config)

    async def run() -> None:
        kme = await start_kme(cfg)
        print(json.dumps({"event": "kme.ready", "node": cfg.node.id, "url": kme.url, "port": kme.port}),
              flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await kme.stop()

    run_event_loop(run())


def run_event_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on uvloop when it is installed (faster TLS and sockets), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _render_status(report: dict) -> None:
    table = Table(title=f"KME {report['node']} pools")
    for col in ("pool", "kind", "stored bits", "capacity bits", "in bit/s", "out bit/s", "oldest s", "alarm"):
        table.add_column(col, justify="right" if "bit" in col or col == "oldest s" else "left")
    for p in report["pools"]:
        alarm = f"[red]QBER {p['qber']}[/]" if p["alarm"] else "[green]ok[/]"
        age = "-" if p["oldest_age_s"] is None else f"{p['oldest_age_s']:.0f}"
        table.add_row(p["name"], p["kind"], f"{p['stored_bits']:,}", f"{p['capacity_bits']:,}",
                      f"{p['in_rate_bps']:.0f}", f"{p['out_rate_bps']:.0f}", age, alarm)
    console = Console()
    console.print(table)
    console.print("deliveries: " + ", ".join(f"{k}={v}" for k, v in sorted(report["deliveries"].items())))


@app.command()
def status(
    config: Annotated[Path, typer.Argument(help="Node TOML file of the running node.")],
    cert: Annotated[Path | None, typer.Option(help="Admin certificate (default: the node's own).")] = None,
    key: Annotated[Path | None, typer.Option(help="Private key of --cert.")] = None,
    url: Annotated[str | None, typer.Option(help="Node URL (default: from the topology).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the pools of a running node (stored bits, rates, age, alarms) and delivery counts."""
    from qkd.kms.client import KmeAdminClient
    from qkd.kms.pki import client_ssl_context

    cfg = _load(config)
    ctx: ssl.SSLContext = client_ssl_context(cfg.tls.ca, cert or cfg.tls.cert, key or cfg.tls.key)
    base = url or next(n.url for n in cfg.topology.nodes if n.id == cfg.node.id)

    async def fetch() -> dict:
        async with KmeAdminClient(base, ctx, 5.0) as admin:
            return await admin.pools()

    report = asyncio.run(fetch())
    if json_out:
        typer.echo(json.dumps(report, indent=2))
    else:
        _render_status(report)


@app.command()
def pki(
    out_dir: Annotated[Path, typer.Argument(help="Directory for ca.pem and <id>.pem/<id>.key files.")],
    kme: Annotated[list[str], typer.Option("--kme", help="Node ID to certify (repeat).")],
    sae: Annotated[list[str], typer.Option("--sae", help="SAE ID to certify (repeat).")] = [],  # noqa: B006
    host: Annotated[list[str], typer.Option("--host", help="Extra DNS name / IP for KME certificates.")] = [],  # noqa: B006
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create a CA and KME/SAE certificates (identity = subject CN) for a test deployment."""
    from qkd.kms.pki import make_pki

    files = make_pki(out_dir, kmes=kme, saes=sae, hosts=tuple(["localhost", "127.0.0.1", *host]))
    identities = {i: {"cert": str(c), "key": str(k)} for i, (c, k) in files.leaves.items()}
    data = {"ca": str(files.ca), "identities": identities}
    if json_out:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"test PKI in {out_dir}")
    table.add_column("identity (CN)")
    table.add_column("certificate")
    table.add_column("key (0600)")
    for ident, paths in identities.items():
        table.add_row(ident, paths["cert"], paths["key"])
    Console().print(table)


if __name__ == "__main__":
    app()
