"""Errors of the algorithm catalogue; all derive from :class:`pqc.errors.PqcError`."""

from __future__ import annotations

import pqc.errors
from pqc.errors import PqcError

# The backends define ``pqc.errors.UnknownAlgorithmError`` ("no backend implements it"). Deriving
# from it when present makes one ``except`` catch both kinds of unknown algorithm.
_UnknownBase: type[Exception] = getattr(pqc.errors, "UnknownAlgorithmError", LookupError)


class CatalogueError(PqcError):
    """Base of catalogue errors."""


class UnknownAlgorithmError(CatalogueError, _UnknownBase):  # type: ignore[misc,valid-type]
    """A name, alias, OID or code point that no catalogue entry carries.

    ``query`` is what was asked for, ``kind`` says which index was searched (``name``, ``oid``,
    ``tls-group`` …). It is a :class:`LookupError` (and a ``pqc.errors.UnknownAlgorithmError``
    when the backends define one).
    """

    def __init__(self, query: object, kind: str = "name", hint: str = "") -> None:
        self.query = query
        self.kind = kind
        text = f"unknown algorithm {kind} {query!r}"
        self.message = f"{text}: {hint}" if hint else text
        super().__init__(self.message)

    def __str__(self) -> str:  # a KeyError base would repr() the message
        return self.message


class DuplicateCatalogueEntryError(CatalogueError):
    """Two catalogue entries claim the same name/alias, OID or code point (a build-time error)."""

    def __init__(self, kind: str, key: object, first: str, second: str) -> None:
        self.kind = kind
        self.key = key
        self.first = first
        self.second = second
        super().__init__(f"catalogue {kind} {key!r} is claimed by both {first!r} and {second!r}")


class InvalidCatalogueEntryError(CatalogueError):
    """A catalogue row breaks a structural rule (e.g. NIST category outside 1..5, unknown component)."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"catalogue entry {name!r}: {problem}")
