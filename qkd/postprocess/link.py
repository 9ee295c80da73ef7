"""The block protocol of a QKD link: two :class:`LinkEnd`\\ s turn one sifted block into one agreed key.

Per block, both ends in lock-step over one :class:`ClassicalChannel` (every decision is made by *both*
ends and exchanged, so they never part ways on an outcome):

1. **begin** (Alice → Bob ``block.begin``, Bob → Alice ``block.go``): block index, key ID, sizes, each
   end's verdict on the parameter estimate (QBER above ``qber_abort``, too few counts, no room in its key
   sink) and Alice's running *pool digest* (:class:`PoolDigest`, a hash chain over every block both ends
   delivered: index, key ID, length and key-confirmation tag). A different index or size raises
   :class:`BlockDesync`; a different digest raises :class:`PoolMismatch` (the two pools of the link
   differ). The block is aborted at both ends if either end's verdict is an abort.
2. **reconcile** (Cascade, Bob drives) → λ_EC = bits disclosed, counted by the channel ledger;
3. **verify** (GF(2^128) polynomial hash, fresh key) → a failed block is aborted at both ends;
4. **length** (``block.length``, both ways): ℓ from the block's own protocol (:class:`KeyBlock`):
   decoy BB84 (:class:`~qkd.postprocess.estimate.Bb84DecoyBlock`) ``finite`` = [LCWXZ14] Eq. (1) on the
   estimate's s_0, s_1, φ (``finite_key``), or ``asymptotic`` = s_1^∞ (1 − h(e_1^∞)) − λ_EC − tag bits with
   the decoy-state asymptotic Y_1 and e_1 ([MQZL05]); BBM92 (:class:`~qkd.postprocess.bbm92.Bbm92Block`)
   ``finite`` = [TLGR12] Eq. 2, ``asymptotic`` = n (1 − h(e_X)) − λ_EC − tag bits; rounded down to whole
   bytes. Both ends compute ℓ and exchange it: a difference is a ``disagreement`` abort, ℓ ≤
   ``CONFIRM_BITS`` a ``zero-length`` abort.
5. **amplify** (Toeplitz, fresh public seed) to ℓ bits. The last ``CONFIRM_BITS`` bits of the amplified
   output are the *key-confirmation tag*: it is exchanged (``block.outcome``) and never delivered, so the
   delivered ℓ − 64 bits stay uniform and independent of it (the ℓ-bit output is ε-close to uniform as a
   whole). Equal tags confirm equal keys except with probability 2^-64 (Toeplitz hashing is universal);
   different tags are a ``disagreement`` abort at both ends.
6. **checkpoint** (deferred transcript authentication, :meth:`ClassicalChannel.checkpoint`): the whole
   block's transcript, outcome exchange included, is authenticated before anything is delivered; a
   failure is an ``authentication`` abort.
7. **deliver** to the :class:`KeySink` (both ends, same key ID, same bytes), then the pool digest advances.

How many pulses a finite key needs is set by the X-basis statistics of the source, not by this code: on
25 km of fibre with p_Z = 0.9 a 10^7-pulse block gives ℓ = 0 (about 170 weak-decoy X counts lie inside
the Hoeffding band of [LCWXZ14]); with p_Z = 0.5 and intensity probabilities (0.5, 0.35, 0.15) the same
link gives ℓ > 0 from ~5·10^6 pulses.

Link kinds (:data:`PROTOCOLS`, ``LinkPolicy.protocol``): ``bb84-decoy`` and ``bbm92``. One
:class:`LinkEnd` runs both: everything protocol-specific (each end's key bits, the QBER estimate, the abort
tests on the estimate, the key length) comes from the block, through the :class:`KeyBlock` interface.

Abort causes (:data:`ABORT_CAUSES`): ``qber``, ``too-few-counts``, ``backpressure`` (a sink had no room;
not a fault of the link), ``verification``, ``zero-length``, ``disagreement``, ``authentication``, and
``witness`` (BBM92: the entanglement witness of the block is not certified, e.g. an intercept-resend
attack on one arm; see :mod:`qkd.postprocess.bbm92`). An
:class:`AlarmMonitor` follows the QBER (exponentially weighted) and emits ``qber-alarm`` / ``qber-clear``.

Pipelining: :meth:`LinkEnd.process` is :meth:`LinkEnd.prepare` (steps 1–5 and the outcome exchange, on the
block's own channel) followed by :meth:`LinkEnd.commit` (step 6–7). The link runtime runs several blocks'
``prepare`` at once, each on its own sub-channel, and commits them one at a time in block order, so the
checkpoints spend pads in the same order at both ends and the pool digest chains the blocks in order.
``block.begin`` then carries the digest as of block ``index − depth`` (``digest=``, both ends have decided
it) and a digest of the session's link hello (``session=``), which puts the hello in every block's
authenticated transcript.

What drives the ends (block sources, sessions, deadlines, heartbeats, restarts, link state) is
:mod:`qkd.runtime`; ``qkd.postprocess`` never imports it, nor ``qkd.kms`` (whose store is a :class:`KeySink`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from qkd.errors import QkdError
from qkd.postprocess.amplify import amplify_receiver, amplify_sender, words_to_bytes
from qkd.postprocess.authbudget import REFILL_BLOCKS, AuthBudget
from qkd.postprocess.cascade import CascadeReport, reconcile_alice, reconcile_bob
from qkd.postprocess.channel import AuthenticationError, ClassicalChannel
from qkd.postprocess.estimate import Bb84DecoyBlock, ParameterEstimate
from qkd.postprocess.ldpc import LdpcPolicy, reconcile_alice_ldpc, reconcile_bob_ldpc
from qkd.postprocess.sift import SiftedKey
from qkd.postprocess.verify import verify_receiver, verify_sender

log = logging.getLogger(__name__)

#: bits of the amplified output sacrificed as the key-confirmation tag (exchanged, never delivered)
CONFIRM_BITS = 64
ABORT_CAUSES = ("qber", "too-few-counts", "backpressure", "verification", "zero-length", "disagreement",
                "authentication", "witness")
#: link kinds (protocols) a :class:`LinkEnd` runs; both ends of a link must run the same one
PROTOCOLS = ("bb84-decoy", "bbm92")


class BlockDesync(QkdError, cause="desync"):
    """The two ends hold different blocks (index or size differ): the session cannot go on."""


class BlockDeadline(QkdError, cause="block-deadline"):
    """A block did not finish within the block deadline."""


class PoolMismatch(QkdError, cause="pool-mismatch"):
    """The two ends' pool digests differ: the link's key pools are no longer identical."""


class SessionMismatch(QkdError, cause="authentication"):
    """The two ends saw different link hellos (a message of the session's start was altered)."""


class LinkKindMismatch(QkdError, cause="link-kind"):
    """A block of one link kind was handed to a link end configured for another."""


class KeyBlock(Protocol):
    """One block of some link kind, as the per-block protocol needs it (the interface each protocol implements:
    decoy BB84 in :class:`qkd.postprocess.estimate.Bb84DecoyBlock`, BBM92 in
    :class:`qkd.postprocess.bbm92.Bbm92Block`).

    ``protocol``: the link kind (:data:`PROTOCOLS`). ``qber``: the bit-error estimate of the key bits
    (fraction) that reconciliation starts from and the QBER alarm follows. ``key_bits(role)``: that end's
    key bits (uint8 0/1; both ends the same length). ``check``: the protocol's own abort tests on the
    estimate, ``(cause, reason)`` or None. ``secret_length``: ℓ in bits (before the byte rounding and the
    confirmation tag the block protocol applies), the reason when ℓ = 0, and every term of the formula.
    ``report``: protocol-specific figures for the block result (or None)."""

    @property
    def protocol(self) -> str: ...

    @property
    def qber(self) -> float: ...

    def key_bits(self, role: str) -> np.ndarray: ...

    def check(self, *, qber_abort: float, key_length: str) -> tuple[str, str] | None: ...

    def secret_length(self, lambda_ec: int, *, key_length: str, eps_sec: float,
                      eps_cor: float) -> tuple[int, str, dict[str, Any]]: ...

    def report(self) -> dict[str, Any] | None: ...


class KeySink(Protocol):
    """Where secret keys go (the KME key intake implements it)."""

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict[str, Any]) -> None: ...


