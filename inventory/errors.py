"""Error hierarchy of ``inventory``: every error this package raises derives from :class:`InventoryError`."""

from __future__ import annotations


class InventoryError(Exception):
    """Base of all ``inventory`` errors. Messages name the input and the position of the fault."""


class InputFaultError(InventoryError):
    """Something wrong with one input: ``where`` names it (a file and position, an endpoint), ``reason`` says what."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class MalformedInputError(InputFaultError):
    """An input file or capture could not be parsed; ``where`` names the file and position."""


class EndpointError(InputFaultError):
    """A live endpoint could not be reached or did not speak the expected protocol; ``where`` is the endpoint
    (``tls://host:port``)."""

    @property
    def endpoint(self) -> str:
        return self.where


class PolicyError(InventoryError):
    """A risk policy is unknown or invalid."""


class ReportError(InventoryError):
    """A report could not be produced (e.g. the CBOM failed schema validation: it is never written)."""
