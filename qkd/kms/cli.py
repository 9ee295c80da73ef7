"""``qshift kme``: run and query a key management entity (ETSI GS QKD 014)."""

import typer

app = typer.Typer(help="Key management entity: ETSI GS QKD 014 key delivery and trusted-node relay.",
                  no_args_is_help=True)
