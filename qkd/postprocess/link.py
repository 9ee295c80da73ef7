"""The continuous link pipeline: two :class:`LinkEnd`s turn sifted blocks into delivered secret keys.

Per block (both ends in lock-step over one :class:`ClassicalChannel`):

1. ``block.begin`` (Alice → Bob): block index, key ID, sizes. Abort checks on the parameter estimate:
   QBER above ``qber_abort`` or too few counts → abort, nothing delivered.
2. reconcile (Cascade, Bob drives) → λ_EC = bits disclosed, counted by the channel ledger;
3. verify (GF(2^128) polynomial hash, fresh key) → a failed block is discarded and counted;
4. key length: ``finite`` = [LCWXZ14] Eq. (1) on the estimate's s_0, s_1, φ (``finite_key``), or
   ``asymptotic`` = s_1^∞ (1 − h(e_1^∞)) − λ_EC − tag bits, with the decoy-state asymptotic
   single-photon yield Y_1 and error e_1 of the estimate ([MQZL05]; for emulated runs too short to
   give a finite-key length). ℓ = 0 → abort with the reason.
   How many pulses a finite key needs is set by the X-basis (phase-error) statistics, i.e. by the
   source's basis and intensity probabilities, not by this code: on 25 km of fibre (``snspd-fiber``,
   p_Z = 0.9 at both ends, so 1 % of pulses are X–X; decoy probability 0.1) the weak-decoy X counts
   of a 10^7-pulse block (~170) lie inside the Hoeffding band of [LCWXZ14] (±~300 counts), so
   s_{X,1} = 0, φ = ½ and ℓ = 0; ℓ > 0 from ~4·10^8 pulses (10^9 pulses: 6.5·10^-3 bit/pulse, half
   the asymptotic rate). With p_Z = 0.5 and intensity probabilities (0.5, 0.35, 0.15) the same link
   gives ℓ > 0 from ~5·10^6 pulses (10^7 pulses: 1.2·10^-3 bit/pulse);
5. amplify (Toeplitz, fresh public seed) to ℓ rounded down to whole bytes (a key travels as bytes and
   must carry no non-secret padding bits) → both ends deliver ``(link_id, key_id, key, metadata)`` to
   their :class:`KeySink`.

Abort causes: ``qber``, ``too-few-counts``, ``verification``, ``zero-length``, ``authentication``
(the transcript tag of a deferred-authentication channel does not verify). An
:class:`AlarmMonitor` follows the QBER (exponentially weighted) and emits ``qber-alarm`` /
``qber-clear`` events to subscribers (the gateway and the KME can register callables).

``qkd.postprocess`` never imports ``qkd.kms``: the KME key store implements :class:`KeySink`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from qkd.postprocess.amplify import amplify_receiver, amplify_sender, words_to_bytes
from qkd.postprocess.cascade import CascadeReport, binary_entropy, reconcile_alice, reconcile_bob
from qkd.postprocess.channel import AuthenticationError, ClassicalChannel, WegmanCarterAuth, in_process_pair
from qkd.postprocess.finite_key import TAG_BITS, lim2014_length
from qkd.postprocess.verify import verify_receiver, verify_sender

log = logging.getLogger(__name__)


class KeySink(Protocol):
    """Where secret keys go (the KME key store implements it)."""

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict[str, Any]) -> None: ...


@dataclass
class InMemorySink:
    """A :class:`KeySink` that keeps delivered keys in a list (tests, CLI runs without a KME)."""

    keys: list[tuple[str, str, bytes, dict[str, Any]]] = field(default_factory=list)

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict[str, Any]) -> None:
        self.keys.append((link_id, key_id, key, metadata))

    @property
    def total_bits(self) -> int:
        return sum(m["length_bits"] for _, _, _, m in self.keys)

    def __repr__(self) -> str:  # never show key material
        return f"InMemorySink({len(self.keys)} keys, {self.total_bits} bits)"


@dataclass(frozen=True)
class Alarm:
    """An alarm event: ``kind`` is ``qber-alarm`` or ``qber-clear``; ``qber`` the smoothed value."""

    kind: str
    link_id: str
    qber: float
    threshold: float
    block_index: int


class AlarmMonitor:
    """Exponentially weighted QBER (weight ``alpha`` for the newest block); raises ``qber-alarm``
    when it crosses ``threshold`` upwards and ``qber-clear`` when it falls below ``0.8 threshold``."""

    def __init__(self, link_id: str, threshold: float = 0.08, alpha: float = 0.3) -> None:
        self.link_id = link_id
        self.threshold = threshold
        self.alpha = alpha
        self.smoothed: float | None = None
        self.active = False
        self._subscribers: list[Callable[[Alarm], None]] = []
        self.events: list[Alarm] = []

    def subscribe(self, callback: Callable[[Alarm], None]) -> None:
        self._subscribers.append(callback)

    def update(self, qber: float, block_index: int) -> None:
        if not math.isfinite(qber):
            return
        self.smoothed = qber if self.smoothed is None else self.alpha * qber + (1 - self.alpha) * self.smoothed
        kind = None
        if not self.active and self.smoothed > self.threshold:
            self.active, kind = True, "qber-alarm"
        elif self.active and self.smoothed < 0.8 * self.threshold:
            self.active, kind = False, "qber-clear"
        if kind:
            ev = Alarm(kind, self.link_id, self.smoothed, self.threshold, block_index)
            self.events.append(ev)
            log.warning("QBER alarm event", extra={"event": kind, "link_id": self.link_id,
                                                   "qber": round(self.smoothed, 5), "block": block_index})
            for cb in self._subscribers:
                cb(ev)


@dataclass(frozen=True)
class LinkPolicy:
    """Per-link post-processing parameters (ε in absolute terms, QBER as a fraction)."""

    cascade_variant: str = "default"
    qber_abort: float = 0.11
    eps_sec: float = 1e-10
    eps_cor: float = 1e-15
    key_length: str = "finite"          # "finite" ([LCWXZ14]) or "asymptotic"
    alarm_threshold: float = 0.08
    pad_low_water: int = 64             # Wegman–Carter pads per direction before refilling
    pad_refill: int = 256               # pads per direction taken from distilled key (128 bits each)


@dataclass
class BlockResult:
    """What happened to one block. ``status``: ``delivered`` or ``aborted`` (then ``cause``, ``reason``).

    ``cascade``: Bob's :class:`CascadeReport` (bits disclosed, efficiency f, round trips); ``verification``:
    whether the hash tags agreed — a delivered block has passed it, so its residual errors are 0 except
    with probability ≤ ``eps_ver`` (≤ 2^-64); ``key_length``: every term of the length formula."""

    block_index: int
    key_id: str
    status: str
    cause: str = ""
    reason: str = ""
    n_sifted: int = 0
    qber_estimate: float = float("nan")
    length_bits: int = 0
    disclosed_bits: int = 0
    cascade: dict[str, Any] | None = None
    verification: dict[str, Any] | None = None   # ok, tag_bits, eps_ver (collision bound)
    key_length: dict[str, Any] | None = None
    eps_sec: float = 0.0
    eps_cor: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _asymptotic_entropy(estimate: Any, sifted: Any) -> tuple[float, float, str]:
    """(s1, e1, reason) from the decoy asymptotic Y_1 and e_1 of the estimate, for the signal bits."""
    y1 = float(getattr(estimate, "y1_lower_asymptotic", float("nan")))
    e1 = float(getattr(estimate, "e1_upper_asymptotic", float("nan")))
    if not (math.isfinite(y1) and math.isfinite(e1)) or y1 <= 0:
        return 0.0, 0.5, "decoy estimate gives no single-photon yield"
    mu = float(sifted.intensities[0])
    gain = float(estimate.gains[0]) if estimate.gains else 0.0
    n_signal = int(np.count_nonzero(sifted.key_intensity == 0))
    if gain <= 0:
        return 0.0, 0.5, "no detections at the signal intensity"
    frac = min(y1 * mu * math.exp(-mu) / gain, 1.0)
    return n_signal * frac, min(max(e1, 0.0), 0.5), ""


class LinkEnd:
    """One end of a link: ``role`` ``alice`` (transmitter) or ``bob`` (receiver)."""

    def __init__(self, role: str, link_id: str, channel: ClassicalChannel, sink: KeySink,
                 policy: LinkPolicy | None = None) -> None:
        if role not in ("alice", "bob"):
            raise ValueError(f"role must be 'alice' or 'bob', got {role!r}")
        self.role = role
        self.link_id = link_id
        self.channel = channel
        self.sink = sink
        self.policy = policy or LinkPolicy()
        self.alarms = AlarmMonitor(link_id, self.policy.alarm_threshold)
        self.results: list[BlockResult] = []

    async def process_block(self, index: int, sifted: Any, estimate: Any) -> BlockResult:
        """Run one block through reconcile → verify → amplify → deliver (or abort)."""
        t0 = time.perf_counter()
        pol = self.policy
        ch = self.channel
        bits = np.ascontiguousarray(sifted.alice_bits if self.role == "alice" else sifted.bob_bits, dtype=np.uint8)
        n = int(bits.size)
        qber = float(estimate.qber_z)
        if self.role == "alice":
            key_id = str(uuid.uuid4())
            await ch.send("block.begin", json.dumps({"index": index, "key_id": key_id, "n": n}).encode())
        else:
            _, body = await ch.recv("block.begin")
            head = json.loads(body)
            key_id = head["key_id"]
            if head["n"] != n or head["index"] != index:
                raise ValueError(f"block {index}: Alice announces block {head['index']} of {head['n']} bits, "
                                 f"Bob holds {n}")
        res = BlockResult(index, key_id, "aborted", n_sifted=n, qber_estimate=qber, eps_sec=pol.eps_sec,
                          eps_cor=pol.eps_cor)
        self.alarms.update(qber, index)

        def done(r: BlockResult) -> BlockResult:
            r.seconds = time.perf_counter() - t0
            self.results.append(r)
            log.info("block processed", extra={"event": "qkd.block", "link_id": self.link_id, "role": self.role,
                                               "block": index, "status": r.status, "cause": r.cause,
                                               "bits": r.length_bits})
            return r

        if not math.isfinite(qber) or qber > pol.qber_abort:
            res.cause, res.reason = "qber", f"QBER estimate {qber:.4f} above the abort threshold {pol.qber_abort}"
            return done(res)
        if n == 0 or (pol.key_length == "finite" and estimate.single_photon_lower <= 0):
            res.cause = "too-few-counts"
            res.reason = f"{n} sifted bits, single-photon lower bound {estimate.single_photon_lower}"
            return done(res)
        # reconcile
        before = ch.ledger.disclosed_bits
        report: CascadeReport | None = None
        if self.role == "bob":
            bits, report = await reconcile_bob(ch, bits, max(qber, 1e-4), pol.cascade_variant)
            res.cascade = report.to_dict()
        else:
            await reconcile_alice(ch, bits)
        lambda_ec = ch.ledger.disclosed_bits - before
        # verify
        ver = await (verify_sender(ch, bits) if self.role == "alice" else verify_receiver(ch, bits))
        res.disclosed_bits = ch.ledger.disclosed_bits - before
        res.verification = {"ok": ver.ok, "tag_bits": ver.disclosed_bits, "eps_ver": ver.eps_ver}
        if not ver.ok:
            res.cause, res.reason = "verification", "keys differ after reconciliation (hash tags differ)"
            return done(res)
        # key length
        if pol.key_length == "finite":
            kl = lim2014_length(estimate.vacuum_lower, estimate.single_photon_lower, estimate.phase_error_upper,
                                lambda_ec, pol.eps_sec, pol.eps_cor, TAG_BITS)
            length, reason = kl.length, kl.reason
            res.key_length = kl.to_dict()
        else:
            s1, e1, reason = _asymptotic_entropy(estimate, sifted)
            raw = s1 * (1 - binary_entropy(e1)) - lambda_ec - TAG_BITS
            length = max(int(math.floor(raw)), 0) if not reason else 0
            res.key_length = {"mode": "asymptotic", "s1": s1, "e1": e1, "lambda_ec": lambda_ec,
                              "tag_bits": TAG_BITS, "length": length}
            if length == 0 and not reason:
                reason = f"λ_EC = {lambda_ec} bits exceeds s1(1 − h(e1)) = {s1 * (1 - binary_entropy(e1)):.0f}"
        if length <= 0:
            res.cause, res.reason = "zero-length", reason
            return done(res)
        # whole bytes only: a key delivered as bytes must not carry padding bits that are not secret
        length = min(length, n) // 8 * 8
        if length <= 0:
            res.cause, res.reason = "zero-length", "fewer than 8 secret bits"
            return done(res)
        # amplify
        if self.role == "alice":
            words = await amplify_sender(ch, bits, length)
        else:
            words = await amplify_receiver(ch, bits)
        try:
            await ch.checkpoint()
        except AuthenticationError as exc:
            res.cause, res.reason = "authentication", str(exc)
            return done(res)
        key = words_to_bytes(words, length)
        key, used = self._refill_pads(key)
        length = len(key) * 8 if used else length
        if length <= 0:
            res.cause, res.reason = "zero-length", "the whole key went to authentication pads"
            return done(res)
        res.status, res.length_bits = "delivered", length
        meta = {"block_index": index, "length_bits": length, "n_sifted": n, "qber": qber,
                "disclosed_bits": res.disclosed_bits, "eps_sec": pol.eps_sec, "eps_cor": pol.eps_cor,
                "key_length_mode": pol.key_length, "role": self.role}
        self.sink.deliver(self.link_id, key_id, key, meta)
        return done(res)


    def _refill_pads(self, key: bytes) -> tuple[bytes, int]:
        """Wegman–Carter channels: when either direction has fewer than ``pad_low_water`` pads, take
        ``pad_refill`` pads per direction (16 bytes each) from the front of the fresh key, identically
        at both ends, and deliver the rest. Returns (key to deliver, bytes used)."""
        auth = self.channel.auth
        if not isinstance(auth, WegmanCarterAuth):
            return key, 0
        pol = self.policy
        if min(auth.pads_available(0), auth.pads_available(1)) >= pol.pad_low_water:
            return key, 0
        need = 2 * 16 * pol.pad_refill
        if len(key) < 2 * need:
            need = (len(key) // 2) // 32 * 32
        if need == 0:
            return key, 0
        half = need // 2
        auth.replenish(key[:half], key[half:need])
        log.info("authentication pads refilled from distilled key",
                 extra={"event": "qkd.auth_refill", "link_id": self.link_id, "bits": 8 * need})
        return key[need:], need


Block = tuple[Any, Any]


def emulated_blocks(link: Any, pulses_per_block: int, seed: int, n_blocks: int | None = None,
                    z_sample_fraction: float = 0.05) -> Iterator[Block]:
    """(SiftedKey, ParameterEstimate) per block from the physics emulator (``qkd.emulator``)."""
    from qkd.emulator import emulate_link

    i = 0
    while n_blocks is None or i < n_blocks:
        yield emulate_link(link, pulses_per_block, seed + i, z_sample_fraction=z_sample_fraction)
        i += 1


def recorded_blocks(recordings: Iterable[tuple[Any, Any]], *, window_ps: float, z_sample_fraction: float = 0.05,
                    eps_sec: float = 1e-10, seed: int = 0) -> Iterator[Block]:
    """(SiftedKey, ParameterEstimate) per recorded acquisition: ``recordings`` yields ``(path, tx)``, a
    time-tag file in any format :func:`qkd.events.formats.read_timetags` reads (PTU, quTAG, native, CSV)
    and the transmitter's record of the same acquisition. Files are read lazily, one block at a time."""
    from qkd.events.formats import read_timetags
    from qkd.postprocess.estimate import estimate
    from qkd.postprocess.sift import sift

    for i, (path, tx) in enumerate(recordings):
        key = sift(read_timetags(path), tx, window_ps=window_ps, z_sample_fraction=z_sample_fraction, seed=seed + i)
        yield key, estimate(key, eps_sec=eps_sec)


