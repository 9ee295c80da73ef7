"""One scan: run the requested sources, normalise, assess under a policy, return a :class:`ScanReport`.

The report is data (``to_dict()`` is the ``--json`` output and the input of ``diff``); rendering lives in
:mod:`inventory.report`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inventory.errors import EndpointError, InventoryError
from inventory.model import Finding, ScanStats, Skipped, SourceResult
from inventory.normalise import Asset, normalise
from inventory.risk import Assessment, Policy, assess_all, builtin_policy
from inventory.sources import files as file_source

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1


@dataclass(slots=True)
class ScanOptions:
    """What to scan and how. Endpoints are ``(host, port)``; sizes in bytes; timeouts in seconds."""

    paths: list[Path] = field(default_factory=list)
    tls: list[tuple[str, int]] = field(default_factory=list)
    ssh: list[tuple[str, int]] = field(default_factory=list)
    pcaps: list[Path] = field(default_factory=list)
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    max_file_bytes: int = file_source.DEFAULT_MAX_FILE_BYTES
    jobs: int = 2
    pkcs12_passwords: tuple[bytes, ...] = ()
    timeout_s: float = 5.0
    allow_unreachable: bool = False  #: an unreachable endpoint is a skipped input instead of an :class:`EndpointError`
    file_deadline_s: float | None = file_source.DEFAULT_FILE_DEADLINE_S  #: CPU-s per file (a capture: plus its size)


@dataclass(slots=True)
class ScanReport:
    """Findings, assets with their assessments, skipped inputs and counters of one scan."""

    findings: list[Finding]
    assets: list[Asset]
    assessments: dict[str, Assessment]
    skipped: list[Skipped]
    stats: ScanStats
    policy: Policy
    generated: str

    def summary(self) -> dict[str, Any]:
        by_status = Counter(self.assessments[a.key].status for a in self.assets)
        by_priority = Counter(self.assessments[a.key].priority for a in self.assets)
        by_source = Counter(s for a in self.assets for s in a.sources)
        by_type = Counter(a.asset_type.value for a in self.assets)
        reasons = Counter(s.reason.split(":")[0].split(" (")[0] for s in self.skipped)
        return {"assets": len(self.assets), "findings": len(self.findings), "by_status": dict(by_status),
                "by_priority": dict(by_priority), "by_source": dict(by_source), "by_type": dict(by_type),
                "skipped": len(self.skipped), "skipped_by_reason": dict(reasons)}

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON document (``--json``; input of ``qshift inventory diff``)."""
        assets = []
        for a in self.assets:
            r = self.assessments[a.key]
            alg = a.algorithm
            assets.append({
                "key": a.key, "name": a.name, "asset_type": a.asset_type.value,
                "family": alg.family if alg else None, "primitive": alg.primitive.value if alg else None,
                "oids": list(alg.oids) if alg else [],
                "classical_security_bits": alg.classical_security_bits if alg else None,
                "nist_category": alg.nist_category if alg else None,
                "confidence": a.confidence, "network_facing": a.network_facing, "sources": a.sources,
                "related": a.related, "details": _jsonable(a.details), "risk": r.to_dict(),
                "occurrences": [{"where": str(f.location), "source": f.source, "confidence": f.confidence,
                                 "raw": f.raw, "context": f.context} for f in a.occurrences],
            })
        s = self.stats
        return {"schema": SCHEMA_VERSION, "tool": "qshift inventory", "generated": self.generated,
                "policy": self.policy.name,
                "stats": {"files_seen": s.files_seen, "files_scanned": s.files_scanned,
                          "bytes_scanned": s.bytes_scanned, "packets": s.packets, "endpoints": s.endpoints,
                          "seconds": round(s.seconds, 3)},
                "summary": self.summary(), "assets": assets,
                "skipped": [{"path": k.path, "reason": k.reason} for k in self.skipped]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def run_scan(opts: ScanOptions, policy: Policy | None = None,
             progress: Callable[[int, int], None] | None = None) -> ScanReport:
    """Run every requested source and build the report. Bad inputs are skipped, never fatal."""
    policy = policy or builtin_policy("nist")
    if not (opts.paths or opts.tls or opts.ssh or opts.pcaps):
        raise InventoryError("nothing to scan: give paths, --tls, --ssh or --pcap")
    start = time.perf_counter()
    total = SourceResult()
    if opts.paths:
        wopts = file_source.WalkOptions(exclude=opts.exclude, respect_gitignore=opts.respect_gitignore,
                                        max_file_bytes=opts.max_file_bytes, pkcs12_passwords=opts.pkcs12_passwords,
                                        file_deadline_s=opts.file_deadline_s)
        total.extend(file_source.scan_paths(opts.paths, wopts, jobs=opts.jobs, progress=progress))
    for p in opts.pcaps:
        r = file_source.scan_file(p, str(p), file_source.WalkOptions(max_file_bytes=1 << 40,
                                                                      file_deadline_s=opts.file_deadline_s))
        if not r.stats.files_scanned and not r.skipped:
            r = file_source._scan_pcap(p, str(p), opts.file_deadline_s)
        total.extend(r)
    if opts.tls or opts.ssh:
        live = asyncio.run(_live(opts))
        if live.skipped and not opts.allow_unreachable:
            first = live.skipped[0]
            more = f" (and {len(live.skipped) - 1} more endpoint(s))" if len(live.skipped) > 1 else ""
            raise EndpointError(first.path, f"{first.reason}{more}; pass --allow-unreachable to scan without it")
        total.extend(live)
    total.stats.seconds = time.perf_counter() - start
    assets = normalise(total.findings)
    assessments = assess_all(assets, policy)
    log.info("inventory scan done", extra={"event": "inventory.scan.done", "assets": len(assets),
                                            "findings": len(total.findings), "skipped": len(total.skipped),
                                            "seconds": round(total.stats.seconds, 3)})
    return ScanReport(findings=total.findings, assets=assets, assessments=assessments, skipped=total.skipped,
                      stats=total.stats, policy=policy,
                      generated=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())


async def _live(opts: ScanOptions) -> SourceResult:
    from inventory.sources import live_ssh, live_tls

    results = await asyncio.gather(live_tls.probe_many(opts.tls, opts.timeout_s),
                                   live_ssh.probe_many(opts.ssh, opts.timeout_s))
    total = SourceResult()
    for r in results:
        total.extend(r)
    return total


def parse_endpoint(text: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port)."""
    t = text.strip()
    if t.startswith("["):
        host, _, rest = t[1:].partition("]")
        port = rest.lstrip(":") or str(default_port)
    elif t.count(":") == 1:
        host, port = t.split(":")
    else:
        host, port = t, str(default_port)
    try:
        p = int(port)
    except ValueError:
        raise InventoryError(f"endpoint {text!r}: port {port!r} is not a number") from None
    if not 0 < p < 65536 or not host:
        raise InventoryError(f"endpoint {text!r}: expected host:port with port 1..65535")
    return host, p
