"""The package import graph against the allowed arrows of DESIGN.md (issue 17, item 1).

Every ``.py`` file of the five packages is parsed with :mod:`ast` (nothing is imported), and each import
becomes an edge ``file:line -> module`` with its *scope*: ``module`` (runs at import time, including
``try``/``if`` blocks and class bodies), ``function`` (inside a ``def``: runs when called) or
``type-checking`` (under ``if TYPE_CHECKING:``; never runs). The scopes are reported apart because they
differ in cost, but the arrows hold for all three: a lazy import is still a dependency.

Allowed arrows (DESIGN.md, "Packages and their boundaries"): ``qshift -> everything``;
``gateway -> pqc, qkd.kms.client`` (the ``qkd.kms`` public API); ``inventory -> pqc.catalogue``;
``qkd -> pqc``; ``pqc ->`` nothing of ours; no cycles. Inside ``qkd``: ``qkd.postprocess`` imports neither
``qkd.runtime`` nor ``qkd.kms``, and ``qkd.runtime`` does not import ``qkd.kms``.

Every command (a Typer app) and all config loading live in ``qshift/`` (issue 17): no file outside
``qshift/`` imports ``typer`` or defines a ``cli.py``, and :data:`KNOWN_VIOLATIONS` is empty.

``python tests/test_import_graph.py`` prints the package graph (edge counts per scope).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pqc", "qkd", "gateway", "inventory", "qshift")

#: Known violations: none since issue 17 moved every command and all config loading into ``qshift/``.
#: Key: (importing file, imported module). The list must stay empty: fix the import instead of adding to it
#: (``test_the_allow_list_is_empty`` fails otherwise). The machinery below is kept for the report.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Edge:
    """One import statement's target: ``path:line`` of the importer, the imported module, the scope."""

    path: str        # repository-relative, "/"-separated
    line: int
    importer: str    # dotted module name of the importing file
    imported: str    # dotted module name imported (``from a.b import c`` gives ``a.b.c`` when that is a module)
    scope: str       # "module" | "function" | "type-checking"

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.scope}-level) {self.importer} -> {self.imported}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = REPO_ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file() or any(
        base.parent.glob(base.name + ".*.so")) or base.with_suffix(".pyx").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _edges_of(path: Path) -> list[Edge]:
    rel = path.relative_to(REPO_ROOT).as_posix()
    importer = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    edges: list[Edge] = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                inner = "type-checking" if scope == "type-checking" else "function"
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(stmt, "type-checking")
                for stmt in child.orelse:
                    visit_stmt(stmt, scope)
                continue
            visit_stmt(child, inner)

    def visit_stmt(node: ast.AST, scope: str) -> None:
        if isinstance(node, ast.Import):
            edges.extend(Edge(rel, node.lineno, importer, alias.name, scope) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, importer, path.name == "__init__.py")
            for alias in node.names:
                target = f"{module}.{alias.name}"
                edges.append(Edge(rel, node.lineno, importer, target if _is_module(target) else module, scope))
        visit(node, scope)

    visit(tree, "module")
    return edges


@cache
def all_edges() -> tuple[Edge, ...]:
    """Every import edge of the five packages whose target is one of our packages."""
    edges: list[Edge] = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            edges += [e for e in _edges_of(path) if e.imported.split(".")[0] in PACKAGES]
    return tuple(dict.fromkeys(edges))


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def arrow_violation(importer: str, imported: str) -> str | None:
    """Why ``importer -> imported`` breaks an allowed arrow, or ``None`` when it is allowed."""
    src, dst = importer.split(".")[0], imported.split(".")[0]
    if src == dst:
        if src == "qkd":
            if _within(importer, "qkd.postprocess") and (_within(imported, "qkd.runtime") or
                                                         _within(imported, "qkd.kms")):
                return "(g) qkd.postprocess imports neither qkd.runtime nor qkd.kms"
            if _within(importer, "qkd.runtime") and _within(imported, "qkd.kms"):
                return "(g) qkd.runtime does not import qkd.kms"
        return None
    if dst == "qshift":
        return "(b) no package imports qshift (the composition root)"
    if src == "pqc":
        return "(a) pqc imports nothing of ours"
    if src == "inventory" and not _within(imported, "pqc.catalogue"):
        return "(c) inventory imports only pqc.catalogue"
    if src == "gateway" and not (dst == "pqc" or imported in ("qkd.kms", "qkd.kms.client")):
        return "(d) gateway imports only pqc and the qkd.kms client API (qkd.kms, qkd.kms.client)"
    if src == "qkd" and dst != "pqc":
        return "(e) qkd imports only pqc"
    return None


def violations() -> list[tuple[Edge, str]]:
    return [(e, why) for e in all_edges() if (why := arrow_violation(e.importer, e.imported)) is not None]


def _known(edge: Edge) -> bool:
    return any(edge.path == path and _within(edge.imported, module) for path, module in KNOWN_VIOLATIONS)


def _report(found: list[tuple[Edge, str]]) -> str:
    by_scope: dict[str, list[str]] = defaultdict(list)
    for edge, why in found:
        by_scope[edge.scope].append(f"  {edge}\n      {why}")
    return "\n".join(f"{scope}-level imports:\n" + "\n".join(lines) for scope, lines in sorted(by_scope.items()))


