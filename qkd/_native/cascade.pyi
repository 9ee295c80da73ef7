"""Cascade kernels (cascade.pyx re-exports cascade_passes, cascade_shuffle, cascade_alice, cascade_bob)."""

from qkd._native.cascade_alice import AliceOracle as AliceOracle
from qkd._native.cascade_bob import BobSearches as BobSearches
from qkd._native.cascade_passes import HALVES as HALVES
from qkd._native.cascade_passes import IDENTITY as IDENTITY
from qkd._native.cascade_passes import SHUFFLED as SHUFFLED
from qkd._native.cascade_passes import PassPlan as PassPlan
from qkd._native.cascade_passes import pass_kind as pass_kind
from qkd._native.cascade_shuffle import halves_mask as halves_mask
from qkd._native.cascade_shuffle import halves_order as halves_order
from qkd._native.cascade_shuffle import shuffle_into as shuffle_into

__all__ = ["HALVES", "IDENTITY", "SHUFFLED", "AliceOracle", "BobSearches", "PassPlan", "halves_mask",
           "halves_order", "pass_kind", "shuffle_into"]
