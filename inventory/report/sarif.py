"""SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for code-scanning UIs.

One rule per quantum status (``QSHIFT-CLASSICALLY-BROKEN``, ``QSHIFT-BROKEN-BY-SHOR``,
``QSHIFT-WEAKENED-BY-GROVER``); one result per occurrence of an asset whose assessment is not
``none``, at its file/line/column (endpoints and captures as URIs without a region). ``level`` comes from
the policy's priority (critical/high → error, medium → warning, low → note).
"""

from __future__ import annotations

import json
from typing import Any

from inventory.normalise import Asset
from inventory.risk import Assessment

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES = {
    "classically-broken": ("QSHIFT-CLASSICALLY-BROKEN", "Algorithm broken without a quantum computer"),
    "broken-by-shor": ("QSHIFT-BROKEN-BY-SHOR", "Public-key algorithm broken by Shor's algorithm"),
    "weakened-by-grover": ("QSHIFT-WEAKENED-BY-GROVER", "Symmetric strength below the policy after Grover"),
    "quantum-safe": ("QSHIFT-QUANTUM-SAFE", "Quantum-safe algorithm not allowed by the policy"),
    "hybrid": ("QSHIFT-HYBRID", "Hybrid scheme"),
    "unknown": ("QSHIFT-UNKNOWN", "Algorithm not in the catalogue"),
}


def build(assets: list[Asset], assessments: dict[str, Assessment], policy_name: str) -> dict[str, Any]:
    rules = [{"id": rid, "name": rid.title().replace("-", ""), "shortDescription": {"text": text},
              "properties": {"quantum-status": status}} for status, (rid, text) in RULES.items()]
    index = {status: i for i, status in enumerate(RULES)}
    results = []
    for a in assets:
        r = assessments[a.key]
        if r.priority == "none":
            continue
        rid, _ = RULES.get(r.status, RULES["unknown"])
        for f in a.occurrences:
            loc = f.location
            phys: dict[str, Any] = {"artifactLocation": {"uri": loc.uri}}
            if loc.line is not None:
                phys["region"] = {"startLine": loc.line, "startColumn": loc.column or 1}
            results.append({
                "ruleId": rid, "ruleIndex": index.get(r.status, index["unknown"]), "level": r.sarif_level,
                "message": {"text": f"{a.name} ({r.status}, priority {r.priority}): {r.recommendation}"},
                "locations": [{"physicalLocation": phys}],
                "properties": {"asset": a.key, "priority": r.priority, "score": r.score,
                               "confidence": f.confidence, "deadline": r.deadline,
                               **({"frame": loc.frame} if loc.frame is not None else {})},
            })
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "qshift-inventory", "informationUri":
                                          "https://example.invalid/qshift", "rules": rules,
                                          "properties": {"policy": policy_name}}},
                      "results": results}]}


def render(assets: list[Asset], assessments: dict[str, Assessment], policy_name: str) -> str:
    return json.dumps(build(assets, assessments, policy_name), indent=2)
