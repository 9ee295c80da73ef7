"""``qshift gateway``: the site gateway service."""

import typer

app = typer.Typer(help="Site-to-site tunnel keyed by X-Wing + QKD, with fallback to PQC only.",
                  no_args_is_help=True)
