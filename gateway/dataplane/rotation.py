"""Rotating the WireGuard PSK of one peer with every epoch of the gateway session, and policing its age.

One :class:`WireGuardPskRotator` per (WireGuard interface, peer). The gateway hands it every new epoch
of the session with that peer (:meth:`~WireGuardPskRotator.offer`, called from the service's
``keys_installed`` hook while the epoch's keys are live); the rotator derives the epoch's PSK
(:mod:`gateway.dataplane.psk`) at once and a supervised task installs it on the local interface.

**How both ends switch without losing a packet** (the Rosenpass argument). WireGuard mixes the PSK into
its Noise handshake only; the keypairs a handshake produced stay in use until Reject-After-Time (180 s),
and a peer starts a new handshake from Rekey-After-Time (120 s) on, retrying every Rekey-Timeout (5 s)
when it gets no valid answer. ``wg set … preshared-key`` changes the PSK for the *next* handshake and
leaves the current keypairs alone. Rosenpass therefore installs each new PSK at each end as soon as its
own key exchange outputs it (the initiator when it sends its confirmation, the responder when it
verifies it), without coordinating the two ``wg set`` calls: a WireGuard handshake that happens to fall
between them fails on the PSK, the old keypair keeps carrying traffic, and the retry 5 s later finds
both PSKs equal. We do the same with the gateway session's epochs: the session initiator installs epoch
n+1 when it sends the rekey's third message, the responder when it has verified it, so the two PSK
installs are about one round trip plus a ``wg`` call apart, far inside the 60 s WireGuard leaves
between Rekey-After-Time and Reject-After-Time. Measured in ``tests/gateway/test_dataplane_wireguard.py``.

**Rotation and age.** Every PSK is rotated when the session rekeys (``rekey.interval_s``, 120 s by
default, as Rosenpass); when ``request_rekey`` is given, the rotator asks for a rekey itself once the PSK
is ``rotation_interval_s`` old. A PSK older than ``max_age_s`` (no fresh one agreed: KME down under
``required``, session lost, rekeys failing) is *stale*, and the policy decides: ``on_stale = "keep"``
keeps it for at most ``keep_max_s`` more, loudly, then removes the peer; ``"remove"`` (what
``qkd = "required"`` or ``min_mode = "hybrid-qkd"`` implies) removes the peer at once and, before the
first PSK, keeps it removed: fail closed. A removed peer is recreated (same endpoint, allowed IPs and
keepalive) with the next fresh PSK.

Every failure (a ``wg`` call past its deadline or failing, an epoch below the policy's mode, a crash
of the task) is logged, counted by operation and reason, kept as ``last_error`` and shown in
:meth:`~WireGuardPskRotator.status`; the task is restarted by its supervisor with a backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from gateway.dataplane.errors import DataPlaneError
from gateway.dataplane.psk import WireGuardPsk, derive_wireguard_psk
from gateway.dataplane.wireguard import WireGuardPeerSpec, WireGuardPeerState, check_public_key
from gateway.keys import SessionKeys

log = logging.getLogger(__name__)

MODE_RANK = {"pqc-only": 0, "hybrid-qkd": 1}
OnStale = Literal["keep", "remove"]
States = ("waiting", "up", "stale", "removed")


@dataclass(frozen=True)
class RotationPolicy:
    """When a PSK is rotated, when it is stale, and what happens then (see the module docstring)."""

    rotation_interval_s: float = 120.0
    #: A PSK older than this is stale (default: WireGuard's Reject-After-Time).
    max_age_s: float = 180.0
    on_stale: OnStale = "keep"
    #: How long a stale PSK is kept under ``on_stale = "keep"`` before the peer is removed anyway.
    keep_max_s: float = 120.0
    #: Epochs below this mode are refused (their PSK is never installed).
    min_mode: str = "pqc-only"
    #: Deadline of one ``wg`` call, and the pause before a failed one is retried.
    install_timeout_s: float = 5.0
    retry_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if self.rotation_interval_s <= 0 or self.install_timeout_s <= 0 or self.retry_interval_s <= 0:
            raise ValueError("rotation_interval_s, install_timeout_s and retry_interval_s must be positive")
        if self.max_age_s <= self.rotation_interval_s:
            raise ValueError(f"max_age_s ({self.max_age_s}) must be greater than rotation_interval_s "
                             f"({self.rotation_interval_s})")
        if self.keep_max_s < 0:
            raise ValueError("keep_max_s must not be negative")
        if self.on_stale not in ("keep", "remove"):
            raise ValueError(f"on_stale must be 'keep' or 'remove', not {self.on_stale!r}")
        if self.min_mode not in MODE_RANK:
            raise ValueError(f"min_mode must be one of {', '.join(MODE_RANK)}, not {self.min_mode!r}")

    @classmethod
    def for_peer(cls, qkd: str, min_mode: str = "pqc-only", **overrides: Any) -> RotationPolicy:
        """The policy a peer's QKD policy implies: ``required`` (or ``min_mode = "hybrid-qkd"``) fails
        closed (stale → removed, pqc-only epochs refused); otherwise a stale PSK is kept for a while."""
        closed = qkd == "required" or min_mode == "hybrid-qkd"
        base: dict[str, Any] = {"on_stale": "remove" if closed else "keep",
                                "min_mode": "hybrid-qkd" if closed else min_mode}
        return cls(**{**base, **overrides})


class PskControl(Protocol):
    """What the rotator needs of a local WireGuard interface (:class:`~gateway.dataplane.wireguard.WgTool`)."""

    interface: str

    async def set_psk(self, public_key: str, psk: WireGuardPsk) -> None: ...
    async def add_peer(self, spec: WireGuardPeerSpec, psk: WireGuardPsk) -> None: ...
    async def remove_peer(self, public_key: str) -> None: ...
    async def peer(self, public_key: str) -> WireGuardPeerState | None: ...


class EpochKey(Protocol):
    """A key exported from one session epoch (:class:`~gateway.dataplane.psk.WireGuardPsk`, an IKEv2 PPK)."""

    epoch: int
    mode: str
    created: float

    @property
    def fingerprint(self) -> str: ...
    def age(self) -> float: ...
    def wipe(self) -> None: ...


@dataclass
class KeyPlaneStatus:
    """What ``/status`` and the metrics show for one peer of a data plane (no key material, ever).

    ``plane`` is ``wireguard`` or ``ipsec``; ``target`` the WireGuard interface or the IKE connection;
    ``peer_id`` the WireGuard peer's public key or the PPK_ID in use (both public)."""

    plane: str
    peer: str
    target: str
    peer_id: str | None
    state: str
    policy: dict[str, Any]
    mode: str | None = None
    psk_epoch: int | None = None
    psk_age_s: float | None = None
    psk_fingerprint: str | None = None
    next_rotation_in_s: float | None = None
    rotations: int = 0
    last_rotation_at: float | None = None
    last_install_ms: float | None = None
    failures: dict[str, int] = field(default_factory=dict)
    removals: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    last_error: str | None = None
    last_transition: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


