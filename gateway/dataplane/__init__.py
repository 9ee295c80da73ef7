"""Data planes a site already runs, keyed by the gateway's hybrid session: WireGuard and IPsec.

- :mod:`~gateway.dataplane.epoch_key`: what every exported epoch key shares (its HKDF label by use, peer
  pair, epoch and mode; fingerprint, age, wipe);
- :mod:`~gateway.dataplane.psk`: the 32-byte WireGuard PSK of a session epoch (identical at both ends; never
  shown);
- :mod:`~gateway.dataplane.wireguard`: ``wg`` driven with the PSK through a pipe, with deadlines;
- :mod:`~gateway.dataplane.rotation`: the supervised per-peer rotator (install per epoch, age policy,
  fail closed under ``required``) and its status;
- :mod:`~gateway.dataplane.ppk`, :mod:`~gateway.dataplane.ipsec`: the IKEv2 PPK of an epoch (RFC 8784) and
  strongSwan driven over VICI (load the PPK, reload the connection naming it, new IKE SA, old one ends);
- :mod:`~gateway.dataplane.metrics`: its Prometheus metrics;
- :mod:`~gateway.dataplane.config`: the ``[peers.wireguard]`` table; :mod:`~gateway.dataplane.planes`: every
  rotator of a gateway behind the calls the service makes.
"""

from gateway.dataplane.config import IpsecConfig, WireGuardConfig
from gateway.dataplane.errors import DataPlaneError
from gateway.dataplane.ipsec import IkeCredentials, IpsecPpkRotator, ViciControl
from gateway.dataplane.metrics import DataPlaneCollector, WireGuardCollector, metrics_text
from gateway.dataplane.planes import DataPlanes
from gateway.dataplane.ppk import IkePpk, derive_ikev2_ppk
from gateway.dataplane.psk import PSK_BYTES, WireGuardPsk, derive_wireguard_psk, psk_label
from gateway.dataplane.rotation import (
    EpochKeyRotator,
    KeyPlaneStatus,
    RotationPolicy,
    WireGuardPeerStatus,
    WireGuardPskRotator,
)
from gateway.dataplane.wireguard import WgTool, WireGuardPeerSpec, WireGuardPeerState

__all__ = [
    "PSK_BYTES", "DataPlaneCollector", "DataPlaneError", "DataPlanes", "EpochKeyRotator", "IkeCredentials", "IkePpk",
    "IpsecConfig",
    "IpsecPpkRotator", "KeyPlaneStatus", "RotationPolicy", "ViciControl", "WgTool", "WireGuardCollector",
    "WireGuardConfig", "WireGuardPeerSpec", "WireGuardPeerState", "WireGuardPeerStatus", "WireGuardPsk",
    "WireGuardPskRotator", "derive_ikev2_ppk", "derive_wireguard_psk", "metrics_text", "psk_label",
]
