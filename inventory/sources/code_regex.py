"""Regular-expression fallback for source languages whose tree-sitter grammar is not installed.

Lower confidence (0.5): a regex cannot tell code from comments or strings, and resolves no constants.
Only string-argument factories are matched (JCA ``getInstance("…")``, Node ``createHash('…')`` …).
"""

from __future__ import annotations

import re

from inventory.model import AssetType, Finding, Location

CONFIDENCE = 0.5
_PATTERN = re.compile(
    r"\b(?:getInstance|createHash|createCipheriv|createDecipheriv|createSign|createVerify|createHmac)"
    r"\(\s*[\"']([A-Za-z0-9/_.-]+)[\"']")


def scan(path: str, text: str, lang: str) -> list[Finding]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in _PATTERN.finditer(line):
            raw = m.group(1)
            if "createHmac" in m.group(0):
                raw = "hmac_" + raw.lower()
            out.append(Finding(raw=raw, asset_type=AssetType.ALGORITHM, source=f"{lang}-regex",
                               location=Location(path, lineno, m.start() + 1), confidence=CONFIDENCE,
                               context=line.strip()[:200]))
    return out
