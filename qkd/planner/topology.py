"""The planner's input: nodes, candidate links and targets (``topology.toml``), validated.

Example::

    clock_rate_hz = 1e9          # pulses (or coincidence windows) per second of every QKD link

    [[nodes]]
    name = "bank-a"
    kind = "site"                # site | trusted (a trusted node relays key; a site does not)

    [[links]]
    a = "bank-a"
    b = "tn-1"
    kind = "fibre"               # fibre | free-space | satellite | repeater-chain
    length_km = 60               # fibre length; for a bbm92 satellite link, the ground distance of its ends
    loss_db_per_km = 0.2
    preset = "lim2014"           # detector/error parameters (qkd.physics.presets)
    protocol = "bb84-decoy"      # bb84-decoy | bbm92 (source in the middle)

    [[links]]                    # an entangled-pair satellite serving both ends at once (not trusted)
    a = "bank-a"
    b = "bank-b"
    kind = "satellite"
    protocol = "bbm92"
    length_km = 1120
    passes_per_day = 1
    downlink = { pair_rate_hz = 5.9e6 }   # DualDownlinkSpec; defaults: Micius (Yin et al. 2020)

    [[targets]]
    a = "bank-a"
    b = "bank-b"
    min_key_rate_bps = 1000

Units are in the names: km, dB, Hz, bits/s, ms, ps, µrad (urad).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qkd.errors import QkdError


class PlannerError(QkdError):
    """A topology is malformed or a plan cannot be made (the message names the node, link or field)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Node(_Strict):
    """A site (end point, does not relay) or a trusted node (relays key hop by hop)."""

    name: str = Field(min_length=1)
    kind: Literal["site", "trusted"] = "site"
    x_km: float | None = None   # optional map position for the picture
    y_km: float | None = None

    @property
    def relays(self) -> bool:
        return self.kind == "trusted"


class RepeaterMemory(_Strict):
    """Quantum-memory parameters of a repeater chain (Sangouard et al., RMP 83, 33 (2011), Sec. IV)."""

    efficiency: float = Field(0.9, gt=0, le=1, description="memory read-out efficiency η_m")
    coherence_time_ms: float = Field(100.0, gt=0, description="memory coherence time τ (ms)")
    detector_efficiency: float = Field(0.9, gt=0, le=1, description="heralding detector efficiency η_d")
    swap_success: float = Field(0.5, gt=0, le=1, description="entanglement-swapping success probability")
    pair_fidelity_error: float = Field(0.01, ge=0, lt=0.5, description="QBER of an elementary pair")


class DualDownlinkSpec(_Strict):
    """A satellite carrying an entangled-pair source that serves both ends of a ``satellite`` link with
    ``protocol = "bbm92"`` at once (dual downlink: the satellite learns nothing and is not trusted).

    Defaults: the Micius payload and ground stations of J. Yin et al., "Entanglement-based secure quantum
    cryptography over 1,120 kilometres", Nature 582, 501–505 (2020): 5.9 × 10⁶ pairs/s, transmitters of
    about 10 µrad divergence, 1.2 m receiving telescopes, 810 nm photons, error correction at f = 1.19. The
    paper states measured figures rather than the visibility, background and receiver efficiency behind
    them; the defaults here are the values that reproduce its QBER (4.5 %), signal-to-noise ratio (15:1)
    and loss range (56–71 dB) in ``tests/qkd/test_published_cases.py``. ``two_photon_loss_db``, when given,
    is a measured mean loss of both arms together, receivers included (dB), and replaces the geometry's.
    """

    pair_rate_hz: float = Field(5.9e6, gt=0, description="pairs emitted per second")
    coincidence_window_ps: float = Field(2500.0, gt=0, description="coincidence window (ps)")
    visibility: float = Field(0.97, ge=0, le=1, description="two-photon visibility V of the source")
    divergence_urad: float = Field(10.0, gt=0, description="far-field 1/e² half-angle of each transmitter (µrad)")
    wavelength_nm: float = Field(810.0, gt=0)
    rx_aperture_m: float = Field(1.2, gt=0, description="receiving telescope diameter (m)")
    receiver_efficiency: float = Field(0.2, gt=0, le=1, description="telescope optics × detector efficiency")
    background_rate_hz: float = Field(2000.0, ge=0, description="dark + sky counts per detector (counts/s)")
    f_ec: float = Field(1.19, ge=1, description="error-correction inefficiency f")
    two_photon_loss_db: float | None = Field(None, gt=0, description="measured mean loss of both arms (dB)")