WireGuardPeerStatus = KeyPlaneStatus


class EpochKeyRotator:
    """Keeps the key of one data-plane peer equal to the current session epoch's, within the policy.

    A subclass says how a key is derived (:meth:`_derive`), looked for (:meth:`_inspect`), installed
    (:meth:`_put`) and taken away (:meth:`_take_away`); this class runs the supervised loop, the age
    policy and the reporting."""

    plane = "data-plane"

    def __init__(self, *, peer: str, local_site: str, target: str, policy: RotationPolicy | None = None,
                 request_rekey: Callable[[], None] | None = None) -> None:
        self.peer = peer
        self.local_site = local_site
        self.target = target
        self.policy = policy or RotationPolicy()
        self.request_rekey = request_rekey
        self.state = "waiting"
        self.rotations = 0
        self.restarts = 0
        self.failures: Counter[tuple[str, str]] = Counter()
        self.removals: Counter[str] = Counter()
        self.last_error: str | None = None
        self.last_transition: dict[str, Any] | None = None
        self.last_rotation_at: float | None = None
        self.last_install_ms: float | None = None
        self._current: EpochKey | None = None
        self._pending: EpochKey | None = None
        self._installing: EpochKey | None = None
        self._shown: tuple[int, str, str, float] | None = None   # epoch, mode, fingerprint, created
        self._rekey_asked_for: EpochKey | None = None
        self._peer_present = True
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.installed = asyncio.Event()   # set after each successful install (tests and tools wait on it)

    # -- input from the gateway ---------------------------------------------------------------------
    def offer(self, keys: SessionKeys, epoch: int) -> bool:
        """A new session epoch with the peer (its keys still live): derive its PSK and schedule the install.
        False (counted, logged) when the epoch's mode is below the policy or the keys are unusable."""
        if keys.peer != self.peer:
            raise ValueError(f"keys of peer {keys.peer!r} offered to the {self.plane} rotator of {self.peer!r}")
        if MODE_RANK.get(keys.mode, -1) < MODE_RANK[self.policy.min_mode]:
            self._fail("offer", "mode_below_policy", f"epoch {epoch} with {self.peer} is {keys.mode}, below "
                                                     f"the policy's {self.policy.min_mode}: its PSK is not installed")
            return False
        try:
            psk = self._derive(keys, epoch)
        except ValueError as exc:
            self._fail("offer", "derive_failed", str(exc))
            return False
        old, self._pending = self._pending, psk
        if old is not None and old is not self._installing:
            old.wipe()
        log.debug("%s key derived", self.plane, extra={
            "event": f"gateway.{self.plane}.key_derived", "peer": self.peer, "target": self.target,
            "epoch": epoch, "mode": psk.mode, "fingerprint": psk.fingerprint})
        self._wake.set()
        return True

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.run())
            self._task.set_name(f"{self.plane}-keys-{self.peer}")
        return self._task

    async def stop(self) -> None:
        """Stop the task and wipe the PSKs held here. WireGuard keeps the installed PSK (a gateway
        restart must not cut the site off); it goes stale for the next gateway to police."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for psk in (self._pending, self._current):
            if psk is not None:
                psk.wipe()
        self._pending = self._current = None

    async def run(self) -> None:
        """The supervised loop: a crash is logged, counted and followed by a restart after a backoff."""
        backoff = self.policy.retry_interval_s
        while True:
            started = time.monotonic()
            try:
                await self._loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the supervisor must outlive any fault of the loop
                self.restarts += 1
                reason = exc.reason if isinstance(exc, DataPlaneError) else "internal"
                self._fail("supervisor", reason, f"{type(exc).__name__}: {exc}",
                           exc_info=not isinstance(exc, DataPlaneError))
                if time.monotonic() - started > 30:
                    backoff = self.policy.retry_interval_s
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    # -- the loop --------------------------------------------------------------------------------------
    async def _loop(self) -> None:
        await self._prepare()
        while True:
            if self._pending is not None and not await self._install():
                await self._sleep(self.policy.retry_interval_s)
                continue
            await self._police()
            await self._sleep(self._next_check_s())

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.02, seconds))
        self._wake.clear()

    def _next_check_s(self) -> float:
        cur = self._current
        if cur is None:
            return 1.0
        age = cur.age()
        marks = [self.policy.rotation_interval_s, self.policy.max_age_s,
                 self.policy.max_age_s + self.policy.keep_max_s]
        return min([1.0] + [m - age for m in marks if m > age])

    async def _call(self, op: str, step: Any) -> bool:
        """Await one ``wg`` call under the policy's deadline; a failure is counted, logged, kept."""
        try:
            await asyncio.wait_for(step, self.policy.install_timeout_s)
        except DataPlaneError as exc:
            self._fail(op, exc.reason, str(exc))
            return False
        except TimeoutError:
            self._fail(op, "timeout", f"{op} on {self.target} for {self.peer} took longer than "
                                      f"{self.policy.install_timeout_s} s")
            return False
        return True

    async def _prepare(self) -> None:
        """Look for the peer as the site configured it; under a fail-closed policy, keep it out of the data
        plane until the first key of ours is installed."""
        try:
            self._peer_present = await asyncio.wait_for(self._inspect(), self.policy.install_timeout_s)
        except TimeoutError:
            raise DataPlaneError("timeout", f"reading peer {self.peer} on {self.target}") from None
        if self._current is None and self._pending is None and self.policy.on_stale == "remove":
            if self._peer_present:
                await self._remove("no_psk_yet")
            else:
                self._transition("removed", "no_psk_yet")

    # -- what a data plane implements --------------------------------------------------------------------
    def _derive(self, keys: SessionKeys, epoch: int) -> EpochKey:
        raise NotImplementedError

    async def _inspect(self) -> bool:
        """True when the peer is configured in the data plane now."""
        raise NotImplementedError

    async def _put(self, key: EpochKey, present: bool) -> None:
        """Install ``key``; ``present`` False: (re)create the peer with it."""
        raise NotImplementedError

    async def _take_away(self) -> None:
        """Remove the peer: nothing more goes to it or comes from it."""
        raise NotImplementedError

    async def _install(self) -> bool:
        psk = self._pending
        assert psk is not None
        self._installing = psk
        started = time.monotonic()
        try:
            ok = await self._call("install", self._put(psk, self._peer_present))
        finally:
            self._installing = None
        if not ok:
            if self._pending is not psk:   # superseded while we tried: the newer one is next
                psk.wipe()
            return False
        if self._pending is psk:
            self._pending = None
        old, self._current = self._current, psk
        if old is not None:
            old.wipe()
        restored = not self._peer_present
        self._peer_present = True
        self.rotations += 1
        self.last_rotation_at = time.time()
        self.last_install_ms = round((time.monotonic() - started) * 1e3, 2)
        self._shown = (psk.epoch, psk.mode, psk.fingerprint, psk.created)
        self._transition("up", "peer_restored" if restored else "rotated", quiet=self.state == "up")
        log.info("%s key installed", self.plane, extra={
            "event": f"gateway.{self.plane}.key_installed", "peer": self.peer, "target": self.target,
            "epoch": psk.epoch, "mode": psk.mode, "fingerprint": psk.fingerprint,
            "install_ms": self.last_install_ms, "restored": restored})
        self.installed.set()
        return True

    async def _police(self) -> None:
        cur = self._current
        if cur is None:
            return
        age = cur.age()
        if self.request_rekey is not None and age >= self.policy.rotation_interval_s \
                and self._rekey_asked_for is not cur:
            self._rekey_asked_for = cur
            try:
                self.request_rekey()
            except Exception as exc:  # noqa: BLE001 - a hook failure is counted, the PSK still ages
                self._fail("rekey_request", "internal", f"{type(exc).__name__}: {exc}")
        if age < self.policy.max_age_s:
            return
        if self.policy.on_stale == "remove":
            await self._remove("psk_expired")
        elif age >= self.policy.max_age_s + self.policy.keep_max_s:
            await self._remove("stale_too_long")
        elif self.state != "stale":
            self._transition("stale", "no_fresh_psk")

    async def _remove(self, reason: str) -> None:
        if not await self._call("remove", self._take_away()):
            return
        self._peer_present = False
        if self._current is not None:
            self._current.wipe()
            self._current = None
        self.removals[reason] += 1
        self._transition("removed", reason)

    # -- reporting --------------------------------------------------------------------------------------
    def _fail(self, op: str, reason: str, message: str, exc_info: bool = False) -> None:
        """Count, log (ERROR) and keep as ``last_error`` one failed operation."""
        self.failures[(op, reason)] += 1
        self.last_error = f"{op}: {message}"
        log.error("%s key %s failed", self.plane, op, exc_info=exc_info, extra={
            "event": f"gateway.{self.plane}.failure", "peer": self.peer, "target": self.target,
            "op": op, "reason": reason, "error": message, "count": self.failures[(op, reason)]})

    def _transition(self, to: str, reason: str, quiet: bool = False) -> None:
        previous = self.state
        self.state = to
        if quiet and previous == to:
            return
        self.last_transition = {"at": time.time(), "from": previous, "to": to, "reason": reason}
        level = logging.WARNING if to in ("stale", "removed") else logging.INFO
        log.log(level, "%s peer %s", self.plane, to, extra={
            "event": f"gateway.{self.plane}.transition", "peer": self.peer, "target": self.target,
            "from_state": previous, "to_state": to, "reason": reason,
            "epoch": self._shown[0] if self._shown else None, "policy": self.policy.on_stale})

    def peer_id(self) -> str | None:
        return None

    def status(self) -> KeyPlaneStatus:
        st = KeyPlaneStatus(
            plane=self.plane, peer=self.peer, target=self.target, peer_id=self.peer_id(), state=self.state,
            policy={"rotation_interval_s": self.policy.rotation_interval_s, "max_age_s": self.policy.max_age_s,
                    "on_stale": self.policy.on_stale, "keep_max_s": self.policy.keep_max_s,
                    "min_mode": self.policy.min_mode},
            rotations=self.rotations, last_rotation_at=self.last_rotation_at, last_install_ms=self.last_install_ms,
            failures={f"{op}:{reason}": n for (op, reason), n in sorted(self.failures.items())},
            removals=dict(self.removals), restarts=self.restarts, last_error=self.last_error,
            last_transition=self.last_transition)
        if self._shown is not None:
            epoch, mode, fingerprint, created = self._shown
            age = time.monotonic() - created
            st.psk_epoch, st.mode, st.psk_fingerprint = epoch, mode, fingerprint
            st.psk_age_s = round(age, 3)
            if self._current is not None:
                st.next_rotation_in_s = round(max(0.0, self.policy.rotation_interval_s - age), 3)
        return st


