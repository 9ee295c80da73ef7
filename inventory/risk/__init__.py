"""Quantum-risk rating of assets under a policy: deadlines, Mosca's inequality, exposure, recommendations."""

from inventory.risk.assess import Assessment, assess, assess_all
from inventory.risk.policy import Policy, Scope, builtin_policy, load_policy

__all__ = ["Assessment", "Policy", "Scope", "assess", "assess_all", "builtin_policy", "load_policy"]
