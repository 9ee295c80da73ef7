"""Error hierarchy of ``qkd``: every error this package raises derives from :class:`QkdError`."""


class QkdError(Exception):
    """Base of all ``qkd`` errors. Messages name the input and the position of the fault."""
