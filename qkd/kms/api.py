"""ETSI GS QKD 014 V1.1.1 data formats: request parsing and validation, response bodies.

Field names follow the spec's tables exactly: Status (§6.1: ``source_KME_ID``, ``target_KME_ID``,
``master_SAE_ID``, ``slave_SAE_ID``, ``key_size``, ``stored_key_count``, ``max_key_count``,
``max_key_per_request``, ``max_key_size``, ``min_key_size``, ``max_SAE_ID_count``, ``status_extension``),
Key request (§6.2: ``number``, ``size``, ``additional_slave_SAE_IDs``, ``extension_mandatory``,
``extension_optional``), Key container (§6.3: ``keys[{key_ID, key}]``), Key IDs (§6.4:
``key_IDs[{key_ID}]``), Error (§6.5: ``message``, ``details``). Sizes are in bits, keys base64 (RFC 4648).

Status codes (§5): 200 success, 400 bad request format, 401 unauthorized, 503 error on the server side.
Every error answer of the KME - including HTTP framing faults, oversized or late bodies and undecodable
JSON - is one of these with an Error body (``message``, optional ``details``); the only other statuses are
404 and 405 for a path or method that is not an endpoint at all, with the same body.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """An ETSI error answer: HTTP ``status`` with body ``{"message": ..., "details": [...]}``."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = [details] if details else []
        self.close_connection = False     # the request was not read to its end: close after answering

    @property
    def reason(self) -> str:
        """``details[0].reason`` when given, else a name for the status (a metric label, never key data)."""
        if self.details and isinstance(self.details[0].get("reason"), str):
            return self.details[0]["reason"]
        return {400: "bad_request", 401: "unauthorized"}.get(self.status, "error")

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def bad_request(message: str, **details: Any) -> ApiError:
    return ApiError(400, message, **details)


def unauthorized(message: str, **details: Any) -> ApiError:
    return ApiError(401, message, **details)


def server_side(message: str, reason: str, **details: Any) -> ApiError:
    """503; ``reason`` (``insufficient_key``, ``link_alarm``, ``relay_failed``) lets clients tell them apart."""
    return ApiError(503, message, reason=reason, **details)


@dataclass(frozen=True)
class KeyRequest:
    number: int
    size_bits: int


def _int_field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{name}: expected an integer, got {type(value).__name__}")
    return value


def parse_key_request_json(body: Any, default_size: int) -> tuple[KeyRequest, list[str]]:
    """Key request body (POST enc_keys) → request and additional slave SAE IDs; 400 on any format fault."""
    if not isinstance(body, dict):
        raise bad_request("Key request: expected a JSON object")
    known = {"number", "size", "additional_slave_SAE_IDs", "extension_mandatory", "extension_optional"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise bad_request(f"Key request: unknown field {unknown[0]!r}")
    number = _int_field(body.get("number", 1), "number")
    size = _int_field(body.get("size", default_size), "size")
    extra = body.get("additional_slave_SAE_IDs", [])
    if not isinstance(extra, list) or not all(isinstance(s, str) for s in extra):
        raise bad_request("additional_slave_SAE_IDs: expected an array of strings")
    mandatory = body.get("extension_mandatory", [])
    if not isinstance(mandatory, list):
        raise bad_request("extension_mandatory: expected an array of objects")
    if mandatory:
        names = sorted({k for ext in mandatory if isinstance(ext, dict) for k in ext})
        raise bad_request("extension_mandatory: not supported by this KME", unsupported_extensions=names)
    optional = body.get("extension_optional", [])
    if not isinstance(optional, list):
        raise bad_request("extension_optional: expected an array of objects")
    return KeyRequest(number, size), extra


def parse_key_request_query(query: Any, default_size: int) -> KeyRequest:
    """Query parameters of GET enc_keys (``number``, ``size``)."""
    unknown = sorted(set(query) - {"number", "size"})
    if unknown:
        raise bad_request(f"query parameter {unknown[0]!r} not defined for enc_keys")
    values = {}
    for name, default in (("number", 1), ("size", default_size)):
        raw = query.get(name)
        if raw is None:
            values[name] = default
            continue
        try:
            values[name] = int(raw, 10)
        except ValueError:
            raise bad_request(f"{name}: expected an integer, got {raw[:40]!r}") from None
    return KeyRequest(values["number"], values["size"])


def check_key_request(req: KeyRequest, *, min_size: int, max_size: int, max_per_request: int) -> None:
    """400 for a number or size outside the KME's announced limits, or a size not a multiple of 8."""
    if req.number < 1:
        raise bad_request(f"number: must be at least 1, got {req.number}")
    if req.number > max_per_request:
        raise bad_request(f"number: {req.number} exceeds max_key_per_request {max_per_request}")
    if req.size_bits % 8:
        raise bad_request(f"size: {req.size_bits} bits is not a multiple of 8")
    if not min_size <= req.size_bits <= max_size:
        raise bad_request(f"size: {req.size_bits} bits outside [{min_size}, {max_size}]")


def _check_uuid(key_id: Any, where: str) -> str:
    if not isinstance(key_id, str):
        raise bad_request(f"{where}: expected a UUID string")
    try:
        uuid.UUID(key_id)
    except ValueError:
        raise bad_request(f"{where}: {key_id[:40]!r} is not a UUID") from None
    return key_id


def parse_key_ids_json(body: Any) -> list[str]:
    """Key IDs body (POST dec_keys) → list of key_IDs; 400 on any format fault or duplicates."""
    if not isinstance(body, dict):
        raise bad_request("Key IDs: expected a JSON object")
    unknown = sorted(set(body) - {"key_IDs", "key_IDs_extension"})
    if unknown:
        raise bad_request(f"Key IDs: unknown field {unknown[0]!r}")
    items = body.get("key_IDs")
    if not isinstance(items, list) or not items:
        raise bad_request("key_IDs: expected a non-empty array")
    ids = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "key_ID" not in item:
            raise bad_request(f"key_IDs[{i}]: expected an object with key_ID")
        ids.append(_check_uuid(item["key_ID"], f"key_IDs[{i}].key_ID"))
    if len(set(ids)) != len(ids):
        raise bad_request("key_IDs: the same key_ID appears twice")
    return ids


def parse_key_ids_query(query: Any) -> list[str]:
    """Query of GET dec_keys: exactly one ``key_ID``."""
    unknown = sorted(set(query) - {"key_ID"})
    if unknown:
        raise bad_request(f"query parameter {unknown[0]!r} not defined for dec_keys")
    values = query.getall("key_ID", []) if hasattr(query, "getall") else [query.get("key_ID")]
    if len(values) != 1 or values[0] is None:
        raise bad_request("key_ID: exactly one query parameter expected")
    return [_check_uuid(values[0], "key_ID")]
