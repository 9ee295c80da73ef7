"""The data the inventory works with: :class:`Location`, :class:`Finding`, :class:`Skipped`, :class:`ScanResult`.

A *finding* is one occurrence of a cryptographic thing seen by a source (a call in code, a certificate
in a file, a cipher suite offered by a server, a group in a captured ClientHello). Findings keep the
spelling they were found under (``raw``) and where (``location``); normalisation
(:mod:`inventory.normalise`) maps them onto catalogue entries and merges occurrences into assets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class AssetType(StrEnum):
    """CycloneDX 1.6 ``cryptoProperties.assetType`` vocabulary (plus ``library`` for dependencies)."""

    ALGORITHM = "algorithm"
    CERTIFICATE = "certificate"
    PROTOCOL = "protocol"
    MATERIAL = "related-crypto-material"
    LIBRARY = "library"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding was seen.

    Files: ``uri`` is the path, ``line``/``column`` are 1-based. Endpoints: ``uri`` is
    ``tls://host:port`` or ``ssh://host:port``. Captures: ``uri`` is the pcap path and ``frame`` the
    1-based frame number of the packet that carried (the first byte of) the message.
    """

    uri: str
    line: int | None = None
    column: int | None = None
    frame: int | None = None

    def __str__(self) -> str:
        if self.frame is not None:
            return f"{self.uri}:frame {self.frame}"
        if self.line is not None:
            return f"{self.uri}:{self.line}:{self.column or 1}"
        return self.uri


@dataclass(slots=True)
class Finding:
    """One occurrence of a cryptographic asset.

    ``raw`` is the spelling as found (``"SHA256withRSA"``, ``"ecdh-sha2-nistp256"``, ``"0x11ec"``…);
    ``name`` is the catalogue name once resolved (``None`` if the catalogue does not know it);
    ``key_bits`` / ``curve`` / ``mode`` / ``padding`` are the parameters the source could resolve;
    ``confidence`` is in [0, 1] (1.0: parsed structure such as a certificate or a wire message;
    0.9: parsed AST with literal arguments; 0.5: regular-expression match).
    ``source`` names the scanner (``python``, ``java``, ``certificate``, ``sshd_config``, ``tls``, ``pcap``…).
    ``network_facing`` marks exposures that a remote party sees (harvest-now-decrypt-later targets).
    ``details`` carries source-specific facts (certificate subject/issuer/validity, offered lists…).
    """

    raw: str
    asset_type: AssetType
    source: str
    location: Location
    confidence: float
    name: str | None = None
    key_bits: int | None = None
    curve: str | None = None
    mode: str | None = None
    padding: str | None = None
    usage: str | None = None
    network_facing: bool = False
    context: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    related: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with stable keys."""
        d = asdict(self)
        d["asset_type"] = self.asset_type.value
        d["location"] = {k: v for k, v in asdict(self.location).items() if v is not None}
        d["where"] = str(self.location)
        return d


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input the scan did not analyse, and why (``binary``, ``too large``, ``unreadable: …``, ``malformed: …``)."""

    path: str
    reason: str


@dataclass(slots=True)
class ScanStats:
    """Counters of one scan: files seen/analysed, bytes read, packets parsed, wall time (s)."""

    files_seen: int = 0
    files_scanned: int = 0
    bytes_scanned: int = 0
    packets: int = 0
    endpoints: int = 0
    seconds: float = 0.0

    def merge(self, other: ScanStats) -> None:
        self.files_seen += other.files_seen
        self.files_scanned += other.files_scanned
        self.bytes_scanned += other.bytes_scanned
        self.packets += other.packets
        self.endpoints += other.endpoints


@dataclass(slots=True)
class SourceResult:
    """What one source returned: findings, skipped inputs and counters."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)

    def extend(self, other: SourceResult) -> None:
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)
        self.stats.merge(other.stats)
