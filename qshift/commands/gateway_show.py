"""``qshift gateway show``: every peer of a *running* gateway at a glance, as ``wg show`` shows a WireGuard
interface — data plane, mode, key epoch and age, next rotation, last transition and why.

It reads the gateway's own ``/status`` over its management listener (plain HTTP on the address of
``[management] listen``, loopback by default), so what it prints is what the service itself reports:
nothing is recomputed but the "ago" of a transition (from the transition's wall-clock time). Per peer:

- **data plane**: ``wireguard`` (interface, peer state ``waiting|up|stale|removed``), ``ipsec`` (IKE
  connection, same states) or ``tcp-tunnel`` (state ``up`` while a session is up);
- **mode** of the key the data plane uses now (``hybrid-qkd`` or ``pqc-only``; for the TCP tunnel the
  session's);
- **key**: session epoch the installed PSK / PPK comes from (the session's own epoch for the TCP tunnel),
  its age in seconds and the seconds until the rotator asks for the next one;
- **last transitions**: the session mode's (to which mode, cause) and the data plane's (to which state,
  reason), each with how long ago (``--json`` also has where each came from).

Data first: ``--json`` prints the same rows (stable keys) without the table.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qshift.commands import JSON_HELP
from qshift.errors import InputError

#: How long ``show`` waits for the gateway's answer (seconds).
FETCH_TIMEOUT_S = 5.0


def management_url(config: Path | None, url: str | None) -> tuple[str, str]:
    """The base URL of the gateway's management listener and where it came from (for error messages):
    ``--url``, else ``[management] listen`` of the site TOML (a wildcard address is reached on loopback)."""
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"--url {url}: expected http://HOST:PORT of the gateway's management listener")
        return url.rstrip("/"), f"--url {url}"
    if config is None:
        raise typer.BadParameter("give the site TOML of the running gateway or --url", param_hint="CONFIG")
    from gateway.config import split_host_port
    from qshift.commands.gateway import load_site

    site = load_site(config)
    host, port = split_host_port(site.management.listen, "management.listen")
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return base, f"{config}: management.listen {site.management.listen}"


def fetch_status(base: str, origin: str, timeout_s: float = FETCH_TIMEOUT_S) -> dict[str, Any]:
    """``GET base/status``; an unreachable gateway or an answer that is no gateway status is an
    :class:`InputError` naming ``origin`` (the option or config key the URL came from) and the URL."""
    where = f"{origin}: {base}/status"
    try:
        # no proxy: the management listener is the gateway's own (loopback by default), never behind one
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{base}/status", timeout=timeout_s) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise InputError(f"{where}: the gateway answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"{where}: cannot reach the gateway's management listener ({reason})") from None
    try:
        status = json.loads(body)
    except ValueError:
        raise InputError(f"{where}: the answer is not JSON (is this a qshift gateway?)") from None
    if not isinstance(status, dict) or not isinstance(status.get("peers"), dict):
        raise InputError(f"{where}: the answer has no peers (is this a qshift gateway?)")
    return status


def _transition(raw: dict[str, Any] | None, why_key: str, now: float) -> dict[str, Any] | None:
    if not raw:
        return None
    at = raw.get("at")
    return {"from": raw.get("from"), "to": raw.get("to"), "why": raw.get(why_key), "at": at,
            "ago_s": round(max(0.0, now - at), 1) if isinstance(at, (int, float)) else None}


def peer_rows(status: dict[str, Any], now: float | None = None) -> list[dict[str, Any]]:
    """One row per peer of ``status`` (the gateway's ``/status``), in name order; see the module docstring."""
    now = time.time() if now is None else now
    rows = []
    for name, peer in sorted(status["peers"].items()):
        session = peer.get("session") or {}
        plane = peer.get("data_plane") or {"kind": "tcp-tunnel"}
        kind = plane.get("plane") or plane.get("kind") or "tcp-tunnel"
        row: dict[str, Any] = {"peer": name, "connected": bool(peer.get("connected")), "data_plane": kind,
                               "policy": peer.get("policy")}
        if kind == "tcp-tunnel":
            row.update(target=None, state="up" if peer.get("connected") else "down", mode=peer.get("mode"),
                       key_epoch=session.get("epoch"), key_age_s=session.get("key_age_s"),
                       next_rotation_in_s=None, rotations=session.get("rekeys"), last_install_ms=None,
                       plane_transition=None, last_error=peer.get("last_error"))
        else:
            row.update(target=plane.get("target"), state=plane.get("state"), mode=plane.get("mode"),
                       key_epoch=plane.get("psk_epoch"), key_age_s=plane.get("psk_age_s"),
                       next_rotation_in_s=plane.get("next_rotation_in_s"), rotations=plane.get("rotations"),
                       last_install_ms=plane.get("last_install_ms"),
                       plane_transition=_transition(plane.get("last_transition"), "reason", now),
                       last_error=plane.get("last_error") or peer.get("last_error"))
        row["session_mode"] = peer.get("mode")
        row["mode_transition"] = _transition(peer.get("last_transition"), "cause", now)
        rows.append(row)
    return rows


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def _change(label: str, t: dict[str, Any] | None) -> str:
    if t is None:
        return ""
    return escape(f"{label} → {t['to']}\n  {t['why'] or '-'}, {_seconds(t['ago_s'])} ago")


#: A last error longer than this is cut in the table (``--json`` has it whole).
ERROR_CHARS = 120

STATE_STYLE = {"up": "green", "waiting": "yellow", "stale": "yellow", "removed": "red", "down": "red"}


def show_table(site: str, rows: list[dict[str, Any]]) -> Table:
    """The rows as a table that fits 80 columns (cells wrap inside their column)."""
    table = Table(title=escape(f"gateway {site}: {len(rows)} peer(s)"), title_justify="left",
                  show_lines=True)
    table.add_column("peer", overflow="fold", max_width=12)
    table.add_column("data plane", overflow="fold", max_width=14)
    table.add_column("mode", overflow="fold", max_width=10)
    table.add_column("key", overflow="fold", max_width=13)
    table.add_column("last transitions", overflow="fold")
    for r in rows:
        state = r["state"] or "-"
        plane = escape(f"{r['data_plane']}\n{r['target']}" if r["target"] else r["data_plane"])
        plane += f"\n[{STATE_STYLE.get(state, 'white')}]{state}[/]"
        peer = f"{escape(r['peer'])}\n[dim]{'session up' if r['connected'] else 'no session'}[/]"
        if r["key_epoch"] is None:
            key = "none yet"
        else:
            key = f"epoch {r['key_epoch']}\nage {_seconds(r['key_age_s'])}"
            if r["next_rotation_in_s"] is not None:
                key += f"\nnext {_seconds(r['next_rotation_in_s'])}"
        changes = "\n".join(c for c in (_change("mode", r["mode_transition"]),
                                         _change("plane", r["plane_transition"])) if c) or "-"
        if r["last_error"]:
            error = r["last_error"] if len(r["last_error"]) <= ERROR_CHARS else r["last_error"][:ERROR_CHARS] + "…"
            changes += f"\n[red]error:[/] {escape(error)}"
        table.add_row(peer, plane, escape(r["mode"] or "-"), key, changes)
    return table


def show(
    config: Annotated[Path | None, typer.Argument(help="Site TOML of the running gateway (its [management] "
                                                       "listen is asked).")] = None,
    url: Annotated[str | None, typer.Option(help="Management URL instead of the TOML's, "
                                                 "e.g. http://127.0.0.1:9101.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show every peer of a running gateway: data plane, mode, key epoch and age, next rotation, last
    transition and why (from its /status)."""
    base, origin = management_url(config, url)
    status = fetch_status(base, origin)
    rows = peer_rows(status)
    if json_out:
        typer.echo(json.dumps({"site": status.get("site"), "url": base, "peers": rows}, indent=2))
        return
    console = Console(width=min(Console().width, 80))
    console.print(show_table(str(status.get("site")), rows))
