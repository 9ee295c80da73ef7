"""``qshift gateway``: the site gateway service."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from qshift.commands import JSON_HELP
from qshift.errors import InputError

app = typer.Typer(help="Site-to-site tunnel keyed by X-Wing + QKD, with fallback to PQC only.",
                  no_args_is_help=True)


#: Paths in a site TOML, read relative to the TOML file (whatever the working directory).
RELATIVE_TO_CONFIG = ("identity.signing_key", "kme.ca_file", "kme.cert_file", "kme.key_file",
                      "peers[].public_key", "peers[].psk_file", "peers[].ipsec.cert_file", "peers[].ipsec.key_file",
                      "peers[].ipsec.ca_file")


def load_site(path: Path) -> Any:  # SiteConfig, imported lazily to keep `qshift --help` fast
    """Load and validate a site TOML (relative paths in it are taken from the config file's directory)."""
    from gateway.config import SiteConfig
    from qshift.config import load_config

    return load_config(path, SiteConfig, relative_paths=RELATIVE_TO_CONFIG)


async def _serve(path: Path) -> None:
    from aiohttp import web

    from gateway.config import split_host_port
    from gateway.service import create_gateway_app

    config = load_site(path)
    gateway_app = create_gateway_app(config)
    runner = web.AppRunner(gateway_app, access_log=None)
    host, port = split_host_port(config.management.listen, "management.listen")
    try:
        await runner.setup()       # starts the tunnel and forward listeners
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        reason = exc.strerror or str(exc)
        raise InputError(f"{path}: cannot listen: {' '.join(reason.split())}") from exc
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


# `gateway show` lives in its own module (it talks to a running gateway, not to a config)
from qshift.commands.gateway_show import show  # noqa: E402

app.command()(show)
