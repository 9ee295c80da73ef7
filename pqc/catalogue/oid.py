"""OBJECT IDENTIFIER contents octets (ITU-T X.690 §8.19) to the dotted strings the catalogue is indexed by
(:func:`pqc.catalogue.by_oid`). Used by the key parser (``pqc._der``) and open to the inventory's
certificate reader."""

from __future__ import annotations

from pqc.catalogue.errors import CatalogueError


class MalformedOidError(CatalogueError, ValueError):
    """OBJECT IDENTIFIER contents that X.690 §8.19 does not allow (empty, or the last subidentifier unterminated)."""


def decode_oid(value: bytes) -> str:
    """Dotted string of the contents octets of a DER OBJECT IDENTIFIER: base-128 subidentifiers (high bit =
    more to come); the first one is 40·X + Y for the first two arcs (X = 2 for anything ≥ 80)."""
    if not value:
        raise MalformedOidError("OID: empty")
    if value[-1] & 0x80:
        raise MalformedOidError(f"OID: the last subidentifier is unterminated (byte {len(value) - 1})")
    arcs: list[int] = []
    acc = 0
    for byte in value:
        acc = (acc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(acc)
            acc = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])
