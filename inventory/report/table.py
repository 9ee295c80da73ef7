"""Rich terminal views of a scan report (dict form, as produced by ``ScanReport.to_dict()``) and of a diff
(:func:`inventory.report.diff.diff`).

Tables fit the console: at 80 columns every column is at least as wide as the longest word it shows
(statuses, priorities, the words of a recommendation), so cells wrap between words and only paths and
over-long identifiers are folded. Wider consoles get one column per field.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "review": "magenta",
          "none": "green"}
_ORDER = ["critical", "high", "medium", "low", "review", "none"]
#: Below this console width the asset table stacks fields into three columns.
WIDE = 120
_STATUS_W = len("classically-broken")


def _priority(p: str | None) -> Text:
    return Text(p or "-", style=_STYLE.get(p or "", ""))


def _head(doc: dict[str, Any]) -> Table:
    summary, stats = doc["summary"], doc["stats"]
    head = Table(title="qshift inventory", show_header=False)
    head.add_column(no_wrap=True)
    head.add_column()
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
    return head


def _where(a: dict[str, Any]) -> str:
    occ = a["occurrences"]
    where = occ[0]["where"] if occ else ""
    return where + (f" (+{len(occ) - 1})" if len(occ) > 1 else "")


def _assets(assets: list[dict[str, Any]], width: int) -> Table:
    table = Table(title="assets by priority")
    if width >= WIDE:
        table.add_column("priority", no_wrap=True)
        table.add_column("asset", overflow="fold", min_width=16)
        table.add_column("type", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("deadline", no_wrap=True)
        table.add_column("where", overflow="fold", min_width=16)
        table.add_column("recommendation", ratio=1, min_width=24)
        for a in assets:
            r = a["risk"]
            table.add_row(_priority(r["priority"]), a["name"], a["asset_type"], r["status"],
                          str(r["deadline"] or ""), _where(a), r["recommendation"])
        return table
    table.add_column("priority / status", no_wrap=True, min_width=_STATUS_W)
    table.add_column("asset / where", overflow="fold", min_width=22, ratio=2)
    table.add_column("recommendation", ratio=3, min_width=16)
    for a in assets:
        r = a["risk"]
        first = _priority(r["priority"])
        first.append(f"\n{r['status']}" + (f"\nby {r['deadline']}" if r["deadline"] else ""), style="")
        second = Text(a["name"], style="bold")
        second.append(f"\n{a['asset_type']}\n", style="dim")
        second.append(_where(a))
        table.add_row(first, second, r["recommendation"])
    return table


def render(doc: dict[str, Any], console: Console, limit: int = 60) -> None:
    """The headline, the assets by priority and the skipped inputs. A key whose certificates are listed is
    shown in their rows (each certificate row counts the key file among its locations), not in its own."""
    keys = {a["key"] for a in doc["assets"]}
    folded = [a for a in doc["assets"] if a["asset_type"] == "related-crypto-material"
              and a["details"].get("certificates") and set(a["details"]["certificates"]) <= keys]
    shown = [a for a in doc["assets"] if a not in folded]
    assets = sorted(shown, key=lambda a: (-a["risk"]["score"], a["key"]))
    parts: list[Any] = [_head(doc), _assets(assets[:limit], console.width)]
    if len(assets) > limit:
        parts.append(f"… {len(assets) - limit} more assets (use --json or --cbom for all)")
    if folded:
        parts.append(f"{len(folded)} key(s) shown with their certificate(s)")
    if doc["skipped"]:
        sk = Table(title="skipped inputs")
        sk.add_column("path", overflow="fold", ratio=1, min_width=20)
        sk.add_column("reason", ratio=1, min_width=20)
        for s in doc["skipped"][:20]:
            sk.add_row(s["path"], s["reason"])
        parts.append(sk)
    console.print(Group(*parts))


def _transition(old: str | None, new: str | None, style: bool) -> Text:
    if old == new:
        return _priority(new) if style else Text(new or "-")
    t = _priority(old) if style else Text(old or "-")
    t.append("\n→ ")
    t.append_text(_priority(new) if style else Text(new or "-"))
    return t


def render_diff(d: dict[str, Any], console: Console) -> None:
    """The diff as a headline (progress, counts) and one row per changed asset."""
    head = Table(show_header=False, title=f"migration progress {d['progress']:.0%}")
    head.add_column(no_wrap=True)
    head.add_column()
    head.add_row("old", d["old"])
    head.add_row("new", d["new"])
    head.add_row("vulnerable", f"{len(d['vulnerable_fixed'])} fixed, {len(d['vulnerable_introduced'])} introduced")
    head.add_row("assets", f"{len(d['added'])} added, {len(d['removed'])} removed, {len(d['changed'])} changed")
    for label, key in (("old by status", "old_by_status"), ("new by status", "new_by_status")):
        head.add_row(label, ", ".join(f"{k}: {v}" for k, v in sorted(d[key].items())) or "-")
    rows = Table(title="changed assets")
    rows.add_column("change", no_wrap=True)
    rows.add_column("asset", overflow="fold", min_width=20, ratio=1)
    rows.add_column("status", no_wrap=True, min_width=_STATUS_W + 2)
    rows.add_column("priority", no_wrap=True, min_width=len("→ critical"))
    for r in d["rows"]:
        rows.add_row(r["change"], r["name"], _transition(r["old_status"], r["new_status"], False),
                     _transition(r["old_priority"], r["new_priority"], True))
    parts: list[Any] = [head, rows if d["rows"] else Text("no asset changed")]
    console.print(Group(*parts))
