"""Prometheus metrics of the WireGuard rotators, as a collector for the gateway's registry.

``service.metrics.registry.register(WireGuardCollector(lambda: rotators))`` adds them to ``/metrics``;
:func:`metrics_text` renders them alone. Labels are peer, interface, mode, operation and reason codes:
never key material (not even the fingerprint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gateway.dataplane.rotation import MODE_RANK, States, WireGuardPskRotator


class WireGuardCollector:
    """Reads every rotator's :meth:`~WireGuardPskRotator.status` at scrape time."""

    def __init__(self, rotators: Callable[[], Iterable[WireGuardPskRotator]]) -> None:
        self.rotators = rotators

    def collect(self) -> Iterator[Metric]:
        labels = ["peer", "interface"]
        epoch = GaugeMetricFamily("gateway_wireguard_psk_epoch", "Session epoch of the PSK installed on the "
                                  "WireGuard peer", labels=labels)
        age = GaugeMetricFamily("gateway_wireguard_psk_age_seconds", "Age of the PSK installed on the "
                                "WireGuard peer (seconds)", labels=labels)
        mode = GaugeMetricFamily("gateway_wireguard_psk_mode", "1 for the mode of the session epoch the "
                                 "installed PSK comes from, 0 otherwise", labels=[*labels, "mode"])
        state = GaugeMetricFamily("gateway_wireguard_peer_state", "1 for the peer's state (waiting, up, stale: "
                                  "kept past its age, removed: fail closed), 0 otherwise", labels=[*labels, "state"])
        install = GaugeMetricFamily("gateway_wireguard_psk_install_seconds", "Duration of the last PSK "
                                    "install (seconds)", labels=labels)
        rotations = CounterMetricFamily("gateway_wireguard_psk_rotations", "PSKs installed on the WireGuard "
                                        "peer", labels=labels)
        failures = CounterMetricFamily("gateway_wireguard_failures", "Failed WireGuard PSK operations by "
                                       "operation (offer, install, remove, rekey_request, supervisor) and "
                                       "reason", labels=[*labels, "op", "reason"])
        removals = CounterMetricFamily("gateway_wireguard_peer_removals", "Times the peer was removed from "
                                       "WireGuard, by reason", labels=[*labels, "reason"])
        restarts = CounterMetricFamily("gateway_wireguard_rotator_restarts", "Times the rotation task failed "
                                       "and was restarted", labels=labels)
        for rotator in self.rotators():
            st = rotator.status()
            key = [st.peer, st.interface]
            if st.psk_epoch is not None:
                epoch.add_metric(key, st.psk_epoch)
                age.add_metric(key, st.psk_age_s or 0.0)
            for m in MODE_RANK:
                mode.add_metric([*key, m], 1.0 if st.mode == m else 0.0)
            for s in States:
                state.add_metric([*key, s], 1.0 if st.state == s else 0.0)
            if st.last_install_ms is not None:
                install.add_metric(key, st.last_install_ms / 1e3)
            rotations.add_metric(key, st.rotations)
            for op_reason, n in st.failures.items():
                op, _, reason = op_reason.partition(":")
                failures.add_metric([*key, op, reason], n)
            for reason, n in st.removals.items():
                removals.add_metric([*key, reason], n)
            restarts.add_metric(key, st.restarts)
        yield from (epoch, age, mode, state, install, rotations, failures, removals, restarts)


def metrics_text(rotators: Iterable[WireGuardPskRotator]) -> bytes:
    """Prometheus text exposition of the rotators' metrics alone."""
    registry = CollectorRegistry(auto_describe=False)
    items = list(rotators)
    registry.register(WireGuardCollector(lambda: items))
    return generate_latest(registry)
