"""Judge a :class:`RunRecord` against a scenario's assertions. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from qshift.scenario.model import (
    Assertion,
    FailsClosed,
    LinkFails,
    LinkRecovers,
    LinkStateAt,
    MaxStall,
    MaxTimeToFallback,
    MaxTimeToRecover,
    ModeAt,
    Scenario,
    ZeroBytesLost,
)
from qshift.scenario.record import RunRecord

# Faults that start trouble and the ones that end it (for time-to-fallback / time-to-recover).
_TROUBLE = {"eve", "link-cut", "kme-kill", "key-exhaust", "relay-node-down", "channel-silent", "link-end-kill",
            "stage-error", "auth-exhaust", "kme-restart-stale"}
_REMEDY = {"link-restore", "kme-restart", "relay-node-up", "channel-restore", "link-end-restart", "auth-refill",
           "kme-restart-current"}


@dataclass(frozen=True)
class AssertionResult:
    name: str
    passed: bool
    message: str


def _first_trouble_s(scenario: Scenario) -> float | None:
    times = [f.at_s for f in scenario.faults if f.kind in _TROUBLE and getattr(f, "fraction", 1.0) > 0]
    return min(times) if times else None


def _last_remedy_s(scenario: Scenario) -> float | None:
    times = [
        f.at_s
        for f in scenario.faults
        if f.kind in _REMEDY or (f.kind == "eve" and getattr(f, "fraction", 1.0) == 0)
    ]
    return max(times) if times else None


def _first_mode_after(record: RunRecord, mode: str, t_s: float) -> float | None:
    for when, new_mode, _ in record.mode_changes:
        if when >= t_s and new_mode == mode:
            return when
    return None


def _judge(assertion: Assertion, scenario: Scenario, record: RunRecord) -> AssertionResult:
    if isinstance(assertion, ModeAt):
        seen = record.mode_at(assertion.at_s)
        return AssertionResult(
            f"mode at {assertion.at_s:g}s is {assertion.expect}",
            seen == assertion.expect,
            f"mode at {assertion.at_s:g}s was {seen}",
        )
    if isinstance(assertion, MaxStall):
        worst = max((s.longest_stall_s for s in record.streams), default=0.0)
        return AssertionResult(
            f"longest stream stall <= {assertion.max_s:g}s",
            bool(record.streams) and worst <= assertion.max_s,
            f"longest stall {worst:.3f}s over {len(record.streams)} streams",
        )
    if isinstance(assertion, ZeroBytesLost):
        broken = [s for s in record.streams if not s.intact]
        sent = sum(s.bytes_sent for s in record.streams)
        got = sum(s.bytes_received for s in record.streams)
        detail = f"{len(record.streams) - len(broken)}/{len(record.streams)} streams intact, {got}/{sent} bytes"
        if broken:
            b = broken[0]
            detail += f"; stream {b.stream_id}: sent {b.bytes_sent} B, received {b.bytes_received} B {b.error}"
        return AssertionResult("zero bytes lost", bool(record.streams) and not broken, detail)
    if isinstance(assertion, MaxTimeToFallback):
        start = _first_trouble_s(scenario)
        if start is None:
            return AssertionResult("time to fallback", False, "the scenario injects no fault")
        return _time_to_mode(record, "pqc-only", start, assertion.max_s,
                             f"fallback to pqc-only within {assertion.max_s:g}s", "never fell back", "fell back",
                             "fault")
    if isinstance(assertion, MaxTimeToRecover):
        start = _last_remedy_s(scenario)
        if start is None:
            return AssertionResult("time to recover", False, "the scenario never lifts a fault")
        return _time_to_mode(record, "hybrid-qkd", start, assertion.max_s,
                             f"back to hybrid-qkd within {assertion.max_s:g}s", "never recovered", "recovered", "fix")
    if isinstance(assertion, FailsClosed):
        later_modes = {m for t, m, _ in record.mode_changes if t >= assertion.after_s}
        flowing = any(m != "down" for m in later_modes) or record.mode_at(assertion.after_s) != "down"
        refused = bool(record.data_refused_reason)
        return AssertionResult(
            f"fails closed from {assertion.after_s:g}s",
            not flowing and refused,
            f"refused: {record.data_refused_reason or 'no refusal recorded'}; "
            f"modes after: {sorted(later_modes) or ['down']}",
        )
    if isinstance(assertion, LinkStateAt):
        sample = next((x for x in record.samples if x.t_s >= assertion.at_s), None)
        link = sample.links.get(assertion.link) if sample is not None else None
        label = link.state if link is not None else "no sample"
        state_ok = link is not None and (label == assertion.expect or label.split("(")[0] == assertion.expect)
        alarm_ok = assertion.alarm is None or (link is not None and link.alarm == assertion.alarm)
        want = assertion.expect + ("" if assertion.alarm is None else f", alarm {'on' if assertion.alarm else 'off'}")
        seen = label + ("" if link is None else f", alarm {'on' if link.alarm else 'off'}")
        return AssertionResult(f"link {assertion.link} at {assertion.at_s:g}s is {want}", state_ok and alarm_ok,
                               f"link {assertion.link} at {assertion.at_s:g}s was {seen}")
    if isinstance(assertion, LinkFails):
        start = _first_trouble_s(scenario) or 0.0
        failures = [e for e in record.events if e.source == assertion.link and e.kind == "link:failed"
                    and start <= e.t_s <= start + assertion.within_s and e.detail.startswith(assertion.cause)]
        return AssertionResult(
            f"link {assertion.link} fails ({assertion.cause}) within {assertion.within_s:g}s",
            bool(failures),
            f"failed at {failures[0].t_s:.2f}s: {failures[0].detail}" if failures else
            f"no such failure between {start:g}s and {start + assertion.within_s:g}s",
        )
    if isinstance(assertion, LinkRecovers):
        start = _last_remedy_s(scenario)
        if start is None:
            start = max((f.at_s for f in scenario.faults), default=0.0)
        when = next((x.t_s for x in record.samples if x.t_s >= start and assertion.link in x.links
                     and x.links[assertion.link].state == "running" and not x.links[assertion.link].alarm), None)
        took = None if when is None else when - start
        return AssertionResult(
            f"link {assertion.link} running again within {assertion.max_s:g}s",
            took is not None and took <= assertion.max_s,
            "never recovered" if took is None else f"running, alarm off {took:.2f}s after the fix at {start:g}s",
        )
    raise AssertionError(f"unhandled assertion kind {assertion!r}")  # pragma: no cover - schema forbids it


def _time_to_mode(record: RunRecord, mode: str, start: float, max_s: float, name: str, never: str, verb: str,
                  event: str) -> AssertionResult:
    """Seconds from ``start`` (a fault or a fix) to the tunnel's first change into ``mode``, against ``max_s``."""
    when = _first_mode_after(record, mode, start)
    took = None if when is None else when - start
    return AssertionResult(name, took is not None and took <= max_s,
                           never if took is None else f"{verb} {took:.2f}s after the {event} at {start:g}s")


def evaluate(scenario: Scenario, record: RunRecord) -> list[AssertionResult]:
    """One result per assertion of the scenario, in file order."""
    return [_judge(a, scenario, record) for a in scenario.assertions]
