"""QKD keys for handshakes, fetched from this site's KME with the ETSI GS QKD 014 client.

The initiator asks its KME for a key shared with the responder's SAE (``enc_keys``; a KME whose link is
alarmed, e.g. QBER above threshold, refuses with ``link_alarm`` because its pool may hold keys an
eavesdropper influenced); the responder redeems the key_ID with ``dec_keys``. Every failure becomes a
*cause* string, never an exception, because with ``qkd = "preferred"`` a failure means "run PQC-only,
loudly":

``kme_unreachable``, ``key_exhausted``, ``kme_refused``, ``link_alarm``, ``relay_failed``, ``kme_error``.

The cause says what the KME reported. An ETSI GS QKD 014 error answer is
``503 {"message", "details": [{"reason", "failed_hop"}]}``; ``qkd.kms.client`` turns ``insufficient_key``
and ``link_alarm`` into their own exceptions and every other failure into ``KmeUnavailableError``, which
keeps the HTTP ``status`` and the ``reason`` / ``details`` of the answer (all None without one). So:

* a 5xx answer with reason ``relay_failed`` (the KME's relay through a trusted node broke; ``failed_hop``
  names the hop) is ``relay_failed``, any other 5xx answer ``kme_error``: the KME was reached, it is not
  "unreachable";
* no answer at all (refused, timed out, TLS) is checked with a short ``status`` call (local to the KME,
  it never relays): when the KME answers it, the key request failed beyond it, so the cause is
  ``link_alarm`` if the status says so, ``relay_failed`` if the peer's SAE sits behind another KME
  (``target_KME_ID`` differs from ``source_KME_ID``: a relay that timed out), ``kme_error`` otherwise;
  only when the KME does not answer that either is the cause ``kme_unreachable``.

The KME's own message (never key material) is kept as ``detail`` for logs and ``/status``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

from gateway.config import KME_PROBE_TIMEOUT_S, KmeConfig
from gateway.errors import GatewayConfigError
from gateway.keys import wipe
from qkd.kms.client import (
    KeyExhaustedError,
    KmeClient,
    KmeRefusedError,
    KmeUnavailableError,
    KmsError,
    LinkAlarmError,
)

log = logging.getLogger(__name__)


@dataclass(repr=False)
class QkdResult:
    """A QKD key (``bytearray``, wiped by the handshake after use) and its ID, or the cause of none.

    ``detail`` is what the KME said about the failure (its message, e.g. the failed relay hop), at most
    :data:`DETAIL_CHARS` characters, or None."""

    key: bytearray | None
    key_id: str | None
    cause: str | None
    detail: str | None = None

    def __repr__(self) -> str:
        return f"QkdResult(key_id={self.key_id!r}, cause={self.cause!r})"


#: Every cause a key source reports (metric label values: a closed set).
CAUSES = ("kme_unreachable", "key_exhausted", "kme_refused", "link_alarm", "relay_failed", "kme_error")
#: ETSI error ``details[].reason`` values -> cause.
_REASON_CAUSE = {"insufficient_key": "key_exhausted", "link_alarm": "link_alarm", "relay_failed": "relay_failed"}
DETAIL_CHARS = 240
#: How long a ``status`` answer the key-path watcher got still says "the KME is alive" (seconds).
STATUS_FRESH_S = 3.0


def _detail(text: str) -> str:
    return " ".join(text.split())[:DETAIL_CHARS]


def classify(exc: BaseException) -> tuple[str, str | None, bool]:
    """``(cause, detail, answered)`` for a KME client error; ``answered`` is False when the KME never
    answered the request (connection refused, timeout, TLS failure), i.e. worth a ``status`` probe.
    The cause is the ETSI ``details[0].reason`` the KME answered with (kept on the client's exception)."""
    if isinstance(exc, LinkAlarmError):
        return "link_alarm", _detail(str(exc)), True
    if isinstance(exc, KeyExhaustedError):
        return "key_exhausted", _detail(str(exc)), True
    if isinstance(exc, KmeRefusedError):
        return "kme_refused", _detail(str(exc)), True
    if not isinstance(exc, KmeUnavailableError):
        return "kme_error", _detail(f"{type(exc).__name__}: {exc}"), True
    if exc.status is None:
        return "kme_unreachable", _detail(str(exc)), False
    return _REASON_CAUSE.get(exc.reason or "", "kme_error"), _detail(str(exc)), True


#: Causes a handshake may carry besides :data:`CAUSES`: no key asked for by policy / no KME configured /
#: no key_ID offered, and the responder's failures to redeem the initiator's key_ID (``peer_key_<cause>``).
OTHER_CAUSES = ("policy_off", "no_kme", "not_offered")


def known_cause(value: Any) -> str:
    """``value`` if it is a cause this protocol defines, else ``"unknown"``: causes received from a peer
    become metric labels and must stay a closed set."""
    if isinstance(value, str) and (value in CAUSES or value in OTHER_CAUSES
                                   or (value.startswith("peer_key_") and value[9:] in CAUSES)):
        return value
    return "unknown"


class QkdKeySource:
    """One long-lived KME client for this gateway (aiohttp reconnects after a KME restart)."""

    #: Longest wait for the ``status`` probe that tells a dead KME from a failed relay (seconds).
    PROBE_TIMEOUT_S = KME_PROBE_TIMEOUT_S

    def __init__(self, config: KmeConfig) -> None:
        self.config = config
        self._client: KmeClient | None = None
        self._probe: KmeClient | None = None
        self._watch: KmeClient | None = None
        self._recent_status: dict[str, tuple[float, Any]] = {}
        self._lock = asyncio.Lock()
        self._context = self._ssl()

    def _ssl(self) -> ssl.SSLContext:
        """Mutual-TLS client context; a missing or unreadable file is a config error naming it."""
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise GatewayConfigError(f"kme.ca_file: cannot load {self.config.ca_file}: {exc}") from None
        try:
            ctx.load_cert_chain(self.config.cert_file, self.config.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise GatewayConfigError(f"kme.cert_file/key_file: cannot load {self.config.cert_file} / "
                                     f"{self.config.key_file}: {exc}") from None
        return ctx

    async def _get(self) -> KmeClient:
        async with self._lock:
            if self._client is None:
                client = KmeClient(self.config.url, self._context, timeout_s=self.config.timeout_s)
                await client.__aenter__()
                self._client = client
            return self._client

    async def _get_probe(self) -> KmeClient:
        async with self._lock:
            if self._probe is None:
                # The client's own timeout is a backstop: _explain_silence's deadline fires first.
                client = KmeClient(self.config.url, self._context, timeout_s=self.PROBE_TIMEOUT_S + 1.0)
                await client.__aenter__()
                self._probe = client
            return self._probe

    async def close(self) -> None:
        for name in ("_client", "_probe", "_watch"):
            client = getattr(self, name)
            if client is not None:
                setattr(self, name, None)
                await client.__aexit__(None, None, None)

    async def _explain_silence(self, slave_sae_id: str, detail: str | None) -> tuple[str, str | None]:
        """``enc_keys`` got no answer: ask ``status`` (never relayed) whether the KME itself is alive.

        A KME's ``status`` may ask the nodes of the route for their figures, which takes a while when one
        of them hangs: when the probe only runs out of time (the KME took the connection), an answer the
        key-path watcher got from it within :data:`STATUS_FRESH_S` stands in for it."""
        timeout = min(self.PROBE_TIMEOUT_S, self.config.timeout_s)
        try:
            probe = await self._get_probe()
            status: Any = await asyncio.wait_for(probe.status(slave_sae_id), timeout)
        except TimeoutError:
            recent = self._recent_status.get(slave_sae_id)
            if recent is None or time.monotonic() - recent[0] > STATUS_FRESH_S:
                return "kme_unreachable", detail
            status = recent[1]
        except KmsError:
            return "kme_unreachable", detail
        if not isinstance(status, dict):
            return "kme_unreachable", detail
        extension = status.get("status_extension") or {}
        source, target = status.get("source_KME_ID"), status.get("target_KME_ID")
        if isinstance(extension, dict) and extension.get("link_alarm"):
            return "link_alarm", _detail(f"KME {source} answers status with a link alarm (QBER "
                                         f"{extension.get('qber')}) after: {detail}")
        if source and target and source != target:
            return "relay_failed", _detail(f"KME {source} answers status but enc_keys towards {target} got no "
                                           f"answer (relay through the trusted path): {detail}")
        return "kme_error", _detail(f"KME {source} answers status but not enc_keys: {detail}")

    async def route_status(self, slave_sae_id: str, timeout_s: float) -> Any:
        """The ETSI ``status`` of the route to ``slave_sae_id`` within ``timeout_s`` (the key-path
        watcher's probe, on a client of its own). Raises :class:`KmsError` or :class:`TimeoutError`."""
        async with self._lock:
            if self._watch is None:
                client = KmeClient(self.config.url, self._context, timeout_s=timeout_s + 1.0)   # backstop
                await client.__aenter__()
                self._watch = client
            watch = self._watch
        status = await asyncio.wait_for(watch.status(slave_sae_id), timeout_s)
        self._recent_status[slave_sae_id] = (time.monotonic(), status)
        return status

    async def fetch(self, slave_sae_id: str, deadline_s: float | None = None) -> QkdResult:
        """``enc_keys`` for ``slave_sae_id``; a cause instead of a key on any failure. (An alarmed link
        answers ``enc_keys`` with 503 ``link_alarm``, so no separate ``status`` round trip is needed.)
        ``deadline_s`` (the key-path watcher sets it while the key path is bad) bounds the wait for the
        answer instead of ``kme.timeout_s``; no answer by then is explained like any other silence."""
        try:
            client = await self._get()
            call = client.enc_keys(slave_sae_id, number=1, size_bits=self.config.key_size_bits)
            delivered = await (call if deadline_s is None else asyncio.wait_for(call, deadline_s))
        except TimeoutError:
            cause, detail = await self._explain_silence(slave_sae_id, f"no enc_keys answer within {deadline_s} s")
            log.info("no QKD key from the KME", extra={
                "event": "gateway.qkd_unavailable", "sae": slave_sae_id, "cause": cause, "detail": detail,
                "error": "TimeoutError"})
            return QkdResult(None, None, cause, detail)
        except KmsError as exc:
            cause, detail, answered = classify(exc)
            if not answered:
                cause, detail = await self._explain_silence(slave_sae_id, detail)
            log.info("no QKD key from the KME", extra={
                "event": "gateway.qkd_unavailable", "sae": slave_sae_id, "cause": cause, "detail": detail,
                "error": type(exc).__name__})
            return QkdResult(None, None, cause, detail)
        if not delivered:
            return QkdResult(None, None, "key_exhausted", "enc_keys delivered no key")
        first = delivered[0]
        key = bytearray(first.key)
        for extra in delivered:
            extra.wipe()
        return QkdResult(key, str(first.key_id), None)

    async def redeem(self, master_sae_id: str, key_id: str, deadline_s: float | None = None) -> QkdResult:
        """``dec_keys`` for a key_ID the initiator sent; a cause instead of a key on any failure
        (``deadline_s``: as for :meth:`fetch`)."""
        try:
            client = await self._get()
            call = client.dec_keys(master_sae_id, [key_id])
            delivered = await (call if deadline_s is None else asyncio.wait_for(call, deadline_s))
        except (KmsError, TimeoutError) as exc:
            cause, detail = ("kme_unreachable", f"no dec_keys answer within {deadline_s} s") \
                if isinstance(exc, TimeoutError) else classify(exc)[:2]
            log.info("QKD key_ID not redeemed", extra={
                "event": "gateway.qkd_unavailable", "sae": master_sae_id, "cause": cause, "detail": detail,
                "error": type(exc).__name__})
            return QkdResult(None, key_id, cause, detail)
        if len(delivered) != 1 or str(delivered[0].key_id) != key_id:
            for d in delivered:
                d.wipe()
            return QkdResult(None, key_id, "kme_error", "dec_keys delivered other keys than the key_ID asked for")
        key = bytearray(delivered[0].key)
        delivered[0].wipe()
        return QkdResult(key, key_id, None)


def discard(result: QkdResult) -> None:
    """Wipe the key of a result that will not be used."""
    wipe(result.key)
