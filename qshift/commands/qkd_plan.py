"""``qshift qkd plan topology.toml``: the network planner (:mod:`qkd.planner`) — every link's key rate, each
target site pair's end-to-end rate over trusted nodes with its bounds, and a verdict per pair: met, the
trusted nodes to add, or why it cannot be met (``status``/``reason`` in ``--json``). Output: tables
(80 columns), ``--json``, ``--picture net.png|svg|pdf``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from qshift.commands import JSON_HELP
from qshift.output import atomic_outputs, check_input, check_output

if TYPE_CHECKING:
    from qkd.planner import NetworkPlan

app = typer.Typer(help="QKD network planning.")

PICTURE_SUFFIXES = (".png", ".svg", ".pdf")


def plan_report(plan: NetworkPlan) -> dict[str, Any]:
    """The plan as JSON-ready data (rates in bit/s, lengths in km)."""

    def num(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    return {
        "clock_rate_hz": plan.topology.clock_rate_hz,
        "links": [{"a": r.link.a, "b": r.link.b, "kind": r.link.kind, "protocol": r.link.protocol,
                   "rate_bps": r.rate_bps, "transmittance": num(r.transmittance), "detail": r.detail,
                   "in_view_bps": num(r.in_view_bps)}
                  for r in plan.links],
        "pairs": [{
            "a": p.target.a, "b": p.target.b, "target_bps": p.target.min_key_rate_bps, "rate_bps": p.rate_bps,
            "meets_target": p.meets_target, "status": p.status, "reason": p.reason,
            "plob_flow_bps": num(p.plob_flow_bps), "relay_consumption": p.relay_consumption,
            "paths": [{"nodes": list(path.nodes), "flow_bps": path.flow_bps, "plob_bps": num(path.plob_bps),
                       "ideal_repeater_bps": num(path.ideal_repeater_bps)} for path in p.paths],
            "repeater_chain": None if p.repeater is None else {
                "segments": 2 ** p.repeater.nesting_levels, "segment_km": p.repeater.segment_km,
                "time_per_pair_s": p.repeater.time_per_pair_s, "qber": p.repeater.qber,
                "rate_bps": p.repeater.key_rate_bps},
            "placement": None if p.placement is None else {
                "feasible": p.placement.feasible, "reason": p.placement.reason,
                "new_nodes": [{"between": list(n.between), "at_km": n.at_km} for n in p.placement.new_nodes]},
        } for p in plan.pairs],
    }


def _tables(plan: NetworkPlan) -> list[Table]:
    from qkd.planner.picture import human_rate

    links = Table(title="links", width=80)
    for col in ("link", "kind", "key rate", "how"):
        links.add_column(col, overflow="fold")
    for r in plan.links:
        links.add_row(r.link.name, r.link.kind, human_rate(r.rate_bps), r.detail)
    pairs = Table(title="site pairs (trusted-node relay, max-flow)", width=80)
    for col in ("pair", "rate", "target", "routes and bounds", "verdict"):
        pairs.add_column(col, overflow="fold")
    for p in plan.pairs:
        routes = []
        for path in p.paths:
            bound = "" if path.plob_bps is None else f"; PLOB {human_rate(path.plob_bps)}"
            routes.append(f"{' → '.join(path.nodes)}: {human_rate(path.flow_bps)}{bound}")
        if p.repeater is not None:
            routes.append(f"repeater chain ({2 ** p.repeater.nesting_levels} segments): "
                          f"{human_rate(p.repeater.key_rate_bps)}")
        if p.placement is None:
            verdict = "met"
        elif not p.placement.feasible:
            verdict = f"INFEASIBLE: {p.reason}"
        else:
            nodes = "; ".join(f"{n.between[0]}–{n.between[1]} at {n.at_km:g} km" for n in p.placement.new_nodes)
            verdict = f"MISSED, add trusted nodes: {nodes or p.placement.reason}\n({p.reason})"
        pairs.add_row(f"{p.target.a}–{p.target.b}", human_rate(p.rate_bps), human_rate(p.target.min_key_rate_bps),
                      "\n".join(routes) or "no route", verdict)
    return [links, pairs]


@app.command()
def plan(
    topology: Annotated[Path, typer.Argument(help="Topology file (TOML): nodes, candidate links, targets.")],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    picture: Annotated[Path | None, typer.Option("--picture", help="Also draw the network with its rates to "
                                                                   "this file (.png, .svg or .pdf).")] = None,
) -> None:
    """Plan a QKD network: link key rates, end-to-end rates over trusted nodes, PLOB and repeater bounds,
    and per site pair a verdict: met, the trusted nodes to add, or why no placement can meet it."""
    check_input(topology, "TOPOLOGY", suffixes=(".toml",))
    if picture is not None:
        check_output(picture, "--picture", suffixes=PICTURE_SUFFIXES)
    # the planner (networkx) and its picture (matplotlib) load when a plan is made, not with every qshift command
    from qkd.planner import load_topology, plan_network
    from qkd.planner.picture import network_figure

    result = plan_network(load_topology(topology))
    if picture is not None:
        fig = network_figure(result)
        with atomic_outputs(picture) as (temp,):
            fig.savefig(temp, format=picture.suffix.lstrip("."))
    if json_out:
        typer.echo(json.dumps(plan_report(result), indent=2))
        return
    console = Console()
    for table in _tables(result):
        console.print(table)
