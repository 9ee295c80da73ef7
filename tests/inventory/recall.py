"""Recall, naming and precision of the code scanners on the labelled corpus (``tests/inventory/corpus``).

A marked line ends with ``expect: NAME`` in a comment (see the corpus README). Per language:

* ``found``: marked lines with at least one finding on that line;
* ``named``: marked lines with a finding whose catalogue name (a protocol finding: its version word,
  ``tlsv1.0``) is ``NAME``, compared case-insensitively;
* ``extra``: findings on lines without a marker (false positives: comments, strings, look-alikes);
* ``under_rated``: quantum-vulnerable assets (broken by Shor or classically broken) rated below ``high``.

Files go through the real file source (:func:`inventory.sources.files.scan_file`: classification and
prefilter included). Run ``python -m tests.inventory.recall`` for the table.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from inventory.model import AssetType, Finding
from inventory.normalise import normalise
from inventory.risk import assess_all, builtin_policy
from inventory.sources import files

CORPUS = Path(__file__).resolve().parent / "corpus"
_MARK = re.compile(r"(?:#|//|/\*)\s*expect:\s*([^*\s][^*]*?)\s*(?:\*/)?\s*$")


#: What is counted per language (see the module docstring).
COUNTS = ("marked", "found", "named", "findings", "extra", "under_rated")


@dataclass(slots=True)
class LanguageScore:
    """Counts for one language (one corpus directory): ``counts[name]`` for each name of :data:`COUNTS`, also read
    as an attribute (``score.marked``), and the lines that went wrong (``misses``)."""

    counts: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> int:
        if name in COUNTS:
            return self.counts[name]
        raise AttributeError(name)

    @property
    def recall(self) -> float:
        return self.found / self.marked if self.marked else 1.0

    @property
    def naming(self) -> float:
        return self.named / self.marked if self.marked else 1.0

    @property
    def precision(self) -> float:
        return (self.findings - self.extra) / self.findings if self.findings else 1.0

    def to_dict(self) -> dict[str, float | int]:
        return {**{name: self.counts[name] for name in COUNTS}, "recall": round(self.recall, 4),
                "named_ratio": round(self.naming, 4), "precision": round(self.precision, 4)}


def expectations(path: Path) -> dict[int, str]:
    """1-based line → expected canonical name, from the file's markers."""
    out = {}
    for i, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        m = _MARK.search(line)
        if m:
            out[i] = m.group(1).strip()
    return out


def finding_name(f: Finding) -> str | None:
    if f.asset_type is AssetType.PROTOCOL:
        return str(f.details.get("protocol") or f.raw)
    return f.name


def measure(corpus: Path = CORPUS) -> dict[str, LanguageScore]:
    """Scores per language directory of ``corpus``."""
    scores: dict[str, LanguageScore] = {}
    policy = builtin_policy("nist")
    for lang_dir in sorted(p for p in corpus.iterdir() if p.is_dir()):
        score = scores.setdefault(lang_dir.name, LanguageScore())
        all_findings: list[Finding] = []
        for path in sorted(lang_dir.iterdir()):
            want = expectations(path)
            result = files.scan_file(path, str(path), files.WalkOptions())
            found = result.findings
            normalise(found)  # sets each finding's catalogue name
            all_findings.extend(found)
            by_line: dict[int, list[Finding]] = {}
            for f in found:
                by_line.setdefault(f.location.line or 0, []).append(f)
            score.counts["marked"] += len(want)
            score.counts["findings"] += len(found)
            score.counts["extra"] += sum(len(fs) for line, fs in by_line.items() if line not in want)
            for line, name in want.items():
                here = by_line.get(line, [])
                if here:
                    score.counts["found"] += 1
                names = {(finding_name(f) or "").lower() for f in here}
                if name.lower() in names:
                    score.counts["named"] += 1
                else:
                    got = ", ".join(sorted(f"{f.raw}->{finding_name(f)}" for f in here)) or "nothing"
                    score.misses.append(f"{path.name}:{line}: want {name}, got {got}")
            for line, fs in by_line.items():
                if line not in want:
                    score.misses.append(f"{path.name}:{line}: unexpected "
                                        + ", ".join(f"{f.raw}->{finding_name(f)}" for f in fs))
        assets = normalise(all_findings)
        rated = assess_all(assets, policy)
        for a in assets:
            if a.algorithm is not None and a.quantum_status is not None and a.quantum_status.value in (
                    "broken-by-shor", "classically-broken") and rated[a.key].priority not in ("high", "critical"):
                score.counts["under_rated"] += 1
                score.misses.append(f"under-rated: {a.name} {rated[a.key].priority}")
    return scores


def main() -> None:
    import sys

    scores = measure()
    total = LanguageScore()
    print(f"{'language':<11} {'marked':>6} {'found':>6} {'recall':>7} {'named':>7} {'precision':>9} {'under':>5}")
    for lang, s in scores.items():
        print(f"{lang:<11} {s.marked:>6} {s.found:>6} {s.recall:>7.1%} {s.naming:>7.1%} {s.precision:>9.1%} "
              f"{s.under_rated:>5}")
        total.counts.update(s.counts)
    print(f"{'all':<11} {total.marked:>6} {total.found:>6} {total.recall:>7.1%} {total.naming:>7.1%} "
          f"{total.precision:>9.1%} {total.under_rated:>5}")
    if "-v" in sys.argv:
        for lang, s in scores.items():
            for miss in s.misses:
                print(f"  {lang}: {miss}")


if __name__ == "__main__":
    main()
