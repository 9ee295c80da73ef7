"""The Python matcher: walks a file's :mod:`ast` with imports resolved and hands every call to the rules of
:mod:`inventory.rules.python`.

Every call's callee is resolved to a qualified name through the file's imports (``from
cryptography.hazmat.primitives.asymmetric import rsa as r`` makes ``r.generate_private_key`` the
``cryptography`` function, while ``import rsa`` makes ``rsa.newkeys`` the ``rsa`` package's). Key sizes,
curves, modes and hash arguments are resolved when they are literals or module-level constants of the
same file (:meth:`Visitor.value`). Hits become findings through :func:`inventory.rules.engine.findings`
(confidence 0.9 when every parameter the algorithm needs was resolved, 0.7 otherwise).

Speed: the cyclic GC is off while a tree is walked (an AST has no cycles); for plain-ASCII files only the
statements whose lines mention a crypto module, a name bound to one or a matched method are entered
(:func:`_hot_lines`), and imports are collected only from statements that span the word ``import``.
"""

from __future__ import annotations

import ast
import bisect
import gc
import re
from typing import Any

from inventory.errors import MalformedInputError
from inventory.model import Finding
from inventory.rules.engine import Hit, findings
from inventory.rules.python import (
    CRYPTO_MODULES,
    METHOD_WORDS,
    PREFIXES,
    RANDOM_BYTES,
    SHORT_HEADS,
    SOURCE,
    assignment,
    lookup,
    method_call,
)


class Visitor(ast.NodeVisitor):
    """One file's matcher state: import aliases, same-file constants, the hits so far, the calls already read as
    part of an outer primitive (``consumed``), and what each name was last assigned from (``assigned``)."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.consts: dict[str, object] = {}
        self.hits: list[Hit] = []
        self.consumed: set[int] = set()
        self.assigned: dict[str, str] = {}  #: name → qualified callee of the call last assigned to it

    # --- name resolution -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                self.aliases[a.name.split(".")[0]] = a.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            for a in node.names:
                self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def qualname(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # e.g. RSA.importKey(...).something
            return None
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id, node.id)
        name = ".".join([base, *reversed(parts)])
        for long, short in PREFIXES:
            if name.startswith(long):
                return short + name[len(long):]
        if name.split(".", 1)[0] in SHORT_HEADS:
            return None  # a local such as ``hash`` or ``alg``: not the module a short prefix stands for
        return name

    def value(self, node: ast.AST | None) -> object:
        """A literal or same-file constant, else ``None``."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.consts.get(node.id)
        if isinstance(node, ast.Call) and node.args and not node.keywords:
            q = self.qualname(node.func)
            n = self.value(node.args[0])
            if q in RANDOM_BYTES and isinstance(n, int) and 0 < n <= 1024:
                return b"\0" * n  # only its length is used: a key of n random bytes
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.step is None:
            base = self.value(node.value)
            lo, hi = self.value(node.slice.lower) if node.slice.lower else 0, self.value(node.slice.upper) \
                if node.slice.upper else None
            if isinstance(base, bytes | str) and isinstance(lo, int) and (hi is None or isinstance(hi, int)):
                return base[lo:hi]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            a, b = self.value(node.left), self.value(node.right)
            if isinstance(a, int) and isinstance(b, int):
                return a * b
            if isinstance(a, bytes | str) and isinstance(b, int) and 0 <= b <= 1024:  # b"k" * 32: a 256-bit key
                return a * b
        return None

    # --- collection ------------------------------------------------------------------------------
    def collect_constants(self, tree: ast.Module) -> None:
        """Module-level ``NAME = <literal>`` (also ``2048 * 2``, ``b"k" * 32``, ``B = A``), in file order."""
        for stmt in tree.body:
            target, value = None, None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                target, value = stmt.targets[0].id, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                target, value = stmt.target.id, stmt.value
            if target is not None:
                val = self.value(value)
                if val is not None:
                    self.consts[target] = val
                else:
                    self.consts.pop(target, None)  # rebound to something unknown

    def hit(self, raw: str, node: ast.AST, *, bits: int | None = None, curve: str | None = None,
            mode: str | None = None, usage: str | None = None, resolved: bool = True,
            protocol: str | None = None) -> None:
        """Record one hit of a rule (see :class:`inventory.rules.engine.Hit`)."""
        self.hits.append(Hit(raw, node, bits, curve, mode, usage, resolved, protocol))

    def handle_call(self, node: ast.Call) -> None:
        if id(node) in self.consumed:
            return
        q = self.qualname(node.func)
        if q is not None:
            handler = lookup(q)
            if handler is not None:
                handler(self, q, node)
        method_call(self, node)

    def arg(self, node: ast.Call, index: int, keyword: str | None = None) -> ast.AST | None:
        if keyword:
            for k in node.keywords:
                if k.arg == keyword:
                    return k.value
        if index < len(node.args):
            return node.args[index]
        return None



def plain_ascii(data: bytes) -> bool:
    """True if ``data`` is ASCII without a PEP 263 coding line: the parser then sees these very bytes as
    characters (a cookie such as ``utf-7`` or ``unicode_escape``, or NFKC normalisation of non-ASCII
    identifiers, could otherwise turn other bytes into a name such as ``hashlib``)."""
    if not data.isascii():
        return False
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    return b"coding" not in (data if second < 0 else data[:second])