def package_graph(*, skip_known: bool = False) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for edge in all_edges():
        src, dst = edge.importer.split(".")[0], edge.imported.split(".")[0]
        if src != dst and not (skip_known and _known(edge)):
            graph[src].add(dst)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first = last), or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


# -- the tests -------------------------------------------------------------------------------------------


def test_every_file_of_the_five_packages_parses_and_the_graph_is_not_empty() -> None:
    files = [p for package in PACKAGES for p in (REPO_ROOT / package).rglob("*.py")]
    assert len(files) > 100, f"only {len(files)} files found under {REPO_ROOT}"
    edges = all_edges()
    assert {e.scope for e in edges} >= {"module", "function", "type-checking"}
    assert any(e.importer == "qshift.commands.kme" and _within(e.imported, "qkd.kms") for e in edges), \
        "known edge qshift.commands.kme -> qkd.kms not seen"


def test_no_new_arrow_violation() -> None:
    """(a)-(e) and (g), module-level and function-level imports alike; known violations excepted."""
    new = [(e, why) for e, why in violations() if not _known(e)]
    assert not new, ("imports that break DESIGN.md's allowed arrows (fix the import, do not extend "
                     "KNOWN_VIOLATIONS):\n" + _report(new))


def test_every_known_violation_still_occurs() -> None:
    """The allow-list only shrinks: an entry whose import is gone (or is no longer a violation) must go."""
    found = {(e.path, e.imported) for e, _ in violations()}
    stale = [key for key in KNOWN_VIOLATIONS
             if not any(path == key[0] and _within(module, key[1]) for path, module in found)]
    assert not stale, f"fixed violations still in KNOWN_VIOLATIONS, remove them: {stale}"


def test_no_cycles_between_packages() -> None:
    """(f) on every import, module-, function- and TYPE_CHECKING-level alike."""
    cycle = find_cycle(package_graph())
    assert cycle is None, f"import cycle between packages: {' -> '.join(cycle or [])}"


@pytest.mark.parametrize(("importer", "imported", "rule"), [
    ("pqc.keys", "qkd.errors", "(a)"),
    ("gateway.cli", "qshift.config", "(b)"),
    ("inventory.cli", "qshift", "(b)"),
    ("inventory.sources.certs", "pqc.keys", "(c)"),
    ("inventory.normalise", "qkd.physics", "(c)"),
    ("gateway.keysource", "qkd.kms.store", "(d)"),
    ("gateway.service", "inventory.model", "(d)"),
    ("qkd.kms.server", "gateway.config", "(e)"),
    ("qkd.postprocess.link", "qkd.runtime.state", "(g)"),
    ("qkd.postprocess.link", "qkd.kms", "(g)"),
    ("qkd.runtime.sources", "qkd.kms.feeds", "(g)"),
])
def test_the_rules_catch_each_kind_of_violation(importer: str, imported: str, rule: str) -> None:
    why = arrow_violation(importer, imported)
    assert why is not None and why.startswith(rule), why


@pytest.mark.parametrize(("importer", "imported"), [
    ("qshift.commands.kme", "qkd.kms.server"), ("qshift.cli", "qshift.commands.qkd"),
    ("gateway.keysource", "qkd.kms.client"), ("gateway.keypath", "qkd.kms"),
    ("gateway.primitives", "pqc.aead"), ("inventory.normalise", "pqc.catalogue"), ("qkd.kms.linkend", "qkd.runtime"),
    ("qkd.runtime.runtime", "qkd.postprocess.link"), ("qkd.postprocess.channel", "pqc.signatures"),
])
def test_the_rules_allow_the_designed_arrows(importer: str, imported: str) -> None:
    assert arrow_violation(importer, imported) is None


def test_the_allow_list_is_empty() -> None:
    assert KNOWN_VIOLATIONS == {}, "fix the import instead of allowing it"


def test_every_command_and_config_loader_lives_in_the_composition_root() -> None:
    """No domain package holds a CLI: no ``cli.py`` module and no ``typer``/``click`` import outside ``qshift/``."""
    found: list[str] = []
    for package in PACKAGES[:-1]:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if path.name == "cli.py":
                found.append(f"{rel}: a command module outside qshift/")
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in ("typer", "click"):
                        found.append(f"{rel}:{node.lineno}: imports {name} (commands live in qshift/commands/)")
    assert not found, "\n".join(found)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def main() -> None:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for edge in all_edges():
        src, dst = edge.importer.split(".")[0], edge.imported.split(".")[0]
        if src != dst:
            counts[(src, dst)][edge.scope] += 1
    for (src, dst), scopes in sorted(counts.items()):
        print(f"{src:>9} -> {dst:<9} " + ", ".join(f"{n} {s}-level" for s, n in sorted(scopes.items())))
    found = violations()
    print(f"\n{len(found)} arrow violations ({sum(_known(e) for e, _ in found)} known):")
    print(_report(found) if found else "  none")


if __name__ == "__main__":
    main()
    sys.exit(0)
