"""Discovery of cryptographic assets, quantum-risk rating, CycloneDX CBOM and migration plan."""

from inventory.errors import InventoryError

__all__ = ["InventoryError"]
