"""The emulated QKD links of a scenario, as the KMEs run them: one ``[[feeds]]`` entry per link end.

A scenario does not drive its links itself: each link is a feed of kind ``emulated`` in the two KMEs'
configurations, so the link runtime (``qkd.runtime``), the KME key intake, the store, the relay and the
ETSI GS QKD 014 API that serve the gateways are the code ``qshift kme serve`` runs. The classical channel
between the two KMEs goes through a :class:`~qshift.scenario.netpath.ChannelPath` (latency, loss and
silence faults act there, on real TCP connections); the emulated physics is shared between the two ends
through one :class:`~qkd.runtime.LinkFaults` (eavesdropper, cut fiber, read-out errors).

Key length: every delivered key has the finite-key length of Lim et al. 2014 (ε_sec = 1e-10,
ε_cor = 1e-15), not the asymptotic rate. Blocks are 10^7 pulses (under a second of CPU), which is too few
for the finite-key bound with the efficient-BB84 presets (p_Z = 0.9: only 1 % of pulses are X-basis at
both ends, a few hundred weak-decoy X counts, single-photon bound 0). The scenario sources therefore use
balanced bases (p_Z = 0.5 at both ends) and intensity probabilities (0.5, 0.35, 0.15): at 25 km of fiber a
block then yields ~10^4 secret bits (~2·10^4 on the 2 km free-space link).

Entanglement-based links (``protocol = "bbm92"``): a CW SPDC source of ``BBM92_PAIR_RATE_HZ`` pairs/s in the
middle of the fibre, blocks of ``BBM92_BLOCK_SECONDS`` of both stations' time tags (Bob's clock offset and
drifting, found from the tags every block), finite key of Tomamichel et al. 2012 (ε_sec = 1e-10): at 25 km
a block yields ~10^4 secret bits. An eavesdropper (``eve`` fault) intercepts and resends that fraction of
the photons on Bob's arm; the entanglement witness of each block is the link's alarm.

Authentication: Wegman–Carter over each block's transcript (``auth = "transcript"``), from a pre-shared
pad file written for the link (the same bytes at both ends), refilled from the link's own key.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from qkd.kms.config import FeedSection
from qkd.kms.linkend import feed_link
from qkd.physics import Link
from qshift.scenario.model import LinkSpec

PULSES_PER_BLOCK = 10_000_000
KEY_LENGTH_MODE = "finite"
#: basis and intensity choice of the scenario sources (see the module docstring)
SCENARIO_P_Z = 0.5
SCENARIO_INTENSITY_PROBABILITIES = (0.5, 0.35, 0.15)
#: pre-shared Wegman–Carter pads per direction written for each scenario link
PRESHARED_PADS = 64
#: liveness of the scenario links (s): a silent peer is detected within SILENCE_TIMEOUT_S
HEARTBEAT_S = 0.5
SILENCE_TIMEOUT_S = 3.0
#: the emulated pair source of the BBM92 scenario links (pairs/s) and the link time per block (s)
BBM92_PAIR_RATE_HZ = 1.0e6
BBM92_BLOCK_SECONDS = 0.5


def link_feed(spec: LinkSpec, *, seed: int, psk_file: Path, channel_url: str = "") -> dict[str, Any]:
    """The ``[[feeds]]`` entry both KMEs of ``spec`` run (Alice's with ``channel_url``)."""
    feed: dict[str, Any] = {
        "pool": spec.name, "kind": "emulated", "pulses_per_block": PULSES_PER_BLOCK, "emulator_seed": seed,
        "key_length": KEY_LENGTH_MODE, "length_km": spec.length_km, "p_z": SCENARIO_P_Z,
        "intensity_probabilities": SCENARIO_INTENSITY_PROBABILITIES, "qber_abort": spec.qber_abort,
        "auth": "transcript", "auth_psk_file": str(psk_file), "heartbeat_s": HEARTBEAT_S,
        "silence_timeout_s": SILENCE_TIMEOUT_S, "step_timeout_s": 15.0, "block_timeout_s": 60.0,
        "connect_timeout_s": 3.0, "backoff_max_s": 2.0,
    }
    if spec.protocol == "bbm92":
        feed.update(protocol="bbm92", entangled={"pair_rate_hz": BBM92_PAIR_RATE_HZ,
                                                 "block_seconds": BBM92_BLOCK_SECONDS})
    if spec.kind == "fiber":
        feed["preset"] = "snspd-fiber"
    else:
        feed.update(preset="freespace-night", turbulence=spec.turbulence)
    if channel_url:
        feed["channel_url"] = channel_url
    return feed


def write_preshared_pads(path: Path, pads: int = PRESHARED_PADS) -> Path:
    """A fresh pre-shared Wegman–Carter key (2 hash keys + ``pads`` pads per direction), mode 0600."""
    path.write_bytes(b"")
    path.chmod(0o600)
    path.write_bytes(secrets.token_bytes(32 + 32 * pads))
    return path


def emulated_link(spec: LinkSpec) -> Link:
    """The emulated hardware of a scenario link (the KMEs build the same from the link's feed)."""
    feed = FeedSection.model_validate(link_feed(spec, seed=0, psk_file=Path("unused")))
    return feed_link(feed)


__all__ = ["BBM92_BLOCK_SECONDS", "BBM92_PAIR_RATE_HZ", "KEY_LENGTH_MODE", "PULSES_PER_BLOCK", "emulated_link",
           "link_feed", "write_preshared_pads"]
