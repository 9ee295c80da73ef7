"""Error hierarchy of ``inventory``: every error this package raises derives from :class:`InventoryError`."""

from __future__ import annotations


class InventoryError(Exception):
    """Base of all ``inventory`` errors. Messages name the input and the position of the fault."""


class MalformedInputError(InventoryError):
    """An input file or capture could not be parsed; ``where`` names the file and position."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class EndpointError(InventoryError):
    """A live endpoint could not be reached or did not speak the expected protocol."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"{endpoint}: {reason}")


class PolicyError(InventoryError):
    """A risk policy is unknown or invalid."""


class ReportError(InventoryError):
    """A report could not be produced (e.g. the CBOM failed schema validation: it is never written)."""
