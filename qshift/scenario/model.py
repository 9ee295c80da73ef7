"""Scenario file schema (TOML → pydantic v2). Times are seconds from the start of the run (``at_s``).

A scenario names the nodes (sites with a gateway, trusted nodes without), the QKD links between them, the
tunnel between two sites with its QKD policy, a traffic profile, a timed list of faults and the assertions
that decide pass or fail. See ``deploy/scenarios/*.toml`` for documented examples.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSpec(_Strict):
    """A node: ``site`` nodes run a gateway and a KME, trusted nodes only a KME."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    site: bool = False


class LinkSpec(_Strict):
    """An emulated QKD link between two nodes. ``kind``: the channel; ``protocol``: the link kind, decoy-state
    BB84 (prepare and measure) or BBM92 (entanglement based: an SPDC source in the middle of the fibre, the
    entanglement witness as its alarm; fibre only)."""

    name: str
    ends: tuple[str, str]
    kind: Literal["fiber", "free-space"] = "fiber"
    protocol: Literal["bb84-decoy", "bbm92"] = "bb84-decoy"
    length_km: float = Field(gt=0, le=500)
    turbulence: bool = False
    qber_abort: float = Field(default=0.11, gt=0, lt=0.5, description="abort threshold on the estimated QBER")

    @model_validator(mode="after")
    def _bbm92_on_fiber(self) -> LinkSpec:
        if self.protocol == "bbm92" and self.kind != "fiber":
            raise ValueError(f"link {self.name!r}: protocol 'bbm92' is emulated over fiber only, not {self.kind!r}")
        return self


class TunnelSpec(_Strict):
    """The gateway tunnel under test, from the initiating site to the responding site."""

    initiator: str
    responder: str
    qkd: Literal["required", "preferred", "off"] = "preferred"
    rekey_interval_s: float = Field(default=2.0, gt=0)


class TrafficSpec(_Strict):
    """Traffic pushed through the tunnel to a real TCP echo/sink service at the responder."""

    streams: int = Field(default=4, ge=1, le=256)
    bytes_per_stream: int = Field(default=2_000_000, ge=1)
    rate_bytes_per_s: int = Field(default=500_000, ge=1, description="per stream")


class _Fault(_Strict):
    at_s: float = Field(ge=0)


class EveFault(_Fault):
    """Intercept-resend attack on a fraction of the pulses of a link (BBM92: of the photons on Bob's arm);
    0 stops it."""

    kind: Literal["eve"]
    link: str
    fraction: float = Field(ge=0, le=1)


class LinkCutFault(_Fault):
    kind: Literal["link-cut", "link-restore"]
    link: str


class KmeFault(_Fault):
    kind: Literal["kme-kill", "kme-restart", "relay-node-down", "relay-node-up"]
    node: str


class StalePoolFault(_Fault):
    """``store-snapshot``: copy the node's key store as it is now; ``kme-restart-stale``: restart the node's KME
    on that old copy (a store restored from a stale backup: its link streams are behind its peers');
    ``kme-restart-current``: restart it on the store it really had (the operator's fix)."""

    kind: Literal["store-snapshot", "kme-restart-stale", "kme-restart-current"]
    node: str


class KeyExhaustFault(_Fault):
    """Drain every key pool of a node's KME."""

    kind: Literal["key-exhaust"]
    node: str


class ClassicalPathFault(_Fault):
    """Delay and loss on a link's classical (post-processing) channel."""

    kind: Literal["latency", "loss"]
    link: str
    value: float = Field(ge=0, description="latency: added one-way delay in ms; loss: probability that a "
                         "transmission is lost (TCP retransmits it after its timeout); 0 lifts the fault")

    @model_validator(mode="after")
    def _bounded(self) -> ClassicalPathFault:
        if self.kind == "loss" and self.value >= 0.9:
            raise ValueError(f"loss at {self.at_s}s: {self.value} must be below 0.9 (a fraction of transmissions)")
        if self.kind == "latency" and self.value > 10_000:
            raise ValueError(f"latency at {self.at_s}s: {self.value} ms is above 10000 ms")
        return self


class ChannelSilenceFault(_Fault):
    """The link's classical path swallows everything without closing (``channel-restore`` lifts it)."""

    kind: Literal["channel-silent", "channel-restore"]
    link: str


class LinkEndFault(_Fault):
    """One node's end of a link dies (its runtime task is killed) or is started again."""

    kind: Literal["link-end-kill", "link-end-restart"]
    link: str
    node: str


class StageErrorFault(_Fault):
    """The next ``count`` blocks read at ``node``'s end of the link raise an error in the emulated read-out."""

    kind: Literal["stage-error"]
    link: str
    node: str
    count: int = Field(default=1, ge=1, le=100)


class AuthBudgetFault(_Fault):
    """``auth-exhaust``: the link's Wegman–Carter pads are spent at both ends; ``auth-refill``: fresh
    pre-shared pads are provisioned to both ends (as an operator would)."""

    kind: Literal["auth-exhaust", "auth-refill"]
    link: str


