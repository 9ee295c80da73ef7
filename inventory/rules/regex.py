"""Regular-expression fallback for source languages whose tree-sitter grammar is not installed.

Lower confidence (0.5): a regex cannot tell code from comments or strings, and resolves no constants.
Only string-argument factories are matched (JCA ``getInstance("…")``, Node ``createHash('…')`` …).
Its hits become findings through the one path, :func:`inventory.rules.engine.findings`.
"""

from __future__ import annotations

import re

from inventory.model import Finding
from inventory.rules.engine import Hit, findings

CONFIDENCE = 0.5
#: Factory names the pattern matches: a file without any of them has no finding (used by the prefilter).
TRIGGER_WORDS = frozenset({"getInstance", "createHash", "createCipheriv", "createDecipheriv", "createSign",
                           "createVerify", "createHmac"})
_PATTERN = re.compile(r"\b(?:" + "|".join(sorted(TRIGGER_WORDS)) + r")\(\s*[\"']([A-Za-z0-9/_.-]+)[\"']")


def scan(path: str, text: str, lang: str) -> list[Finding]:
    hits = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in _PATTERN.finditer(line):
            raw = m.group(1)
            if "createHmac" in m.group(0):
                raw = "hmac_" + raw.lower()
            hits.append(Hit(raw, (lineno, m.start() + 1)))  # the node is its (line, column)
    return findings(path, f"{lang}-regex", hits, text, _position, confidence=CONFIDENCE)


def _position(node: tuple[int, int]) -> tuple[int, int]:
    return node
