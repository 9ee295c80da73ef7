"""The IKEv2 post-quantum preshared key (RFC 8784 PPK) of one session epoch, and its public PPK_ID.

Same construction as the WireGuard PSK (:mod:`gateway.dataplane.psk`), another use label::

    PPK    = HKDF(epoch keys, salt = session id, info = "qshift-gw/1 ikev2 ppk" ‖ JSON{epoch, mode, sites})
    PPK_ID = "qshift-" ‖ hex(SHA-256("qshift-gw/1 ppk id" ‖ session id ‖ info))[:32]

Both ends compute both; the PPK_ID (public: it names the PPK inside IKE_AUTH) differs for every epoch of
every session, so strongSwan can hold the PPKs of two epochs at once while IKE SAs move over.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from gateway.dataplane.epoch_key import ExportedEpochKey, epoch_label
from gateway.keys import SessionKeys, export_key

PPK_BYTES = 32
LABEL_PREFIX = b"qshift-gw/1 ikev2 ppk"


@dataclass(repr=False, eq=False)
class IkePpk(ExportedEpochKey):
    """One epoch's PPK. ``value`` is secret; ``ppk_id`` is not."""

    FINGERPRINT_LABEL: ClassVar[bytes] = b"qshift-gw/1 ppk fingerprint "

    ppk_id: str

    def __repr__(self) -> str:  # never the key
        return f"IkePpk(ppk_id={self.ppk_id!r}, epoch={self.epoch}, mode={self.mode!r}, fingerprint={self.fingerprint})"


def derive_ikev2_ppk(keys: SessionKeys, *, local_site: str, epoch: int) -> IkePpk:
    """The PPK and PPK_ID of session epoch ``epoch`` (``keys`` live); the same at both ends."""
    label = epoch_label(LABEL_PREFIX, local_site, keys.peer, epoch, keys.mode)
    ppk_id = "qshift-" + hashlib.sha256(b"qshift-gw/1 ppk id" + keys.session_id + label).hexdigest()[:32]
    return IkePpk(value=export_key(keys, label, PPK_BYTES), ppk_id=ppk_id, epoch=epoch, mode=keys.mode)
