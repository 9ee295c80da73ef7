"""``qshift kme``: run a KME node, show its pools, make a test PKI (ETSI GS QKD 014).

``serve`` prints one JSON line ``{"event": "kme.ready", "node": ..., "url": ...}`` on stdout when the node
listens (scripts and tests wait for it) and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import ssl
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from qshift.commands import JSON_HELP
from qshift.config import load_config

T = TypeVar("T")
log = logging.getLogger(__name__)

app = typer.Typer(help="Key management entity: ETSI GS QKD 014 key delivery and trusted-node relay.",
                  no_args_is_help=True)


def _load(config: Path):
    from qkd.kms.config import KmeConfig
    return load_config(config, KmeConfig)


@app.command()
def serve(
    config: Annotated[Path, typer.Argument(help="Node TOML file (see deploy/examples/kme-*.toml).")],
    workers: Annotated[int, typer.Option(min=1, help="Worker processes sharing the listening port (SO_REUSEPORT) "
                                                     "and the key store; worker 0 also runs the feeds and link "
                                                     "ends. More than 1 needs a node without emulated link ends.")] = 1,
    worker_port: Annotated[int | None, typer.Option(hidden=True, help="Internal: run as a further worker.")] = None,
    worker_index: Annotated[int, typer.Option(hidden=True, help="Internal: index of a further worker.")] = 0,
) -> None:
    """Run a KME node: its ETSI GS QKD 014 API, key store, link feeds and relay endpoint."""
    cfg = _load(config)
    if worker_port is not None:
        _die_with_parent()
        run_event_loop(_serve_worker(cfg, worker_port, worker_index))
        return
    if workers > 1 and any(f.runs_link_end for f in cfg.feeds):
        raise typer.BadParameter("more than one worker: the node runs emulated link ends, whose channel must "
                                 "reach the one process that runs them", param_hint="--workers")
    if not run_event_loop(_serve_node(cfg, config, workers)):
        raise typer.Exit(1)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve_node(cfg: Any, config: Path, workers: int) -> bool:
    """Worker 0 (the process ``serve`` started): serve, start the further workers on the same port, print
    ``kme.ready`` once all listen; stop on SIGTERM/SIGINT, or (returning False) when a worker exits."""
    from qkd.kms.server import start_kme

    kme = await start_kme(cfg, reuse_port=workers > 1)
    children: list[asyncio.subprocess.Process] = []
    ok = True
    try:
        for index in range(1, workers):
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "qshift.commands.kme", "serve", str(config), "--worker-port", str(kme.port),
                "--worker-index", str(index), stdout=asyncio.subprocess.PIPE,
                env={**os.environ, _PARENT_ENV: str(os.getpid())})
            children.append(child)
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            if b'"kme.worker_ready"' not in line:
                raise RuntimeError(f"KME worker {index} did not start (exit code {await child.wait()})")
        print(json.dumps({"event": "kme.ready", "node": cfg.node.id, "url": kme.url, "port": kme.port,
                          "workers": workers, "pids": [os.getpid()] + [c.pid for c in children]}), flush=True)
        stopper = asyncio.create_task(_wait_for_signal())
        exits = [asyncio.create_task(c.wait()) for c in children]
        done, _ = await asyncio.wait([stopper, *exits], return_when=asyncio.FIRST_COMPLETED)
        if stopper not in done:
            ok = False
            log.error("a KME worker process exited; stopping the node", extra={"event": "kme.worker_exited"})
        for task in [stopper, *exits]:
            task.cancel()
    finally:
        for child in children:
            if child.returncode is None:
                child.terminate()
        for child in children:
            await child.wait()
        await kme.stop()
    return ok


async def _serve_worker(cfg: Any, port: int, index: int) -> None:
    """A further worker: serve the node's API from the shared store on ``port`` until SIGTERM/SIGINT."""
    from qkd.kms.server import start_kme

    kme = await start_kme(cfg, worker=index, port=port, reuse_port=True)
    print(json.dumps({"event": "kme.worker_ready", "worker": index, "pid": os.getpid()}), flush=True)
    await _wait_for_signal()
    await kme.stop()


_PARENT_ENV = "QSHIFT_KME_WORKER_PARENT"


def _die_with_parent() -> None:
    """A further worker dies with worker 0 (Linux ``PR_SET_PDEATHSIG``): a killed node is killed whole, and
    the next start recovers the store (quarantining reservations in doubt) before any worker serves."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG
    if str(os.getppid()) != os.environ.get(_PARENT_ENV):   # worker 0 died before prctl took effect
        os._exit(1)


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
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
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
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
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