@dataclass
class InMemorySink:
    """A :class:`KeySink` that keeps delivered keys in a list (tests, CLI runs without a KME).

    It keeps the same stream bookkeeping as the KME's key intake (``stream_state``, ``drop_last_block``),
    so the link runtime resynchronises it the same way."""

    keys: list[tuple[str, str, bytes, dict[str, Any]]] = field(default_factory=list)

    def deliver(self, link_id: str, key_id: str, key: bytes, metadata: dict[str, Any]) -> None:
        self.keys.append((link_id, key_id, key, metadata))

    @property
    def total_bits(self) -> int:
        return sum(m["length_bits"] for _, _, _, m in self.keys)

    def stream_state(self) -> dict[str, int]:
        """``{"tail", "last_block_start"}`` in bytes, as :class:`qkd.kms.feeds.LinkKeySink` reports them."""
        tail = sum(len(k) for _, _, k, _ in self.keys)
        last = len(self.keys[-1][2]) if self.keys else 0
        return {"tail": tail, "last_block_start": tail - last}

    def drop_last_block(self, start: int) -> None:
        if not self.keys or self.stream_state()["last_block_start"] != start:
            raise QkdError(f"in-memory sink: no last block starting at byte {start}")
        self.keys.pop()

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
    #: "cascade" (interactive, hundreds of round trips, f ≈ 1.05) or "ldpc" (one-way rate-adaptive LDPC with
    #: blind retries, a few round trips, f ≈ 1.2: for links with a long classical round trip). Both ends
    #: must agree; ``ldpc`` carries the LDPC decoder settings (None: defaults).
    reconciler: str = "cascade"
    ldpc: LdpcPolicy | None = None
    #: the link kind: "bb84-decoy" (prepare and measure, decoy states) or "bbm92" (entanglement based, the
    #: entanglement witness as its alarm). Both ends must agree (the link hello refuses a mismatch).
    protocol: str = "bb84-decoy"

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"link protocol must be one of {', '.join(PROTOCOLS)}, got {self.protocol!r}")


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
    #: Bob's report of whichever reconciler ran (``reconciler``: "cascade" | "ldpc", efficiency, round trips).
    reconciliation: dict[str, Any] | None = None
    verification: dict[str, Any] | None = None   # ok, tag_bits, eps_ver (collision bound)
    key_length: dict[str, Any] | None = None
    eps_sec: float = 0.0
    eps_cor: float = 0.0
    seconds: float = 0.0
    protocol: str = "bb84-decoy"
    #: BBM92: the entanglement witness of the block (E_Z, E_X, their upper bounds, certified, implied CHSH S)
    witness: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PoolDigest:
    """A running hash over the blocks a link end delivered: SHA-256 chain over (link, index, key ID, length,
    key-confirmation tag). Equal at both ends exactly when both delivered the same blocks (to 2^-64 per
    block, the confirmation tag's collision bound). It holds no key material: the confirmation tag is
    public (sacrificed from the amplified output) and the rest is metadata."""

    def __init__(self, link_id: str) -> None:
        self.value = hashlib.sha256(b"qshift/pool-digest/v1|" + link_id.encode()).hexdigest()
        self.blocks = 0

    def advance(self, index: int, key_id: str, length_bits: int, confirm: str) -> None:
        line = f"{self.value}|{index}|{key_id}|{length_bits}|{confirm}".encode()
        self.value = hashlib.sha256(line).hexdigest()
        self.blocks += 1

    def matches(self, other: str) -> bool:
        return hmac.compare_digest(self.value, other)


