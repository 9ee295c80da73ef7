"""Judge a :class:`RunRecord` against a scenario's assertions. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from qshift.scenario.model import (
    Assertion,
    FailsClosed,
    MaxStall,
    MaxTimeToFallback,
    MaxTimeToRecover,
    ModeAt,
    Scenario,
    ZeroBytesLost,
)
from qshift.scenario.record import RunRecord

# Faults that start trouble and the ones that end it (for time-to-fallback / time-to-recover).
_TROUBLE = {"eve", "link-cut", "kme-kill", "key-exhaust", "relay-node-down"}
_REMEDY = {"link-restore", "kme-restart", "relay-node-up"}


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
        when = _first_mode_after(record, "pqc-only", start)
        took = None if when is None else when - start
        return AssertionResult(
            f"fallback to pqc-only within {assertion.max_s:g}s",
            took is not None and took <= assertion.max_s,
            "never fell back" if took is None else f"fell back {took:.2f}s after the fault at {start:g}s",
        )
    if isinstance(assertion, MaxTimeToRecover):
        start = _last_remedy_s(scenario)
        if start is None:
            return AssertionResult("time to recover", False, "the scenario never lifts a fault")
        when = _first_mode_after(record, "hybrid-qkd", start)
        took = None if when is None else when - start
        return AssertionResult(
            f"back to hybrid-qkd within {assertion.max_s:g}s",
            took is not None and took <= assertion.max_s,
            "never recovered" if took is None else f"recovered {took:.2f}s after the fix at {start:g}s",
        )
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
    raise AssertionError(f"unhandled assertion kind {assertion!r}")  # pragma: no cover - schema forbids it


def evaluate(scenario: Scenario, record: RunRecord) -> list[AssertionResult]:
    """One result per assertion of the scenario, in file order."""
    return [_judge(a, scenario, record) for a in scenario.assertions]
