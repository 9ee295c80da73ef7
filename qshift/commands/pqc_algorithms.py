"""``qshift pqc algorithms``: list the catalogue, filtered, as a rich table or JSON.

Data first (:func:`algorithm_rows` returns dicts), rendering second (:func:`render_table`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pqc.catalogue import Primitive, QuantumStatus, select
from pqc.errors import PqcError
from qshift.commands import JSON_HELP

_STATUS_STYLE = {
    QuantumStatus.QUANTUM_SAFE: "green",
    QuantumStatus.HYBRID: "cyan",
    QuantumStatus.WEAKENED_BY_GROVER: "yellow",
    QuantumStatus.BROKEN_BY_SHOR: "red",
    QuantumStatus.CLASSICALLY_BROKEN: "bold red",
}


def backend_resolver() -> Callable[[str], list[str]] | None:
    """``pqc.backends.available_for`` when the backend registry exists, else ``None``."""
    try:
        module = importlib.import_module("pqc.backends")
    except ModuleNotFoundError as exc:
        if exc.name in ("pqc.backends",):
            return None
        raise
    func = getattr(module, "available_for", None)
    if func is None:
        return None

    def names(alg_name: str) -> list[str]:
        try:
            found = func(alg_name)
        except PqcError:  # a registry may raise for names no backend implements
            return []
        return [str(getattr(b, "name", b)) for b in found]

    return names


def algorithm_rows(
    family: str | None = None, status: str | None = None, primitive: str | None = None
) -> list[dict[str, Any]]:
    """The selected entries as JSON-ready dicts (plus ``backends`` when the registry exists)."""
    resolver = backend_resolver()
    rows = []
    for alg in select(family, status, primitive):
        row = alg.to_dict()
        if resolver is not None:
            row["backends"] = resolver(alg.name)
        rows.append(row)
    return rows


_SIZE_LABELS = (
    ("pk", "public_key_bytes"),
    ("sk", "private_key_bytes"),
    ("ct", "ciphertext_bytes"),
    ("sig", "signature_bytes"),
    ("ss", "shared_secret_bytes"),
    ("out", "output_bytes"),
)


def _sizes(row: dict[str, Any]) -> str:
    parts = [f"{label} {row[key]}" for label, key in _SIZE_LABELS if row.get(key) is not None]
    if not parts and row.get("key_bits") is not None:
        parts.append(f"key {row['key_bits']} bit")
    return " · ".join(parts)


#: From this console width on, the table has one column per field; below it, fields are stacked.
WIDE = 130


def _longest_word(texts: list[str]) -> int:
    return max((len(w) for t in texts for w in t.split()), default=1)


def render_table(rows: list[dict[str, Any]], title: str, width: int = WIDE) -> Table:
    """A rich table of ``rows`` (as produced by :func:`algorithm_rows`) that fits ``width`` columns.

    Cells wrap between words, never inside one: each column is at least as wide as its longest word.
    Below :data:`WIDE` the fields are stacked into three columns (name / family · primitive; quantum
    status / NIST category and security bits; sizes / backends)."""
    with_backends = any("backends" in r for r in rows)
    table = Table(title=title, show_lines=width < WIDE)
    if width >= WIDE:
        table.add_column("name", no_wrap=True)
        table.add_column("family")
        table.add_column("primitive")
        table.add_column("NIST cat.", justify="right")
        table.add_column("sizes (bytes)", min_width=_longest_word([_sizes(r) for r in rows]))
        table.add_column("quantum status", no_wrap=True)
        table.add_column("bits classical / quantum", justify="right")
        if with_backends:
            table.add_column("backends")
    else:
        names = [r["name"] for r in rows]
        first = min(_longest_word(names), 24)
        table.add_column("algorithm", overflow="fold", width=first)
        table.add_column("quantum status / security", width=25)
        rest = max(width - first - 25 - 10, _longest_word([_sizes(r) for r in rows]))
        table.add_column("sizes (bytes)" + (" / backends" if with_backends else ""), width=rest)
    for row in rows:
        status = QuantumStatus(row["quantum_status"])
        classical = row["classical_security_bits"]
        bits = f"{classical if classical is not None else '?'} / {row['quantum_security_bits']}"
        styled = f"[{_STATUS_STYLE[status]}]{status.value}[/]"
        backends = ", ".join(row.get("backends", []))
        if width >= WIDE:
            cells = [row["name"], row["family"], row["primitive"], str(row["nist_category"] or ""), _sizes(row),
                     styled, bits]
            if with_backends:
                cells.append(backends)
        else:
            nist = f"NIST {row['nist_category']} · " if row["nist_category"] else ""
            cells = [f"[bold]{row['name']}[/]\n{row['family']} · {row['primitive']}",
                     f"{styled}\n{nist}{bits} bits",
                     _sizes(row) + (f"\n[dim]{backends or 'no backend'}[/]" if with_backends else "")]
        table.add_row(*cells)
    return table


def _check_choice(value: str | None, enum: type[QuantumStatus] | type[Primitive], option: str) -> None:
    if value is not None and value not in {m.value for m in enum}:
        choices = ", ".join(m.value for m in enum)
        raise typer.BadParameter(f"{value!r} is not one of: {choices}", param_hint=option)


def algorithms(
    family: Annotated[str | None, typer.Option("--family", help="Family, e.g. ML-KEM, RSA, AES, TLS-1.3.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="broken-by-shor | weakened-by-grover | quantum-safe | classically-broken | hybrid"
        ),
    ] = None,
    primitive: Annotated[
        str | None, typer.Option("--primitive", help="CycloneDX primitive: kem, signature, ae, hash, …")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List the algorithm catalogue: primitive, NIST category, sizes, quantum status."""
    _check_choice(status, QuantumStatus, "--status")
    _check_choice(primitive, Primitive, "--primitive")
    rows = algorithm_rows(family, status, primitive)
    if json_out:
        typer.echo(json.dumps({"count": len(rows), "algorithms": rows}, indent=2))
        return
    filters = ", ".join(f"{k}={v}" for k, v in (("family", family), ("status", status), ("primitive", primitive)) if v)
    title = f"qshift algorithm catalogue ({len(rows)} entries{': ' + filters if filters else ''})"
    console = Console()
    console.print(render_table(rows, title, console.width))