class WireGuardPskRotator(EpochKeyRotator):
    """The PSK of one WireGuard peer, one per session epoch."""

    plane = "wireguard"

    def __init__(self, *, peer: str, local_site: str, control: PskControl, spec: WireGuardPeerSpec,
                 policy: RotationPolicy | None = None, request_rekey: Callable[[], None] | None = None) -> None:
        check_public_key(spec.public_key, f"wireguard peer key of {peer}")
        super().__init__(peer=peer, local_site=local_site, target=control.interface, policy=policy,
                         request_rekey=request_rekey)
        self.control = control
        self.spec = spec

    def _derive(self, keys: SessionKeys, epoch: int) -> WireGuardPsk:
        return derive_wireguard_psk(keys, local_site=self.local_site, epoch=epoch)

    async def _inspect(self) -> bool:
        """Learn endpoint, allowed IPs and keepalive as the site configured them (to recreate the peer)."""
        seen = await self.control.peer(self.spec.public_key)
        if seen is not None:
            s = seen.spec
            self.spec = WireGuardPeerSpec(
                public_key=self.spec.public_key, endpoint=self.spec.endpoint or s.endpoint,
                allowed_ips=self.spec.allowed_ips or s.allowed_ips,
                persistent_keepalive_s=self.spec.persistent_keepalive_s or s.persistent_keepalive_s)
        return seen is not None

    async def _put(self, key: EpochKey, present: bool) -> None:
        assert isinstance(key, WireGuardPsk)
        if present:
            await self.control.set_psk(self.spec.public_key, key)
        else:
            await self.control.add_peer(self.spec, key)

    async def _take_away(self) -> None:
        await self.control.remove_peer(self.spec.public_key)

    def peer_id(self) -> str | None:
        return self.spec.public_key
