"""The WireGuard pre-shared key of one session epoch: derived from the hybrid session, never shown.

Each epoch of a gateway pair's session (X-Wing, plus the QKD key in ``hybrid-qkd`` mode, combined by the
handshake into the epoch's tunnel keys) yields one 32-byte PSK through :func:`gateway.keys.export_key`
(HKDF-SHA-256 over the epoch's keys, salted with its session id). The label names the use, the two sites
(sorted, so both ends build the same label), the epoch number and the mode::

    "qshift-gw/1 wireguard psk" ‖ JSON{"epoch": n, "mode": "hybrid-qkd" | "pqc-only", "sites": [a, b]}

Both ends therefore hold the same PSK for the same epoch, a PSK is never a tunnel key, and a
``pqc-only`` PSK is never the ``hybrid-qkd`` one with a part missing. The value lives in a
``bytearray`` wiped when the PSK is retired; ``repr`` and the status show only the epoch, the mode and a
fingerprint (the first 8 hex digits of a labelled SHA-256, enough for an operator to compare both ends).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import ClassVar

from gateway.dataplane.epoch_key import ExportedEpochKey, epoch_label
from gateway.keys import SessionKeys, export_key

PSK_BYTES = 32
LABEL_PREFIX = b"qshift-gw/1 wireguard psk"


def psk_label(local_site: str, peer_site: str, epoch: int, mode: str) -> bytes:
    """The HKDF info of a WireGuard PSK: the same at both ends (sites sorted)."""
    return epoch_label(LABEL_PREFIX, local_site, peer_site, epoch, mode)


@dataclass(repr=False, eq=False)
class WireGuardPsk(ExportedEpochKey):
    """One epoch's PSK. ``value`` is secret: use :meth:`wg_key_line` to hand it to ``wg``, then :meth:`wipe`."""

    FINGERPRINT_LABEL: ClassVar[bytes] = b"qshift-gw/1 psk fingerprint "

    session_id: bytes

    def wg_key_line(self) -> bytes:
        """The PSK as ``wg`` reads it from a key file: base64 and a newline."""
        if not any(self.value):
            raise ValueError(f"the PSK of epoch {self.epoch} is wiped")
        return base64.b64encode(bytes(self.value)) + b"\n"

    def __repr__(self) -> str:  # never the key
        return f"WireGuardPsk(epoch={self.epoch}, mode={self.mode!r}, fingerprint={self.fingerprint})"


def derive_wireguard_psk(keys: SessionKeys, *, local_site: str, epoch: int) -> WireGuardPsk:
    """The PSK of session epoch ``epoch`` whose keys are ``keys`` (live, not yet wiped); the peer is
    ``keys.peer``. Both ends get the same PSK."""
    value = export_key(keys, psk_label(local_site, keys.peer, epoch, keys.mode), PSK_BYTES)
    return WireGuardPsk(value=value, epoch=epoch, mode=keys.mode, session_id=keys.session_id)
