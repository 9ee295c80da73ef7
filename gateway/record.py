"""Per-epoch record protection: the AEAD of ``pqc``'s framing helper, or nothing (bench baseline only).

A :class:`RecordCipher` seals the inner frames of one direction of one key epoch. The sealed record body
is ``epoch:u32be || frame`` and the 5 bytes ``type || epoch`` are the associated data, so a record cannot
be moved to another epoch or record type. Rejections are :class:`RecordRejected` with a reason code
(``replay``, ``reorder``, ``tamper``) that becomes the ``gateway_records_rejected`` metric label.
"""

from __future__ import annotations

from typing import Protocol

from gateway.errors import GatewayError


class RecordRejected(GatewayError):
    """A sealed record failed a check; ``reason`` is ``replay``, ``reorder``, ``tamper`` or ``expired``.

    ``authenticated`` is True when the record's tag verified (a replayed or reordered record of the
    peer's): only such records count against the session; a forgery is dropped and counted, nothing more."""

    def __init__(self, reason: str, message: str, authenticated: bool = False) -> None:
        self.reason = reason
        self.authenticated = authenticated
        super().__init__(message)


class RecordCipher(Protocol):
    def seal(self, aad: bytes, plaintext: bytes) -> bytes: ...
    def open(self, aad: bytes, frame: bytes) -> bytes: ...
    def wipe(self) -> None: ...


class NullCipher:
    """No protection at all. Exists only so that the benchmark's plain relay runs the same stack; the
    service never builds one from a config."""

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, aad: bytes, frame: bytes) -> bytes:
        return frame

    def wipe(self) -> None:
        pass
