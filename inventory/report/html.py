"""Self-contained HTML report: inline SVG bar charts (assets by status, by source, by priority) and the
asset table. No scripts, no external resources; every value is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

_COLOURS = {"classically-broken": "#8b0000", "broken-by-shor": "#d62728", "weakened-by-grover": "#ff9f1c",
            "hybrid": "#2ca02c", "quantum-safe": "#1a7f37", "unknown": "#888", "critical": "#8b0000",
            "high": "#d62728", "medium": "#ff9f1c", "low": "#1f77b4", "review": "#888", "none": "#2ca02c"}


def _bars(title: str, counts: dict[str, int]) -> str:
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    width, bar_h = 480, 22
    top = max((v for _, v in items), default=1) or 1
    rows = []
    for i, (k, v) in enumerate(items):
        w = int(300 * v / top)
        y = i * (bar_h + 6)
        rows.append(f'<text x="0" y="{y + 16}" font-size="13">{html.escape(k)}</text>'
                    f'<rect x="160" y="{y}" width="{w}" height="{bar_h}" fill="{_COLOURS.get(k, "#4e79a7")}"/>'
                    f'<text x="{165 + w}" y="{y + 16}" font-size="13">{v}</text>')
    h = max(len(items), 1) * (bar_h + 6)
    return (f'<figure><figcaption>{html.escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{width}" height="{h}" role="img" aria-label="{html.escape(title)}">{"".join(rows)}</svg></figure>')


def render(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    rows = []
    for a in sorted(doc["assets"], key=lambda a: (-a["risk"]["score"], a["key"])):
        r = a["risk"]
        where = "<br>".join(html.escape(o["where"]) for o in a["occurrences"][:5])
        rows.append(f'<tr><td style="color:{_COLOURS.get(r["priority"], "#000")}">{html.escape(r["priority"])}</td>'
                    f"<td>{html.escape(a['name'])}</td><td>{html.escape(a['asset_type'])}</td>"
                    f"<td>{html.escape(r['status'])}</td><td>{html.escape(str(r['deadline'] or ''))}</td>"
                    f"<td>{where}</td><td>{html.escape(r['recommendation'])}</td></tr>")
    skipped = "".join(f"<tr><td>{html.escape(k['path'])}</td><td>{html.escape(k['reason'])}</td></tr>"
                      for k in doc["skipped"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>qshift inventory</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:4px 8px;vertical-align:top}}figure{{display:inline-block;margin:1em}}</style></head><body>
<h1>qshift inventory</h1>
<p>Policy <b>{html.escape(doc['policy'])}</b>, generated {html.escape(doc['generated'])}:
{s['assets']} assets from {s['findings']} findings; {s['skipped']} inputs skipped.</p>
{_bars('Assets by quantum status', s['by_status'])}
{_bars('Assets by source', s['by_source'])}
{_bars('Assets by priority', s['by_priority'])}
<h2>Assets</h2><table><tr><th>priority</th><th>asset</th><th>type</th><th>status</th><th>deadline</th>
<th>where</th><th>recommendation</th></tr>{''.join(rows)}</table>
<h2>Skipped inputs</h2><table><tr><th>path</th><th>reason</th></tr>{skipped}</table>
</body></html>
"""
