"""One emulated QKD link of a scenario, running continuously: emulator → post-processing → both KMEs.

Each block: the physics emulator (``qkd.emulator.emulate_link``, in a worker thread) produces the sifted key
and parameter estimate; both ends of the post-processing pipeline (``qkd.postprocess.link.LinkEnd``, over an
authenticated in-process classical channel) reconcile, verify and amplify it; each end delivers the secret
key into its own node's KME link pool. An aborted block (QBER above threshold, failed verification) raises
the link alarm on both KMEs; a delivered block clears it. Faults act on ``eve_fraction`` and ``cut``.

Key length: every delivered key has the finite-key length of Lim et al. 2014 (ε_sec = 1e-10,
ε_cor = 1e-15), not the asymptotic rate. Blocks are 10^7 pulses (under a second of CPU), which is too
few for the finite-key bound with the efficient-BB84 presets (p_Z = 0.9: only 1 % of pulses are X-basis at
both ends, a few hundred weak-decoy X counts, single-photon bound 0). The scenario sources therefore use
balanced bases (p_Z = 0.5 at both ends) and intensity probabilities (0.5, 0.35, 0.15): at 25 km of fiber
a block then yields ~10^4 secret bits (~2·10^4 on the 2 km free-space link).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from qkd.emulator import emulate_link
from qkd.physics import FreeSpaceChannel, Link, link_preset
from qkd.postprocess.channel import in_process_pair
from qkd.postprocess.link import BlockResult, LinkEnd, LinkPolicy
from qshift.scenario.impairment import ImpairedTransport
from qshift.scenario.model import LinkSpec

PULSES_PER_BLOCK = 10_000_000
KEY_LENGTH_MODE = "finite"
#: basis and intensity choice of the scenario sources (see the module docstring)
SCENARIO_P_Z = 0.5
SCENARIO_INTENSITY_PROBABILITIES = (0.5, 0.35, 0.15)

Deposit = Callable[[str, bytes], None]
RaiseAlarm = Callable[[str, bool, float | None], None]


def emulated_link(spec: LinkSpec) -> Link:
    """The emulated hardware of a scenario link: SNSPD receivers; fiber at 0.2 dB/km, or a ground
    free-space path of ``length_km`` at night (horizontal: elevation 90° stands for no extra airmass);
    balanced-basis decoy-state source (see the module docstring)."""
    if spec.kind == "fiber":
        base = link_preset("snspd-fiber", spec.length_km)
    else:
        base = link_preset("freespace-night")
        channel = base.channel
        assert isinstance(channel, FreeSpaceChannel)
        base = replace(base, channel=replace(channel, distance_m=spec.length_km * 1e3,
                                             scintillation_log_variance=0.3 if spec.turbulence else 0.0))
    source = replace(base.source, p_z=SCENARIO_P_Z, intensity_probabilities=SCENARIO_INTENSITY_PROBABILITIES)
    return replace(base, source=source, bob_p_z=SCENARIO_P_Z)


@dataclass
class LinkState:
    """What the dashboard and the sampler read (no key material)."""

    qber: float | None = None
    secret_key_rate_bps: float = 0.0
    state: str = "starting"
    blocks_delivered: int = 0
    blocks_aborted: int = 0
    last_reason: str = ""


class _KmeSink:
    """A ``KeySink`` that deposits into one node's KME link pool."""

    def __init__(self, deposit_one: Callable[[bytes], None]) -> None:
        self._deposit_one = deposit_one

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict[str, Any]) -> None:
        self._deposit_one(key)


