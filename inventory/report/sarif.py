"""SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for code-scanning UIs.

One rule per quantum status (``QSHIFT-CLASSICALLY-BROKEN``, ``QSHIFT-BROKEN-BY-SHOR``,
``QSHIFT-WEAKENED-BY-GROVER``…), each with help in text and Markdown; one result per occurrence of an
asset whose assessment is not ``none``. ``level`` comes from the policy's priority (critical/high → error,
medium → warning, low → note).

Locations: a finding in a file with a line has a ``region``; a finding on a live endpoint
(``tls://host:port``, ``ssh://host:port``) has a logical location of kind ``endpoint``; a finding in a
capture has a logical location for its frame and, when it can be told which handshake it belongs to
(:class:`_Flows`), one of kind ``flow`` naming the endpoint.

URIs: qshift has no public web site or repository, so the tool and rule URIs are URNs
(``urn:qshift:inventory``, ``urn:qshift:inventory:rule:<id>``) — absolute URIs as SARIF requires that name
the thing without pretending to resolve; the help a reader needs travels inside the log itself.
"""

from __future__ import annotations

import json
from typing import Any

from inventory.model import AssetType, Finding
from inventory.normalise import Asset
from inventory.risk import Assessment

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_URI = "urn:qshift:inventory"


def rule_uri(rule_id: str) -> str:
    return f"{TOOL_URI}:rule:{rule_id}"


#: status → (rule id, short description, help text). The help's Markdown form is derived from the text.
RULES: dict[str, tuple[str, str, str]] = {
    "classically-broken": (
        "QSHIFT-CLASSICALLY-BROKEN", "Algorithm broken without a quantum computer",
        "This algorithm (or its parameter size) is already broken by classical attacks: collisions, key "
        "recovery or practical brute force. Replace it now, independently of any post-quantum plan: a "
        "SHA-2/SHA-3 hash for MD5/SHA-1, AES-GCM or ChaCha20-Poly1305 for DES/3DES/RC4, and at least "
        "2048-bit RSA or a 256-bit curve until the post-quantum replacement is deployed."),
    "broken-by-shor": (
        "QSHIFT-BROKEN-BY-SHOR", "Public-key algorithm broken by Shor's algorithm",
        "RSA, finite-field and elliptic-curve Diffie-Hellman, DSA, ECDSA and EdDSA are broken by Shor's "
        "algorithm on a cryptographically relevant quantum computer. Key exchange is the first target "
        "(harvest now, decrypt later): move to ML-KEM (FIPS 203), hybrid with X25519 during the transition "
        "(X25519MLKEM768 in TLS, mlkem768x25519-sha256 in SSH). Signatures move to ML-DSA (FIPS 204) or "
        "SLH-DSA (FIPS 205) before the policy's deadline."),
    "weakened-by-grover": (
        "QSHIFT-WEAKENED-BY-GROVER", "Symmetric strength below the policy after Grover",
        "Grover's algorithm halves the effective strength of symmetric keys and hash preimages. The key or "
        "digest size used here falls below the policy's post-quantum strength: use AES-256 rather than "
        "AES-128, and SHA-384/SHA-512 where the policy (e.g. CNSA 2.0) asks for them."),
    "quantum-safe": (
        "QSHIFT-QUANTUM-SAFE", "Quantum-safe algorithm not allowed by the policy",
        "The algorithm resists known quantum attacks but the policy asks for a different parameter set "
        "(for example CNSA 2.0 requires ML-KEM-1024 and ML-DSA-87). Change the parameter set to the one the "
        "recommendation names."),
    "hybrid": (
        "QSHIFT-HYBRID", "Hybrid scheme",
        "A hybrid of a classical and a post-quantum algorithm: safe while either component holds. Keep it "
        "during the transition; the recommendation says when the policy expects the pure post-quantum form."),
    "unknown": (
        "QSHIFT-UNKNOWN", "Algorithm not in the catalogue",
        "qshift could not resolve this name to a catalogue algorithm, so it cannot rate it. Review the "
        "occurrence by hand and, if it is a cryptographic algorithm, report the spelling so an alias can be "
        "added."),
}


def _rule(status: str, rid: str, short: str, text: str) -> dict[str, Any]:
    markdown = (f"**{short}**\n\n{text}\n\nThe result's message carries the policy's concrete "
                f"recommendation, deadline and priority for the asset.")
    return {"id": rid, "name": "".join(w.title() for w in rid.split("-")[1:]),
            "shortDescription": {"text": short}, "fullDescription": {"text": text},
            "help": {"text": text, "markdown": markdown}, "helpUri": rule_uri(rid),
            "properties": {"quantum-status": status, "tags": ["security", "cryptography", "post-quantum"]}}


