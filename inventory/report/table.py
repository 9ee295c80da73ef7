"""Rich terminal summary of a scan report (dict form, as produced by ``ScanReport.to_dict()``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "review": "magenta",
          "none": "green"}
_ORDER = ["critical", "high", "medium", "low", "review", "none"]


def render(doc: dict[str, Any], console: Console, limit: int = 60) -> None:
    summary = doc["summary"]
    stats = doc["stats"]
    head = Table(title="qshift inventory", show_header=False)
    head.add_row("policy", doc["policy"])
    files_s = stats["files_seen"] / stats["seconds"] if stats["seconds"] else 0.0
    head.add_row("files", f"{stats['files_scanned']} analysed of {stats['files_seen']} seen "
                          f"({files_s:,.0f} files/s, {stats['bytes_scanned'] / 1e6:.1f} MB)")
    head.add_row("packets / endpoints", f"{stats['packets']} / {stats['endpoints']}")
    head.add_row("assets", str(summary["assets"]))
    head.add_row("by status", ", ".join(f"{k}: {v}" for k, v in sorted(summary["by_status"].items())))
    head.add_row("by priority", ", ".join(f"{k}: {summary['by_priority'][k]}" for k in _ORDER
                                          if k in summary["by_priority"]))
    head.add_row("skipped", ", ".join(f"{k}: {v}" for k, v in summary["skipped_by_reason"].items()) or "0")
    table = Table(title="assets by priority")
    for col in ("priority", "asset", "type", "status", "deadline", "where", "recommendation"):
        table.add_column(col, overflow="fold")
    assets = sorted(doc["assets"], key=lambda a: (-a["risk"]["score"], a["key"]))
    for a in assets[:limit]:
        r = a["risk"]
        where = a["occurrences"][0]["where"] if a["occurrences"] else ""
        more = f" (+{len(a['occurrences']) - 1})" if len(a["occurrences"]) > 1 else ""
        table.add_row(f"[{_STYLE.get(r['priority'], '')}]{r['priority']}[/]", a["name"], a["asset_type"],
                      r["status"], str(r["deadline"] or ""), where + more, r["recommendation"])
    parts: list[Any] = [head, table]
    if len(assets) > limit:
        parts.append(f"… {len(assets) - limit} more assets (use --json or --cbom for all)")
    if doc["skipped"]:
        sk = Table(title="skipped inputs")
        sk.add_column("path")
        sk.add_column("reason")
        for s in doc["skipped"][:20]:
            sk.add_row(s["path"], s["reason"])
        parts.append(sk)
    console.print(Group(*parts))
