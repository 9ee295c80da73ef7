"""Errors of ``qkd.kms``: every one derives from :class:`KmsError` (itself a :class:`qkd.errors.QkdError`).

Client-side errors (what :class:`qkd.kms.client.KmeClient` raises) map the HTTP outcome of an ETSI GS QKD 014
call onto what a caller can do about it:

* :class:`KmeUnavailableError` - connection refused, timeout, TLS failure, any 5xx except "not enough key";
* :class:`KeyExhaustedError` - 503 because the KME holds fewer keys than requested (retry later / fall back);
* :class:`KmeRefusedError` - 400/401: the request or the caller's identity was refused (a bug or a policy).

Server-side errors: the key store's (:class:`KeyStoreError` and its subclasses: pools short of key, full or
alarmed; key_IDs unknown, foreign, already delivered or expired), which the service maps onto the ETSI API's
HTTP answers.
No message ever contains key material.
"""

from __future__ import annotations

from qkd.errors import QkdError


class KmsError(QkdError):
    """Base of all key-management errors."""


class KmeUnavailableError(KmsError):
    """The KME could not be reached, timed out, or failed on its side (5xx other than key exhaustion).

    When the KME answered, ``status`` is its HTTP status and ``reason`` / ``details`` are the ETSI error
    body's ``details[0].reason`` and ``details`` (e.g. ``relay_failed`` with ``failed_hop``); all None when
    it did not answer. They never hold key material."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 details: list | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.details = details


class LinkAlarmError(KmeUnavailableError):
    """The KME refuses keys because a QKD link on the key's path is alarmed (QBER above threshold)."""


class KeyExhaustedError(KmsError):
    """The KME answered 503 because it does not hold enough key for the request."""


class KmeRefusedError(KmsError):
    """The KME refused the request (HTTP 400 or 401); ``status`` and the server's ``message`` are kept."""

    def __init__(self, status: int, message: str, details: list | None = None) -> None:
        super().__init__(f"KME refused the request (HTTP {status}): {message}")
        self.status = status
        self.server_message = message
        self.details = details or []


class KeyStoreError(KmsError):
    """The key store cannot do what was asked (names the pool / key and the reason)."""


class InsufficientKeyError(KeyStoreError):
    """A pool holds fewer bits than a request needs; nothing was consumed."""


class CapacityError(KeyStoreError):
    """A deposit would exceed the pool's capacity: back-pressure to the producer; nothing was stored."""


class PoolAlarmedError(KeyStoreError):
    """The pool's link is alarmed (e.g. QBER above threshold): no key is issued from it."""

    def __init__(self, pool: str, qber: float | None) -> None:
        super().__init__(f"pool {pool!r}: link alarmed (QBER {qber})")
        self.pool = pool
        self.qber = qber


class UnknownKeyIdError(KeyStoreError):
    """A key_ID is not held by this KME (never issued here, or already delivered and wiped)."""


class ForeignKeyIdError(KeyStoreError):
    """A key_ID exists but was issued to another SAE pair than the caller's."""


class KeyAlreadyDeliveredError(KeyStoreError):
    """A key_ID was already delivered to (or is reserved for) this role: at most once."""


class KeyExpiredError(KeyAlreadyDeliveredError):
    """A key_ID's slave delivery was destroyed: not redeemed before its deadline (:mod:`qkd.kms.ledger`)."""


class MasterKeyError(KmsError):
    """The node master key file is missing, has the wrong size, or is readable by others than its owner."""


class RelayError(KmsError):
    """A trusted-node relay failed; ``failed_hop`` names the hop (``"KME_T->KME_B"``) where it broke and
    ``reason`` why: ``insufficient_key``, ``link_alarm`` or ``relay_failed`` (unreachable, refused, check)."""

    def __init__(self, message: str, failed_hop: str | None = None, reason: str = "relay_failed") -> None:
        super().__init__(message if failed_hop is None else f"{message} (failed hop {failed_hop})")
        self.failed_hop = failed_hop
        self.reason = reason


class TopologyError(KmsError):
    """The topology is inconsistent or has no route between two nodes."""