_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _collect_imports(v: Visitor, tree: ast.Module, import_lines: list[int] | None) -> None:
    """Every ``import``/``from … import`` of the file, at any depth (statements only: imports are statements).

    With ``import_lines`` (the lines holding the word ``import``), statements whose line span holds none of
    them are not entered: an import statement spans its ``import`` keyword, and so does any statement that
    contains one. The imports visited, and their order, are the same as without pruning.
    """
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            v.visit_Import(node)
            continue
        if isinstance(node, ast.ImportFrom):
            v.visit_ImportFrom(node)
            continue
        for name in _BODY_FIELDS:
            child = getattr(node, name, None)
            if child.__class__ is list:
                if import_lines is None:
                    stack.extend(child)
                else:
                    stack.extend(c for c in child if not isinstance(c, ast.stmt) or _spans_hot(c, import_lines))


def _line_numbers_reliable(data: bytes) -> bool:
    """Byte-level line numbers and identifiers agree with the parser's: plain ASCII (no coding cookie, no
    NFKC-normalised identifier) and no bare ``\\r`` newline."""
    return plain_ascii(data) and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"))


def _lines_of(data: bytes, positions: list[int]) -> list[int]:
    """Sorted distinct 1-based line numbers of sorted byte offsets."""
    lines: list[int] = []
    line, pos = 1, 0
    for start in positions:
        line += data.count(b"\n", pos, start)
        pos = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _import_lines(data: bytes) -> list[int]:
    positions = []
    i = data.find(b"import")
    while i >= 0:
        positions.append(i)
        i = data.find(b"import", i + 6)
    return _lines_of(data, positions)


_WORD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _hot_lines(data: bytes, aliases: dict[str, str]) -> list[int]:
    """Sorted 1-based numbers of the lines that mention a crypto module, a name bound to one, or a method we
    match (``set_ciphers``…), as a whole word. A call can only be a finding if its callee names one of these,
    so statements spanning none of these lines are skipped. Only for data with reliable line numbers
    (:func:`_line_numbers_reliable`)."""
    positions = [m.start() for m in _STATIC_WORDS.finditer(data)]
    extra = {k for k, target in aliases.items() if target.split(".", 1)[0] in CRYPTO_MODULES} - _STATIC_SET
    for word in extra:
        w = word.encode("ascii")
        i = data.find(w)
        while i >= 0:
            j = i + len(w)
            if (i == 0 or data[i - 1] not in _WORD_CHARS) and (j == len(data) or data[j] not in _WORD_CHARS):
                positions.append(i)
            i = data.find(w, j)
    if extra:
        positions.sort()
    return _lines_of(data, positions)


_STATIC_SET = frozenset(CRYPTO_MODULES) | frozenset(METHOD_WORDS)
_STATIC_WORDS = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in sorted(_STATIC_SET)) + rb")\b")


def _spans_hot(node: ast.stmt, hot: list[int]) -> bool:
    first = node.lineno
    for d in getattr(node, "decorator_list", ()):
        first = min(first, d.lineno)
    i = bisect.bisect_left(hot, first)
    return i < len(hot) and hot[i] <= (node.end_lineno or node.lineno)


def _parse(path: str, text: str | bytes) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
    except SyntaxError:
        if not isinstance(text, bytes):
            raise
        # undecodable bytes (a Latin-1 comment without a coding cookie): parse what a lenient decode gives
        return ast.parse(text.decode("utf-8", "replace"), filename=path)


def scan(path: str, text: str | bytes) -> list[Finding]:
    """Findings of one Python file (``bytes`` are decoded by the parser, PEP 263 cookie honoured); a syntax
    error raises :class:`MalformedInputError` with its line."""
    # an AST has no reference cycles: the cyclic GC would only re-scan its ~10^5 fresh nodes, again and again
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return _scan_tree(path, text)
    finally:
        if gc_was_on:
            gc.enable()


def _scan_tree(path: str, text: str | bytes) -> list[Finding]:
    try:
        tree = _parse(path, text)
    except SyntaxError as exc:
        raise MalformedInputError(f"{path}:{exc.lineno or 0}", f"Python syntax error: {exc.msg}") from None
    except ValueError as exc:  # NUL bytes
        raise MalformedInputError(path, f"not Python source: {exc}") from None
    v = Visitor()
    v.collect_constants(tree)
    data = text.encode("utf-8") if isinstance(text, str) else text
    reliable = _line_numbers_reliable(data)
    _collect_imports(v, tree, _import_lines(data) if reliable else None)
    hot = _hot_lines(data, v.aliases) if reliable else None
    calls: list[ast.Call] = []
    assigns: list[ast.Assign] = []
    # pre-order walk (an outer call comes before the calls nested in it), without ast.walk's generators;
    # statements whose line span holds no hot line cannot contain a hit and are not entered
    AST, Call, stmt = ast.AST, ast.Call, ast.stmt
    stack: list[ast.AST] = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        cls = type(node)
        if cls is Call:
            calls.append(node)  # type: ignore[arg-type]  # type(node) is Call, tested without isinstance
        elif cls is ast.Assign:
            assigns.append(node)  # type: ignore[arg-type]  # type(node) is Assign, as above
        for name in cls._fields:
            child = getattr(node, name, None)
            if child.__class__ is list:
                for item in reversed(child):
                    if isinstance(item, AST):
                        if hot is not None and isinstance(item, stmt) and not _spans_hot(item, hot):
                            continue
                        push(item)
            elif isinstance(child, AST) and child._fields:
                push(child)
    for a in assigns:
        assignment(v, a)
    for call in calls:
        v.handle_call(call)
    return findings(path, SOURCE, v.hits, text, _position)


def _position(node: Any) -> tuple[int, int]:
    return getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