def with_eavesdropper(link: Any, fraction: float) -> Any:
    """The same link with an intercept-resend attack on ``fraction`` of the pulses (emulator)."""
    return replace(link, intercept_resend_fraction=fraction)


@dataclass
class LinkRun:
    """Both ends' block results and sinks of :func:`run_link`."""

    link_id: str
    alice: list[BlockResult]
    bob: list[BlockResult]
    alice_sink: KeySink
    bob_sink: KeySink
    alarms: list[Alarm]
    seconds: float
    disclosed_bits: int

    def summary(self) -> dict[str, Any]:
        delivered = [r for r in self.bob if r.status == "delivered"]
        aborted: dict[str, int] = {}
        for r in self.bob:
            if r.status != "delivered":
                aborted[r.cause] = aborted.get(r.cause, 0) + 1
        sifted = sum(r.n_sifted for r in self.bob)
        secret = sum(r.length_bits for r in delivered)
        effs = [r.cascade["efficiency_realised"] for r in self.bob if r.cascade and
                math.isfinite(r.cascade["efficiency_realised"])]
        return {"link_id": self.link_id, "blocks": len(self.bob), "delivered": len(delivered), "aborted": aborted,
                "sifted_bits": sifted, "secret_bits": secret, "seconds": self.seconds,
                "mean_qber": float(np.nanmean([r.qber_estimate for r in self.bob])) if self.bob else float("nan"),
                "mean_efficiency": float(np.mean(effs)) if effs else float("nan"),
                "disclosed_bits": self.disclosed_bits, "alarms": [asdict(a) for a in self.alarms]}


