"""Session keys as a handshake yields them, and what Python can and cannot do to erase them.

Keys live in ``bytearray`` objects that :meth:`SessionKeys.wipe` overwrites with zeros when a key is
retired (rekey, teardown). What this guarantees: our own buffers no longer hold the key after the wipe.
What it cannot guarantee: CPython and the ``cryptography`` bindings copy key bytes into immutable
``bytes`` objects and into OpenSSL contexts (an AEAD object keeps its own copy until it is garbage
collected, and freed memory is not zeroed by the allocator); the garbage collector may have moved or
duplicated nothing we can reach. The wipe therefore shortens the life of key copies we control and keeps
keys out of our own data structures; it is not a guarantee against a memory dump of the process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pqc import kdf


def wipe(buf: bytearray | None) -> None:
    """Overwrite ``buf`` with zeros in place."""
    if buf is not None:
        for i in range(len(buf)):
            buf[i] = 0


@dataclass(repr=False)
class SessionKeys:
    """The result of one handshake (initial or rekey), from one side's point of view.

    ``send_key``/``recv_key`` are the per-direction AEAD keys (32 bytes each) and ``send_iv``/``recv_iv``
    the per-direction nonce IVs (12 bytes, not secret but derived with the keys); ``session_id`` is the
    final transcript hash (public); ``cause`` says why the mode is ``pqc-only`` (None for hybrid) and
    ``cause_detail`` what this site's KME said about it (its error message, e.g. the failed relay hop).
    """

    send_key: bytearray
    recv_key: bytearray
    send_iv: bytes
    recv_iv: bytes
    aead: str
    mode: str
    key_id: str | None
    cause: str | None
    session_id: bytes
    peer: str
    cause_detail: str | None = None
    created: float = field(default_factory=time.monotonic)

    def wipe(self) -> None:
        """Overwrite both keys with zeros (see the module docstring for what this can guarantee)."""
        wipe(self.send_key)
        wipe(self.recv_key)

    def __repr__(self) -> str:  # never show key bytes
        return (f"SessionKeys(peer={self.peer!r}, mode={self.mode!r}, aead={self.aead!r}, "
                f"key_id={self.key_id!r}, session_id={self.session_id.hex()[:16]}...)")


def export_key(keys: SessionKeys, label: bytes, length: int = 32) -> bytearray:
    """A key for another protocol (a WireGuard PSK, an IKEv2 PPK), derived from a live session epoch and
    the same at both ends.

    HKDF-SHA-256 (RFC 5869): input the two direction keys in a canonical (sorted) order, since each end
    holds them swapped; salt the session id; info ``label``. HKDF is one-way, so the output reveals
    nothing about the tunnel keys, and each use must bring its own ``label`` (name the use, the peer
    pair, the epoch and the mode). Call it before the keys are wiped: wiped keys are refused."""
    if not any(keys.send_key) or not any(keys.recv_key):
        raise ValueError(f"session keys with {keys.peer} are wiped; nothing to export")
    first, second = sorted((bytes(keys.send_key), bytes(keys.recv_key)))
    return bytearray(kdf("HKDF-SHA256").derive(first + second, length, salt=keys.session_id, info=label))
