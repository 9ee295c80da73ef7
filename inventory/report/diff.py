"""Migration progress between two scans (``--json`` documents or CBOMs written by this tool).

Assets are matched by key. Progress = share of the old scan's quantum-vulnerable assets
(``broken-by-shor`` + ``classically-broken``) that are gone or no longer vulnerable in the new scan.

``rows`` lists every asset that changed, one per asset (``change`` is ``added``, ``removed`` or
``changed``), for the table and for CI gates: ``new-<status>`` / ``new-<priority>`` match an asset that has
that status or priority in the new scan and did not have it in the old one (:func:`gate_hits`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inventory.errors import InventoryError, MalformedInputError

VULNERABLE = {"broken-by-shor", "classically-broken"}


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MalformedInputError(str(path), f"not a readable JSON scan: {exc}") from None
    out: dict[str, dict[str, Any]] = {}
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        for c in doc.get("components", []):
            props = {p["name"]: p.get("value") for p in c.get("properties", [])}
            key = props.get("qshift:asset-key") or c.get("bom-ref")
            out[key] = {"name": c.get("name"), "status": props.get("qshift:quantum-status", "unknown"),
                        "priority": props.get("qshift:priority", "none"),
                        "occurrences": len((c.get("evidence") or {}).get("occurrences", []))}
        return out
    if not isinstance(doc, dict) or "assets" not in doc:
        raise MalformedInputError(str(path), "neither a qshift scan (--json) nor a CycloneDX CBOM")
    for a in doc["assets"]:
        out[a["key"]] = {"name": a["name"], "status": a["risk"]["status"], "priority": a["risk"]["priority"],
                         "occurrences": len(a["occurrences"])}
    return out


def diff(old_path: Path, new_path: Path) -> dict[str, Any]:
    old, new = _load(old_path), _load(new_path)
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    changed: list[dict[str, Any]] = []
    for k in sorted(set(old) & set(new)):
        o, n = old[k], new[k]
        if (o["status"], o["priority"], o["occurrences"]) != (n["status"], n["priority"], n["occurrences"]):
            changed.append({"key": k, "old": o, "new": n})
    old_vuln = {k for k, v in old.items() if v["status"] in VULNERABLE}
    new_vuln = {k for k, v in new.items() if v["status"] in VULNERABLE}
    fixed = old_vuln - new_vuln
    introduced = new_vuln - old_vuln
    progress = len(fixed) / len(old_vuln) if old_vuln else 1.0

    def count(d: dict[str, dict[str, Any]]) -> dict[str, int]:
        c: dict[str, int] = {}
        for v in d.values():
            c[v["status"]] = c.get(v["status"], 0) + 1
        return c

    rows = [_row("added", k, None, new[k]) for k in added] + [_row("removed", k, old[k], None) for k in removed]
    rows += [_row("changed", c["key"], c["old"], c["new"]) for c in changed]
    rows.sort(key=lambda r: (_RANK.get(r["new_priority"] or "", 9), r["change"], r["key"]))
    return {"old": str(old_path), "new": str(new_path), "added": added, "removed": removed, "changed": changed,
            "vulnerable_fixed": sorted(fixed), "vulnerable_introduced": sorted(introduced),
            "old_by_status": count(old), "new_by_status": count(new), "progress": round(progress, 4),
            "rows": rows}


_RANK = {p: i for i, p in enumerate(("critical", "high", "medium", "low", "review", "none"))}
STATUSES = ("classically-broken", "broken-by-shor", "weakened-by-grover", "hybrid", "quantum-safe", "unknown")
PRIORITIES = tuple(_RANK)
#: Values ``qshift inventory diff --fail-on`` accepts.
GATES = tuple(f"new-{v}" for v in STATUSES + PRIORITIES)


def _row(change: str, key: str, o: dict[str, Any] | None, n: dict[str, Any] | None) -> dict[str, Any]:
    return {"change": change, "key": key, "name": (n or o or {}).get("name") or key,
            "old_status": o and o["status"], "new_status": n and n["status"],
            "old_priority": o and o["priority"], "new_priority": n and n["priority"],
            "old_occurrences": o["occurrences"] if o else 0, "new_occurrences": n["occurrences"] if n else 0}


def parse_gates(values: list[str]) -> set[str]:
    """``--fail-on`` values (repeatable or comma lists); an unknown one is a usage error (exit 2)."""
    gates = {g.strip().lower() for item in values for g in item.split(",") if g.strip()}
    bad = sorted(gates - set(GATES))
    if bad:
        raise InventoryError(f"--fail-on {','.join(bad)}: expected new-<status> or new-<priority>, one of "
                             f"{', '.join(GATES)}")
    return gates


def gate_hits(d: dict[str, Any], gates: set[str]) -> list[dict[str, Any]]:
    """The rows of a diff that a gate matches: the asset has the gated status/priority now and did not before."""
    hits = []
    for r in d["rows"]:
        for g in gates:
            value = g.removeprefix("new-")
            field = "status" if value in STATUSES else "priority"
            if r[f"new_{field}"] == value and r[f"old_{field}"] != value:
                hits.append(r)
                break
    return hits
