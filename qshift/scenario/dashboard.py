"""Rendering of scenario runs with rich: the live dashboard and the end-of-run tables. Data in, renderables out."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from qshift.scenario.assertions import AssertionResult
from qshift.scenario.record import RunRecord, Sample

_MODE_STYLE = {"hybrid-qkd": "bold green", "pqc-only": "bold yellow", "down": "bold red"}


def live_view(sample: Sample, record: RunRecord, previous: Sample | None) -> Group:
    """Links (QBER, key rate, pool, state), tunnel (mode, throughput, rekeys), and the latest events."""
    links = Table(title=f"QKD links  t = {sample.t_s:5.1f} s", expand=True)
    for column in ("link", "state", "QBER", "secret key rate", "key pool"):
        links.add_column(column)
    for name, link in sample.links.items():
        style = {"running": "green", "aborting": "red", "failed": "red", "stalled": "yellow",
                 "down": "red"}.get(link.state.split("(")[0], "")
        links.add_row(name, f"[{style}]{link.state}[/]" if style else link.state,
                      "-" if link.qber is None else f"{100 * link.qber:.2f} %",
                      f"{link.secret_key_rate_bps / 1e3:.1f} kbit/s", f"{link.pool_bits / 8 / 1024:.1f} KiB")
    throughput = 0.0
    if previous is not None and sample.t_s > previous.t_s:
        throughput = (sample.bytes_delivered - previous.bytes_delivered) / (sample.t_s - previous.t_s)
    tunnel = Table(title="Tunnel", expand=True)
    for column in ("mode", "throughput", "delivered", "handshakes + rekeys"):
        tunnel.add_column(column)
    tunnel.add_row(f"[{_MODE_STYLE.get(sample.tunnel_mode, '')}]{sample.tunnel_mode}[/]",
                   f"{throughput / 1e3:.0f} kB/s", f"{sample.bytes_delivered / 1e6:.2f} MB", str(sample.rekeys))
    recent = "\n".join(f"{e.t_s:6.2f}s  {e.source:<7} {e.kind:<18} {e.detail}" for e in record.events[-6:])
    return Group(links, tunnel, Panel(recent or "-", title="events"))


def timeline_table(record: RunRecord) -> Table:
    table = Table(title="Timeline")
    for column in ("t (s)", "source", "event", "detail"):
        table.add_column(column)
    for e in record.events:
        table.add_row(f"{e.t_s:.2f}", e.source, e.kind, e.detail)
    return table


def streams_table(record: RunRecord) -> Table:
    table = Table(title="Traffic through the tunnel (SHA-256 at both ends)")
    for column in ("stream", "sent", "received", "SHA-256 (sent)", "SHA-256 (received)", "longest stall", "ok"):
        table.add_column(column)
    for s in record.streams:
        table.add_row(str(s.stream_id), f"{s.bytes_sent} B", f"{s.bytes_received} B", s.sha256_sent[:16] + "…",
                      (s.sha256_received[:16] + "…") if s.sha256_received else "-", f"{s.longest_stall_s:.3f} s",
                      "[green]yes[/]" if s.intact else f"[red]no[/] {s.error}")
    return table


def assertions_table(results: list[AssertionResult], title: str = "Checks") -> Table:
    table = Table(title=title)
    for column in ("", "check", "observed"):
        table.add_column(column)
    for r in results:
        table.add_row("[green]pass[/]" if r.passed else "[red]FAIL[/]", r.name, r.message)
    return table