Fault = Annotated[
    EveFault | LinkCutFault | KmeFault | KeyExhaustFault | ClassicalPathFault | ChannelSilenceFault
    | LinkEndFault | StageErrorFault | AuthBudgetFault | StalePoolFault,
    Field(discriminator="kind"),
]


class ModeAt(_Strict):
    """The tunnel's mode at a time (``hybrid-qkd``, ``pqc-only`` or ``down``)."""

    kind: Literal["mode-at"]
    at_s: float = Field(ge=0)
    expect: Literal["hybrid-qkd", "pqc-only", "down"]


class MaxStall(_Strict):
    """No stream goes longer than ``max_s`` without progress."""

    kind: Literal["max-stall"]
    max_s: float = Field(gt=0)


class ZeroBytesLost(_Strict):
    """Every byte sent arrives, checked by SHA-256 per stream."""

    kind: Literal["zero-bytes-lost"]


class MaxTimeToFallback(_Strict):
    """Time from the first fault to the tunnel running ``pqc-only``."""

    kind: Literal["max-time-to-fallback"]
    max_s: float = Field(gt=0)


class MaxTimeToRecover(_Strict):
    """Time from the last fault being lifted to the tunnel running ``hybrid-qkd`` again."""

    kind: Literal["max-time-to-recover"]
    max_s: float = Field(gt=0)


class FailsClosed(_Strict):
    """With ``qkd = "required"``: from ``after_s`` on, no data flows and the tunnel reports why."""

    kind: Literal["fails-closed"]
    after_s: float = Field(ge=0)


class LinkStateAt(_Strict):
    """A link's state at a time, as its runtime reports it: ``expect`` matches the label exactly
    (``failed(peer-silent)``) or its state (``failed``); ``alarm`` (if given) the link alarm."""

    kind: Literal["link-state-at"]
    at_s: float = Field(ge=0)
    link: str
    expect: str = Field(pattern=r"^(starting|running|aborting|stalled|failed|stopped|down)(\([a-z0-9:_-]+\))?$")
    alarm: bool | None = None


class LinkFails(_Strict):
    """After the first fault, the timeline shows the link ``failed`` with a cause starting with ``cause``
    (the fault was noticed, logged and typed)."""

    kind: Literal["link-fails"]
    link: str
    cause: str = Field(min_length=1)
    within_s: float = Field(gt=0, description="seconds after the first fault")


class LinkRecovers(_Strict):
    """From the last fault lifted (or the last fault, when none is lifted), the link delivers a confirmed
    block (``running``, alarm cleared) within ``max_s``."""

    kind: Literal["link-recovers"]
    link: str
    max_s: float = Field(gt=0)


Assertion = Annotated[
    ModeAt | MaxStall | ZeroBytesLost | MaxTimeToFallback | MaxTimeToRecover | FailsClosed | LinkStateAt
    | LinkFails | LinkRecovers,
    Field(discriminator="kind"),
]


class Scenario(_Strict):
    """A whole fallback scenario."""

    name: str
    description: str = ""
    duration_s: float = Field(gt=0, le=3600)
    seed: int = 1
    nodes: list[NodeSpec] = Field(min_length=2)
    links: list[LinkSpec] = Field(min_length=1)
    tunnel: TunnelSpec
    traffic: TrafficSpec = TrafficSpec()
    faults: list[Fault] = []
    assertions: list[Assertion] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_exist(self) -> Scenario:
        nodes = {n.name for n in self.nodes}
        if len(nodes) != len(self.nodes):
            raise ValueError("node names must be unique")
        links = {link.name for link in self.links}
        for link in self.links:
            for end in link.ends:
                if end not in nodes:
                    raise ValueError(f"link {link.name!r} names unknown node {end!r}")
        sites = {n.name for n in self.nodes if n.site}
        for end in (self.tunnel.initiator, self.tunnel.responder):
            if end not in sites:
                raise ValueError(f"tunnel end {end!r} is not a site node (site = true)")
        for assertion in self.assertions:
            if isinstance(assertion, LinkStateAt | LinkFails | LinkRecovers) and assertion.link not in links:
                raise ValueError(f"assertion {assertion.kind!r} names unknown link {assertion.link!r}")
        for fault in self.faults:
            target_link = getattr(fault, "link", None)
            target_node = getattr(fault, "node", None)
            if target_link is not None and target_link not in links:
                raise ValueError(f"fault {fault.kind!r} at {fault.at_s}s names unknown link {target_link!r}")
            if target_node is not None and target_node not in nodes:
                raise ValueError(f"fault {fault.kind!r} at {fault.at_s}s names unknown node {target_node!r}")
            if target_link is not None and target_node is not None:
                ends = next(link.ends for link in self.links if link.name == target_link)
                if target_node not in ends:
                    raise ValueError(f"fault {fault.kind!r} at {fault.at_s}s: node {target_node!r} is not an end "
                                     f"of link {target_link!r}")
            if fault.at_s > self.duration_s:
                raise ValueError(f"fault {fault.kind!r} at {fault.at_s}s is after the end ({self.duration_s}s)")
        return self
