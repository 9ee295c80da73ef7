"""``qshift inventory``: discover crypto assets, rate quantum risk, emit a CBOM."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from inventory.errors import InventoryError
from qshift.commands import JSON_HELP
from qshift.errors import QshiftError
from qshift.output import check_output, write_atomic

app = typer.Typer(help="Crypto inventory: scan code, certificates, configs, endpoints, captures; CBOM.",
                  no_args_is_help=True)

FAIL_EXIT = 1
#: Values ``--fail-on`` accepts: a quantum status or a priority of :mod:`inventory.risk`.
GATE_STATUSES = ("classically-broken", "broken-by-shor", "weakened-by-grover", "hybrid", "quantum-safe", "unknown")
GATE_PRIORITIES = ("critical", "high", "medium", "low", "review", "none")


def parse_gates(values: list[str]) -> set[str]:
    """The ``--fail-on`` values (repeatable or comma lists); an unknown one is a usage error (exit 2)."""
    gates = {g.strip().lower() for item in values for g in item.split(",") if g.strip()}
    bad = sorted(gates - set(GATE_STATUSES) - set(GATE_PRIORITIES))
    if bad:
        raise InventoryError(f"--fail-on {','.join(bad)}: expected a status ({', '.join(GATE_STATUSES)}) "
                             f"or a priority ({', '.join(GATE_PRIORITIES)})")
    return gates


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """An unexpected exception becomes an :class:`InventoryError` (one line, exit 2; ``--debug`` shows the
    chained traceback), so that exit 1 only ever means a ``--fail-on`` gate matched."""
    try:
        yield
    except (InventoryError, QshiftError, typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise InventoryError(f"{where}{exc.strerror or exc}") from exc
    except Exception as exc:
        raise InventoryError(f"internal error: {type(exc).__name__}: {exc}") from exc


def _write(path: Path, text: str, what: str) -> None:
    """Write a report atomically (temporary file beside it, fsync, rename): never half-written."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise InventoryError(f"{what} {path}: cannot write: {exc.strerror or exc}") from None


