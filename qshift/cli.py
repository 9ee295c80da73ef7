"""The ``qshift`` command: mounts the command groups of :mod:`qshift.commands` and the top-level commands.

The one error path of every command (:func:`main`): errors of our own types (``QshiftError``,
``PqcError``, ``QkdError``, ``GatewayError``, ``InventoryError``), usage errors (unknown option, bad or
missing value) and operating-system errors (a file that cannot be read or written, a port in use) print
one line ``error: <what and where>`` on stderr and exit 2; ``--debug`` shows the traceback instead.
Ctrl-C prints ``interrupted`` and exits 130. Outputs go through :mod:`qshift.output` (atomic, checked).
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer vendors click

from gateway.errors import GatewayError
from inventory.errors import InventoryError
from pqc.errors import PqcError
from qkd.errors import QkdError
from qshift import __version__
from qshift.commands import JSON_HELP
from qshift.commands.gateway import app as gateway_app
from qshift.commands.inventory import app as inventory_app
from qshift.commands.kme import app as kme_app
from qshift.commands.pqc import app as pqc_app
from qshift.commands.qkd import app as qkd_app
from qshift.errors import OutputError, QshiftError
from qshift.logsetup import configure_logging

OUR_ERRORS: tuple[type[Exception], ...] = (QshiftError, PqcError, QkdError, GatewayError, InventoryError)
#: Errors that print one line: ours, and the operating system's (a file, a directory, a port).
ONE_LINE_ERRORS: tuple[type[Exception], ...] = (*OUR_ERRORS, OSError)
EXIT_OUR_ERROR = 2
EXIT_INTERRUPTED = 130


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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"qshift {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the qshift version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    log_format: Annotated[
        str, typer.Option("--log-format", help="json | text | auto (JSON when stderr is not a TTY).")
    ] = "auto",
    log_level: Annotated[str, typer.Option("--log-level", help="debug | info | warning | error")] = "warning",
) -> None:
    """qshift: quantum-safe migration toolkit."""
    del version  # handled by its eager callback
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
def doctor(json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
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


def _check_out_dir(out: Path) -> None:
    """``--out`` names a directory (created if missing): a file there is an error, before anything runs."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file, expected a directory for the reports")
    if not out.exists() and out.parent.exists() and not out.parent.is_dir():
        raise OutputError(f"--out {out}: {out.parent} is not a directory")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the HTML report, JSON, JUnit and logs.")] = Path(
        "qshift-demo"),
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Run the story on embedded defaults: A-T-B QKD links, KMEs with relay, gateways, Eve, fallback, recovery."""
    from qshift.scenario.command import demo as run_demo

    _check_out_dir(out)

    raise typer.Exit(run_demo(out, json_out))


@app.command("fallback-test")
def fallback_test(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario TOML files (see deploy/scenarios/).")],
    out: Annotated[Path, typer.Option(
        "--out", help="Directory for the reports, one subdirectory per scenario.")] = Path("qshift-fallback"),
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Run QKD-to-PQC fallback scenarios with timed faults and assertions. Exit 1 if any assertion fails."""
    from qshift.scenario.command import fallback_test as run_fallback

    _check_out_dir(out)

    raise typer.Exit(run_fallback(scenarios, out, json_out))


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line: what went wrong and where (file, option, address)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else None
        text = f"{where}: {exc.strerror}" if where is not None else str(exc)
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _plain_flags(command: Any) -> None:
    """Flags take no value: show none (typer would print ``<bool>`` as their metavar)."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    make_help = command.get_help_option

    def help_option(ctx: Any) -> Any:   # --help is made per context, not listed in params
        option = make_help(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _plain_flags(sub)


def _fail(message: str, code: int = EXIT_OUR_ERROR) -> int:
    typer.echo(f"error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app; every error of ours, every usage error and every OS error becomes one
    line on stderr and exit code 2 (``--debug``: the traceback)."""
    args = sys.argv[1:] if argv is None else argv
    _State.debug = "--debug" in args
    command = typer.main.get_command(app)
    _plain_flags(command)
    try:
        code = command.main(args=args, prog_name="qshift", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `qshift` or a group without a command: its help
        exc.show()
        return exc.exit_code
    except ClickException as exc:  # unknown command or option, bad or missing value
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        return _fail(where + " ".join(exc.format_message().split()))
    except typer.Abort:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except ONE_LINE_ERRORS as exc:
        if _State.debug:
            traceback.print_exc()
            return EXIT_OUR_ERROR
        return _fail(one_line(exc))
    if code == EXIT_INTERRUPTED:  # typer turns a KeyboardInterrupt into Exit(130)
        typer.echo("error: interrupted", err=True)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
