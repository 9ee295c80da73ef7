"""Per-epoch record protection: the AEAD framing of ``pqc.aead`` (:func:`record_ciphers`), or nothing
(:class:`NullCipher`, bench baseline only).

A :class:`RecordCipher` seals the inner frames of one direction of one key epoch. The sealed record body
is ``epoch:u32be || frame`` and the 5 bytes ``type || epoch`` are the associated data, so a record cannot
be moved to another epoch or record type. ``frame`` is ``pqc.aead``'s ``u64 sequence ‖ ciphertext ‖ tag``
(per-direction key and IV, the sequence in the nonce, replay window, in-order delivery). Rejections are
:class:`RecordRejected` with a reason code (``replay``, ``reorder``, ``tamper``, ``malformed``) that
becomes the ``gateway_records_rejected`` metric label.
"""

from __future__ import annotations

from typing import Protocol

from gateway.errors import GatewayError
from gateway.keys import SessionKeys
from pqc import (
    AES_256_GCM,
    CHACHA20_POLY1305,
    AuthenticationError,
    Opener,
    OutOfOrderError,
    PqcError,
    ReplayError,
    Sealer,
)

#: Sequence numbers remembered by the receive side (bits); ordering is enforced separately.
REPLAY_WINDOW = 1024
#: site-config AEAD name → ``pqc.aead`` algorithm
_ALGORITHMS = {"aes-256-gcm": AES_256_GCM, "chacha20-poly1305": CHACHA20_POLY1305}


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


class _SendCipher:
    """Seals with a ``pqc.aead.Sealer`` (sequence numbers chosen by the sealer, never repeated)."""

    def __init__(self, key: bytearray, iv: bytes, algorithm: str) -> None:
        self._sealer = Sealer(key, iv, algorithm=algorithm)

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        return self._sealer.seal_frame(plaintext, aad)

    def open(self, aad: bytes, frame: bytes) -> bytes:
        raise RecordRejected("tamper", "a send cipher cannot open records")

    def wipe(self) -> None:
        self._sealer.wipe()


class _ReceiveCipher:
    """Opens with a ``pqc.aead.Opener`` in order (:meth:`~pqc.aead.Opener.open_frame_in_order`): a record
    that does not authenticate is ``tamper`` whatever its sequence number says (a forgery must not pass
    for a replay); an authentic record older than the highest accepted one is ``reorder`` (never seen) or
    ``replay`` (seen): TCP delivers in order, so only a man in the middle can have moved it."""

    def __init__(self, key: bytearray, iv: bytes, algorithm: str) -> None:
        self._opener = Opener(key, iv, algorithm=algorithm, window=REPLAY_WINDOW)

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        raise RecordRejected("tamper", "a receive cipher cannot seal records")

    def open(self, aad: bytes, frame: bytes) -> bytes:
        try:
            return self._opener.open_frame_in_order(frame, aad)
        except AuthenticationError as exc:
            raise RecordRejected("tamper", str(exc)) from None
        except ReplayError as exc:
            raise RecordRejected("replay", str(exc), authenticated=True) from None
        except OutOfOrderError as exc:
            raise RecordRejected("reorder", str(exc), authenticated=True) from None
        except PqcError as exc:
            raise RecordRejected("malformed", str(exc)) from None

    def wipe(self) -> None:
        self._opener.wipe()


def record_ciphers(keys: SessionKeys) -> tuple[RecordCipher, RecordCipher]:
    """(send, receive) ciphers for one epoch from the per-direction keys and IVs."""
    algorithm = _ALGORITHMS[keys.aead]
    return (_SendCipher(keys.send_key, keys.send_iv, algorithm),
            _ReceiveCipher(keys.recv_key, keys.recv_iv, algorithm))
