"""Every WireGuard peer and IKE connection a gateway keys, behind the calls the service makes.

The service builds one :class:`DataPlanes` and calls :meth:`~DataPlanes.keys_installed` from its own
``keys_installed`` hook (the epoch's keys are live there), :meth:`~DataPlanes.start` /
:meth:`~DataPlanes.stop` with the service, and shows :meth:`~DataPlanes.status` under each peer in
``/status``; :meth:`~DataPlanes.register_metrics` adds the metrics to the gateway's registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry

from gateway.dataplane.config import IpsecConfig, WireGuardConfig
from gateway.dataplane.metrics import DataPlaneCollector
from gateway.dataplane.rotation import EpochKeyRotator, PskControl, WireGuardPskRotator
from gateway.keys import SessionKeys


class DataPlanes:
    """The data-plane rotators of one gateway (WireGuard, IPsec), by peer name."""

    def __init__(self, rotators: Iterable[EpochKeyRotator] = ()) -> None:
        self.rotators = {r.peer: r for r in rotators}

    @classmethod
    def from_config(cls, local_site: str, peers: Iterable[tuple[str, str, str, WireGuardConfig | IpsecConfig]],
                    request_rekey: Callable[[str], None] | None = None,
                    control: Callable[[WireGuardConfig], PskControl] | None = None) -> DataPlanes:
        """``peers``: (peer name, its ``qkd`` policy, its ``min_mode``, its ``[peers.wireguard]`` or
        ``[peers.ipsec]`` table); ``control`` replaces ``wg`` for WireGuard peers (tests).
        ``request_rekey(peer)`` asks the session with ``peer`` for a rekey (``Session.request_rekey``)."""
        rotators: list[EpochKeyRotator] = []
        for name, qkd, min_mode, wg in peers:
            def ask(peer: str = name) -> None:
                if request_rekey is not None:
                    request_rekey(peer)
            if isinstance(wg, IpsecConfig):
                rotators.append(wg.rotator(name, local_site, qkd, min_mode,
                                           request_rekey=ask if request_rekey is not None else None))
                continue
            rotators.append(WireGuardPskRotator(
                peer=name, local_site=local_site, control=control(wg) if control else wg.tool(), spec=wg.spec(),
                policy=wg.policy(qkd, min_mode), request_rekey=ask if request_rekey is not None else None))
        return cls(rotators)

    def keys_installed(self, peer: str, keys: SessionKeys, epoch: int) -> None:
        """A new session epoch with ``peer`` (call while ``keys`` are live); a no-op for other peers."""
        rotator = self.rotators.get(peer)
        if rotator is None:
            return
        try:   # called from the session's key switch: a fault here must not cost the session
            rotator.offer(keys, epoch)
        except Exception as exc:  # noqa: BLE001 - counted and logged by the rotator, never raised
            rotator._fail("offer", "internal", f"{type(exc).__name__}: {exc}", exc_info=True)

    def start(self) -> None:
        for rotator in self.rotators.values():
            rotator.start()

    async def stop(self) -> None:
        for rotator in self.rotators.values():
            await rotator.stop()

    def status(self, peer: str) -> dict[str, Any] | None:
        rotator = self.rotators.get(peer)
        return rotator.status().to_dict() if rotator is not None else None

    def register_metrics(self, registry: CollectorRegistry) -> None:
        registry.register(DataPlaneCollector(lambda: list(self.rotators.values())))
