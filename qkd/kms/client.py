"""Async client of an ETSI GS QKD 014 KME (what the gateway uses), plus the node-administration client.

::

    async with KmeClient("https://127.0.0.1:8443", ssl_ctx) as kme:
        status = await kme.status("SAE_B")            # Status object; status_extension has link health
        [key] = await kme.enc_keys("SAE_B")           # master side: new key + key_ID
        [same] = await kme.dec_keys("SAE_A", [key.key_id])   # slave side (at its own KME)

The SAE's identity is its client certificate (``ssl_context`` must present it). Errors:
:class:`~qkd.kms.errors.KmeUnavailableError` (refused, timeout, TLS failure, 5xx other than key
exhaustion; :class:`~qkd.kms.errors.LinkAlarmError` when a link is alarmed),
:class:`~qkd.kms.errors.KeyExhaustedError` (503, not enough key),
:class:`~qkd.kms.errors.KmeRefusedError` (400/401 with the server's message).
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
from typing import Any, Self

import aiohttp

from qkd.kms.errors import KeyExhaustedError, KmeRefusedError, KmeUnavailableError, KmsError, LinkAlarmError
from qkd.kms.keys import DeliveredKey

__all__ = ["KmeClient", "KmeAdminClient", "DeliveredKey", "KmsError", "KmeUnavailableError", "KeyExhaustedError",
           "KmeRefusedError", "LinkAlarmError"]


class _Http:
    def __init__(self, base_url: str, ssl_context: ssl.SSLContext | None, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._ssl = ssl_context
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else False, limit=32),
            timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, path: str, *, json_body: Any = None, data: bytes | None = None,
                    params: dict[str, str] | None = None) -> Any:
        if self._session is None:
            raise KmsError("KmeClient used outside 'async with' (or after aclose())")
        url = self.base_url + path
        try:
            async with self._session.request(method, url, json=json_body, data=data, params=params) as resp:
                raw = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            raise KmeUnavailableError(f"KME {self.base_url}: {method} {path}: {type(exc).__name__}: {exc}") from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if status == 200:
            if body is None:
                raise KmeUnavailableError(f"KME {self.base_url}: {method} {path}: 200 without a JSON body")
            return body
        message = body.get("message", "") if isinstance(body, dict) else ""
        details = body.get("details", []) if isinstance(body, dict) else []
        reason = details[0].get("reason") if details and isinstance(details[0], dict) else None
        if status in (400, 401):
            raise KmeRefusedError(status, message or f"HTTP {status}", details)
        if status == 503 and reason == "insufficient_key":
            raise KeyExhaustedError(f"KME {self.base_url}: not enough key: {message}")
        kept_reason = reason if isinstance(reason, str) else None
        kept_details = details if isinstance(details, list) else None
        if status == 503 and reason == "link_alarm":
            raise LinkAlarmError(f"KME {self.base_url}: link alarm: {message}", status=status, reason=kept_reason,
                                 details=kept_details)
        raise KmeUnavailableError(f"KME {self.base_url}: {method} {path}: HTTP {status}: {message}", status=status,
                                  reason=kept_reason, details=kept_details)


def _keys(body: Any, where: str) -> list[DeliveredKey]:
    try:
        return [DeliveredKey(str(k["key_ID"]), base64.b64decode(k["key"], validate=True)) for k in body["keys"]]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise KmeUnavailableError(f"{where}: malformed Key container ({type(exc).__name__})") from None


class KmeClient(_Http):
    """ETSI GS QKD 014 client for one SAE (async context manager; keep-alive connection pool)."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext | None, timeout_s: float = 5.0) -> None:
        super().__init__(base_url, ssl_context, timeout_s)

    async def __aenter__(self) -> KmeClient:
        await super().__aenter__()
        return self

    async def status(self, slave_sae_id: str) -> dict[str, Any]:
        """Status object (§6.1) of the link to ``slave_sae_id``; ``status_extension`` holds
        ``{"link_alarm": bool, "qber": float | None}``."""
        return await self._call("GET", f"/api/v1/keys/{slave_sae_id}/status")

    async def enc_keys(self, slave_sae_id: str, number: int = 1, size_bits: int = 256) -> list[DeliveredKey]:
        """Get ``number`` new keys of ``size_bits`` shared with ``slave_sae_id`` (the caller is the master)."""
        body = await self._call("POST", f"/api/v1/keys/{slave_sae_id}/enc_keys",
                                json_body={"number": number, "size": size_bits})
        return _keys(body, "enc_keys")

    async def dec_keys(self, master_sae_id: str, key_ids: list[str]) -> list[DeliveredKey]:
        """Get the keys ``key_ids`` that ``master_sae_id`` obtained with enc_keys (the caller is the slave)."""
        body = await self._call("POST", f"/api/v1/keys/{master_sae_id}/dec_keys",
                                json_body={"key_IDs": [{"key_ID": k} for k in key_ids]})
        return _keys(body, "dec_keys")


class KmeAdminClient(_Http):
    """Node administration (certificate CN in the node's ``admin_ids``): pools, deposits, link alarms."""

    async def __aenter__(self) -> KmeAdminClient:
        await super().__aenter__()
        return self

    async def pools(self) -> dict[str, Any]:
        return await self._call("GET", "/admin/v1/pools")

    async def deposit(self, pool: str, material: bytes) -> dict[str, Any]:
        """Deposit key into ``pool`` ('local' or a link id); returns after the KME stored it durably."""
        return await self._call("POST", f"/admin/v1/pools/{pool}/deposit", data=material)

    async def set_link_alarm(self, link: str, alarm: bool, qber: float | None = None) -> dict[str, Any]:
        return await self._call("POST", f"/admin/v1/links/{link}/alarm", json_body={"alarm": alarm, "qber": qber})
