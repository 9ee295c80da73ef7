"""End-to-end plans: for each target site pair, the key rate a network of trusted nodes delivers, how,
what the bounds say, and what to add when it falls short.

* **Trusted-node rate.** Hop-by-hop relay (one-time-pad forwarding, as ``qkd.kms.relay``) spends one bit
  of every link on the route per end-to-end bit, so the end-to-end rate between two sites is the maximum
  flow between them over the links' rates (Ford–Fulkerson; ``networkx.maximum_flow``), relaying only
  through trusted nodes. ``relay_consumption`` is the link key spent per end-to-end bit (Σ flow / value).
  Each target is planned alone: targets that share links compete for them.
* **Bounds per route** (each path of the flow): the repeaterless bound of the route taken as one channel,
  −log₂(1 − Πηᵢ) per use ([PLOB17] Eq. 4), and the ideal-repeater capacity of a chain, minᵢ −log₂(1 − ηᵢ)
  per use (S. Pirandola, "End-to-end capacities of a quantum communication network", Commun. Phys. 2, 51
  (2019)), both × the clock rate; a memory-based chain over the route's length ([SSRG11] model,
  ``qkd.planner.repeater``) for comparison.
* **Placement.** If the rate misses the target: along the shortest fibre route between the two sites,
  every hop too weak for the target is split by the fewest equally spaced new trusted nodes whose hops
  meet it; infeasible when even a 1 m hop falls short (the answer says so and by how much) or when the
  route has no fibre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from qkd.physics.keyrate import plob_bound
from qkd.planner.rates import LinkRate, fibre_rate, link_rate, max_hop_length_km
from qkd.planner.repeater import RepeaterChainRate, repeater_chain_rate
from qkd.planner.topology import RepeaterMemory, Target, Topology


@dataclass(frozen=True)
class RoutePath:
    nodes: tuple[str, ...]
    flow_bps: float
    plob_bps: float | None          # the route as one channel, repeaterless
    ideal_repeater_bps: float | None


@dataclass(frozen=True)
class NewNode:
    between: tuple[str, str]
    at_km: float                    # from the first node of ``between``


@dataclass(frozen=True)
class Placement:
    feasible: bool
    new_nodes: tuple[NewNode, ...]
    reason: str


@dataclass(frozen=True)
class PairPlan:
    target: Target
    rate_bps: float
    meets_target: bool
    paths: tuple[RoutePath, ...]
    relay_consumption: float        # link bits per end-to-end bit
    repeater: RepeaterChainRate | None
    placement: Placement | None


@dataclass(frozen=True)
class NetworkPlan:
    topology: Topology
    links: tuple[LinkRate, ...]
    pairs: tuple[PairPlan, ...] = field(default_factory=tuple)


def _graph(topology: Topology, rates: list[LinkRate]) -> nx.Graph:
    g = nx.Graph()
    for n in topology.nodes:
        g.add_node(n.name, kind=n.kind)
    for r in rates:
        a, b = r.link.a, r.link.b
        if g.has_edge(a, b):   # parallel links add their rates; keep the better transmittance for bounds
            e = g.edges[a, b]
            e["capacity"] += r.rate_bps
            if r.transmittance is not None and (e["transmittance"] is None or r.transmittance > e["transmittance"]):
                e["transmittance"] = r.transmittance
            e["length_km"] = min(e["length_km"], r.link.length_km) if r.link.kind == "fibre" else e["length_km"]
            continue
        g.add_edge(a, b, capacity=r.rate_bps, transmittance=r.transmittance, link=r.link,
                   length_km=r.link.length_km if r.link.kind == "fibre" else math.inf)
    return g


def _relay_graph(g: nx.Graph, topology: Topology, a: str, b: str) -> nx.DiGraph:
    keep = {a, b} | {n.name for n in topology.nodes if n.relays}
    d = nx.DiGraph()
    d.add_nodes_from(keep)
    for u, v, data in g.edges(data=True):
        if u in keep and v in keep and data["capacity"] > 0:
            d.add_edge(u, v, capacity=data["capacity"])
            d.add_edge(v, u, capacity=data["capacity"])
    return d


def _paths(flow: dict[str, dict[str, float]], a: str, b: str) -> list[tuple[list[str], float]]:
    """Decompose a flow into paths (net flow per undirected edge, greedy widest-first)."""
    net: dict[tuple[str, str], float] = {}
    for u, out in flow.items():
        for v, f in out.items():
            x = f - flow.get(v, {}).get(u, 0.0)
            if x > 1e-12:
                net[(u, v)] = x
    paths = []
    while True:
        d = nx.DiGraph()
        for (u, v), x in net.items():
            if x > 1e-9:
                d.add_edge(u, v, w=x)
        if a not in d or b not in d or not nx.has_path(d, a, b):
            break
        path = nx.shortest_path(d, a, b)
        x = min(net[(path[i], path[i + 1])] for i in range(len(path) - 1))
        for i in range(len(path) - 1):
            net[(path[i], path[i + 1])] -= x
        paths.append((path, x))
    return paths


def _route_bounds(g: nx.Graph, path: list[str], clock: float) -> tuple[float | None, float | None]:
    etas = [g.edges[path[i], path[i + 1]]["transmittance"] for i in range(len(path) - 1)]
    if any(t is None for t in etas):
        return None, None
    whole = math.prod(etas)
    plob = float(plob_bound(whole)) * clock
    ideal = min(float(plob_bound(t)) for t in etas) * clock
    return plob, ideal


def _placement(g: nx.Graph, topology: Topology, target: Target) -> Placement:
    keep = {target.a, target.b} | {n.name for n in topology.nodes if n.relays}
    fibre = nx.Graph()
    for u, v, data in g.edges(data=True):
        if u in keep and v in keep and math.isfinite(data["length_km"]):
            fibre.add_edge(u, v, length_km=data["length_km"], link=data["link"])
    if target.a not in fibre or target.b not in fibre or not nx.has_path(fibre, target.a, target.b):
        return Placement(False, (), f"no fibre route between {target.a} and {target.b}: trusted nodes cannot be "
                                    "added without one (add a candidate fibre link)")
    route = nx.shortest_path(fibre, target.a, target.b, weight="length_km")
    new: list[NewNode] = []
    for u, v in zip(route, route[1:], strict=False):
        edge = fibre.edges[u, v]
        link = edge["link"]
        if fibre_rate(link, link.clock_rate_hz or topology.clock_rate_hz, edge["length_km"]) >= target.min_key_rate_bps:
            continue
        reach = max_hop_length_km(link, link.clock_rate_hz or topology.clock_rate_hz, target.min_key_rate_bps)
        if reach <= 0:
            best = fibre_rate(link, link.clock_rate_hz or topology.clock_rate_hz, 1e-3)
            return Placement(False, (), f"infeasible: even a 1 m {link.protocol} hop gives {best:.4g} bit/s < the "
                                        f"target {target.min_key_rate_bps:.4g} bit/s (raise the clock rate or "
                                        "improve the detectors; more trusted nodes cannot help)")
        extra = math.ceil(edge["length_km"] / reach) - 1
        step = edge["length_km"] / (extra + 1)
        new += [NewNode((u, v), round(step * (j + 1), 3)) for j in range(extra)]
    return Placement(True, tuple(new), f"{len(new)} new trusted node(s) on the route {' → '.join(route)}")


def plan_network(topology: Topology, memory: RepeaterMemory | None = None) -> NetworkPlan:
    """Rates of every link and a :class:`PairPlan` for every target (module docstring)."""
    rates = [link_rate(link, topology.clock_rate_hz) for link in topology.links]
    g = _graph(topology, rates)
    pairs = []
    for target in topology.targets:
        d = _relay_graph(g, topology, target.a, target.b)
        if nx.has_path(d, target.a, target.b):
            value, flow = nx.maximum_flow(d, target.a, target.b)
            found = _paths(flow, target.a, target.b)
        else:
            value, found = 0.0, []
        paths = []
        consumed = 0.0
        for nodes, f in found:
            plob, ideal = _route_bounds(g, nodes, topology.clock_rate_hz)
            paths.append(RoutePath(tuple(nodes), f, plob, ideal))
            consumed += f * (len(nodes) - 1)
        length = None
        try:
            length = nx.shortest_path_length(g, target.a, target.b, weight="length_km")
        except nx.NetworkXNoPath:
            pass
        repeater = (repeater_chain_rate(length, 3, memory or RepeaterMemory())
                    if length is not None and math.isfinite(length) and length > 0 else None)
        meets = value >= target.min_key_rate_bps
        pairs.append(PairPlan(target, float(value), meets, tuple(paths), consumed / value if value > 0 else 0.0,
                              repeater, None if meets else _placement(g, topology, target)))
    return NetworkPlan(topology, tuple(rates), tuple(pairs))
