"""The rule model shared by every source language, and the one path from a rule's hit to a :class:`Finding`.

A *rule* (in a language module: :mod:`inventory.rules.python`, :mod:`~inventory.rules.java`, …) looks at one
parsed call, construction or member and records a :class:`Hit`: the spelling it found (``raw``) and the
parameters it could resolve. A matcher (:mod:`inventory.rules.pyast` for Python's :mod:`ast`,
:mod:`inventory.rules.treesitter` for the tree-sitter languages) runs the rules over a file and hands its
hits, in order, to :func:`findings`, which alone builds the inventory's :class:`~inventory.model.Finding`\\ s.

Confidence (:data:`RESOLVED` / :data:`UNRESOLVED`): 0.9 when every parameter the algorithm needs was resolved
from literals or same-file constants, 0.7 otherwise; a protocol version a file pins is a protocol finding at 0.9.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from inventory.model import AssetType, Finding, Location

#: Confidence of a hit whose parameters were all resolved, and of one with an unresolved parameter.
RESOLVED, UNRESOLVED = 0.9, 0.7
#: Characters of the source line kept as a finding's context.
CONTEXT_CHARS = 200


class Hit:
    """One match of a rule: the spelling as found (``raw``: ``"AES/GCM/NoPadding"``, ``"md5"``) at the parser's
    ``node`` (its position becomes the finding's location), and the parameters it resolved: ``bits`` (key size),
    ``curve`` (as written), ``mode`` (block-cipher mode), ``usage`` (``signature``, ``key-exchange``,
    ``cipher-suite``…). ``resolved``: every parameter the algorithm needs was resolved (confidence
    :data:`RESOLVED`, else :data:`UNRESOLVED`). ``protocol``: a protocol version the code pins (``tlsv1.0``), which
    makes a protocol finding rather than an algorithm. Rules refine a hit in place when a later call configures
    the same object (``g.initialize(2048)``)."""

    __slots__ = ("raw", "node", "bits", "curve", "mode", "usage", "resolved", "protocol")

    def __init__(self, raw: str, node: Any, bits: int | None = None, curve: str | None = None, mode: str | None = None,
                 usage: str | None = None, resolved: bool = True, protocol: str | None = None) -> None:
        self.raw, self.node, self.bits, self.curve = raw, node, bits, curve
        self.mode, self.usage, self.resolved, self.protocol = mode, usage, resolved, protocol


#: A matcher's node → (1-based line, 1-based column).
Position = Callable[[Any], tuple[int, int]]


def findings(path: str, source: str, hits: Iterable[Hit], text: str | bytes, position: Position,
             confidence: float | None = None) -> list[Finding]:
    """The findings of a file's ``hits``, in order: ``source`` names the scanner (``python``, ``java``…), ``text``
    is the file (bytes are decoded as UTF-8, undecodable bytes replaced) and gives each finding its line as
    context. ``confidence`` overrides :data:`RESOLVED`/:data:`UNRESOLVED` for an algorithm finding (the regular
    expression fallback's 0.5)."""
    hits = list(hits)
    if not hits:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = text.splitlines()
    out = []
    for h in hits:
        line, col = position(h.node)
        ctx = lines[line - 1].strip()[:CONTEXT_CHARS] if 0 < line <= len(lines) else ""
        where = Location(path, line, col)
        if h.protocol is not None:
            out.append(Finding(raw=h.raw, asset_type=AssetType.PROTOCOL, source=source, location=where,
                               confidence=RESOLVED, usage="protocol", context=ctx,
                               details={"id": f"{source}:{h.protocol}", "protocol": h.protocol}))
        else:
            out.append(Finding(raw=h.raw, asset_type=AssetType.ALGORITHM, source=source, location=where,
                               confidence=confidence if confidence is not None else RESOLVED if h.resolved
                               else UNRESOLVED, key_bits=h.bits, curve=h.curve,
                               mode=h.mode, usage=h.usage, context=ctx))
    return out
