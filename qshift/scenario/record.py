"""What a scenario run observed: sampled link and tunnel state, transitions, and per-stream results.

Times are seconds since the run started (``t_s``). A record holds no key material: only sizes, rates,
QBERs, modes and checksums of the application traffic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Event:
    """A transition or an injected fault: ``source`` is a link, node or ``tunnel``."""

    t_s: float
    source: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class LinkSample:
    qber: float | None
    secret_key_rate_bps: float
    pool_bits: int
    state: str  # the link runtime's label: running, aborting(cause), stalled(reason), failed(cause), down …
    alarm: bool = False


@dataclass(frozen=True)
class Sample:
    t_s: float
    links: dict[str, LinkSample]
    tunnel_mode: str  # "hybrid-qkd" | "pqc-only" | "down"
    bytes_delivered: int
    rekeys: int


@dataclass(frozen=True)
class StreamResult:
    """One application stream: bytes and SHA-256 on both ends, and its longest gap without progress."""

    stream_id: int
    bytes_sent: int
    bytes_received: int
    sha256_sent: str
    sha256_received: str
    longest_stall_s: float
    error: str = ""

    @property
    def intact(self) -> bool:
        return (
            not self.error
            and self.bytes_sent == self.bytes_received
            and self.sha256_sent == self.sha256_received
        )


@dataclass
class RunRecord:
    scenario: str
    seed: int
    duration_s: float = 0.0
    events: list[Event] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    streams: list[StreamResult] = field(default_factory=list)
    mode_changes: list[tuple[float, str, str]] = field(default_factory=list)  # (t_s, new mode, cause)
    data_refused_reason: str = ""  # why the tunnel refused to carry data (required policy)

    def mode_at(self, t_s: float) -> str:
        """The tunnel's mode at ``t_s`` from the recorded mode changes ("down" before the first)."""
        mode = "down"
        for when, new_mode, _cause in self.mode_changes:
            if when <= t_s:
                mode = new_mode
            else:
                break
        return mode

    def to_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "events": [asdict(e) for e in self.events],
            "mode_changes": [{"t_s": t, "mode": m, "cause": c} for t, m, c in self.mode_changes],
            "samples": [asdict(s) for s in self.samples],
            "streams": [asdict(s) | {"intact": s.intact} for s in self.streams],
            "data_refused_reason": self.data_refused_reason,
        }
