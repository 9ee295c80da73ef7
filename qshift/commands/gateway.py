"""``qshift gateway``: the site gateway service."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated

import typer

from qshift.commands import JSON_HELP

app = typer.Typer(help="Site-to-site tunnel keyed by X-Wing + QKD, with fallback to PQC only.",
                  no_args_is_help=True)


def load_site(path: Path):  # noqa: ANN201 - SiteConfig, imported lazily to keep `qshift --help` fast
    """Load and validate a site TOML (relative paths in it are taken from the working directory)."""
    from gateway.config import SiteConfig
    from qshift.config import load_config

    return load_config(path, SiteConfig)


async def _serve(path: Path) -> None:
    from aiohttp import web

    from gateway.config import split_host_port
    from gateway.service import create_gateway_app

    config = load_site(path)
    gateway_app = create_gateway_app(config)
    runner = web.AppRunner(gateway_app, access_log=None)
    await runner.setup()
    host, port = split_host_port(config.management.listen, "management.listen")
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    address = runner.addresses[0]
    typer.echo(json.dumps({"event": "gateway.serving", "site": config.site_id,
                           "management": f"http://{address[0]}:{address[1]}"}), err=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


@app.command()
def serve(config: Annotated[Path, typer.Argument(help="Site TOML (see deploy/examples/gateway-site-a.toml).")]) -> None:
    """Run this site's gateway: tunnel, forward listeners, /healthz /status /metrics."""
    asyncio.run(_serve(config))


@app.command()
def check(config: Annotated[Path, typer.Argument(help="Site TOML to validate.")],
          json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Validate a site config and load its keys without starting anything."""
    from gateway.service import GatewayService

    site = load_site(config)
    GatewayService(site)  # loads keys and PSKs: errors name the file
    summary = {"site": site.site_id, "peers": [{"name": p.name, "auth": p.auth, "qkd": p.qkd,
                                                 "min_mode": p.min_mode, "dials": p.connect} for p in site.peers],
               "forward": [r.model_dump() for r in site.forward], "reverse": [r.model_dump() for r in site.reverse]}
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"{config}: site {site.site_id}, {len(site.peers)} peer(s), {len(site.forward)} forward "
                   f"rule(s), {len(site.reverse)} reverse rule(s): ok")
