"""The table of source languages: file suffix → language → its rules, and the one entry point that scans a
code file with them (:func:`scan`). A new language is a module of rules and one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from inventory.model import Finding
from inventory.rules import pyast, treesitter
from inventory.rules.c import CPP, C
from inventory.rules.csharp import CSHARP
from inventory.rules.go import GO
from inventory.rules.java import JAVA
from inventory.rules.javascript import JAVASCRIPT, TSX, TYPESCRIPT

#: File suffix → language (``.d.ts`` declaration files are left out by the walker's classifier).
LANG_OF_SUFFIX = {".py": "python", ".java": "java", ".go": "go", ".js": "javascript", ".mjs": "javascript",
                  ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".tsx": "tsx", ".c": "c",
                  ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".cs": "csharp"}
#: The tree-sitter languages by name (Python has its own matcher, :mod:`inventory.rules.pyast`).
TREE_SITTER: dict[str, treesitter.Language] = {lang.name: lang for lang in (JAVA, GO, JAVASCRIPT, TYPESCRIPT, TSX,
                                                                              C, CPP, CSHARP)}
#: Language → scanner of one file's bytes (path as reported, data).
SCANNERS: dict[str, Callable[[str, bytes], list[Finding]]] = {
    "python": pyast.scan, **{name: partial(treesitter.scan, language=lang) for name, lang in TREE_SITTER.items()}}


def scan(path: str, data: bytes, lang: str) -> list[Finding]:
    """Findings of one code file in ``lang`` (a value of :data:`LANG_OF_SUFFIX`); a file the language's parser
    rejects raises :class:`~inventory.errors.MalformedInputError`."""
    return SCANNERS[lang](path, data)
