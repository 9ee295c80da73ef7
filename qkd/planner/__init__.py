"""Network planning for QKD: link key rates from the physics, end-to-end rates over trusted-node routes,
the repeaterless (PLOB) and ideal-repeater bounds, a memory-based repeater-chain model, and the number and
placement of trusted nodes that meets a target. ``qshift qkd plan topology.toml`` is its command."""

from qkd.planner.plan import NetworkPlan, PairPlan, plan_network
from qkd.planner.topology import PlannerError, Topology, load_topology

__all__ = ["NetworkPlan", "PairPlan", "PlannerError", "Topology", "load_topology", "plan_network"]
