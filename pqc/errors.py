"""Error hierarchy of ``pqc``: every error this package raises derives from :class:`PqcError`."""


class PqcError(Exception):
    """Base of all ``pqc`` errors. Messages name the input and the position of the fault."""
