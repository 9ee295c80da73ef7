"""Prometheus metrics of the data-plane rotators (WireGuard, IPsec), as a collector for the gateway's registry.

``service.metrics.registry.register(WireGuardCollector(lambda: rotators))`` adds them to ``/metrics``;
:func:`metrics_text` renders them alone. Labels are peer, interface, mode, operation and reason codes:
never key material (not even the fingerprint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gateway.dataplane.rotation import MODE_RANK, EpochKeyRotator, States

TARGET_LABEL = {"wireguard": "interface", "ipsec": "connection"}
KEY_NAME = {"wireguard": "PSK", "ipsec": "PPK"}


class WireGuardCollector:
    """Reads every rotator's :meth:`~EpochKeyRotator.status` at scrape time: ``gateway_wireguard_*`` for
    WireGuard peers (label ``interface``), ``gateway_ipsec_*`` for IPsec peers (label ``connection``)."""

    def __init__(self, rotators: Callable[[], Iterable[EpochKeyRotator]]) -> None:
        self.rotators = rotators

    def collect(self) -> Iterator[Metric]:
        by_plane: dict[str, list[EpochKeyRotator]] = {}
        for rotator in self.rotators():
            by_plane.setdefault(rotator.plane, []).append(rotator)
        for plane, rotators in sorted(by_plane.items()):
            yield from self._families(plane, rotators)

    @staticmethod
    def _families(plane: str, rotators: list[EpochKeyRotator]) -> Iterator[Metric]:
        p = f"gateway_{plane.replace('-', '_')}_"
        key = KEY_NAME.get(plane, "key")
        labels = ["peer", TARGET_LABEL.get(plane, "target")]
        epoch = GaugeMetricFamily(p + "psk_epoch", f"Session epoch of the {key} installed for the peer", labels=labels)
        age = GaugeMetricFamily(p + "psk_age_seconds", f"Age of the {key} installed for the peer (seconds)",
                                labels=labels)
        mode = GaugeMetricFamily(p + "psk_mode", f"1 for the mode of the session epoch the installed {key} comes "
                                 "from, 0 otherwise", labels=[*labels, "mode"])
        state = GaugeMetricFamily(p + "peer_state", "1 for the peer's state (waiting, up, stale: kept past its "
                                  "age, removed: fail closed), 0 otherwise", labels=[*labels, "state"])
        install = GaugeMetricFamily(p + "psk_install_seconds", f"Duration of the last {key} install (seconds)",
                                    labels=labels)
        rotations = CounterMetricFamily(p + "psk_rotations", f"{key}s installed for the peer", labels=labels)
        failures = CounterMetricFamily(p + "failures", f"Failed {key} operations by operation (offer, install, "
                                       "remove, rekey_request, supervisor) and reason",
                                       labels=[*labels, "op", "reason"])
        removals = CounterMetricFamily(p + "peer_removals", "Times the peer was removed, by reason",
                                       labels=[*labels, "reason"])
        restarts = CounterMetricFamily(p + "rotator_restarts", "Times the rotation task failed and was restarted",
                                       labels=labels)
        for rotator in rotators:
            st = rotator.status()
            lv = [st.peer, st.target]
            if st.psk_epoch is not None:
                epoch.add_metric(lv, st.psk_epoch)
                age.add_metric(lv, st.psk_age_s or 0.0)
            for m in MODE_RANK:
                mode.add_metric([*lv, m], 1.0 if st.mode == m else 0.0)
            for s in States:
                state.add_metric([*lv, s], 1.0 if st.state == s else 0.0)
            if st.last_install_ms is not None:
                install.add_metric(lv, st.last_install_ms / 1e3)
            rotations.add_metric(lv, st.rotations)
            for op_reason, n in st.failures.items():
                op, _, reason = op_reason.partition(":")
                failures.add_metric([*lv, op, reason], n)
            for reason, n in st.removals.items():
                removals.add_metric([*lv, reason], n)
            restarts.add_metric(lv, st.restarts)
        yield from (epoch, age, mode, state, install, rotations, failures, removals, restarts)


DataPlaneCollector = WireGuardCollector


def metrics_text(rotators: Iterable[EpochKeyRotator]) -> bytes:
    """Prometheus text exposition of the rotators' metrics alone."""
    registry = CollectorRegistry(auto_describe=False)
    items = list(rotators)
    registry.register(WireGuardCollector(lambda: items))
    return generate_latest(registry)