VerdictValue = int | str | None



@dataclass(frozen=True)
class Verdict:
    """One end's decision at a step of the block protocol (``ok`` or an abort ``cause`` with a reason).

    ``value``: what the step decided, compared between the ends where they must agree: the number of bits
    the block may distil (begin), the key length ℓ (length), the key-confirmation tag in hex (outcome)."""

    ok: bool
    cause: str = ""
    reason: str = ""
    value: VerdictValue = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "cause": self.cause, "reason": self.reason, "value": self.value}

    @classmethod
    def from_json(cls, body: object, where: str) -> Verdict:
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise BlockDesync(f"{where}: malformed verdict from the peer")
        value = body.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
            raise BlockDesync(f"{where}: verdict value {value!r} from the peer is neither a number of bits nor a tag")
        return cls(body["ok"], str(body.get("cause", "")), str(body.get("reason", "")), value)


def joint(mine: Verdict, peer: Verdict, *, compare_values: bool = False) -> Verdict:
    """The decision both ends take from their two verdicts: abort if either aborts (this end's cause
    first), ``disagreement`` if ``compare_values`` and the values differ, else this end's verdict."""
    if not mine.ok:
        return mine
    if not peer.ok:
        return Verdict(False, peer.cause, f"peer: {peer.reason}")
    if compare_values and mine.value != peer.value:
        return Verdict(False, "disagreement", f"the ends differ: {mine.value!r} here, {peer.value!r} at the peer")
    return mine


