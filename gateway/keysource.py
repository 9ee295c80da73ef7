"""QKD keys for handshakes, fetched from this site's KME with the ETSI GS QKD 014 client.

The initiator asks its KME for a key shared with the responder's SAE (``enc_keys``; a KME whose link is
alarmed, e.g. QBER above threshold, refuses with ``link_alarm`` because its pool may hold keys an
eavesdropper influenced); the responder redeems the key_ID with ``dec_keys``. Every failure becomes a
*cause* string, never an exception, because with ``qkd = "preferred"`` a failure means "run PQC-only,
loudly":

``kme_unreachable``, ``key_exhausted``, ``kme_refused``, ``link_alarm``, ``kme_error``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

from gateway.config import KmeConfig
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
    """A QKD key (``bytearray``, wiped by the handshake after use) and its ID, or the cause of none."""

    key: bytearray | None
    key_id: str | None
    cause: str | None

    def __repr__(self) -> str:
        return f"QkdResult(key_id={self.key_id!r}, cause={self.cause!r})"


def _cause(exc: BaseException) -> str:
    if isinstance(exc, LinkAlarmError):
        return "link_alarm"
    if isinstance(exc, KmeUnavailableError):
        return "kme_unreachable"
    if isinstance(exc, KeyExhaustedError):
        return "key_exhausted"
    if isinstance(exc, KmeRefusedError):
        return "kme_refused"
    return "kme_error"


class QkdKeySource:
    """One long-lived KME client for this gateway (aiohttp reconnects after a KME restart)."""

    def __init__(self, config: KmeConfig) -> None:
        self.config = config
        self._client: KmeClient | None = None
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

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.__aexit__(None, None, None)

    async def fetch(self, slave_sae_id: str) -> QkdResult:
        """``enc_keys`` for ``slave_sae_id``; a cause instead of a key on any failure. (An alarmed link
        answers ``enc_keys`` with 503 ``link_alarm``, so no separate ``status`` round trip is needed.)"""
        try:
            client = await self._get()
            delivered = await client.enc_keys(slave_sae_id, number=1, size_bits=self.config.key_size_bits)
        except KmsError as exc:
            log.info("no QKD key from the KME", extra={
                "event": "gateway.qkd_unavailable", "sae": slave_sae_id, "cause": _cause(exc),
                "error": type(exc).__name__})
            return QkdResult(None, None, _cause(exc))
        if not delivered:
            return QkdResult(None, None, "key_exhausted")
        first = delivered[0]
        key = bytearray(first.key)
        for extra in delivered:
            extra.wipe()
        return QkdResult(key, str(first.key_id), None)

    async def redeem(self, master_sae_id: str, key_id: str) -> QkdResult:
        """``dec_keys`` for a key_ID the initiator sent; a cause instead of a key on any failure."""
        try:
            client = await self._get()
            delivered = await client.dec_keys(master_sae_id, [key_id])
        except KmsError as exc:
            log.info("QKD key_ID not redeemed", extra={
                "event": "gateway.qkd_unavailable", "sae": master_sae_id, "cause": _cause(exc),
                "error": type(exc).__name__})
            return QkdResult(None, key_id, _cause(exc))
        if len(delivered) != 1 or str(delivered[0].key_id) != key_id:
            for d in delivered:
                d.wipe()
            return QkdResult(None, key_id, "kme_error")
        key = bytearray(delivered[0].key)
        delivered[0].wipe()
        return QkdResult(key, key_id, None)


def discard(result: QkdResult) -> None:
    """Wipe the key of a result that will not be used."""
    wipe(result.key)
