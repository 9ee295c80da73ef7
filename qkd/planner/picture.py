"""A picture of a planned network: nodes by kind, every link labelled with its key rate."""

from __future__ import annotations

from typing import Any

import networkx as nx

from qkd.planner.plan import NetworkPlan


def human_rate(bps: float) -> str:
    """A key rate in bit/s with an SI prefix (``1.51 Mbit/s``)."""
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if bps >= scale:
            return f"{bps / scale:.3g} {prefix}bit/s"
    return f"{bps:.3g} bit/s"


def network_figure(plan: NetworkPlan) -> Any:
    """A matplotlib Figure (Agg backend, no display needed) of ``plan``; nodes placed at their
    ``x_km``/``y_km`` when every node has them, else by a seeded spring layout."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    g = nx.MultiGraph()
    for n in plan.topology.nodes:
        g.add_node(n.name)
    for r in plan.links:
        g.add_edge(r.link.a, r.link.b, label=f"{r.link.kind}: {human_rate(r.rate_bps)}")
    nodes = plan.topology.nodes
    if all(n.x_km is not None and n.y_km is not None for n in nodes):
        pos = {n.name: (float(n.x_km or 0.0), float(n.y_km or 0.0)) for n in nodes}
    else:
        pos = nx.spring_layout(nx.Graph(g), seed=1)
    fig = Figure(figsize=(8, 6))
    ax = fig.add_subplot()
    colours = ["tab:blue" if n.kind == "site" else "tab:orange" for n in nodes]
    nx.draw_networkx_nodes(g, pos, nodelist=[n.name for n in nodes], node_color=colours, ax=ax)
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=9)
    simple = nx.Graph()
    for u, v, data in g.edges(data=True):
        label = data["label"] if not simple.has_edge(u, v) else simple.edges[u, v]["label"] + "\n" + data["label"]
        simple.add_edge(u, v, label=label)
    nx.draw_networkx_edges(simple, pos, ax=ax)
    nx.draw_networkx_edge_labels(simple, pos, edge_labels=nx.get_edge_attributes(simple, "label"), ax=ax,
                                 font_size=7)
    lines = [f"{p.target.a}–{p.target.b}: {human_rate(p.rate_bps)} "
             f"({'meets' if p.meets_target else 'misses'} {human_rate(p.target.min_key_rate_bps)}"
             f"{'' if p.meets_target else ': ' + p.status})" for p in plan.pairs]
    ax.set_title("QKD network plan (blue: sites, orange: trusted nodes)\n" + "\n".join(lines), fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    return fig
