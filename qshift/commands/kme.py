"""``qshift kme``: run a KME node, show its pools, make a test PKI (ETSI GS QKD 014).

``serve`` prints one JSON line ``{"event": "kme.ready", "node": ..., "url": ...}`` on stdout when the node
listens (scripts and tests wait for it) and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import ssl
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from qshift.commands import FORCE_HELP, JSON_HELP
from qshift.config import load_config
from qshift.errors import ConfigError, InputError, OutputError
from qshift.output import atomic_replace, check_input

T = TypeVar("T")
log = logging.getLogger(__name__)

app = typer.Typer(help="Key management entity: ETSI GS QKD 014 key delivery and trusted-node relay.",
                  no_args_is_help=True)


#: Paths in a node TOML read relative to the TOML file. ``node.db_path`` and ``node.master_key_path`` are
#: state, relative to the working directory (a service's state directory, as deploy/systemd and deploy/k8s
#: run it).
RELATIVE_TO_CONFIG = ("tls.ca", "tls.cert", "tls.key", "feeds[].auth_psk_file", "feeds[].timetag_files[]",
                      "feeds[].transmitter_files[]", "feeds[].bob_timetag_files[]")
#: A certificate identity (subject CN) this command issues: letters, digits, ``_ . -``; 1 to 64 characters.
IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _load(config: Path) -> Any:
    from qkd.kms.config import KmeConfig
    return load_config(config, KmeConfig, relative_paths=RELATIVE_TO_CONFIG)


def _check_inputs(cfg: Any, config: Path) -> None:
    """Every file the node reads must exist before anything is created (store, master key)."""
    files = [("tls.ca", cfg.tls.ca), ("tls.cert", cfg.tls.cert), ("tls.key", cfg.tls.key)]
    for i, feed in enumerate(cfg.feeds):
        if feed.auth_psk_file:
            files.append((f"feeds.{i}.auth_psk_file", feed.auth_psk_file))
        files += [(f"feeds.{i}.timetag_files", f) for f in feed.timetag_files]
        files += [(f"feeds.{i}.transmitter_files", f) for f in feed.transmitter_files]
        files += [(f"feeds.{i}.bob_timetag_files", f) for f in feed.bob_timetag_files]
    for key, name in files:
        path = Path(name)
        if not path.is_file():
            what = "is a directory, expected a file" if path.is_dir() else "no such file"
            raise ConfigError(str(config), f"{path}: {what} (relative paths are taken from the config's "
                                           "directory)", key=key)


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
    _check_inputs(cfg, config)
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

    try:
        kme = await start_kme(cfg, reuse_port=workers > 1)
    except OSError as exc:
        reason = " ".join((exc.strerror or str(exc)).split())
        if exc.filename is not None:
            reason = f"{exc.filename}: {reason}"
        raise InputError(f"{config}: node {cfg.node.id} cannot start: {reason} (node.listen_port = "
                         f"{cfg.node.listen_port})") from exc
    children: list[asyncio.subprocess.Process] = []
    ok = True
    try:
        for index in range(1, workers):
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "qshift.cli", "kme", "serve", str(config), "--worker-port", str(kme.port),
                "--worker-index", str(index), stdout=asyncio.subprocess.PIPE,
                env={**os.environ, _PARENT_ENV: str(os.getpid())})
            children.append(child)
            assert child.stdout is not None   # stdout=PIPE
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


#: From this console width on, ``kme status`` shows one column per field; below it, fields are paired.
STATUS_WIDE = 110


def status_table(report: dict[str, Any], width: int = STATUS_WIDE) -> Table:
    """The pools of ``report`` (``KmeAdminClient.pools()``) as a table that fits ``width`` columns; cells
    wrap between words, never inside one."""
    table = Table(title=f"KME {report['node']} pools")
    wide = width >= STATUS_WIDE
    if wide:
        for col in ("pool", "kind", "stored bits", "capacity bits", "in bit/s", "out bit/s", "oldest s", "alarm"):
            table.add_column(col, justify="right" if "bit" in col or col == "oldest s" else "left")
    else:
        table.add_column("pool / kind", overflow="fold", min_width=12)
        table.add_column("stored / capacity (bits)", justify="right")
        table.add_column("in / out (bit/s)", justify="right")
        table.add_column("oldest (s)", justify="right")
        table.add_column("alarm")
    for p in report["pools"]:
        alarm = f"[red]QBER {p['qber']}[/]" if p["alarm"] else "[green]ok[/]"
        age = "-" if p["oldest_age_s"] is None else f"{p['oldest_age_s']:.0f}"
        if wide:
            table.add_row(p["name"], p["kind"], f"{p['stored_bits']:,}", f"{p['capacity_bits']:,}",
                          f"{p['in_rate_bps']:.0f}", f"{p['out_rate_bps']:.0f}", age, alarm)
        else:
            table.add_row(f"{p['name']}\n[dim]{p['kind']}[/]", f"{p['stored_bits']:,}\n/ {p['capacity_bits']:,}",
                          f"{p['in_rate_bps']:.0f}\n/ {p['out_rate_bps']:.0f}", age, alarm)
    return table


def _render_status(report: dict[str, Any]) -> None:
    console = Console()
    console.print(status_table(report, console.width))
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

    if (cert is None) != (key is None):
        raise typer.BadParameter("--cert and --key go together (the admin certificate and its private key)",
                                 param_hint="--cert/--key")
    if cert is not None and key is not None:
        check_input(cert, "--cert")
        check_input(key, "--key")
    cfg = _load(config)
    _check_inputs(cfg, config)
    ctx: ssl.SSLContext = client_ssl_context(cfg.tls.ca, cert or cfg.tls.cert, key or cfg.tls.key)
    base = url or next(n.url for n in cfg.topology.nodes if n.id == cfg.node.id)

    async def fetch() -> dict[str, Any]:
        async with KmeAdminClient(base, ctx, 5.0) as admin:
            return await admin.pools()

    report = asyncio.run(fetch())
    if json_out:
        typer.echo(json.dumps(report, indent=2))
    else:
        _render_status(report)


def pki_files(out_dir: Path, identities: list[str]) -> list[Path]:
    """The files ``kme pki`` writes into ``out_dir``."""
    names = ["ca.pem", "ca.key"] + [f"{i}.{ext}" for i in identities for ext in ("pem", "key")]
    return [out_dir / n for n in names]


def write_pki(out_dir: Path, kmes: list[str], saes: list[str], hosts: tuple[str, ...], *,
              force: bool = False) -> dict[str, Any]:
    """Create a test CA and certificates in ``out_dir``: checked first (identities, directory, existing files
    without ``force``), made in a hidden temporary directory inside ``out_dir``, then renamed into place
    (each file whole or absent, also on Ctrl-C). Returns what was written (no key bytes)."""
    from qkd.kms.pki import make_pki

    identities = [*kmes, *saes]
    for ident in identities:
        if not IDENTITY.fullmatch(ident) or ident == "ca":
            raise InputError(f"identity {ident!r}: expected 1-64 letters, digits, '_', '.', '-' (not 'ca'), "
                             "starting with a letter or digit")
    duplicates = sorted({i for i in identities if identities.count(i) > 1})
    if duplicates:
        raise InputError(f"identity {duplicates[0]!r} given twice")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: not a directory (kme pki writes ca.pem and <id>.pem/.key into a directory)")
    targets = pki_files(out_dir, identities)
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing and not force:
        what = "a CA" if existing[0].name.startswith("ca.") else "a key"
        raise OutputError(f"{existing[0]}: exists; refusing to overwrite {what} (use --force)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create directory: {exc.strerror}") from None
    staging = Path(tempfile.mkdtemp(prefix=".qshift-pki-", dir=out_dir))
    try:
        make_pki(staging, kmes=kmes, saes=saes, hosts=hosts)
        with atomic_replace([(staging / t.name, t) for t in targets]):
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"ca": str(out_dir / "ca.pem"),
            "identities": {i: {"cert": str(out_dir / f"{i}.pem"), "key": str(out_dir / f"{i}.key")}
                           for i in identities}}


@app.command()
def pki(
    out_dir: Annotated[Path, typer.Argument(help="Directory for ca.pem and <id>.pem/<id>.key files.")],
    kme: Annotated[list[str], typer.Option("--kme", help="Node ID to certify (repeat).")],
    sae: Annotated[list[str], typer.Option("--sae", help="SAE ID to certify (repeat).")] = [],  # noqa: B006
    host: Annotated[list[str], typer.Option("--host", help="Extra DNS name / IP for KME certificates.")] = [],  # noqa: B006
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create a CA and KME/SAE certificates (identity = subject CN) for a test deployment.

    An existing CA or key in DIR is never replaced without --force."""
    data = write_pki(out_dir, kme, sae, tuple(["localhost", "127.0.0.1", *host]), force=force)
    if json_out:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"test PKI in {out_dir}: {data['ca']}")
    table.add_column("identity (CN)", no_wrap=True)
    table.add_column("certificate", overflow="fold")
    table.add_column("key (0600)", overflow="fold")
    for ident, paths in data["identities"].items():
        table.add_row(ident, paths["cert"], paths["key"])
    Console().print(table)