@dataclass
class PreparedBlock:
    """A block run up to its commit by :meth:`LinkEnd.prepare`: ``verdict`` is the joint decision so far
    (an abort, or ``ok`` with ``key`` to deliver); ``checkpoint``: the block reached the outcome exchange,
    so its transcript is authenticated at commit before anything is decided. ``length``: ℓ in bits (the
    confirmation tag included), ``confirm``: the tag in hex."""

    result: BlockResult
    verdict: Verdict
    channel: ClassicalChannel
    t0: float
    checkpoint: bool = False
    key: bytes = b""
    length: int = 0
    confirm: str = ""


class LinkEnd:
    """One end of a link: ``role`` ``alice`` (transmitter, speaks first) or ``bob`` (receiver).

    ``headroom_bits``: how many bits the sink can still take (back-pressure; ``None``: unbounded).
    ``budget``: the Wegman–Carter pad budget, for channels that spend key on authentication."""

    def __init__(self, role: str, link_id: str, channel: ClassicalChannel, sink: KeySink,
                 policy: LinkPolicy | None = None, *, budget: AuthBudget | None = None,
                 headroom_bits: Callable[[], int] | None = None, digest: PoolDigest | None = None,
                 block_timeout_s: float | None = None) -> None:
        if role not in ("alice", "bob"):
            raise ValueError(f"role must be 'alice' or 'bob', got {role!r}")
        self.role = role
        self.link_id = link_id
        self.channel = channel
        self.sink = sink
        self.policy = policy or LinkPolicy()
        self.budget = budget
        self.headroom_bits = headroom_bits
        self.digest = digest or PoolDigest(link_id)
        self.block_timeout_s = block_timeout_s
        self.alarms = AlarmMonitor(link_id, self.policy.alarm_threshold)
        self.last_result: BlockResult | None = None     # the runtime keeps the history (bounded)
        #: blocks' worth of authentication pads kept in reserve at refills (a pipelined runtime: its blocks in flight)
        self.pad_reserve_blocks = REFILL_BLOCKS

    # -- verdicts ------------------------------------------------------------------------------------
    def _estimate_verdict(self, n: int, block: KeyBlock, reserved_bits: int = 0) -> Verdict:
        pol = self.policy
        abort = block.check(qber_abort=pol.qber_abort, key_length=pol.key_length)
        if abort is not None:
            return Verdict(False, *abort)
        if self.headroom_bits is not None:
            room = self.headroom_bits() - reserved_bits     # blocks ahead of this one in flight may fill it first
            if room < n:
                return Verdict(False, "backpressure", f"the key sink has room for {room} bits, the block may "
                                                      f"distil up to {n}")
        return Verdict(True, value=n)

    def _length(self, block: KeyBlock, lambda_ec: int, n: int, res: BlockResult) -> Verdict:
        """ℓ (whole bytes, the confirmation tag included) and every term of its formula in ``res``."""
        pol = self.policy
        length, reason, terms = block.secret_length(lambda_ec, key_length=pol.key_length, eps_sec=pol.eps_sec,
                                                    eps_cor=pol.eps_cor)
        res.key_length = terms
        # whole bytes only: a key delivered as bytes must carry no padding bits that are not secret
        length = min(max(length, 0), n) // 8 * 8
        if length <= CONFIRM_BITS:
            return Verdict(False, "zero-length", reason or f"{length} secret bits: no more than the "
                                                           f"{CONFIRM_BITS}-bit confirmation tag", value=length)
        return Verdict(True, value=length)

    async def _exchange(self, ch: ClassicalChannel, kind: str, mine: Verdict, *,
                        compare_values: bool = False) -> Verdict:
        """Alice sends her verdict first, Bob answers with his; both return the joint decision."""
        if self.role == "alice":
            await ch.send(kind, json.dumps(mine.to_json()).encode())
            _, body = await ch.recv(kind)
        else:
            _, body = await ch.recv(kind)
            await ch.send(kind, json.dumps(mine.to_json()).encode())
        return joint(mine, Verdict.from_json(json.loads(body), f"link {self.link_id!r} {kind}"),
                     compare_values=compare_values)

    # -- one block -------------------------------------------------------------------------------------
    async def process_block(self, index: int, sifted: SiftedKey, estimate: ParameterEstimate) -> BlockResult:
        """:meth:`process` for a decoy-BB84 block given as its sifted key and parameter estimate."""
        return await self.process(index, Bb84DecoyBlock(sifted, estimate))

    async def process(self, index: int, block: KeyBlock) -> BlockResult:
        """Run one block of the link's kind through begin → reconcile → verify → length → amplify → confirm →
        deliver (:meth:`prepare`, then :meth:`commit`).

        Returns the outcome both ends agreed on. Raises :class:`LinkKindMismatch` (a block of another link
        kind), :class:`BlockDesync` or :class:`PoolMismatch` (the session cannot go on), channel errors, or
        the sink's error."""
        return await self.commit(await self.prepare(index, block))

    async def prepare(self, index: int, block: KeyBlock, *, channel: ClassicalChannel | None = None,
                      digest: str | None = None, session: str | None = None,
                      reserved_bits: int = 0) -> PreparedBlock:
        """Steps 1–5 and the outcome exchange of one block on ``channel`` (default: this end's channel);
        nothing is delivered and no pad is spent until :meth:`commit`.

        ``digest``: the pool digest both ends compare at ``block.begin`` (default: the current one; a
        pipelined runtime gives the digest as of the last block both ends had decided when this one was
        admitted). ``session``: the digest of the session's link hello, compared too. ``reserved_bits``:
        key-sink room that blocks ahead of this one may still take (back-pressure). The block deadline
        (``block_timeout_s``) bounds everything after ``begin``."""
        if block.protocol != self.policy.protocol:
            raise LinkKindMismatch(f"link {self.link_id!r} block {index}: a {block.protocol!r} block on a link "
                                   f"configured for {self.policy.protocol!r}")
        ch = channel if channel is not None else self.channel
        t0 = time.perf_counter()
        bits = np.ascontiguousarray(block.key_bits(self.role), dtype=np.uint8)
        n = int(bits.size)
        qber = float(block.qber)
        mine = self._estimate_verdict(n, block, reserved_bits)
        key_id, go = await self._begin(ch, index, n, mine, digest, session)
        res = BlockResult(index, key_id, "aborted", n_sifted=n, qber_estimate=qber, eps_sec=self.policy.eps_sec,
                          eps_cor=self.policy.eps_cor, protocol=block.protocol, witness=block.report())
        if not go.ok:
            return PreparedBlock(res, go, ch, t0)
        if self.block_timeout_s is None:
            return await self._distil(ch, bits, block, res, t0)
        try:
            async with asyncio.timeout(self.block_timeout_s):
                return await self._distil(ch, bits, block, res, t0)
        except TimeoutError:
            raise BlockDeadline(f"link {self.link_id!r} block {index}: not finished within the block deadline of "
                                f"{self.block_timeout_s} s") from None

    async def _distil(self, ch: ClassicalChannel, bits: np.ndarray, block: KeyBlock, res: BlockResult,
                      t0: float) -> PreparedBlock:
        """Steps 2–5 and the outcome exchange of a block both ends decided to run (see the module docstring)."""
        n, qber = res.n_sifted, res.qber_estimate
        bits, lambda_ec = await self._reconcile(ch, bits, qber, res)
        ver = await (verify_sender(ch, bits) if self.role == "alice" else verify_receiver(ch, bits))
        res.disclosed_bits = lambda_ec + ver.disclosed_bits
        res.verification = {"ok": ver.ok, "tag_bits": ver.disclosed_bits, "eps_ver": ver.eps_ver}
        if not ver.ok:
            return PreparedBlock(res, Verdict(False, "verification", "keys differ after reconciliation"), ch, t0)
        agreed = await self._exchange(ch, "block.length", self._length(block, lambda_ec, n, res),
                                      compare_values=True)
        if not agreed.ok:
            return PreparedBlock(res, agreed, ch, t0)
        length = int(agreed.value or 0)
        words = await (amplify_sender(ch, bits, length) if self.role == "alice" else amplify_receiver(ch, bits))
        amplified = words_to_bytes(words, length)
        key, confirm = amplified[:-CONFIRM_BITS // 8], amplified[-CONFIRM_BITS // 8:].hex()
        outcome = await self._exchange(ch, "block.outcome", Verdict(True, value=confirm), compare_values=True)
        return PreparedBlock(res, outcome, ch, t0, checkpoint=True, key=key, length=length, confirm=confirm)

    async def commit(self, prepared: PreparedBlock) -> BlockResult:
        """Steps 6–7: authenticate the block's transcript (when it reached the outcome exchange), then deliver
        the key and advance the pool digest — or record the abort both ends agreed on. Blocks are committed
        in block order (the pads of the checkpoints and the digest chain depend on it)."""
        res, verdict, t0 = prepared.result, prepared.verdict, prepared.t0
        self.alarms.update(res.qber_estimate, res.block_index)
        if not prepared.checkpoint:
            return self._done(res, verdict, t0)
        try:
            await prepared.channel.checkpoint()
        except AuthenticationError as exc:
            return self._done(res, Verdict(False, "authentication", str(exc)), t0)
        if not verdict.ok:
            return self._done(res, verdict, t0)
        key = prepared.key
        if self.budget is not None:
            self.budget.block_done()
            key = self.budget.refill_from(key, self.pad_reserve_blocks)
        index, n, qber = res.block_index, res.n_sifted, res.qber_estimate
        res.status, res.length_bits = "delivered", 8 * len(key)
        meta = {"block_index": index, "length_bits": res.length_bits, "n_sifted": n, "qber": qber,
                "disclosed_bits": res.disclosed_bits, "eps_sec": self.policy.eps_sec, "eps_cor": self.policy.eps_cor,
                "key_length_mode": self.policy.key_length, "role": self.role, "protocol": res.protocol}
        self.sink.deliver(self.link_id, res.key_id, key, meta)
        self.digest.advance(index, res.key_id, prepared.length, prepared.confirm)
        return self._done(res, Verdict(True), t0)

    async def abort_block(self, index: int, cause: str, reason: str) -> BlockResult:
        """A block this end has no input for (e.g. no detections): run ``begin`` with an abort verdict, so
        both ends record the same aborted block and stay in step."""
        return await self.commit(await self.prepare_abort(index, cause, reason))

    async def prepare_abort(self, index: int, cause: str, reason: str, *, channel: ClassicalChannel | None = None,
                            digest: str | None = None, session: str | None = None) -> PreparedBlock:
        """:meth:`abort_block` up to its commit (``channel``, ``digest``, ``session`` as in :meth:`prepare`)."""
        ch = channel if channel is not None else self.channel
        t0 = time.perf_counter()
        key_id, go = await self._begin(ch, index, 0, Verdict(False, cause, reason), digest, session)
        res = BlockResult(index, key_id, "aborted", eps_sec=self.policy.eps_sec, eps_cor=self.policy.eps_cor,
                          protocol=self.policy.protocol)
        return PreparedBlock(res, go, ch, t0)

    async def _begin(self, ch: ClassicalChannel, index: int, n: int, mine: Verdict, digest: str | None = None,
                     session: str | None = None) -> tuple[str, Verdict]:
        """``block.begin`` / ``block.go``: key ID, index and size checks, pool digests, joint verdict."""
        where = f"link {self.link_id!r} block {index}"
        digest = self.digest.value if digest is None else digest
        if self.role == "alice":
            key_id = str(uuid.uuid4())
            head = {"index": index, "key_id": key_id, "n": n, "digest": digest, "verdict": mine.to_json()}
            if session is not None:
                head["session"] = session
            await ch.send("block.begin", json.dumps(head).encode())
            _, body = await ch.recv("block.go", idle=True)     # Bob may still be preparing the block
            return key_id, joint(mine, Verdict.from_json(json.loads(body), where))
        _, body = await ch.recv("block.begin", idle=True)  # Alice may still be preparing the block
        head = json.loads(body)
        peer = Verdict.from_json(head.get("verdict") if isinstance(head, dict) else None, where)
        if head.get("index") != index or (head.get("n") != n and mine.ok and peer.ok):
            raise BlockDesync(f"{where}: Alice announces block {head.get('index')} of {head.get('n')} bits, "
                              f"Bob holds block {index} of {n} bits")
        if session is not None and not hmac.compare_digest(str(head.get("session", "")), session):
            raise SessionMismatch(f"{where}: Alice saw another link hello than Bob (the session's start was "
                                  f"altered on the classical channel)")
        if not hmac.compare_digest(digest, str(head.get("digest", ""))):
            raise PoolMismatch(f"{where}: the pool digests of the two ends differ after {self.digest.blocks} "
                               f"delivered blocks here: the link's key pools are not identical")
        await ch.send("block.go", json.dumps(mine.to_json()).encode())
        return str(head["key_id"]), joint(mine, peer)

    async def _reconcile(self, ch: ClassicalChannel, bits: np.ndarray, qber: float,
                         res: BlockResult) -> tuple[np.ndarray, int]:
        before = ch.ledger.disclosed_bits
        report: CascadeReport | None = None
        if self.policy.reconciler == "ldpc":
            if self.role == "bob":
                bits, ldpc = await reconcile_bob_ldpc(ch, bits, max(qber, 1e-4), self.policy.ldpc)
                res.reconciliation = {"reconciler": "ldpc", **ldpc.to_dict()}
            else:
                await reconcile_alice_ldpc(ch, bits)
        elif self.role == "bob":
            bits, report = await reconcile_bob(ch, bits, max(qber, 1e-4), self.policy.cascade_variant)
            res.cascade = report.to_dict()
            res.reconciliation = {"reconciler": "cascade", **res.cascade}
        else:
            await reconcile_alice(ch, bits)
        return bits, ch.ledger.disclosed_bits - before

    def _done(self, res: BlockResult, verdict: Verdict, t0: float) -> BlockResult:
        if not verdict.ok:
            res.status, res.cause, res.reason = "aborted", verdict.cause, verdict.reason
        res.seconds = time.perf_counter() - t0
        self.last_result = res
        log.info("block processed", extra={"event": "qkd.block", "link_id": self.link_id, "role": self.role,
                                           "block": res.block_index, "status": res.status, "cause": res.cause,
                                           "bits": res.length_bits})
        return res


__all__ = ["ABORT_CAUSES", "CONFIRM_BITS", "PROTOCOLS", "Alarm", "AlarmMonitor", "BlockDeadline", "BlockDesync",
           "BlockResult", "InMemorySink", "KeyBlock", "KeySink", "LinkEnd", "LinkKindMismatch", "LinkPolicy",
           "PoolDigest", "PoolMismatch", "PreparedBlock", "SessionMismatch", "Verdict", "joint"]
