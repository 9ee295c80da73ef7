"""``qshift qkd``: physics, emulated links, time-tag files, key rate theory."""

import typer

app = typer.Typer(help="QKD: emulated links, detector events, key rate theory, post-processing.",
                  no_args_is_help=True)
