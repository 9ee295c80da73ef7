"""QKD network topology: nodes, links, SAE attachment, pool names, and routing for trusted-node relay.

Pools at a node: for a link ``L`` between nodes ``a`` and ``b`` there are two directed pools,
``"L:a>b"`` (pads that ``a`` uses to send to ``b``) and ``"L:b>a"``. Each deposited block of link key is
split in two halves: the first half goes to the direction whose sender has the smaller node ID, the second
to the other, so both ends see the same bytes at the same stream offsets and the two directions never
share a pad. Pairs of SAEs attached to the same node draw from the pool ``"local"``.

Routing: Dijkstra over the links, each link weighted ``1 + 1 / max(ε, available / needed)`` where
``available`` is the key this node holds for the link's sending direction and ``needed`` the bits the relay
will consume; links this node does not end have weight 2 (unknown availability; the hop's node checks
it). Links with an alarm or with less than ``needed`` bits are excluded.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from qkd.kms.config import Topology
from qkd.kms.errors import TopologyError

LOCAL_POOL = "local"


def pool_name(link_id: str, sender: str, receiver: str) -> str:
    """Name of the directed pool of ``link_id`` for pads sent from ``sender`` to ``receiver``."""
    return f"{link_id}:{sender}>{receiver}"


class Network:
    """Read-only view of a :class:`~qkd.kms.config.Topology`."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.node_urls = {n.id: n.url.rstrip("/") for n in topology.nodes}
        self.sae_node = {s.id: s.node for s in topology.saes}
        self.links = {link.id: (link.a, link.b) for link in topology.links}

    def links_of(self, node: str) -> list[tuple[str, str]]:
        """``(link_id, neighbour)`` for every link ending at ``node``."""
        out = []
        for link_id, (a, b) in self.links.items():
            if a == node:
                out.append((link_id, b))
            elif b == node:
                out.append((link_id, a))
        return out

    def link_between(self, x: str, y: str) -> str:
        for link_id, (a, b) in self.links.items():
            if {a, b} == {x, y}:
                return link_id
        raise TopologyError(f"no link between {x!r} and {y!r}")

    def split_order(self, link_id: str) -> tuple[str, str]:
        """``(first, second)``: the first half of each block pads ``first → second``."""
        a, b = self.links[link_id]
        return (a, b) if a < b else (b, a)

    def route(self, src: str, dst: str,
              weight: Callable[[str, str, str], float | None]) -> list[str]:
        """Least-weight node path ``[src, ..., dst]``; ``weight(link, frm, to)`` None excludes a link."""
        if src not in self.node_urls or dst not in self.node_urls:
            raise TopologyError(f"route {src!r} -> {dst!r}: unknown node")
        best = {src: 0.0}
        prev: dict[str, str] = {}
        heap = [(0.0, src)]
        while heap:
            d, node = heapq.heappop(heap)
            if node == dst:
                break
            if d > best.get(node, float("inf")):
                continue
            for link_id, nxt in self.links_of(node):
                w = weight(link_id, node, nxt)
                if w is None:
                    continue
                nd = d + w
                if nd < best.get(nxt, float("inf")):
                    best[nxt] = nd
                    prev[nxt] = node
                    heapq.heappush(heap, (nd, nxt))
        if dst not in best:
            raise TopologyError(f"no usable route from {src!r} to {dst!r} (links alarmed or out of key)")
        path = [dst]
        while path[-1] != src:
            path.append(prev[path[-1]])
        return path[::-1]
