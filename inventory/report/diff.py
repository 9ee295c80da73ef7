"""Migration progress between two scans (``--json`` documents or CBOMs written by this tool).

Assets are matched by key. Progress = share of the old scan's quantum-vulnerable assets
(``broken-by-shor`` + ``classically-broken``) that are gone or no longer vulnerable in the new scan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inventory.errors import MalformedInputError

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
    changed = []
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

    return {"old": str(old_path), "new": str(new_path), "added": added, "removed": removed, "changed": changed,
            "vulnerable_fixed": sorted(fixed), "vulnerable_introduced": sorted(introduced),
            "old_by_status": count(old), "new_by_status": count(new), "progress": round(progress, 4)}
