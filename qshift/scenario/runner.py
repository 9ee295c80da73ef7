"""Run a scenario: start the system, push traffic, inject the timed faults, sample, and judge.

Times in the record are seconds from the moment traffic starts (after the links distilled their first
block and the tunnel completed its first handshake). ``on_tick`` receives a :class:`Sample` every
``SAMPLE_PERIOD_S`` (the live dashboard uses it).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qkd.errors import QkdError
from qkd.kms.topology import pool_name
from qshift.errors import QshiftError
from qshift.scenario.links import PRESHARED_PADS
from qshift.scenario.model import (
    AuthBudgetFault,
    ChannelSilenceFault,
    ClassicalPathFault,
    EveFault,
    Fault,
    KeyExhaustFault,
    KmeFault,
    LinkCutFault,
    LinkEndFault,
    Scenario,
    StageErrorFault,
    StalePoolFault,
)
from qshift.scenario.record import Event, LinkSample, RunRecord, Sample
from qshift.scenario.system import ScenarioSystem, kme_id
from qshift.scenario.traffic import run_stream

SAMPLE_PERIOD_S = 0.25
TUNNEL_UP_TIMEOUT_S = 30.0
STREAM_DRAIN_TIMEOUT_S = 60.0


class ScenarioError(QshiftError):
    """A scenario cannot be run as written (names the scenario and the part at fault)."""


class _Clock:
    """Seconds since traffic started; 0.0 during warm-up (events then are stamped at the start)."""

    def __init__(self) -> None:
        self.t0: float | None = None

    def start(self) -> None:
        self.t0 = time.monotonic()

    def now(self) -> float:
        return 0.0 if self.t0 is None else time.monotonic() - self.t0


def _link_pool_bits(system: ScenarioSystem, link: str, ends: tuple[str, str]) -> int:
    for end in ends:
        service = system.kme_service(end)
        if service is not None:
            a, b = kme_id(ends[0]), kme_id(ends[1])
            return sum(service.store.available_bits(pool_name(link, s, r)) for s, r in ((a, b), (b, a)))
    return 0


def _link_sample(system: ScenarioSystem, link: str) -> LinkSample:
    """What the link's Alice end reports (Bob's while Alice's KME is down; ``down`` with neither)."""
    handle = system.links[link]
    view = system.link_view(link)
    pool = _link_pool_bits(system, link, handle.ends)
    if view is None:
        return LinkSample(None, 0.0, pool, "down")
    return LinkSample(view.last_qber, view.key_rate_bps, pool, view.label, view.alarm)


