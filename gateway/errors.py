"""Error hierarchy of ``gateway``: every error this package raises derives from :class:`GatewayError`."""


class GatewayError(Exception):
    """Base of all ``gateway`` errors. Messages name the input and the position of the fault."""