class LinkWorker:
    """Runs one link's blocks until stopped; ``eve_fraction`` and ``cut`` are the fault knobs."""

    def __init__(self, spec: LinkSpec, *, seed: int, deposit: Deposit, alarm: RaiseAlarm,
                 on_event: Callable[[str, str, str], None] | None = None,
                 pulses_per_block: int = PULSES_PER_BLOCK) -> None:
        self.spec = spec
        self.seed = seed
        self.link = emulated_link(spec)
        self.pulses_per_block = pulses_per_block
        self.eve_fraction = 0.0
        self.cut = False
        self.state = LinkState()
        self._deposit = deposit
        self._alarm = alarm
        self._on_event = on_event or (lambda source, kind, detail: None)
        self._block_index = 0
        self._task: asyncio.Task[None] | None = None
        policy = LinkPolicy(qber_abort=spec.qber_abort, key_length=KEY_LENGTH_MODE)
        a_channel, b_channel = in_process_pair(link_id=spec.name)
        # the classical path of each direction, impaired by the latency / loss faults (TCP semantics)
        self._classical = (ImpairedTransport(a_channel.transport, seed=seed * 2 + 1),
                           ImpairedTransport(b_channel.transport, seed=seed * 2 + 2))
        a_channel.transport, b_channel.transport = self._classical
        # Both ends deliver the same key; Bob's delivery deposits it at both nodes' KMEs together (see
        # ScenarioSystem._deposit_for), Alice's is the same bytes and is not deposited twice.
        self._alice = LinkEnd("alice", spec.name, a_channel, _KmeSink(lambda k: None), policy)
        self._bob = LinkEnd("bob", spec.name, b_channel, _KmeSink(self._deposit_unless_cut), policy)

    def _deposit_unless_cut(self, key: bytes) -> None:
        """A block whose fiber was cut while it was processed never reaches the pools."""
        if not self.cut:
            self._deposit(self.spec.name, key)

    async def run_block(self) -> BlockResult | None:
        """Emulate and post-process one block; deposit its key or raise the alarm. None when cut."""
        if self.cut:
            await asyncio.sleep(0.5)
            return None
        link = replace(self.link, intercept_resend_fraction=self.eve_fraction)
        started = time.perf_counter()
        emulated = await asyncio.to_thread(emulate_link, link, self.pulses_per_block, self.seed + self._block_index)
        sifted, estimate = emulated[0], emulated[1]
        index = self._block_index
        self._block_index += 1
        _, result = await asyncio.gather(self._alice.process_block(index, sifted, estimate),
                                         self._bob.process_block(index, sifted, estimate))
        elapsed = time.perf_counter() - started
        if self.cut:  # cut while this block was in flight: its result is void
            return None
        self.state.qber = result.qber_estimate
        if result.status == "delivered":
            self.state.blocks_delivered += 1
            self.state.secret_key_rate_bps = result.length_bits / elapsed
            if self.state.state != "running":
                self._alarm(self.spec.name, False, result.qber_estimate)
                self._on_event(self.spec.name, "link:running",
                               f"block {index} delivered {result.length_bits} bits, QBER {result.qber_estimate:.3f}")
            self.state.state = "running"
        else:
            self.state.blocks_aborted += 1
            self.state.secret_key_rate_bps = 0.0
            self.state.last_reason = f"{result.cause}: {result.reason}"
            if self.state.state != "aborted":
                self._alarm(self.spec.name, True, result.qber_estimate)
                self._on_event(self.spec.name, "link:aborted", f"block {index}: {result.cause}, QBER "
                               f"{result.qber_estimate:.3f}")
            self.state.state = "aborted"
        return result

    async def warm_up(self, blocks: int = 1) -> None:
        """Distil the first blocks before traffic starts, so the pools hold key."""
        for _ in range(blocks):
            await self.run_block()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"link-{self.spec.name}")

    async def _loop(self) -> None:
        while True:
            await self.run_block()

    def set_classical_impairment(self, *, latency_ms: float | None = None, loss: float | None = None) -> None:
        """Delay (ms, one way) and loss probability on both directions of the classical channel."""
        for transport in self._classical:
            if latency_ms is not None:
                transport.latency_ms = latency_ms
            if loss is not None:
                transport.loss = loss

    def set_cut(self, cut: bool) -> None:
        self.cut = cut
        if cut:
            self.state.state = "cut"
            self.state.secret_key_rate_bps = 0.0
            self._alarm(self.spec.name, True, None)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
