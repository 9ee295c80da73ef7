"""The tree-sitter matcher: Java, Go, JavaScript/TypeScript, C/C++ and C# source, each language's rules a
:class:`Language` (its module: :mod:`inventory.rules.java`, :mod:`~inventory.rules.go`, …).

Why tree-sitter and these packages: a real parser tells a call from a comment or a string that merely
mentions "MD5", gives exact line/column, and lets us resolve a key size that is a constant of the same
file. ``tree-sitter-language-pack`` 1.x was rejected: its wheel ships no grammars and downloads them at
run time from a remote manifest (impossible offline and in CI). The per-language grammar wheels of the
tree-sitter organisation (``tree-sitter-java``, ``-go``, ``-javascript``, ``-typescript``, ``-c``,
``-cpp``, ``-c-sharp``) ship compiled grammars and are maintained with the parser itself.

If a grammar cannot be loaded, :func:`scan` falls back to :mod:`inventory.rules.regex`, whose findings carry
confidence 0.5 (tree-sitter findings: 0.9 resolved / 0.7 with an unresolved parameter, :mod:`.engine`).

Speed: the grammar's query engine finds the node kinds the rules look at (no walk in Python over every
node); for languages whose rules look at calls only (:attr:`Language.calls_only`) the query runs only over
the byte ranges where a callee word occurs; constants are collected on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from inventory.model import Finding
from inventory.rules import regex
from inventory.rules.engine import Hit, findings

_CALL_TYPES = frozenset({"method_invocation", "call_expression", "invocation_expression"})
_NEW_TYPES = frozenset({"object_creation_expression", "new_expression"})
_STRING_TYPES = frozenset({"string_literal", "string", "interpreted_string_literal", "raw_string_literal",
                           "verbatim_string_literal", "template_string"})
_NUMBER_TYPES = frozenset({"decimal_integer_literal", "int_literal", "number", "number_literal", "integer_literal"})
_CONST_KINDS = ("variable_declarator", "const_spec", "init_declarator", "preproc_def")
#: Above this many places where a callee word occurs, one pass over the whole tree is cheaper than one per place.
_MAX_SPANS = 400

#: (grammar wheel module, its language-capsule factory), e.g. ``("tree_sitter_java", "language")``.
Grammar = tuple[str, str]


@dataclass(slots=True)
class Arg:
    """One call argument: its node, its literal/constant value, and its text (identifiers, member access)."""

    node: Any
    value: str | int | None
    text: str
    pairs: dict[str, Arg] = field(default_factory=dict)


class File:
    """One parsed file as the rules see it: its bytes, constants, hits so far, and what variables hold."""

    def __init__(self, language: Language, src: bytes) -> None:
        self.language = language
        self.src = src
        self._consts: dict[str, str | int] | None = None
        self.root: Any = None  #: the tree's root node: constants are collected from it on first use
        self.hits: list[Hit] = []
        self.consumed: set[int] = set()  #: ids of nodes an outer rule already reported as part of its primitive
        self.vars: dict[str, Hit] = {}  #: variable → the hit a later setter (``g.initialize(2048)``) refines
        self.objects: dict[str, str] = {}  #: variable → spelling of the object it holds (BouncyCastle, Go cipher)
        self.imports: dict[str, str] = {}  #: package name → import path (Go crypto imports)

    @property
    def consts(self) -> dict[str, str | int]:
        """Literal constants of the file (name → value), collected on first use: most files that reach a parser
        have no call a rule resolves an identifier argument of."""
        if self._consts is None:
            self._consts = {}
            if self.root is not None:
                _collect_consts(self, self.root)
        return self._consts

    def text(self, node: Any) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def literal(self, node: Any) -> str | int | None:
        t = node.type
        if t == "argument":  # C# wraps arguments
            return self.literal(node.named_children[0]) if node.named_children else None
        if t in _STRING_TYPES:
            s = self.text(node)
            if s.startswith("@"):
                s = s[1:]
            return s[1:-1] if len(s) >= 2 else s
        if t in _NUMBER_TYPES:
            s = self.text(node).rstrip("uUlL")
            try:
                return int(s, 0)
            except ValueError:
                return None
        if t == "cast_expression":  # C: (size_t)3072
            value = node.child_by_field_name("value")
            return self.literal(value) if value is not None else None
        if t in ("identifier", "expression_list", "preproc_arg", "parenthesized_expression"):
            if t == "identifier":
                return self.consts.get(self.text(node))
            s = self.text(node).strip().strip("()")
            if s.isdigit():
                return int(s)
            if t == "expression_list" and node.named_children:
                return self.literal(node.named_children[0])
            return self.consts.get(s)
        return None

    def arg(self, node: Any) -> Arg:
        inner = node.named_children[0] if node.type == "argument" and node.named_children else node
        a = Arg(inner, self.literal(inner), re.sub(r"\s+", "", self.text(inner)))
        if inner.type == "object":  # JS object literal
            for pair in inner.named_children:
                if pair.type == "pair":
                    k = pair.child_by_field_name("key")
                    v = pair.child_by_field_name("value")
                    if k is not None and v is not None:
                        a.pairs[self.text(k).strip("'\"")] = self.arg(v)
        return a

    def args(self, call: Any) -> list[Arg]:
        al = call.child_by_field_name("arguments")
        if al is None:
            return []
        return [self.arg(c) for c in al.named_children if c.type != "comment"]

    def hit(self, raw: str, node: Any, **kw: Any) -> Hit:
        h = Hit(raw, node, **kw)
        self.hits.append(h)
        return h


#: A rule over a call or construction: (file, node, callee as written without white space, arguments, ``new``).
CallRule = Callable[[File, Any, str, list[Arg], bool], None]
#: A rule over another node kind (a member access, a field, a keyed element).
NodeRule = Callable[[File, Any], None]
#: Whether a callee is worth handing to the call rule (cheap: most calls of a file are not).
CalleeTest = Callable[[File, str], bool]


@dataclass(frozen=True, eq=False)
class Language:
    """One tree-sitter language's rules, as its module declares them.

    ``name`` is also the findings' ``source``; ``trigger_words``: identifiers of which every finding needs at
    least one, verbatim, in the file (``None``: no finite set), which the prefilter and the call-span walk use;
    ``wants``: the callee test run before ``call`` (default: the callee holds a trigger word); ``members``: rules
    by node kind for what is not a call; ``prepare`` runs first and may rule the whole file out (Go: no crypto
    import); ``calls_only``: every finding is a call or construction whose callee holds a trigger word, so the
    walk may be limited to the places those words occur."""

    name: str
    grammar: Grammar
    call: CallRule
    trigger_words: frozenset[str] | None
    wants: CalleeTest | None = None
    members: Mapping[str, NodeRule] = field(default_factory=dict)
    prepare: Callable[[File, Any], bool] | None = None
    calls_only: bool = False

    @property
    def walk_kinds(self) -> tuple[str, ...]:
        """Node kinds the rules look at: calls, constructions and the kinds of :attr:`members`."""
        return (*sorted(_CALL_TYPES | _NEW_TYPES), *self.members)


def callee_holds(words: frozenset[str] | set[str]) -> CalleeTest:
    """The callee test "holds one of ``words``" (a rule compares its callee's last name, class or head with them)."""
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    return lambda f, callee: pattern.search(callee) is not None


@cache
def parser_for(grammar: Grammar) -> Any:
    """A tree-sitter parser for ``grammar``; raises ImportError if its grammar wheel is missing."""
    import importlib

    import tree_sitter

    module, factory = grammar
    loaded: Any = importlib.import_module(module)
    capsule = getattr(loaded, factory)()
    return tree_sitter.Parser(tree_sitter.Language(capsule))


@cache
def _query(grammar: Grammar, kinds: tuple[str, ...]) -> Any:
    """A tree-sitter query capturing every node of ``kinds`` that the grammar has (``None``: none)."""
    import tree_sitter

    language = parser_for(grammar).language
    present = [k for k in kinds if language.id_for_node_kind(k, True)]
    return tree_sitter.Query(language, " ".join(f"({k}) @n" for k in present)) if present else None


def _nodes(grammar: Grammar, root: Any, kinds: tuple[str, ...],
           spans: list[tuple[int, int]] | None = None) -> list[Any]:
    """Nodes of ``kinds`` under ``root`` in pre-order (an outer node before the nodes inside it), found by the
    grammar's query engine instead of a walk in Python over every node. With ``spans`` (byte ranges), only the
    nodes that overlap one of them."""
    import tree_sitter

    q = _query(grammar, kinds)
    if q is None:
        return []
    cursor = tree_sitter.QueryCursor(q)
    if spans is None:
        nodes = list(cursor.captures(root).get("n", []))
    else:
        found: dict[int, Any] = {}
        for start, end in spans:
            cursor.set_byte_range(start, end)
            for n in cursor.captures(root).get("n", []):
                found[n.id] = n
        nodes = list(found.values())
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    return nodes


@cache
def _word_pieces(language: Language) -> Callable[[bytes], list[tuple[int, int]]] | None:
    """A finder of one identifier piece of every trigger word of ``language`` (``md.md5`` → ``md5``) in source
    bytes, giving (start, end) spans: a callee that holds a word holds its pieces verbatim in the source (the
    white space :func:`_callee` strips never splits an identifier)."""
    words = language.trigger_words
    if words is None:
        return None
    pieces = set()
    for w in words:
        parts = [p for p in re.split(r"[^A-Za-z0-9_$]+", w) if p]
        if not parts:
            return None
        pieces.add(max(parts, key=len).encode())
    needles = sorted(pieces, key=len, reverse=True)
    try:
        import ahocorasick_rs
    except ImportError:  # pragma: no cover - the regex does the same, slower
        pattern = re.compile(b"|".join(re.escape(p) for p in needles))
        return lambda src: [m.span() for m in pattern.finditer(src)]
    ac = ahocorasick_rs.BytesAhoCorasick(needles)
    return lambda src: [(start, end) for _, start, end in ac.find_matches_as_indexes(src)]


def _call_spans(language: Language, src: bytes) -> list[tuple[int, int]] | None:
    """Byte ranges of the callee words in ``src`` (``None``: walk the whole tree)."""
    if not language.calls_only:
        return None
    finder = _word_pieces(language)
    if finder is None:
        return None
    spans = finder(src)
    return spans if len(spans) <= _MAX_SPANS else None


def _collect_consts(f: File, root: Any) -> None:
    # reversed document order, so that the first declaration of a name wins
    for n in reversed(_nodes(f.language.grammar, root, _CONST_KINDS)):
        name = n.child_by_field_name("name") or n.child_by_field_name("declarator")
        value = n.child_by_field_name("value")
        if value is None and n.type == "variable_declarator":  # C#: identifier = literal
            kids = n.named_children
            value = kids[-1] if len(kids) >= 2 else None
        if name is not None and value is not None and name.type == "identifier":
            lit = f.literal(value)
            if lit is not None:
                f.consts[f.text(name)] = lit


def _callee(f: File, node: Any) -> str:
    if node.type == "method_invocation":
        obj = node.child_by_field_name("object")
        name = node.child_by_field_name("name")
        base = re.sub(r"\s+", "", f.text(obj)) + "." if obj is not None else ""
        return base + (f.text(name) if name is not None else "")
    fn = (node.child_by_field_name("function") or node.child_by_field_name("type")
          or node.child_by_field_name("constructor"))
    if fn is None:
        return ""
    return re.sub(r"\s+", "", f.text(fn))


def _position(node: Any) -> tuple[int, int]:
    row, col = node.start_point
    return row + 1, col + 1


def scan_tree(path: str, src: bytes, language: Language) -> list[Finding]:
    """Findings of one file parsed with ``language``'s grammar (which must be installed)."""
    tree = parser_for(language.grammar).parse(src)
    f = File(language, src)
    f.root = tree.root_node
    if language.prepare is not None and not language.prepare(f, tree.root_node):
        return []
    call, members, wants = language.call, language.members, language.wants
    # pre-order, so that outer calls can consume inner argument nodes
    for n in _nodes(language.grammar, tree.root_node, language.walk_kinds, _call_spans(language, src)):
        if n.id in f.consumed:
            continue
        t = n.type
        if t in _CALL_TYPES or t in _NEW_TYPES:
            callee = _callee(f, n)
            if wants is not None and not wants(f, callee):
                continue  # no rule of the language can report a call whose callee names none of its words
            call(f, n, callee, f.args(n), t in _NEW_TYPES)
        else:
            members[t](f, n)
    return findings(path, language.name, f.hits, src, _position)


def grammar_installed(language: Language) -> bool:
    try:
        parser_for(language.grammar)
    except ImportError:
        return False
    return True


def scan(path: str, src: bytes, language: Language) -> list[Finding]:
    """Findings of one source file in ``language``; regex fallback (confidence 0.5) if the grammar is missing."""
    if not grammar_installed(language):
        return regex.scan(path, src.decode("utf-8", "replace"), language.name)
    return scan_tree(path, src, language)


@cache
def trigger_words(language: Language) -> frozenset[str] | None:
    """:attr:`Language.trigger_words`; without the language's grammar the regular-expression fallback scans the
    file, so its words count too."""
    words = language.trigger_words
    if grammar_installed(language):
        return words
    return None if words is None else words | regex.TRIGGER_WORDS
