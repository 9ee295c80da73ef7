"""Assess each asset: quantum status, deadline, Mosca exposure, priority and a concrete recommendation.

Score (0–100) = base by status (classically-broken 90, broken-by-shor 70 so never below high,
weakened-by-grover below the policy's symmetric/hash floor 40, else 5; hybrid/quantum-safe 0)
+ ``key_exchange_weight`` when the asset establishes keys (harvest-now-decrypt-later: recorded traffic
is decrypted later) + ``network_facing_weight`` when a remote party sees it + 10 when Mosca's
x + y > z holds for its scope. Priority: critical ≥ 90, high ≥ 70, medium ≥ 40, low > 0, none; an
asset whose status is ``unknown`` has priority ``review`` (listed apart, never rated as harmless).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from inventory.model import AssetType
from inventory.normalise import Asset
from inventory.risk.policy import Policy
from pqc.catalogue import QuantumStatus, find

_KEY_EST = {"key-agree", "kem", "pke"}
_STATUS_ORDER = ["classically-broken", "broken-by-shor", "weakened-by-grover", "hybrid", "quantum-safe"]


@dataclass(slots=True)
class Assessment:
    """The verdict on one asset under one policy."""

    status: str
    score: int
    priority: str
    deadline: int | None
    deadline_reason: str
    mosca: dict[str, Any]
    recommendation: str
    compliant: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def sarif_level(self) -> str:
        levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "review": "note"}
        return levels.get(self.priority, "none")


def _worst(statuses: list[str]) -> str:
    known = [s for s in statuses if s in _STATUS_ORDER]
    return min(known, key=_STATUS_ORDER.index) if known else "unknown"


#: Protocol versions a config enables (``ssl_protocols``, ``MinProtocol``…), normalised: the broken ones
#: (SSL 2/3: RFC 6176, RFC 7568; TLS 1.0/1.1: RFC 8996) and TLS 1.2, which has no quantum-safe key exchange.
_BROKEN_VERSIONS = {"sslv2": "SSLv2 (RFC 6176)", "sslv3": "SSLv3 (RFC 7568)", "tlsv1": "TLS 1.0 (RFC 8996)",
                    "tlsv1.0": "TLS 1.0 (RFC 8996)", "tls1": "TLS 1.0 (RFC 8996)", "tlsv1.1": "TLS 1.1 (RFC 8996)",
                    "tls1.1": "TLS 1.1 (RFC 8996)"}
_TLS12 = {"tlsv1.2", "tls1.2", "tlsv1_2"}


def _version(asset: Asset) -> str | None:
    """The normalised protocol version of a config protocol asset (``tlsv1.2``), else ``None``."""
    if asset.asset_type is not AssetType.PROTOCOL:
        return None
    proto = str(asset.details.get("protocol") or "").lower()
    return proto if proto in _BROKEN_VERSIONS or proto in _TLS12 else None


_PRE_TLS13 = ("TLSv1.2", "TLSv1.1", "TLSv1.0", "TLSv1", "SSLv3")


def asset_status(asset: Asset, by_name: dict[str, Asset]) -> str:
    """Status of an asset; certificates/keys/protocols take it from the algorithms they use."""
    if asset.algorithm is not None:
        return asset.algorithm.quantum_status.value
    version = _version(asset)
    if version in _BROKEN_VERSIONS:
        return "classically-broken"
    if version in _TLS12:
        return "broken-by-shor"  # every TLS 1.2 key exchange is RSA or (EC)DH: no PQ option exists
    if asset.asset_type is AssetType.LIBRARY:
        support = str(asset.details.get("pq_support"))
        # "unknown": the declared constraint neither pins a PQ-capable release nor rules one out
        return {"yes": "quantum-safe", "unknown": "unknown"}.get(support, "broken-by-shor")
    related = [by_name.get(f"algorithm:{r}") for r in asset.related]
    algs = [a.algorithm for a in related if a is not None and a.algorithm is not None]
    if asset.asset_type is AssetType.PROTOCOL:
        kex = [a for a in algs if a.primitive.value in ("kem", "key-agree") or a.family.endswith("hybrid")]
        if any(a.quantum_status.value in ("hybrid", "quantum-safe") for a in kex):
            rest = [a.quantum_status.value for a in algs if a not in kex and a.quantum_status.value in (
                "classically-broken",)]
            if rest:
                return "classically-broken"
            # rated by what a classical client can still negotiate: a PQ group offered beside classical ones
            # (or beside TLS 1.2, whose key exchanges are all classical) protects only the clients that use it
            classical = [a.name for a in kex if a.quantum_status.value == "broken-by-shor"]
            wire = asset.details.get("kex_algorithms") or asset.details.get("groups") or []
            spelled = [w for w in wire if isinstance(w, str) and (a := find(w)) is not None
                       and a.quantum_status.value == "broken-by-shor"]
            classical = spelled or classical  # the names the endpoint's own configuration uses
            old = [v for v in asset.details.get("versions", []) if v in _PRE_TLS13]
            if classical or old:
                asset.details["classical_fallback"] = {"key_exchange": classical, "versions": old}
                return "broken-by-shor"
            return "hybrid"
    return _worst([a.quantum_status.value for a in algs])


def _establishes_keys(asset: Asset) -> bool:
    alg = asset.algorithm
    if alg is not None and alg.primitive.value in _KEY_EST:
        return True
    if alg is not None and alg.family == "TLS-1.2":
        return True
    if asset.asset_type is AssetType.PROTOCOL:
        return True
    return any(f.usage in ("key-exchange", "key-agree") for f in asset.occurrences)


def _bits(asset: Asset) -> int | None:
    alg = asset.algorithm
    if alg is None:
        return None
    return alg.classical_security_bits


def _recommend(asset: Asset, status: str, policy: Policy) -> str:
    alg = asset.algorithm
    sources = set(asset.sources)
    kem, sig = policy.recommended_kem, policy.recommended_signature
    hybrid_group = "X25519MLKEM768" if kem == "ML-KEM-768" else "SecP384r1MLKEM1024"
    hybrid_ssh = "mlkem768x25519-sha256"
    fallback = asset.details.get("classical_fallback") if asset.asset_type is AssetType.PROTOCOL else None
    if status == "broken-by-shor" and fallback:
        offer = hybrid_ssh if asset.details.get("protocol") == "ssh" else hybrid_group
        parts = []
        if fallback["versions"]:
            parts.append(f"disable {', '.join(fallback['versions'])} (classical key exchange only)")
        if fallback["key_exchange"]:
            parts.append(f"drop the classical key exchange {', '.join(fallback['key_exchange'])}")
        return (f"PQ offered, but classical clients still get classical key exchange: once clients support "
                f"{offer}, " + " and ".join(parts))
    if status in ("quantum-safe", "hybrid"):
        if alg is not None and policy.name == "cnsa2" and alg.name not in policy.required_kem + \
                policy.required_signature and alg.primitive.value in ("kem", "signature"):
            return f"CNSA 2.0 requires {kem} / {sig}: move {alg.name} to them"
        return "no change needed: quantum-safe" if status == "quantum-safe" else "no change needed: hybrid PQ"
    if asset.asset_type is AssetType.LIBRARY:
        note = asset.details.get("note", "")
        if status == "unknown":
            return f"pin {asset.name} to a release that ships ML-KEM/ML-DSA ({note})"
        return f"upgrade or replace {asset.name} with a release that ships ML-KEM/ML-DSA ({note})"
    if asset.asset_type is AssetType.CERTIFICATE and asset.details.get("trust_anchor"):
        return (f"third-party trust anchor ({asset.details.get('trust_store')}): a dependency to track, nothing to "
                f"reissue here; keep the bundle updated and follow its vendor's move to {sig} roots")
    if asset.asset_type is AssetType.CERTIFICATE:
        key_files = asset.details.get("private_key")
        also = f"; its private key ({', '.join(key_files)}) goes with it" if key_files else ""
        return (f"reissue this certificate with an {sig} key (or a composite {sig} + classical certificate "
                f"while relying parties migrate){also}")
    if asset.asset_type is AssetType.MATERIAL and asset.details.get("certificates"):
        n = len(asset.details["certificates"])
        return (f"replace with its certificate{'s' if n > 1 else ''} ({n}): a new {sig} key pair "
                f"at the reissue, this key retired")
    if asset.asset_type is AssetType.MATERIAL:
        name = asset.details.get("algorithm") or asset.name
        if alg is not None and alg.primitive.value in ("kem", "key-agree", "pke") and alg.family != "RSA":
            return f"replace the {name} key with an {kem} key (hybrid {hybrid_group} in protocols)"
        return f"replace the {name} key with an {sig} key (or a composite {sig} key)"
    version = _version(asset)
    if version in _BROKEN_VERSIONS:
        return (f"disable {_BROKEN_VERSIONS[version]} in this config; offer TLS 1.3 with {hybrid_group} "
                "(TLS 1.2 only for legacy clients)")
    if version in _TLS12:
        return (f"offer TLS 1.3 with {hybrid_group} next to TLS 1.2 (TLS 1.2 has no quantum-safe key exchange); "
                "drop TLS 1.2 once clients allow")
    if asset.asset_type is AssetType.PROTOCOL:
        proto = asset.details.get("protocol")
        if proto == "ssh":
            return f"offer {hybrid_ssh} first in the server's KexAlgorithms (OpenSSH ≥ 9.9)"
        if proto == "ikev2":
            return "add an ML-KEM additional key exchange (RFC 9370, draft-ietf-ipsecme-ikev2-mlkem) to the SA"
        return (f"enable {hybrid_group} on this TLS endpoint (TLS 1.3; OpenSSL ≥ 3.5, BoringSSL, Go ≥ 1.24) "
                f"and reissue its certificate with {sig} when clients support it")
    if alg is None:
        return "identify this algorithm and check it against the catalogue"
    prim = alg.primitive.value
    if status == "classically-broken":
        advice = _BROKEN_ADVICE.get(prim, "replace {alg} now: broken without a quantum computer")
        return advice.format(alg=alg.name, hash_bits=policy.min_hash_bits, sig=sig)
    if status == "weakened-by-grover":
        bits = alg.key_bits or (alg.output_bytes * 8 if alg.output_bytes else None)
        if prim in ("hash", "mac") and bits and bits < policy.min_hash_bits:
            return f"use SHA-{policy.min_hash_bits} or stronger (policy {policy.name})"
        if bits and bits < policy.min_symmetric_bits and prim in ("block-cipher", "ae", "stream-cipher"):
            return f"use a {policy.min_symmetric_bits}-bit key (AES-{policy.min_symmetric_bits})"
        return "acceptable: symmetric strength survives Grover at this size"
    # broken-by-shor
    if alg.family == "TLS-1.2":
        return f"prefer TLS 1.3 with the hybrid group {hybrid_group}; keep this suite only for legacy clients"
    if prim in ("key-agree", "kem"):
        for where, advice in _KEX_ADVICE:
            if not sources.isdisjoint(where):
                return advice.format(group=hybrid_group, ssh=hybrid_ssh)
        return f"replace {alg.name} key agreement with {kem} (hybrid: X-Wing or {hybrid_group})"
    if prim == "pke":
        return f"replace {alg.name} encryption/key transport with {kem} (hybrid {hybrid_group} in TLS)"
    if prim == "signature":
        return f"replace the {alg.name} signing key with {sig} (or a composite {sig} + {alg.family} signature)"
    return f"migrate {alg.name} to a quantum-safe alternative"


#: Advice for a classically broken algorithm, by primitive (``{alg}``, ``{hash_bits}``: the policy's minimum
#: hash size, ``{sig}``: the quantum-safe signature to move to).
_BROKEN_ADVICE = {
    "hash": "replace {alg} with SHA-{hash_bits} (already broken classically)",
    "block-cipher": "replace {alg} with AES-256-GCM (already broken classically)",
    "stream-cipher": "replace {alg} with AES-256-GCM (already broken classically)",
    "signature": "replace {alg} with {sig} (already broken classically)",
    "mac": "replace {alg} with HMAC-SHA{hash_bits}",
}
#: Where to enable the hybrid key exchange, by the sources that found the classical one (first match wins;
#: ``{group}``: the hybrid TLS group, ``{ssh}``: the hybrid SSH key exchange).
_KEX_ADVICE = (
    ({"nginx"}, "enable {group} in nginx `ssl_ecdh_curve {group}:X25519;` (OpenSSL ≥ 3.5)"),
    ({"apache"}, "enable {group} in Apache `SSLOpenSSLConfCmd Groups {group}:X25519`"),
    ({"haproxy"}, "enable {group} in HAProxy `curves {group}:X25519`"),
    ({"openssl.cnf"}, "put {group} first in openssl.cnf `Groups = {group}:X25519`"),
    ({"sshd_config", "ssh_config", "ssh"}, "put {ssh} first in `KexAlgorithms` (OpenSSH ≥ 9.9)"),
    ({"tls", "pcap"}, "offer {group} (TLS 1.3) on this endpoint"),
)


def _deadline(asset: Asset, status: str, policy: Policy) -> tuple[int | None, str]:
    d = policy.deadlines
    if status == "classically-broken":
        return dt.date.today().year, "already broken classically: replace now"
    if status != "broken-by-shor":
        return None, ""
    alg = asset.algorithm
    prim = alg.primitive.value if alg else ""
    if policy.name == "cnsa2" or d.signing or d.key_exchange:
        if prim == "signature" or asset.asset_type in (AssetType.CERTIFICATE,) and d.signing:
            return d.signing or d.disallowed, "CNSA 2.0: software/firmware signing exclusively CNSA 2.0"
        if asset.network_facing and d.key_exchange:
            return d.key_exchange, "CNSA 2.0: web browsers/servers and cloud services exclusively CNSA 2.0"
        return d.disallowed, "CNSA 2.0: all NSS quantum-resistant"
    bits = _bits(asset)
    if bits is not None and bits <= 112:
        year = d.deprecated_112_bit
        return year, f"NIST IR 8547: {bits}-bit quantum-vulnerable deprecated after {year}"
    return d.disallowed, f"NIST IR 8547: quantum-vulnerable disallowed after {d.disallowed}"


def assess(asset: Asset, policy: Policy, by_name: dict[str, Asset], year: int | None = None) -> Assessment:
    """The assessment of one asset (``by_name`` maps asset keys to assets, for related algorithms)."""
    year = year or dt.date.today().year
    status = asset_status(asset, by_name)
    alg = asset.algorithm
    score = {"classically-broken": 90, "broken-by-shor": 70, "weakened-by-grover": 5, "hybrid": 0,
             "quantum-safe": 0}.get(status, 20)
    compliant = status in ("quantum-safe", "hybrid")
    if status == "weakened-by-grover" and alg is not None:
        bits = alg.key_bits if alg.primitive.value in ("block-cipher", "ae", "stream-cipher") else (
            alg.output_bytes * 8 if alg.output_bytes else None)
        floor = policy.min_symmetric_bits if alg.primitive.value in ("block-cipher", "ae", "stream-cipher") \
            else policy.min_hash_bits
        if bits is not None and bits < floor:
            score = 40
        else:
            compliant = True
    if policy.name == "cnsa2" and alg is not None and status == "quantum-safe" and alg.primitive.value in (
            "kem", "signature") and alg.name not in policy.required_kem + policy.required_signature:
        score, compliant = 30, False
    location = str(asset.occurrences[0].location) if asset.occurrences else "*"
    scope = policy.scope_for(location)
    z = max(policy.crqc_year - year, 0)
    x, y = scope.shelf_life_years, scope.migration_years
    at_risk = status in ("broken-by-shor", "classically-broken") and (x + y > z)
    if status in ("broken-by-shor", "classically-broken"):
        if _establishes_keys(asset):
            score += policy.key_exchange_weight
        if asset.network_facing:
            score += policy.network_facing_weight
        if at_risk:
            score += 10
    if asset.asset_type is AssetType.CERTIFICATE and asset.details.get("trust_anchor"):
        score = min(score, 80)  # tracked, not ours to reissue: high at most, never critical
    score = min(score, 100)
    priority = ("critical" if score >= 90 else "high" if score >= 70 else "medium" if score >= 40
                else "low" if score > 0 else "none")
    if status == "unknown":
        priority = "review"  # not resolved: a person looks at it; never rated as if it were harmless
    deadline, reason = _deadline(asset, status, policy)
    return Assessment(status=status, score=score, priority=priority, deadline=deadline, deadline_reason=reason,
                      mosca={"scope": scope.name, "shelf_life_years": x, "migration_years": y,
                             "years_to_crqc": z, "at_risk": at_risk},
                      recommendation=_recommend(asset, status, policy), compliant=compliant)


def assess_all(assets: list[Asset], policy: Policy, year: int | None = None) -> dict[str, Assessment]:
    """Assessments keyed by asset key."""
    by_name = {a.key: a for a in assets}
    return {a.key: assess(a, policy, by_name, year) for a in assets}


_ = (QuantumStatus, find)
