"""Errors of the algorithm catalogue; all derive from :class:`pqc.errors.PqcError`."""

from __future__ import annotations

from pqc.errors import PqcError


class CatalogueError(PqcError):
    """Base of catalogue errors."""


class UnknownAlgorithmError(CatalogueError, LookupError):
    """A name, alias, OID or code point that no catalogue entry carries.

    ``query`` is what was asked for, ``kind`` says which index was searched (``name``, ``oid``,
    ``tls-group`` …).
    """

    def __init__(self, query: object, kind: str = "name", hint: str = "") -> None:
        self.query = query
        self.kind = kind
        text = f"unknown algorithm {kind} {query!r}"
        super().__init__(f"{text}: {hint}" if hint else text)


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
