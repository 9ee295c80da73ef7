"""The truthful state of one link end: what dashboards, ``/status``, metrics and scenario reports show.

States (:data:`LINK_STATES`):

* ``starting`` — no session yet;
* ``running`` — the last block was delivered and confirmed by both ends;
* ``aborting(reason)`` — blocks are being aborted (QBER, too few counts, verification, disagreement …);
* ``stalled(reason)`` — the link cannot make progress without a fault of its own: no peer connected,
  the authentication budget is empty, the key sink is full;
* ``failed(cause)`` — the session died (peer closed or silent, a deadline, a stage raised, pools differ);
  the runtime restarts it after a backoff;
* ``stopped`` — stopped on purpose.

The **alarm** is raised by any failure, by an empty authentication budget, at once by an aborted block
that signals an attack or a broken channel (:data:`ALARM_AT_ONCE`), and by other aborts (verification,
zero length: ordinary statistics) when :data:`ALARM_AFTER_CONSECUTIVE` blocks in a row abort. It clears
**only on evidence**: a block both ends confirmed and delivered.
Every change of state is logged once (``qkd.link.state``) and counted; :meth:`LinkStatus.metrics_lines`
renders the Prometheus text the KME's ``/metrics`` serves. Nothing here holds key material.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LINK_STATES = ("starting", "running", "aborting", "stalled", "failed", "stopped")
#: aborts that raise the alarm at once: an attack or a broken channel (QBER above threshold, no light,
#: a transcript that does not authenticate, ends that disagree)
#: ("witness": a BBM92 block whose entanglement witness is not certified, e.g. an intercept-resend attack)
ALARM_AT_ONCE = frozenset({"qber", "too-few-counts", "authentication", "disagreement", "witness"})
#: other aborts (a Cascade frame that failed verification — FER ~1e-2 per block —, a zero-length block) are
#: ordinary statistics: they raise the alarm only when this many blocks in a row abort
ALARM_AFTER_CONSECUTIVE = 3
#: weight of the newest block in the smoothed secret key rate
RATE_ALPHA = 0.3

AlarmHook = Callable[[bool, "float | None", str], None]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@dataclass
class LinkStatus:
    """State and counters of one link end (``role`` ``alice``, ``bob`` or ``pair`` for both in-process)."""

    link_id: str
    role: str
    auth_mode: str = "transcript"
    state: str = "starting"
    reason: str = ""
    since: float = field(default_factory=time.time)
    alarm: bool = False
    alarm_reason: str = ""
    blocks: dict[str, int] = field(default_factory=lambda: {"delivered": 0, "aborted": 0})
    aborts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    sessions: int = 0
    secret_bits: int = 0
    disagreements: int = 0
    pool_mismatches: int = 0
    last_block: int | None = None
    last_qber: float | None = None
    #: BBM92 links: the CHSH value S the last block's correlations imply (S ≤ 2: no entanglement shown)
    last_chsh: float | None = None
    last_delivered_at: float | None = None
    key_rate_bps: float = 0.0
    #: monotonic time of the last block decided (delivered or aborted) in this session; None before the first
    _last_decided: float | None = field(default=None, repr=False)
    last_failure: dict[str, Any] | None = None
    auth_consumed_bits: int = 0
    auth_produced_bits: int = 0
    auth_pads_available: int | None = None
    transitions: int = 0
    consecutive_aborts: int = 0
    _hooks: list[AlarmHook] = field(default_factory=list, repr=False)
    _listeners: list[Callable[[LinkStatus], None]] = field(default_factory=list, repr=False)

    # -- subscriptions -------------------------------------------------------------------------------------
    def on_alarm(self, hook: AlarmHook) -> None:
        """``hook(raised, qber, reason)`` on every change of the alarm (the KME sets its pools' alarm)."""
        self._hooks.append(hook)

    def on_change(self, listener: Callable[[LinkStatus], None]) -> None:
        """``listener(status)`` on every change of state (dashboards, scenario timelines)."""
        self._listeners.append(listener)

    # -- transitions -------------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """``state`` or ``state(reason)`` as users see it."""
        return f"{self.state}({self.reason})" if self.reason and self.state != "running" else self.state

    def set_state(self, state: str, reason: str = "") -> None:
        if state not in LINK_STATES:
            raise ValueError(f"unknown link state {state!r}")
        if (state, reason) == (self.state, self.reason):
            return
        level = logging.WARNING if state in ("failed", "stalled", "aborting") else logging.INFO
        log.log(level, "link state %s", f"{state}({reason})" if reason else state,
                extra={"event": "qkd.link.state", "link_id": self.link_id, "role": self.role, "state": state,
                       "reason": reason, "previous": self.state})
        self.state, self.reason, self.since = state, reason, time.time()
        self.transitions += 1
        for listener in list(self._listeners):
            listener(self)

    def _set_alarm(self, raised: bool, reason: str) -> None:
        if raised == self.alarm and (not raised or reason == self.alarm_reason):
            return
        self.alarm, self.alarm_reason = raised, reason if raised else ""
        log.log(logging.WARNING if raised else logging.INFO, "link alarm %s", "raised" if raised else "cleared",
                extra={"event": "qkd.link.alarm", "link_id": self.link_id, "role": self.role, "alarm": raised,
                       "reason": reason})
        for hook in list(self._hooks):
            hook(raised, self.last_qber, reason)

    def block_delivered(self, index: int, bits: int, qber: float, seconds: float) -> None:
        """A block both ends confirmed and delivered: the only evidence that clears the alarm.

        The key rate sample is ``bits`` over the wall time since the previous block was decided (delivered or
        aborted), or over the block's own ``seconds`` for the first block of a session: with several blocks in
        flight a block's latency spans its neighbours' and would understate the rate by up to the depth."""
        self.blocks["delivered"] += 1
        self.secret_bits += bits
        self.last_block, self.last_qber = index, qber if math.isfinite(qber) else None
        now = time.time()
        decided = time.monotonic()
        interval = seconds if self._last_decided is None else decided - self._last_decided
        self._last_decided = decided
        rate = bits / interval if interval > 0 else 0.0
        self.key_rate_bps = rate if self.last_delivered_at is None else (
            RATE_ALPHA * rate + (1 - RATE_ALPHA) * self.key_rate_bps)
        self.last_delivered_at = now
        self.consecutive_aborts = 0
        self.set_state("running")
        self._set_alarm(False, "")

    def block_aborted(self, index: int, cause: str, reason: str, qber: float) -> None:
        """An aborted block (both ends agreed on it). Back-pressure is not a fault: no alarm, ``stalled``."""
        self.blocks["aborted"] += 1
        self.aborts[cause] = self.aborts.get(cause, 0) + 1
        if cause == "disagreement":
            self.disagreements += 1
        self.last_block, self.last_qber = index, qber if math.isfinite(qber) else self.last_qber
        self.key_rate_bps = (1 - RATE_ALPHA) * self.key_rate_bps
        self._last_decided = time.monotonic()
        if cause == "backpressure":
            self.set_state("stalled", "pool-full")
            return
        self.consecutive_aborts += 1
        self.set_state("aborting", cause)
        if cause in ALARM_AT_ONCE or self.consecutive_aborts >= ALARM_AFTER_CONSECUTIVE:
            self._set_alarm(True, f"block {index} aborted: {cause}" + (
                "" if cause in ALARM_AT_ONCE else f" ({self.consecutive_aborts} blocks in a row)"))

    def failed(self, cause: str, detail: str, block: int | None) -> None:
        """The session died: logged once with its typed cause and block, counted, alarmed."""
        self.failures[cause] = self.failures.get(cause, 0) + 1
        if cause == "pool-mismatch":
            self.pool_mismatches += 1
        self.last_failure = {"cause": cause, "detail": detail, "block": block, "time": time.time()}
        self.key_rate_bps, self._last_decided = 0.0, None
        log.error("link failed: %s", cause, extra={"event": "qkd.link.failed", "link_id": self.link_id,
                                                    "role": self.role, "cause": cause, "block": block,
                                                    "detail": detail})
        self.set_state("failed", cause)
        self._set_alarm(True, f"link failed: {cause}")

    def stalled(self, reason: str, *, alarm: bool) -> None:
        self.key_rate_bps, self._last_decided = 0.0, None
        if alarm:       # first, so that listeners of the state change see the alarm
            self._set_alarm(True, f"link stalled: {reason}")
        self.set_state("stalled", reason)

    def stopped(self) -> None:
        self.key_rate_bps, self._last_decided = 0.0, None
        self.set_state("stopped")

    # -- reporting ------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What ``/status`` and reports show (no key material)."""
        return {"link": self.link_id, "role": self.role, "state": self.state, "reason": self.reason,
                "label": self.label, "since": self.since, "alarm": self.alarm, "alarm_reason": self.alarm_reason,
                "blocks": dict(self.blocks), "aborts": dict(self.aborts), "failures": dict(self.failures),
                "restarts": self.restarts, "sessions": self.sessions, "secret_bits": self.secret_bits,
                "key_rate_bps": round(self.key_rate_bps, 3), "last_block": self.last_block,
                "last_qber": self.last_qber, "last_chsh": self.last_chsh, "last_delivered_at": self.last_delivered_at,
                "disagreements": self.disagreements, "pool_mismatches": self.pool_mismatches,
                "last_failure": self.last_failure,
                "authentication": {"mode": self.auth_mode, "consumed_bits": self.auth_consumed_bits,
                                   "produced_bits": self.auth_produced_bits,
                                   "pads_available": self.auth_pads_available}}

    def metrics_lines(self) -> list[str]:
        """Prometheus text lines (no HELP/TYPE headers: see :func:`metrics_text`)."""
        ls = f'link="{_label(self.link_id)}",role="{self.role}"'
        out = [f'qkd_link_state{{{ls},state="{s}"}} {int(s == self.state)}' for s in LINK_STATES]
        out.append(f"qkd_link_alarm{{{ls}}} {int(self.alarm)}")
        out += [f'qkd_link_blocks_total{{{ls},status="{k}"}} {v}' for k, v in sorted(self.blocks.items())]
        out += [f'qkd_link_aborts_total{{{ls},cause="{_label(k)}"}} {v}' for k, v in sorted(self.aborts.items())]
        out += [f'qkd_link_failures_total{{{ls},cause="{_label(k)}"}} {v}' for k, v in sorted(self.failures.items())]
        out.append(f"qkd_link_restarts_total{{{ls}}} {self.restarts}")
        out.append(f"qkd_link_secret_bits_total{{{ls}}} {self.secret_bits}")
        out.append(f"qkd_link_key_rate_bps{{{ls}}} {self.key_rate_bps:.3f}")
        out.append(f"qkd_link_disagreements_total{{{ls}}} {self.disagreements}")
        out.append(f"qkd_link_pool_mismatches_total{{{ls}}} {self.pool_mismatches}")
        out.append(f"qkd_link_auth_key_consumed_bits_total{{{ls}}} {self.auth_consumed_bits}")
        out.append(f"qkd_link_auth_key_produced_bits_total{{{ls}}} {self.auth_produced_bits}")
        if self.last_qber is not None:
            out.append(f"qkd_link_qber{{{ls}}} {self.last_qber:.6f}")
        if self.last_chsh is not None:
            out.append(f"qkd_link_chsh{{{ls}}} {self.last_chsh:.6f}")
        return out


METRIC_HELP = {
    "qkd_link_state": ("gauge", "1 for the link end's current state (starting, running, aborting, stalled, failed, "
                                "stopped)"),
    "qkd_link_alarm": ("gauge", "1 while the link's alarm is raised (cleared only by a confirmed, delivered block)"),
    "qkd_link_blocks_total": ("counter", "blocks by agreed outcome (delivered, aborted)"),
    "qkd_link_aborts_total": ("counter", "aborted blocks by cause"),
    "qkd_link_failures_total": ("counter", "session failures by typed cause"),
    "qkd_link_restarts_total": ("counter", "sessions restarted after a failure"),
    "qkd_link_secret_bits_total": ("counter", "secret key bits delivered"),
    "qkd_link_key_rate_bps": ("gauge", "smoothed secret key rate (bit/s)"),
    "qkd_link_disagreements_total": ("counter", "blocks discarded because the two ends' outcomes differed"),
    "qkd_link_pool_mismatches_total": ("counter", "times the two ends' pool digests differed"),
    "qkd_link_auth_key_consumed_bits_total": ("counter", "secret key spent on classical-channel authentication"),
    "qkd_link_auth_key_produced_bits_total": ("counter", "secret key the link produced (delivered plus refills)"),
    "qkd_link_qber": ("gauge", "QBER estimate of the last block"),
    "qkd_link_chsh": ("gauge", "BBM92 links: CHSH value S implied by the last block's correlations (S <= 2: "
                               "no entanglement shown)"),
}


def metrics_text(statuses: list[LinkStatus]) -> str:
    """Prometheus text exposition of the link ends' metrics, with HELP and TYPE lines."""
    lines_by_name: dict[str, list[str]] = {name: [] for name in METRIC_HELP}
    for status in statuses:
        for line in status.metrics_lines():
            lines_by_name[line.split("{", 1)[0]].append(line)
    out: list[str] = []
    for name, (kind, text) in METRIC_HELP.items():
        if lines_by_name[name]:
            out += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *lines_by_name[name]]
    return "\n".join(out) + ("\n" if out else "")


__all__ = ["ALARM_AFTER_CONSECUTIVE", "ALARM_AT_ONCE", "LINK_STATES", "LinkStatus", "METRIC_HELP", "metrics_text"]
