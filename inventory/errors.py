"""Error hierarchy of ``inventory``: every error this package raises derives from :class:`InventoryError`."""


class InventoryError(Exception):
    """Base of all ``inventory`` errors. Messages name the input and the position of the fault."""
