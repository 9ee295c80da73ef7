"""``qshift pqc``: the algorithm catalogue, key generation and backend speed.

Commands compute data first (dicts / :class:`pqc.speed.SpeedResult`), then render it (rich or ``--json``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pqc.backends import KeyAlgorithm, implementation
from pqc.errors import UnknownAlgorithmError
from pqc.keys import QSHIFT_PRIVATE_LABEL, private_key_to_pem, public_path_for, write_keypair
from qshift.commands import FORCE_HELP, JSON_HELP
from qshift.commands.pqc_algorithms import algorithms
from qshift.errors import OutputError
from qshift.output import atomic_replace, check_output, temp_for

app = typer.Typer(help="Post-quantum crypto: algorithm catalogue, backends, hybrid KEMs.", no_args_is_help=True)
app.command("algorithms")(algorithms)


def generate_key_files(algorithm: str, output: Path, *, force: bool = False) -> dict[str, Any]:
    """Generate a key pair of ``algorithm`` and write it (private 0600 at ``output``, public at
    ``output + ".pub"``, see :func:`pqc.keys.write_keypair`). Returns what was written (no key bytes).

    Both files are written to temporaries beside them and renamed into place together (never half-written,
    also on Ctrl-C); existing key files are replaced only with ``force``; the directory must exist."""
    found = implementation(algorithm)
    if not isinstance(found, KeyAlgorithm):
        raise UnknownAlgorithmError(f"{found.algorithm} (primitive {found.primitive!r}) has no key pair")
    public_path = public_path_for(output)
    created = _key_directory(output)
    check_output(output, "--output", holds_keys=True, force=force)
    check_output(public_path, "--output", holds_keys=True, force=force)
    private = found.generate()
    fmt = "qshift PEM" if QSHIFT_PRIVATE_LABEL.encode() in private_key_to_pem(private) else "PKCS#8 PEM"
    temp = temp_for(output)
    with atomic_replace([(temp, output), (public_path_for(temp), public_path)]):
        write_keypair(private, temp)
    return {
        "algorithm": found.algorithm,
        "primitive": found.primitive,
        "backend": found.backend,
        "format": fmt,
        "private_key": str(output),
        "public_key": str(public_path),
        "public_key_sha256": hashlib.sha256(private.public_key().public_bytes_raw()).hexdigest(),
        **({"created_directory": str(created)} if created else {}),
    }


def _key_directory(output: Path) -> Path | None:
    """Create the key's own directory (0700) when only that last level is missing, as a deployment's first
    start needs (``/var/lib/qshift/identity/site.key``); a deeper missing path is an error, not created."""
    parent = output.parent
    if parent.exists() or parent.is_symlink():
        return None
    if not parent.parent.is_dir():
        raise OutputError(f"--output {output}: directory {parent.parent} does not exist")
    try:
        parent.mkdir(mode=0o700)
    except OSError as exc:
        raise OutputError(f"--output {output}: cannot create directory {parent}: {exc.strerror}") from None
    return parent


@app.command("keygen")
def keygen(
    algorithm: Annotated[str, typer.Argument(help="Catalogue name or alias, e.g. ML-DSA-65, X-Wing, MLDSA65-Ed25519.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Private key file (0600); public key at FILE.pub.")],
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Generate a key pair: private key 0600 at FILE, public key beside it at FILE.pub."""
    info = generate_key_files(algorithm, output, force=force)
    if json_out:
        typer.echo(json.dumps(info, indent=2))
        return
    console = Console()
    console.print(f"[green]{info['algorithm']}[/] key pair ({info['format']}, backend {info['backend']})")
    console.print(f"  private: {info['private_key']} (0600)")
    console.print(f"  public:  {info['public_key']}  sha256(raw) {info['public_key_sha256'][:16]}…")
    if "created_directory" in info:
        console.print(f"  created directory {info['created_directory']} (0700)")


def render_speed(results: list[dict[str, Any]]) -> Table:
    table = Table(title="pqc operations per second (this machine, one thread)")
    for column, justify in (("algorithm", "left"), ("backend", "left"), ("operation", "left"),
                            ("ops/s", "right"), ("µs/op", "right"), ("calls", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in results:
        table.add_row(row["algorithm"], row["backend"], row["operation"], f"{row['ops_per_s']:,.0f}",
                      f"{1e6 / row['ops_per_s']:,.1f}", str(row["ops"]))
    return table


@app.command("bench")
def bench(
    algorithm: Annotated[
        list[str] | None, typer.Option("--algorithm", "-a", help="Only these (repeatable); default: all available.")
    ] = None,
    min_time_s: Annotated[float, typer.Option("--min-time-s", min=0.001, help="Minimum wall time per operation (s).")
                          ] = 0.2,
    seconds: Annotated[float | None, typer.Option("--seconds", hidden=True, min=0.001,
                                                  help="old name of --min-time-s")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Operations per second (keygen, encaps/decaps, sign/verify, exchange) of each available algorithm."""
    from pqc import speed

    if seconds is not None:
        min_time_s = seconds
    chosen = speed.key_algorithms(algorithm)
    total = sum(len(speed.operations(a)) for a in chosen)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True, disable=json_out) as progress:
        task = progress.add_task("measuring", total=total)
        results = speed.run(chosen, min_time_s, lambda label: progress.update(task, advance=1, description=label))
    rows = [r.to_dict() for r in results]
    if json_out:
        typer.echo(json.dumps({"min_time_s": min_time_s, "results": rows}, indent=2))
    else:
        Console().print(render_speed(rows))