class Link(_Strict):
    """A candidate QKD link between two nodes. For a ``satellite`` link with ``protocol = "bbm92"``
    (a dual downlink, see :class:`DualDownlinkSpec`), ``length_km`` is the ground distance between its
    two ends."""

    a: str
    b: str
    kind: Literal["fibre", "free-space", "satellite", "repeater-chain"] = "fibre"
    protocol: Literal["bb84-decoy", "bbm92"] = "bb84-decoy"
    preset: str = "lim2014"
    length_km: float = Field(0.0, ge=0)
    loss_db_per_km: float | None = Field(None, ge=0)
    extra_loss_db: float = Field(0.0, ge=0)
    clock_rate_hz: float | None = Field(None, gt=0)
    # satellite: passes per day of one satellite over both ends' region (dual downlink: both see it)
    passes_per_day: float = Field(0.0, ge=0)
    altitude_km: float = Field(500.0, gt=100)
    min_elevation_deg: float = Field(15.0, ge=0, lt=90)
    extra_loss_db_per_arm: float = Field(0.0, ge=0)
    downlink: DualDownlinkSpec = DualDownlinkSpec()
    # repeater chain: number of elementary segments is 2**nesting_levels
    nesting_levels: int = Field(2, ge=0, le=8)
    memory: RepeaterMemory = RepeaterMemory()

    @model_validator(mode="after")
    def _kind_fields(self) -> Link:
        if self.a == self.b:
            raise ValueError(f"link {self.a}–{self.b}: both ends are the same node")
        if self.kind in ("fibre", "repeater-chain") and self.length_km <= 0:
            raise ValueError(f"link {self.a}–{self.b}: a {self.kind} link needs length_km > 0")
        if self.kind == "satellite" and self.passes_per_day <= 0:
            raise ValueError(f"link {self.a}–{self.b}: a satellite link needs passes_per_day > 0")
        if self.kind == "satellite" and self.protocol == "bbm92" and self.length_km <= 0:
            raise ValueError(f"link {self.a}–{self.b}: a dual-downlink satellite link (bbm92) needs length_km > 0, "
                             "the ground distance between its ends")
        if self.kind == "free-space" and self.length_km <= 0:
            raise ValueError(f"link {self.a}–{self.b}: a free-space link needs length_km (optical range) > 0")
        return self

    @property
    def name(self) -> str:
        return f"{self.a}–{self.b}"


class Target(_Strict):
    a: str
    b: str
    min_key_rate_bps: float = Field(gt=0)


class Topology(_Strict):
    clock_rate_hz: float = Field(1e9, gt=0)
    nodes: list[Node]
    links: list[Link] = []
    targets: list[Target] = []

    @model_validator(mode="after")
    def _references(self) -> Topology:
        names = [n.name for n in self.nodes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"node {dupes[0]!r} is defined twice")
        known = set(names)
        for link in self.links:
            for end in (link.a, link.b):
                if end not in known:
                    raise ValueError(f"link {link.name}: unknown node {end!r}")
        for t in self.targets:
            for end in (t.a, t.b):
                if end not in known:
                    raise ValueError(f"target {t.a}–{t.b}: unknown node {end!r}")
        return self

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def parse_topology(data: dict[str, object], source: str = "topology") -> Topology:
    """A validated :class:`Topology` from parsed TOML; errors name the file and the field."""
    try:
        return Topology.model_validate(data)
    except ValidationError as exc:
        raise PlannerError(f"{source}: {_first_error(exc)}") from None


def load_topology(path: Path) -> Topology:
    """Read and validate ``path`` (TOML)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise PlannerError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlannerError(f"{path}: not valid TOML: {exc}") from None
    return parse_topology(data, str(path))
