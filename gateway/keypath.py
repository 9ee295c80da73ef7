"""The key-path watcher: learns of QKD trouble within a second and rekeys sessions around it.

A session's mode is decided at a handshake, and handshakes happen every ``rekey.interval_s`` (120 s in
the example configs): without help a dead KME or an alarmed link would show only at the next rekey, and
``/status`` would say ``hybrid-qkd`` until then. One watcher per gateway closes that gap:

* **probes**: every ``key_path.probe_interval_s`` it asks this site's KME for the ETSI GS QKD 014
  ``status`` of the route to each peer's SAE (``GET /api/v1/keys/{slave_SAE_ID}/status``), with a
  deadline of ``probe_timeout_s``. A probe is bad when the KME does not answer (``kme_unreachable``) or
  answers with an error (``kme_refused``, ``kme_error``). Where this site draws the keys (it dials the
  peer, so its ``enc_keys`` take them and its KME relays them) it is also bad when the KME reports an
  alarmed link on the route (``status_extension.link_alarm``: ``link_alarm``), a node of the route that
  does not answer it (``status_extension.hops[].reachable`` false: ``relay_failed``) or no key
  deliverable on the route (``stored_key_count``: ``key_exhausted``). The other site only redeems
  key_IDs at its own KME: for it, only whether that KME answers counts (the route is judged once, by the
  site whose KME relays over it).
* **handshakes**: every ``enc_keys`` / ``dec_keys`` a handshake makes is evidence too (:meth:`learn`): an
  error makes the key path bad at once (a relay that failed beyond the KME shows only there), a key
  received makes it good at once.
* **hysteresis**: ``fail_after`` bad probes in a row make a good path bad, ``recover_after`` good ones
  make a bad path good.
* **action** (``qkd = "preferred"`` and ``min_mode = "pqc-only"`` only; ``required`` keeps failing closed
  at its rekey): a ``hybrid-qkd`` session on a bad path rekeys into ``pqc-only`` at once; a ``pqc-only``
  session whose fallback this side caused rekeys back into ``hybrid-qkd`` once the path is good. The
  session initiator rekeys; the responder asks it to (``REKEY_REQUEST``). The side that caused the
  fallback leads the return: a cause ``peer_key_*`` is the responder's (its ``dec_keys`` failed), any
  other the initiator's, so no side retries a fallback it cannot mend.
* **rate limit**: watcher rekeys of one session are ``min_switch_interval_s`` apart and spend a token
  of a bucket of ``switch_burst`` refilled one per ``switch_refill_s``; a held-back switch is counted
  and retried every probe round.
* **supervision**: :meth:`run` restarts the probe loop after any failure (logged with its traceback,
  counted in ``gateway_key_path_watcher_restarts_total``); only cancellation ends it. A state that no
  probe has refreshed for a while is reported as ``stale`` and no longer shortens handshakes.

While the probes find the KME unreachable, handshakes do not wait for it: they run ``pqc-only`` with the
cause ``kme_unreachable`` at once. While the key path is bad for another reason (an alarm, no key, a
failed relay), handshakes still ask the KME, so that the truth is learnt as soon as it heals, but wait
for its answer at most ``probe_timeout_s`` instead of ``kme.timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.config import KeyPathConfig, KmeConfig, PeerConfig
from gateway.keysource import CAUSES, QkdKeySource, QkdResult, _detail, classify
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import TokenBucket
from qkd.kms.client import KmsError

if TYPE_CHECKING:
    from gateway.session import Session

log = logging.getLogger(__name__)

#: Longest pause before a failed probe loop is restarted (seconds); the pause starts at 0.1 s and doubles.
MAX_RESTART_BACKOFF_S = 5.0


@dataclass
class KeyPathState:
    """What the watcher knows about the key path to one peer (``/status`` shows :meth:`as_status`)."""

    peer: str
    sae_id: str
    #: This site dials the peer: its ``enc_keys`` draw the keys, so an empty route pool is a fault.
    draws_keys: bool
    #: the switch budget (``switch_burst`` switches, one more every ``switch_refill_s``)
    budget: TokenBucket
    healthy: bool | None = None
    reachable: bool | None = None
    link_alarm: bool | None = None
    qber: float | None = None
    stored_key_count: int | None = None
    last_probe_at: float | None = None
    last_probe_ok: bool | None = None
    last_probe_ms: float | None = None
    last_error: dict[str, Any] | None = None
    since: float | None = None
    seen_mono: float | None = None
    bad_streak: int = 0
    good_streak: int = 0
    probes: int = 0
    probe_failures: int = 0
    switches: int = 0
    deferred: int = 0
    last_switch_mono: float | None = None
    last_switch: dict[str, Any] | None = None
    holding: bool = False

    def as_status(self, stale: bool) -> dict[str, Any]:
        return {
            "state": "unknown" if self.healthy is None else "good" if self.healthy else "bad",
            "stale": stale,
            "since": self.since,
            "kme_reachable": self.reachable,
            "link_alarm": self.link_alarm,
            "qber": self.qber,
            "stored_key_count": self.stored_key_count,
            "last_probe_at": self.last_probe_at,
            "last_probe_ok": self.last_probe_ok,
            "last_probe_ms": self.last_probe_ms,
            "probes": self.probes,
            "probe_failures": self.probe_failures,
            "last_error": self.last_error,
            "switches": self.switches,
            "switches_deferred": self.deferred,
            "last_switch": self.last_switch,
        }


class KeyPathWatcher:
    """One gateway's watcher over the key paths to its peers with ``qkd != "off"``.

    ``session_of(peer)`` returns the established session with a peer, or None."""

    def __init__(self, config: KeyPathConfig, kme: KmeConfig, keysource: QkdKeySource,
                 peers: list[PeerConfig], metrics: GatewayMetrics,
                 session_of: Callable[[str], Session | None]) -> None:
        self.config = config
        self.kme = kme
        self.keysource = keysource
        self.metrics = metrics
        self.session_of = session_of
        self.peers = {p.name: p for p in peers if p.qkd != "off" and p.sae_id}
        started = time.monotonic()
        self.states = {p.name: KeyPathState(p.name, p.sae_id or "", draws_keys=p.connect is not None,
                                            budget=TokenBucket.full(config.switch_burst,
                                                                    1.0 / config.switch_refill_s, started))
                       for p in self.peers.values()}
        self._wake = asyncio.Event()
        self.restarts = 0
        self.last_crash: dict[str, Any] | None = None
        self.running = False

    # -- what handshakes and /status ask --------------------------------------------------------------
    def stale(self, state: KeyPathState) -> bool:
        """No probe or handshake has refreshed ``state`` for several probe periods."""
        if state.seen_mono is None:
            return True
        horizon = 4 * self.config.probe_interval_s + 2 * self.config.probe_timeout_s
        return time.monotonic() - state.seen_mono > horizon

    def deadline_s(self, peer: str) -> float | None:
        """How long a handshake may wait for the KME on ``peer``'s key path: ``probe_timeout_s`` while the
        path is known (freshly) to be bad, else None (the KME client's own timeout)."""
        state = self.states.get(peer)
        if state is None or state.healthy is not False or self.stale(state):
            return None
        return self.config.probe_timeout_s

    def known_unreachable(self, peer: str) -> str | None:
        """The detail of a fresh verdict "this site's KME does not answer" for ``peer``'s key path, else
        None. A handshake then runs ``pqc-only`` at once instead of waiting for a KME that is down."""
        state = self.states.get(peer)
        if state is None or state.healthy is not False or state.reachable is not False or self.stale(state):
            return None
        error = state.last_error or {}
        return _detail(f"the KME did not answer its last {state.bad_streak} status probes: {error.get('detail')}")

    def learn(self, peer: str, result: QkdResult) -> None:
        """What a handshake's ``enc_keys`` / ``dec_keys`` showed (a cause of :data:`CAUSES`, or a key)."""
        state = self.states.get(peer)
        if state is None:
            return
        if result.key is not None:
            self._observe(state, True, None, None, "handshake", at_once=True)
        elif result.cause in CAUSES:
            self._observe(state, False, result.cause, result.detail, "handshake", at_once=True)

    def status(self, peer: str) -> dict[str, Any] | None:
        state = self.states.get(peer)
        return None if state is None else state.as_status(self.stale(state))

    def summary(self) -> dict[str, Any]:
        return {"running": self.running, "restarts": self.restarts, "last_crash": self.last_crash,
                "probe_interval_s": self.config.probe_interval_s, "probe_timeout_s": self.config.probe_timeout_s}

    # -- supervision -----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Probe and reconcile until cancelled; any failure is logged, counted and the loop restarted."""
        loop = asyncio.get_running_loop()
        backoff = 0.1
        while True:
            started = loop.time()
            self.running = True
            try:
                await self._watch()
            except asyncio.CancelledError:
                self.running = False
                raise
            except Exception as exc:  # noqa: BLE001 - supervised: logged, counted, restarted
                self.running = False
                self.restarts += 1
                cause: BaseException = exc
                while isinstance(cause, BaseExceptionGroup) and cause.exceptions:   # a probe task's failure
                    cause = cause.exceptions[0]
                self.last_crash = {"at": time.time(), "error": _detail(f"{type(cause).__name__}: {cause}")}
                self.metrics.key_path_watcher_restarts.inc()
                if loop.time() - started > 30.0:
                    backoff = 0.1
                log.exception("key-path watcher failed; restarting it", extra={
                    "event": "gateway.key_path_watcher_failed", "error": self.last_crash["error"],
                    "restarts": self.restarts, "backoff_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, MAX_RESTART_BACKOFF_S)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            round_start = loop.time()
            async with asyncio.TaskGroup() as group:
                for state in self.states.values():
                    group.create_task(self._probe(state), name=f"key-path-probe-{state.peer}")
            self._reconcile_all()
            # Until the next round: reconcile at once whenever a handshake taught us something.
            while (left := round_start + self.config.probe_interval_s - loop.time()) > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), left)
                self._reconcile_all()

    # -- probing ---------------------------------------------------------------------------------------
    async def _probe(self, state: KeyPathState) -> None:
        started = time.monotonic()
        timeout = self.config.probe_timeout_s
        cause: str | None
        detail: str | None
        try:
            answer = await self.keysource.route_status(state.sae_id, timeout)
        except TimeoutError:
            ok, cause, detail, reachable = False, "kme_unreachable", f"no status answer within {timeout} s", False
        except KmsError as exc:
            cause, detail, reachable = classify(exc)
            ok = False
        else:
            ok, cause, detail, reachable = self._judge(state, answer)
        state.probes += 1
        state.last_probe_at = time.time()
        state.last_probe_ok = ok
        state.last_probe_ms = round((time.monotonic() - started) * 1e3, 2)
        state.reachable = reachable
        self.metrics.kme_reachable.labels(state.peer).set(1 if reachable else 0)
        self.metrics.kme_last_probe.labels(state.peer).set(state.last_probe_at)
        if not ok:
            state.probe_failures += 1
            log.debug("key-path probe failed", extra={
                "event": "gateway.key_path_probe_failed", "peer": state.peer, "cause": cause, "detail": detail})
        self._observe(state, ok, cause, detail, "probe")

    def _judge(self, state: KeyPathState, answer: Any) -> tuple[bool, str | None, str | None, bool]:
        """``(ok, cause, detail, reachable)`` of a status answer."""
        if not isinstance(answer, dict):
            return False, "kme_error", "status answer is not a JSON object", True
        extension = answer.get("status_extension")
        extension = extension if isinstance(extension, dict) else {}
        alarm, qber = bool(extension.get("link_alarm")), extension.get("qber")
        state.link_alarm, state.qber = alarm, qber if isinstance(qber, (int, float)) else None
        count, size = answer.get("stored_key_count"), answer.get("key_size")
        state.stored_key_count = count if isinstance(count, int) else None
        source, target = answer.get("source_KME_ID"), answer.get("target_KME_ID")
        if not state.draws_keys:
            # This site only redeems key_IDs (dec_keys at its own KME): the route is the drawing site's
            # to judge, at its own KME, which sees every hop; here only "does our KME answer" counts.
            return True, None, None, True
        if alarm:
            return False, "link_alarm", _detail(f"KME {source}: a link on the route to {target} is alarmed "
                                                f"(QBER {qber})"), True
        hops = extension.get("hops")
        silent = [h.get("hop") for h in hops if isinstance(h, dict) and h.get("reachable") is False] \
            if isinstance(hops, list) else []
        if silent:
            return False, "relay_failed", _detail(f"KME {source}: a node of hop {', '.join(map(str, silent))} "
                                                  f"on the route to {target} does not answer"), True
        if state.draws_keys and isinstance(count, int) and isinstance(size, int) \
                and count * size < self.kme.key_size_bits:
            return False, "key_exhausted", _detail(f"KME {source}: {count} keys of "
                                                   f"{size} bits deliverable on the route to {target}"), True
        return True, None, None, True

    # -- state -----------------------------------------------------------------------------------------
    def _observe(self, state: KeyPathState, ok: bool, cause: str | None, detail: str | None, source: str,
                 at_once: bool = False) -> None:
        state.seen_mono = time.monotonic()
        if ok:
            state.good_streak += 1
            state.bad_streak = 0
        else:
            state.good_streak = 0
            state.bad_streak += 1
            state.last_error = {"cause": cause, "detail": detail, "at": time.time(), "source": source}
            self.metrics.key_path_errors.labels(state.peer, cause or "unknown", source).inc()
        if ok and state.healthy is not True and (at_once or state.healthy is None
                                                 or state.good_streak >= self.config.recover_after):
            self._set_health(state, True, source)
        elif not ok and state.healthy is not False and (at_once or state.healthy is None
                                                        or state.bad_streak >= self.config.fail_after):
            self._set_health(state, False, source)

    def _set_health(self, state: KeyPathState, healthy: bool, source: str) -> None:
        first = state.healthy is None
        state.healthy = healthy
        state.since = time.time()
        self.metrics.key_path_up.labels(state.peer).set(1 if healthy else 0)
        error = state.last_error or {}
        if healthy:
            log.log(logging.DEBUG if first else logging.INFO, "key path good", extra={
                "event": "gateway.key_path_good", "peer": state.peer, "source": source})
        else:
            log.warning("key path bad", extra={
                "event": "gateway.key_path_bad", "peer": state.peer, "source": source,
                "cause": error.get("cause"), "detail": error.get("detail")})
        self._wake.set()

    # -- action ----------------------------------------------------------------------------------------
    def _reconcile_all(self) -> None:
        for state in self.states.values():
            self._reconcile(state)

    def _reconcile(self, state: KeyPathState) -> None:
        """Rekey a session whose mode the key path contradicts (within the rate limit)."""
        peer = self.peers[state.peer]
        session = self.session_of(state.peer)
        if session is None or session.closed or state.healthy is None or self.stale(state):
            return
        if peer.qkd != "preferred" or peer.min_mode != "pqc-only":
            return
        mode, cause = session.keys.mode, session.keys.cause or ""
        ours = cause.startswith("peer_key_") if session.role == "responder" else cause in CAUSES
        if state.healthy is False and mode == "hybrid-qkd":
            target = "pqc-only"
        elif state.healthy and mode == "pqc-only" and ours:
            target = "hybrid-qkd"
        else:
            state.holding = False
            return
        if session.rekey_pending:
            return
        now = time.monotonic()
        if state.last_switch_mono is not None and now - state.last_switch_mono < self.config.min_switch_interval_s:
            return
        if not state.budget.take(now):
            if not state.holding:
                state.holding = True
                state.deferred += 1
                self.metrics.fallback_deferred.labels(state.peer).inc()
                log.warning("key path flapping: rekey held back by the rate limit", extra={
                    "event": "gateway.key_path_rekey_deferred", "peer": state.peer, "to_mode": target,
                    "refill_s": self.config.switch_refill_s})
            return
        state.holding = False
        state.last_switch_mono = now
        state.switches += 1
        error = state.last_error or {}
        state.last_switch = {"at": time.time(), "from": mode, "to": target,
                             "cause": error.get("cause") if target == "pqc-only" else "key_path_good"}
        self.metrics.fallback_transitions.labels(state.peer, target).inc()
        log.info("key path changed: rekeying now", extra={
            "event": "gateway.key_path_rekey", "peer": state.peer, "from_mode": mode, "to_mode": target,
            "cause": state.last_switch["cause"], "role": session.role})
        session.request_rekey()