def _size(text: str) -> int:
    t = text.strip().upper()
    mult = 1
    for suffix, m in (("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20),
                      ("G", 1 << 30)):
        if t.endswith(suffix):
            t, mult = t[: -len(suffix)], m
            break
    try:
        return int(float(t) * mult)
    except ValueError:
        raise InventoryError(f"--max-file-size {text!r}: expected bytes or a size like 10MB") from None


@app.command()
def scan(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or directories to scan.")] = None,
    tls: Annotated[list[str] | None, typer.Option("--tls", help="Live TLS endpoint host:port (repeatable).")] = None,
    ssh: Annotated[list[str] | None, typer.Option("--ssh", help="Live SSH endpoint host:port (repeatable).")] = None,
    pcap: Annotated[list[Path] | None, typer.Option("--pcap", help="pcap/pcapng capture (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Glob of paths to skip (repeatable).")] = None,
    no_gitignore: Annotated[bool, typer.Option("--no-gitignore", help="Do not honour .gitignore files.")] = False,
    max_file_size: Annotated[str, typer.Option(help="Skip files larger than this (bytes, or 10MB).")] = "10MB",
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes for files.")] = 2,
    policy: Annotated[str, typer.Option(help="Policy: nist, cnsa2, or a TOML policy file.")] = "nist",
    pkcs12_password: Annotated[list[str] | None, typer.Option("--pkcs12-password",
                                                              help="Password to try on PKCS#12 files.")] = None,
    timeout: Annotated[float, typer.Option("--timeout-s", "--timeout", min=0.001,
                                           help="Per-connection timeout for live endpoints (s).")] = 5.0,
    file_deadline: Annotated[float | None, typer.Option(
        "--file-deadline-s", min=0.01,
        help="CPU seconds one file may take before it is skipped as timed out (a capture: plus its size); "
             "default 60.")
    ] = None,
    allow_unreachable: Annotated[bool, typer.Option(
        "--allow-unreachable", help="An endpoint that cannot be reached is listed as skipped, not an error.")
    ] = False,
    cbom: Annotated[Path | None, typer.Option(help="Write the CycloneDX 1.6 CBOM (JSON) here.")] = None,
    sarif: Annotated[Path | None, typer.Option(help="Write SARIF 2.1.0 here.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", help="Exit 1 if any asset has this quantum status or priority (repeatable, or comma list).")
    ] = None,
) -> None:
    """Scan sources, rate every crypto asset under a policy, and report.

    Exit codes: 0 clean; 1 a ``--fail-on`` gate matched; 2 a usage or I/O error (missing path, unknown
    gate, unwritable output, unreachable endpoint without ``--allow-unreachable``), one line on stderr.
    """
    with _one_line_errors():
        from inventory.report import table
        from inventory.risk import load_policy
        from inventory.scan import ScanOptions, parse_endpoint, run_scan

        for option, target in (("--cbom", cbom), ("--sarif", sarif), ("--html", html)):
            if target is not None:   # checked before the scan: a bad path fails at once, not after minutes
                check_output(target, option)
        pol = load_policy(policy)
        gates = parse_gates(list(fail_on or []) + list(pol.fail_on))
        missing = [str(p) for p in [*(paths or []), *(pcap or [])] if not p.exists() and not p.is_symlink()]
        if missing:
            raise InventoryError(f"{missing[0]}: no such file or directory"
                                 + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        opts = ScanOptions(paths=list(paths or []), tls=[parse_endpoint(t, 443) for t in tls or []],
                           ssh=[parse_endpoint(s, 22) for s in ssh or []], pcaps=list(pcap or []),
                           exclude=tuple(exclude or ()), respect_gitignore=not no_gitignore,
                           max_file_bytes=_size(max_file_size), jobs=jobs,
                           pkcs12_passwords=tuple(p.encode() for p in pkcs12_password or []), timeout_s=timeout,
                           allow_unreachable=allow_unreachable,
                           **({} if file_deadline is None else {"file_deadline_s": file_deadline}))
        err = Console(stderr=True)
        if sys.stderr.isatty() and not json_out and opts.paths:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("scanning"), BarColumn(), TextColumn("{task.completed} files"),
                          TextColumn("{task.fields[rate]:,.0f} files/s"), TimeElapsedColumn(), console=err,
                          transient=True) as prog:
                task = prog.add_task("scan", total=None, rate=0.0)
                import time

                t0 = time.perf_counter()

                def progress(done: int, nbytes: int) -> None:
                    prog.update(task, completed=done, rate=done / max(time.perf_counter() - t0, 1e-9))

                report = run_scan(opts, pol, progress)
        else:
            report = run_scan(opts, pol)
        doc = report.to_dict()
        if cbom is not None:
            # imported only when asked for: jsonschema's format checkers take seconds to import
            from inventory.report import cbom as cbom_mod

            text = cbom_mod.render(report.assets, report.assessments)  # validated; raises before writing
            _write(cbom, text, "--cbom")
        if sarif is not None:
            from inventory.report import sarif as sarif_mod

            _write(sarif, sarif_mod.render(report.assets, report.assessments, pol.name), "--sarif")
        if html is not None:
            from inventory.report import html as html_mod

            _write(html, html_mod.render(doc), "--html")
        if json_out:
            typer.echo(json.dumps(doc, indent=2))
        else:
            table.render(doc, Console())
        if gates:
            hits = [a for a in doc["assets"] if a["risk"]["status"] in gates or a["risk"]["priority"] in gates]
            if hits:
                err.print(f"--fail-on {','.join(sorted(gates))}: {len(hits)} asset(s) match, e.g. {hits[0]['name']} "
                          f"at {hits[0]['occurrences'][0]['where'] if hits[0]['occurrences'] else '?'}")
                raise typer.Exit(FAIL_EXIT)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="Older scan (--json output or CBOM).")],
    new: Annotated[Path, typer.Argument(help="Newer scan (--json output or CBOM).")],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", help="Exit 1 if an asset has this status or priority in the new scan and not in the old one: "
                          "new-<status> or new-<priority>, e.g. new-broken-by-shor (repeatable, or comma list).")
    ] = None,
) -> None:
    """Migration progress between two scans, as a table or ``--json``.

    Exit codes: 0 no gate matched; 1 a ``--fail-on`` gate matched; 2 a usage or I/O error.
    """
    with _one_line_errors():
        from inventory.report import table
        from inventory.report.diff import diff as compute
        from inventory.report.diff import gate_hits
        from inventory.report.diff import parse_gates as parse_diff_gates

        gates = parse_diff_gates(list(fail_on or []))
        d = compute(old, new)
        hits = gate_hits(d, gates)
        if json_out:
            typer.echo(json.dumps({**d, "gates": sorted(gates), "gate_hits": [h["key"] for h in hits]}, indent=2))
        else:
            table.render_diff(d, Console())
        if hits:
            Console(stderr=True).print(f"--fail-on {','.join(sorted(gates))}: {len(hits)} asset(s) match, e.g. "
                                       f"{hits[0]['name']} ({hits[0]['change']})", soft_wrap=True)
            raise typer.Exit(FAIL_EXIT)