async def _apply(fault: Fault, system: ScenarioSystem) -> str:
    """Carry out one fault; returns a one-line description for the timeline."""
    kind = fault.kind
    if isinstance(fault, EveFault):
        handle = system.links[fault.link]
        handle.faults.eve_fraction = fault.fraction
        what = "photons on Bob's arm" if handle.spec.protocol == "bbm92" else "pulses"
        return f"intercept-resend on {fault.fraction:.0%} of {what}"
    if isinstance(fault, LinkCutFault):
        system.links[fault.link].faults.cut = kind == "link-cut"
        return "fiber cut" if kind == "link-cut" else "fiber restored"
    if isinstance(fault, KmeFault):
        if kind in ("kme-kill", "relay-node-down"):
            await system.kill_kme(fault.node)
            return f"KME of {fault.node} stopped"
        await system.restart_kme(fault.node)
        return f"KME of {fault.node} restarted on its key store"
    if isinstance(fault, StalePoolFault):
        db = system.store_path(fault.node)
        if kind == "store-snapshot":
            system.snapshot_store(fault.node)
            return f"store of {fault.node} copied"
        if kind == "kme-restart-stale":
            await system.restart_kme_on(fault.node, db.with_suffix(".snapshot.sqlite"),
                                        db.with_suffix(".current.sqlite"))
            return f"KME of {fault.node} restarted on its stale copy"
        await system.restart_kme_on(fault.node, db.with_suffix(".current.sqlite"), None)
        return f"KME of {fault.node} restarted on its current store"
    if isinstance(fault, KeyExhaustFault):
        service = system.kme_service(fault.node)
        drained = 0
        if service is not None:
            for pool in service.store.pool_names():
                bits = service.store.available_bits(pool)
                if bits >= 8:
                    service.store.take(pool, bits // 8)
                    drained += bits
        return f"drained {drained} bits from the pools of {fault.node}"
    if isinstance(fault, ClassicalPathFault):
        path = system.links[fault.link].path
        if kind == "latency":
            path.latency_ms = fault.value
            return f"classical channel: +{fault.value:g} ms one way"
        path.loss = fault.value
        return f"classical channel: {fault.value:.0%} of transmissions lost (TCP retransmits)"
    if isinstance(fault, ChannelSilenceFault):
        system.links[fault.link].path.silent = kind == "channel-silent"
        return ("classical channel silent (nothing delivered, nothing closed)" if kind == "channel-silent"
                else "classical channel delivers again")
    if isinstance(fault, LinkEndFault):
        end = system.link_end(fault.link, fault.node)
        if end is None:
            return f"no link end at {fault.node} (its KME is down)"
        if kind == "link-end-kill":
            await end.stop()
            return f"link end at {fault.node} killed"
        end.start()
        return f"link end at {fault.node} started again"
    if isinstance(fault, StageErrorFault):
        faults = system.links[fault.link].faults
        faults.readout_errors[kme_id(fault.node)] = fault.count
        return f"{fault.count} block(s) at {fault.node} raise in the emulated read-out"
    if isinstance(fault, AuthBudgetFault):
        handle = system.links[fault.link]
        ends = [e for e in (system.link_end(fault.link, n) for n in handle.ends) if e is not None]
        if kind == "auth-exhaust":
            spent = [end.exhaust_pads() for end in ends]
            return f"authentication pads spent at both ends ({spent[0] if spent else 0} pads)"
        material = secrets.token_bytes(32 * PRESHARED_PADS)
        for end in ends:
            end.provision_pads(material)
        return f"{PRESHARED_PADS} fresh pre-shared pad pairs provisioned at both ends"
    raise ScenarioError(f"fault kind {kind!r} is not supported by this runner")


async def run_scenario(scenario: Scenario, state_dir: Path | None = None,
                       on_tick: Callable[[Sample, ScenarioSystem, RunRecord], None] | None = None) -> RunRecord:
    """Run ``scenario`` end to end on loopback and return what was observed."""
    owned_tmp = None
    if state_dir is None:
        owned_tmp = tempfile.TemporaryDirectory(prefix="qshift-scenario-")
        state_dir = Path(owned_tmp.name)
    record = RunRecord(scenario.name, scenario.seed)
    clock = _Clock()
    record.events.append(Event(0.0, "system", "start", f"state in {state_dir}"))

    def on_link_event(source: str, kind: str, detail: str) -> None:
        record.events.append(Event(clock.now(), source, kind, detail))

    system = ScenarioSystem(scenario, state_dir)
    try:
        try:
            await system.start(on_link_event=on_link_event)
        except (QkdError, OSError) as exc:
            raise ScenarioError(f"scenario {scenario.name!r}: the system did not start: {exc}") from exc
        deadline = time.monotonic() + TUNNEL_UP_TIMEOUT_S
        while scenario.tunnel.qkd != "required" and system.initiator_peer_status()["mode"] is None:
            if time.monotonic() > deadline:
                status = system.initiator_peer_status()
                raise ScenarioError(f"scenario {scenario.name!r}: tunnel not up after {TUNNEL_UP_TIMEOUT_S:.0f} s "
                                    f"({status.get('last_error')})")
            await asyncio.sleep(0.05)
        clock.start()
        record.events.append(Event(0.0, "system", "traffic-start",
                                   f"{scenario.traffic.streams} streams × {scenario.traffic.bytes_per_stream} B"))
        streams = [asyncio.create_task(run_stream(system.forward_port(), i, scenario.traffic.bytes_per_stream,
                                                  scenario.traffic.rate_bytes_per_s, scenario.seed, system.sink))
                   for i in range(scenario.traffic.streams)]

        async def faults() -> None:
            for fault in sorted(scenario.faults, key=lambda f: f.at_s):
                await asyncio.sleep(max(0.0, fault.at_s - clock.now()))
                detail = await _apply(fault, system)
                target = getattr(fault, "link", None) or getattr(fault, "node", None) or "system"
                record.events.append(Event(clock.now(), target, f"fault:{fault.kind}", detail))

        fault_task = asyncio.create_task(faults())
        last_mode = None
        while clock.now() < scenario.duration_s:
            status = system.initiator_peer_status()
            mode = status["mode"] if status["connected"] and status["mode"] else "down"
            t = clock.now()
            if mode != last_mode:
                if mode == "down":
                    cause = status.get("last_error") or "no session"
                else:
                    cause = (status.get("last_transition") or {}).get("cause") or ""
                record.mode_changes.append((t, mode, str(cause)))
                record.events.append(Event(t, "tunnel", f"mode:{mode}", str(cause)))
                last_mode = mode
            if status.get("last_error") and mode == "down":
                record.data_refused_reason = str(status["last_error"])
            links = {spec.name: _link_sample(system, spec.name) for spec in scenario.links}
            sample = Sample(t, links, mode, system.sink.bytes_total, int(status.get("handshakes") or 0))
            record.samples.append(sample)
            if on_tick is not None:
                on_tick(sample, system, record)
            await asyncio.sleep(SAMPLE_PERIOD_S)
        await fault_task
        done, pending = await asyncio.wait(streams, timeout=STREAM_DRAIN_TIMEOUT_S)
        for task in pending:
            task.cancel()
        record.streams = sorted((t.result() for t in done), key=lambda s: s.stream_id)
        record.duration_s = clock.now()
        return record
    finally:
        await system.stop()
        if owned_tmp is not None:
            owned_tmp.cleanup()
