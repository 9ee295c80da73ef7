"""``qshift inventory``: discover crypto assets, rate quantum risk, emit a CBOM."""

import typer

app = typer.Typer(help="Crypto inventory: scan code, certificates, configs, endpoints, captures; CBOM.",
                  no_args_is_help=True)
