"""What a responder spends before the initiator is authenticated: caps, per-source limits, cookies.

Anyone who knows two site names can open a tunnel connection and send a ClientHello; answering it costs
an X-Wing encapsulation and a composite signature. :class:`HandshakeAdmission` bounds that cost:

* at most ``tunnel.max_pending_handshakes`` handshakes in progress at once, and at most
  ``tunnel.max_pending_per_source`` from one source address; beyond, the connection is refused at once
  (ALERT ``busy`` / ``source_limit``), before a byte of it is parsed;
* *under load* (``cookie_threshold`` handshakes in progress, or more than ``cookie_rate_per_s`` started
  in the last second) a ClientHello must carry a cookie: without a valid one it is answered with a Retry
  holding a cookie, which costs one HMAC and keeps no state (the connection is closed; the initiator
  dials again with the cookie). The cookie is ``HMAC(secret, source address || initiator name)`` under a
  secret that changes every :data:`COOKIE_SECRET_S` seconds (the previous one is still accepted), like
  WireGuard's cookie reply and IKEv2's COOKIE;
* the expensive steps are drawn from a token bucket per source address (``source_rate_per_s``,
  ``source_burst``): a source that follows cookies is still limited.

Every refusal is counted in ``gateway_handshakes_refused_total{reason}``; the pending count is the
``gateway_pending_handshakes`` gauge; both are in ``/status`` under ``admission``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from gateway.config import TunnelConfig
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import TokenBucket

#: Lifetime of one cookie secret (seconds); a cookie is valid for one to two of them.
COOKIE_SECRET_S = 120.0
COOKIE_BYTES = 16
#: Per-source state kept at most (bucket and pending entries); idle entries go first.
MAX_SOURCES = 4096


class HandshakeAdmission:
    """Admission of unauthenticated handshakes at a responder (see the module docstring)."""

    def __init__(self, cfg: TunnelConfig, metrics: GatewayMetrics) -> None:
        self.cfg = cfg
        self.metrics = metrics
        self.pending = 0
        self._by_source: dict[str, int] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._secret = secrets.token_bytes(32)
        self._previous = secrets.token_bytes(32)
        self._secret_at = time.monotonic()
        self._second = 0
        self._started_this_second = 0
        self._started_last_second = 0
        self.refused: dict[str, int] = {}

    # -- pending handshakes --------------------------------------------------------------------------
    def enter(self, source: str) -> str | None:
        """Admit a new connection (None) or say why not (``busy``, ``source_limit``)."""
        if self.pending >= self.cfg.max_pending_handshakes:
            return self.refuse("busy")
        if self._by_source.get(source, 0) >= self.cfg.max_pending_per_source:
            return self.refuse("source_limit")
        self.pending += 1
        self._by_source[source] = self._by_source.get(source, 0) + 1
        self.metrics.pending_handshakes.set(self.pending)
        self._count_start()
        return None

    def leave(self, source: str) -> None:
        """The handshake of a connection admitted by :meth:`enter` is over (authenticated or failed)."""
        self.pending -= 1
        left = self._by_source.get(source, 0) - 1
        if left > 0:
            self._by_source[source] = left
        else:
            self._by_source.pop(source, None)
        self.metrics.pending_handshakes.set(self.pending)

    def refuse(self, reason: str) -> str:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        self.metrics.handshakes_refused.labels(reason).inc()
        return reason

    def _count_start(self) -> None:
        self._count_start_peek()
        self._started_this_second += 1

    def under_load(self) -> bool:
        """True when ClientHellos must carry a cookie."""
        self._count_start_peek()
        return self.pending >= self.cfg.cookie_threshold or \
            max(self._started_this_second, self._started_last_second) > self.cfg.cookie_rate_per_s

    def _count_start_peek(self) -> None:
        second = int(time.monotonic())
        if second != self._second:
            self._started_last_second = self._started_this_second if second == self._second + 1 else 0
            self._second, self._started_this_second = second, 0

    # -- cookies ---------------------------------------------------------------------------------------
    def _rotate(self) -> None:
        now = time.monotonic()
        if now - self._secret_at >= COOKIE_SECRET_S:
            self._previous, self._secret, self._secret_at = self._secret, secrets.token_bytes(32), now

    @staticmethod
    def _mac(secret: bytes, source: str, initiator: bytes) -> bytes:
        msg = b"qshift-gw cookie\x00" + source.encode() + b"\x00" + initiator
        return hmac.new(secret, msg, hashlib.sha256).digest()[:COOKIE_BYTES]

    def cookie(self, source: str, initiator: bytes) -> bytes:
        self._rotate()
        return self._mac(self._secret, source, initiator)

    def cookie_valid(self, source: str, initiator: bytes, cookie: bytes | None) -> bool:
        if cookie is None or len(cookie) != COOKIE_BYTES:
            return False
        self._rotate()
        return any(hmac.compare_digest(cookie, self._mac(s, source, initiator))
                   for s in (self._secret, self._previous))

    # -- per-source rate of expensive steps -----------------------------------------------------------------
    def take_token(self, source: str) -> bool:
        """True when ``source`` may have one more X-Wing encapsulation and signature now."""
        now = time.monotonic()
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= MAX_SOURCES:
                self._prune(now)
            bucket = self._buckets[source] = TokenBucket.full(self.cfg.source_burst, self.cfg.source_rate_per_s, now)
        return bucket.take(now)

    def _prune(self, now: float) -> None:
        full = [s for s, b in self._buckets.items() if b.level(now) >= b.burst]
        for source in full:
            del self._buckets[source]
        while len(self._buckets) >= MAX_SOURCES:   # all busy: forget the longest idle one
            del self._buckets[min(self._buckets, key=lambda s: self._buckets[s].at)]

    def status(self) -> dict[str, object]:
        return {"pending": self.pending, "under_load": self.under_load(), "refused": dict(self.refused),
                "sources": len(self._by_source)}
