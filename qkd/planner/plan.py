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
* **Verdict** per pair (``status``, ``reason``): ``met``; ``needs-trusted-nodes`` (the links and trusted
  nodes there are carry too little key, and placement can fix it); ``infeasible`` (no placement can). The
  reason also compares the target with ``plob_flow_bps``, the maximum flow over the same relay graph with
  every link at its repeaterless capacity (clock × −log₂(1 − η), [PLOB17]; a satellite link, which has no
  single η, at its own rate): a target above it cannot be met by *any* protocol on these links, only by
  shorter hops (new trusted nodes) or repeaters.
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
    status: str = "met"             # met | needs-trusted-nodes | infeasible
    reason: str = ""
    plob_flow_bps: float = math.inf  # max-flow with every link at its PLOB capacity


@dataclass(frozen=True)
class NetworkPlan:
    topology: Topology
    links: tuple[LinkRate, ...]
    pairs: tuple[PairPlan, ...] = field(default_factory=tuple)


def _plob_capacity(r: LinkRate, clock_rate_hz: float) -> float:
    """The most any repeaterless protocol could get from this link (bits/s): clock × −log₂(1 − η)
    ([PLOB17] Eq. 4); a link without a single η (satellite) or with repeaters is counted at its own rate."""
    if r.transmittance is None or r.link.kind == "repeater-chain":
        return r.rate_bps
    return max(r.rate_bps, float(plob_bound(r.transmittance)) * (r.link.clock_rate_hz or clock_rate_hz))


def _graph(topology: Topology, rates: list[LinkRate]) -> nx.Graph:
    g = nx.Graph()
    for n in topology.nodes:
        g.add_node(n.name, kind=n.kind)
    for r in rates:
        a, b = r.link.a, r.link.b
        plob = _plob_capacity(r, topology.clock_rate_hz)
        if g.has_edge(a, b):   # parallel links add their rates; keep the better transmittance for bounds
            e = g.edges[a, b]
            e["capacity"] += r.rate_bps
            e["plob_capacity"] += plob
            if r.transmittance is not None and (e["transmittance"] is None or r.transmittance > e["transmittance"]):
                e["transmittance"] = r.transmittance
            e["length_km"] = min(e["length_km"], r.link.length_km) if r.link.kind == "fibre" else e["length_km"]
            continue
        g.add_edge(a, b, capacity=r.rate_bps, plob_capacity=plob, transmittance=r.transmittance, link=r.link,
                   length_km=r.link.length_km if r.link.kind == "fibre" else math.inf)
    return g


def _relay_graph(g: nx.Graph, topology: Topology, a: str, b: str, capacity: str = "capacity") -> nx.DiGraph:
    """Both directions of every edge between ``a``, ``b`` and trusted nodes, with the edge attribute
    ``capacity`` as their capacity (bits/s)."""
    keep = {a, b} | {n.name for n in topology.nodes if n.relays}
    d = nx.DiGraph()
    d.add_nodes_from(keep)
    for u, v, data in g.edges(data=True):
        if u in keep and v in keep and data[capacity] > 0:
            d.add_edge(u, v, capacity=data[capacity])
            d.add_edge(v, u, capacity=data[capacity])
    return d


def _max_flow(d: nx.DiGraph, a: str, b: str) -> tuple[float, dict[str, dict[str, float]]]:
    if not nx.has_path(d, a, b):
        return 0.0, {}
    value, flow = nx.maximum_flow(d, a, b)
    return float(value), flow


def _rate(bps: float) -> str:
    return f"{bps:.4g} bit/s"


def _verdict(target: Target, value: float, plob_flow: float, placement: Placement | None) -> tuple[str, str]:
    """(status, reason) of one target pair (module docstring)."""
    pair = f"{target.a}–{target.b}"
    want = target.min_key_rate_bps
    if placement is None:
        return "met", f"{pair}: {_rate(value)} end to end (links and trusted nodes) meets the target {_rate(want)}"
    if value > 0:
        have = f"the links and trusted nodes there carry at most {_rate(value)}"
    elif plob_flow > 0:
        have = "the links joining them through trusted nodes yield no key (0 bit/s)"
    else:
        have = "no route of links through trusted nodes joins them"
    parts = [f"{pair} misses the target {_rate(want)}: {have}"]
    if value < plob_flow < want:   # the repeaterless bound says more than the links' own rates
        parts.append(f"the target is above the repeaterless (PLOB) bound of every route over these links "
                     f"(at most {_rate(plob_flow)} with ideal protocols; a satellite link at its own rate): "
                     "no protocol on these links can meet it")
    parts.append(placement.reason)
    return ("needs-trusted-nodes" if placement.feasible else "infeasible"), "; ".join(parts)


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
        value, flow = _max_flow(_relay_graph(g, topology, target.a, target.b), target.a, target.b)
        found = _paths(flow, target.a, target.b) if flow else []
        plob_flow, _ = _max_flow(_relay_graph(g, topology, target.a, target.b, "plob_capacity"), target.a, target.b)
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
        placement = None if meets else _placement(g, topology, target)
        status, reason = _verdict(target, value, plob_flow, placement)
        pairs.append(PairPlan(target, float(value), meets, tuple(paths), consumed / value if value > 0 else 0.0,
                              repeater, placement, status, reason, plob_flow))
    return NetworkPlan(topology, tuple(rates), tuple(pairs))
