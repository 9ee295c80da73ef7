"""A key exported from one session epoch for a data plane (the WireGuard PSK, the IKEv2 PPK): its HKDF label
and the secret's life (fingerprint, age, wipe).

Each use has a label of its own (``use``), so keys for different planes, epochs or modes never coincide::

    use ‖ " " ‖ JSON{"epoch": n, "mode": "hybrid-qkd" | "pqc-only", "sites": [a, b]}   (sites sorted)

The value lives in a ``bytearray`` wiped when the key is retired; only a fingerprint (the first 8 hex digits of
a labelled SHA-256, enough for an operator to compare both ends) is ever shown.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import ClassVar

from gateway.keys import wipe

MODES = ("pqc-only", "hybrid-qkd")


def epoch_label(use: bytes, local_site: str, peer_site: str, epoch: int, mode: str) -> bytes:
    """``use ‖ " " ‖ JSON{epoch, mode, sites (sorted)}``: the HKDF info of a key exported for ``use``."""
    if mode not in MODES:
        raise ValueError(f"unknown session mode {mode!r} (expected one of {', '.join(MODES)})")
    if epoch < 0:
        raise ValueError(f"session epoch {epoch} is negative")
    body = json.dumps({"epoch": epoch, "mode": mode, "sites": sorted((local_site, peer_site))},
                      sort_keys=True, separators=(",", ":"))
    return use + b" " + body.encode()


@dataclass(repr=False, eq=False)
class ExportedEpochKey:
    """One epoch's exported key: ``value`` is secret; ``epoch``, ``mode`` and ``created`` (monotonic clock, s)
    are not. A subclass names its fingerprint label and adds the fields of its use."""

    FINGERPRINT_LABEL: ClassVar[bytes]

    value: bytearray
    epoch: int
    mode: str
    created: float = field(default_factory=time.monotonic, kw_only=True)

    @property
    def fingerprint(self) -> str:
        """8 hex digits of SHA-256 over a label and the key: safe to log, equal at both ends."""
        return hashlib.sha256(self.FINGERPRINT_LABEL + bytes(self.value)).hexdigest()[:8]

    def age(self) -> float:
        """Seconds since the key was derived."""
        return time.monotonic() - self.created

    def wipe(self) -> None:
        wipe(self.value)
