"""``qshift pqc``: the algorithm catalogue and backend self-tests."""

import typer

from pqc.catalogue.cli import algorithms

app = typer.Typer(help="Post-quantum crypto: algorithm catalogue, backends, hybrid KEMs.", no_args_is_help=True)
app.command("algorithms")(algorithms)
