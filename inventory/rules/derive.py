"""Prefilter derivation: the words a file must hold for a Python rule to report anything, derived from the rule
table itself (:class:`PythonRuleNames`, declared by :mod:`inventory.rules.python`), never a hand list.

The prefilter (:mod:`inventory.sources.prefilter`) searches files for these words; the Python matcher
(:mod:`inventory.rules.pyast`) uses the same heads to skip statements that cannot hold a hit. The tree-sitter
languages declare their trigger words beside their rules (:attr:`inventory.rules.treesitter.Language.trigger_words`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PythonRuleNames:
    """The names the Python rules are keyed by.

    ``prefixes``: (long prefix as written, short head) pairs the matcher rewrites qualified names with
    (``cryptography.hazmat.primitives.asymmetric.`` → ``asym.``); ``short_heads``: heads that only ever stand for
    a long prefix; ``exact``: qualified names with a rule of their own; ``lookup_heads``: heads of the rule
    families matched by pattern; ``method_words``: method and attribute names matched on any object;
    ``head_needs``: heads whose every rule also needs one of these words in the file."""

    prefixes: tuple[tuple[str, str], ...]
    short_heads: frozenset[str]
    exact: tuple[str, ...]
    lookup_heads: frozenset[str]
    method_words: tuple[str, ...]
    head_needs: Mapping[str, tuple[str, ...]]


def rule_heads(names: PythonRuleNames) -> frozenset[str]:
    """Top-level module names that every rule's resolved callee starts with.

    A qualified name reaches a rule only through ``exact`` or a ``lookup_heads`` family; a short head
    (``asym``, ``pcd``…) is only ever produced from a long name of ``prefixes``, so it stands for that long
    name's head (``cryptography``, ``Crypto``…); a short head outside ``short_heads`` (``jwt``) is also a real
    module name that the matcher passes through.
    """
    short_to_long: dict[str, set[str]] = {}
    for long, short in names.prefixes:
        short_to_long.setdefault(short.split(".")[0], set()).add(long.split(".")[0])
    heads: set[str] = set()
    for q in (*names.exact, *(h + ".x" for h in names.lookup_heads)):
        head = q.split(".", 1)[0]
        heads |= short_to_long.get(head, set())
        if head not in names.short_heads:
            heads.add(head)
    return frozenset(heads)


def trigger_words(names: PythonRuleNames) -> frozenset[str]:
    """Identifiers of which every Python finding needs at least one in the (NFKC-normalised) source text.

    A finding is a call whose callee resolves to a rule head (:func:`rule_heads`): the head is either written
    as a name or bound by an import statement that names it (both contain the head as a whole identifier),
    except for heads in ``head_needs``, which need one of their words; or a method named in ``method_words``.
    """
    words = set(names.method_words)
    for head in rule_heads(names):
        words.update(names.head_needs.get(head, (head,)))
    return frozenset(words)


def written(names: PythonRuleNames, q: str) -> str:
    """The dotted name as written in source for a rule's qualified name (a short head back to its long
    prefix: ``asym.rsa.x`` → ``cryptography.hazmat.primitives.asymmetric.rsa.x``)."""
    head = q.split(".", 1)[0]
    if head in names.short_heads:
        for long, short in names.prefixes:
            if q.startswith(short):
                return long + q[len(short):]
    return q


def rule_requirements(names: PythonRuleNames) -> list[tuple[frozenset[str], ...]]:
    """For every rule, the identifiers a file needs to hold (each slot: one of its words) to get a finding.

    A resolved callee's every dotted component is written in the file as an identifier: in the attribute
    chain of the call, or in the import statement whose alias the chain starts with (an alias is bound to
    the module path the import spells out). So an ``exact`` rule needs each component of its written name; a
    ``lookup_heads`` family needs the components of its prefix (the rest of the name is open; for ``pcd``
    either spelling); a head in ``head_needs`` also needs one of its words; and the method rules need their
    method name. Each rule's first slot holds only :func:`trigger_words`.
    """
    rules: list[tuple[frozenset[str], ...]] = []
    for q in names.exact:
        slots = [frozenset({w}) for w in written(names, q).split(".")]
        head = q.split(".", 1)[0]
        if head in names.head_needs:
            slots.insert(0, frozenset(names.head_needs[head]))
        rules.append(tuple(slots))
    for head in sorted(names.lookup_heads):
        if head in names.short_heads:
            spellings = [long.rstrip(".").split(".") for long, short in names.prefixes
                         if short.split(".")[0] == head and short.count(".") == 1]
            rules.append(_prefix_slots(spellings))
        else:
            rules.append((frozenset({head}),))
    rules += [(frozenset({w}),) for w in names.method_words]
    return rules


def _prefix_slots(spellings: list[list[str]]) -> tuple[frozenset[str], ...]:
    """Slots of a family whose prefix has these spellings: per component when one spelling or all of one
    component; else only their first components are surely written."""
    width = max(len(sp) for sp in spellings)
    if len(spellings) == 1 or all(len(sp) == 1 for sp in spellings):
        return tuple(frozenset(sp[i] for sp in spellings if i < len(sp)) for i in range(width))
    return (frozenset(sp[0] for sp in spellings),)