class _Flows:
    """Which handshake (``proto://endpoint``) of a capture a finding in that capture belongs to.

    A flow's protocol finding sits at the frame where its handshake starts and lists what was negotiated
    (suite, group, certificate ids) in ``related``. A finding belongs to a flow when it sits at that frame,
    when it is the only flow of the capture, or when exactly one flow that started at or before its frame
    lists it; otherwise it is left without a flow rather than guessed.
    """

    def __init__(self, assets: list[Asset]) -> None:
        self.starts: dict[tuple[str, int], str] = {}
        self.by_uri: dict[str, list[tuple[int, str, set[str]]]] = {}
        for a in assets:
            if a.asset_type is not AssetType.PROTOCOL:
                continue
            for f in a.occurrences:
                ep = f.details.get("id")
                if f.location.frame is None or not isinstance(ep, str):
                    continue
                self.starts[(f.location.uri, f.location.frame)] = ep
                self.by_uri.setdefault(f.location.uri, []).append((f.location.frame, ep, set(f.related)))

    def of(self, f: Finding) -> str | None:
        loc = f.location
        if loc.frame is None:
            return None
        if f.asset_type is AssetType.PROTOCOL and isinstance(f.details.get("id"), str):
            return f.details["id"]
        if (loc.uri, loc.frame) in self.starts:
            return self.starts[(loc.uri, loc.frame)]
        flows = self.by_uri.get(loc.uri, [])
        if len({ep for _, ep, _ in flows}) == 1:
            return flows[0][1]
        names = {f.raw, str(f.details.get("id"))}
        hits = {ep for start, ep, related in flows if start <= loc.frame and related & names}
        return hits.pop() if len(hits) == 1 else None


def location(f: Finding, flows: _Flows) -> dict[str, Any]:
    """The SARIF ``location`` of one finding (physical always; region and logical locations when known)."""
    loc = f.location
    phys: dict[str, Any] = {"artifactLocation": {"uri": loc.uri}}
    if loc.line is not None:
        phys["region"] = {"startLine": loc.line, "startColumn": loc.column or 1}
    out: dict[str, Any] = {"physicalLocation": phys}
    logical: list[dict[str, Any]] = []
    if "://" in loc.uri and loc.line is None and loc.frame is None:  # a live endpoint
        logical.append({"name": loc.uri.split("://", 1)[1], "fullyQualifiedName": loc.uri, "kind": "endpoint"})
    if loc.frame is not None:
        flow = flows.of(f)
        if flow is not None:
            logical.append({"name": flow.split("://", 1)[-1], "fullyQualifiedName": flow, "kind": "flow"})
        logical.append({"name": f"frame {loc.frame}", "fullyQualifiedName": f"{loc.uri}#frame={loc.frame}",
                        "kind": "frame"})
    if logical:
        out["logicalLocations"] = logical
    return out


def _tool_version() -> str:
    """qshift's installed version (the distribution's metadata: ``inventory`` does not import ``qshift``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qshift")
    except PackageNotFoundError:
        return "0+unknown"


def build(assets: list[Asset], assessments: dict[str, Assessment], policy_name: str) -> dict[str, Any]:
    __version__ = _tool_version()

    rules = [_rule(status, *spec) for status, spec in RULES.items()]
    index = {status: i for i, status in enumerate(RULES)}
    flows = _Flows(assets)
    results = []
    for a in assets:
        r = assessments[a.key]
        if r.priority == "none":
            continue
        status = r.status if r.status in RULES else "unknown"
        rid = RULES[status][0]
        for f in a.occurrences:
            results.append({
                "ruleId": rid, "ruleIndex": index[status], "level": r.sarif_level,
                "message": {"text": f"{a.name} ({r.status}, priority {r.priority}): {r.recommendation}"},
                "locations": [location(f, flows)],
                "properties": {"asset": a.key, "priority": r.priority, "score": r.score,
                               "confidence": f.confidence, "deadline": r.deadline,
                               **({"frame": f.location.frame} if f.location.frame is not None else {})},
            })
    driver = {"name": "qshift-inventory", "fullName": "qshift inventory: quantum-risk crypto inventory",
              "version": __version__, "informationUri": TOOL_URI, "rules": rules,
              "properties": {"policy": policy_name}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}


def render(assets: list[Asset], assessments: dict[str, Assessment], policy_name: str) -> str:
    return json.dumps(build(assets, assessments, policy_name), indent=2)
