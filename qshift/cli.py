"""The ``qshift`` command: mounts each package's sub-app and the top-level commands.

Errors of our own types (``QshiftError``, ``PqcError``, ``QkdError``, ``GatewayError``,
``InventoryError``) print one line and exit 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from qshift.commands.gateway import app as gateway_app
from gateway.errors import GatewayError
from qshift.commands.inventory import app as inventory_app
from inventory.errors import InventoryError
from qshift.commands.pqc import app as pqc_app
from pqc.errors import PqcError
from qshift.commands.qkd import app as qkd_app
from qkd.errors import QkdError
from qshift.commands.kme import app as kme_app
from qshift import __version__
from qshift.errors import QshiftError
from qshift.logsetup import configure_logging

OUR_ERRORS: tuple[type[Exception], ...] = (QshiftError, PqcError, QkdError, GatewayError, InventoryError)
EXIT_OUR_ERROR = 2


class _State:
    debug = False


app = typer.Typer(
    name="qshift",
    help="Move to quantum-safe cryptography: inventory, hybrid ML-KEM + QKD tunnels, QKD key management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(inventory_app, name="inventory")
app.add_typer(pqc_app, name="pqc")
app.add_typer(qkd_app, name="qkd")
app.add_typer(kme_app, name="kme")
app.add_typer(gateway_app, name="gateway")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    log_format: Annotated[
        str, typer.Option("--log-format", help="json | text | auto (JSON when stderr is not a TTY).")
    ] = "auto",
    log_level: Annotated[str, typer.Option("--log-level", help="debug | info | warning | error")] = "warning",
) -> None:
    """qshift: quantum-safe migration toolkit."""
    if log_format not in ("auto", "json", "text"):
        raise typer.BadParameter("expected json, text or auto", param_hint="--log-format")
    if log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        raise typer.BadParameter("expected debug, info, warning, error or critical", param_hint="--log-level")
    _State.debug = debug
    configure_logging(log_level, log_format)  # type: ignore[arg-type]


@app.command()
def version() -> None:
    """Print the qshift version."""
    typer.echo(f"qshift {__version__}")


@app.command()
def doctor(json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Check what this machine offers (real round trips, not version sniffing). Exit 1 if the core fails."""
    from qshift.doctor import core_ok, run_checks

    results = run_checks()
    if json_out:
        typer.echo(json.dumps({"ok": core_ok(results), "checks": [r.to_dict() for r in results]}, indent=2))
    else:
        table = Table(title="qshift doctor")
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for r in results:
            mark = "[green]ok[/]" if r.ok else ("[red]FAIL[/]" if r.core else "[yellow]absent[/]")
            table.add_row(r.name, mark, r.detail)
        Console().print(table)
    raise typer.Exit(0 if core_ok(results) else 1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the HTML report, JSON, JUnit and logs.")] = Path(
        "qshift-demo"),
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable result on stdout.")] = False,
) -> None:
    """Run the story on embedded defaults: A-T-B QKD links, KMEs with relay, gateways, Eve, fallback, recovery."""
    from qshift.scenario.command import demo as run_demo

    raise typer.Exit(run_demo(out, json_out))


@app.command("fallback-test")
def fallback_test(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario TOML files (see deploy/scenarios/).")],
    out: Annotated[Path, typer.Option(
        "--out", help="Directory for the reports, one subdirectory per scenario.")] = Path("qshift-fallback"),
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable results on stdout.")] = False,
) -> None:
    """Run QKD-to-PQC fallback scenarios with timed faults and assertions. Exit 1 if any assertion fails."""
    from qshift.scenario.command import fallback_test as run_fallback

    raise typer.Exit(run_fallback(scenarios, out, json_out))


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map our errors to one line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    _State.debug = "--debug" in args
    try:
        app(args=args, prog_name="qshift")
    except SystemExit as exc:  # typer's standalone mode ends every run with SystemExit
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OUR_ERRORS as exc:
        if _State.debug:
            traceback.print_exc()
        else:
            typer.echo(f"error: {exc}", err=True)
        return EXIT_OUR_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
