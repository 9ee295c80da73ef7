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


def render_table(rows: list[dict[str, Any]], title: str) -> Table:
    """A rich table of ``rows`` (as produced by :func:`algorithm_rows`)."""
    with_backends = any("backends" in r for r in rows)
    table = Table(title=title)
    table.add_column("name", no_wrap=True)
    table.add_column("family")
    table.add_column("primitive")
    table.add_column("NIST cat.", justify="right")
    table.add_column("sizes (bytes)", overflow="fold")
    table.add_column("quantum status", no_wrap=True)
    table.add_column("bits classical / quantum", justify="right")
    if with_backends:
        table.add_column("backends")
    for row in rows:
        status = QuantumStatus(row["quantum_status"])
        classical = row["classical_security_bits"]
        cells = [
            row["name"],
            row["family"],
            row["primitive"],
            str(row["nist_category"] or ""),
            _sizes(row),
            f"[{_STATUS_STYLE[status]}]{status.value}[/]",
            f"{classical if classical is not None else '?'} / {row['quantum_security_bits']}",
        ]
        if with_backends:
            cells.append(", ".join(row.get("backends", [])))
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
    Console().print(render_table(rows, title))