async def run_link(blocks: Iterable[Block], link_id: str = "link", policy: LinkPolicy | None = None,
                   alice_sink: KeySink | None = None, bob_sink: KeySink | None = None,
                   on_block: Callable[[BlockResult, BlockResult], None] | None = None,
                   channels: tuple[ClassicalChannel, ClassicalChannel] | None = None) -> LinkRun:
    """Run both ends in-process (one in-process authenticated channel unless ``channels`` given) over
    ``blocks``; ``on_block(alice_result, bob_result)`` is called after each block (live display)."""
    t0 = time.perf_counter()
    a_ch, b_ch = channels or in_process_pair(link_id=link_id, deferred=True)
    alice_sink = alice_sink if alice_sink is not None else InMemorySink()
    bob_sink = bob_sink if bob_sink is not None else InMemorySink()
    alice = LinkEnd("alice", link_id, a_ch, alice_sink, policy)
    bob = LinkEnd("bob", link_id, b_ch, bob_sink, policy)
    for i, (sifted, est) in enumerate(blocks):
        ra, rb = await asyncio.gather(alice.process_block(i, sifted, est), bob.process_block(i, sifted, est))
        if on_block:
            on_block(ra, rb)
    return LinkRun(link_id, alice.results, bob.results, alice_sink, bob_sink, bob.alarms.events,
                   time.perf_counter() - t0, b_ch.ledger.disclosed_bits)


__all__ = ["Alarm", "AlarmMonitor", "BlockResult", "InMemorySink", "KeySink", "LinkEnd", "LinkPolicy", "LinkRun",
           "emulated_blocks", "recorded_blocks", "run_link", "with_eavesdropper"]
