"""Prometheus metrics of one gateway, in a registry of its own (several gateways may share a process).

Labels carry peer names, modes and reason codes only; no metric ever carries key material or key IDs.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class GatewayMetrics:
    """The counters and gauges ``/metrics`` exposes."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.mode_transitions = Counter(
            "gateway_mode_transitions", "Session mode changes (including the first mode of a session)",
            ["peer", "from_mode", "to_mode", "cause"], registry=r)
        self.qkd_fallbacks = Counter(
            "gateway_qkd_fallbacks", "Handshakes or rekeys that ran without a QKD key, by cause",
            ["peer", "cause"], registry=r)
        self.handshakes = Counter(
            "gateway_handshakes", "Completed handshakes and rekeys", ["peer", "role", "kind", "mode"], registry=r)
        self.handshake_failures = Counter(
            "gateway_handshake_failures", "Failed or rejected handshakes and rekeys by reason (peer "
            "\"unauthenticated\" when the other side had not proven who it is)",
            ["peer", "reason"], registry=r)
        self.records_rejected = Counter(
            "gateway_records_rejected", "Records dropped after the handshake: replay, reorder (authentic, they "
            "count against the session), tamper, unknown_epoch, expired, unauthenticated_alert (dropped only)",
            ["peer", "reason"], registry=r)
        self.handshakes_refused = Counter(
            "gateway_handshakes_refused", "Tunnel connections refused or answered with a cookie Retry before any "
            "handshake work: busy, source_limit, cookie_retry", ["reason"], registry=r)
        self.pending_handshakes = Gauge(
            "gateway_pending_handshakes", "Handshakes in progress whose initiator is not yet authenticated",
            registry=r)
        self.session_teardowns = Counter(
            "gateway_session_teardowns", "Sessions torn down, by cause", ["peer", "cause"], registry=r)
        self.bytes = Counter(
            "gateway_stream_bytes", "Stream payload bytes carried through the tunnel",
            ["peer", "direction"], registry=r)
        self.streams_opened = Counter(
            "gateway_streams_opened", "Streams opened", ["peer", "direction"], registry=r)
        self.streams_active = Gauge(
            "gateway_streams_active", "Streams open now", ["peer"], registry=r)
        self.session_up = Gauge(
            "gateway_session_up", "1 when a session with the peer is established", ["peer"], registry=r)
        self.session_mode = Gauge(
            "gateway_session_mode", "1 for the current mode of the peer's session, 0 otherwise",
            ["peer", "mode"], registry=r)
        self.key_age = Gauge(
            "gateway_key_age_seconds", "Age of the keys in use with the peer (seconds)", ["peer"], registry=r)

        # The key-path watcher (gateway/keypath.py).
        self.kme_reachable = Gauge(
            "gateway_kme_reachable", "1 when this site's KME answered the last status probe for the peer's route",
            ["peer"], registry=r)
        self.key_path_up = Gauge(
            "gateway_key_path_up", "1 when the key path to the peer is good (KME answers, no alarm on the route, "
            "keys available)", ["peer"], registry=r)
        self.kme_last_probe = Gauge(
            "gateway_kme_last_probe_timestamp_seconds", "Wall-clock time of the last KME status probe",
            ["peer"], registry=r)
        self.key_path_errors = Counter(
            "gateway_key_path_errors", "Key-path errors seen by status probes and handshakes, by cause",
            ["peer", "cause", "source"], registry=r)
        self.fallback_transitions = Counter(
            "gateway_fallback_transitions", "Rekeys the key-path watcher started, by the mode they move to",
            ["peer", "to"], registry=r)
        self.fallback_deferred = Counter(
            "gateway_fallback_deferred", "Watcher rekeys held back by the rate limit (a flapping key path)",
            ["peer"], registry=r)
        self.key_path_watcher_restarts = Counter(
            "gateway_key_path_watcher_restarts", "Times the key-path watcher failed and was restarted",
            registry=r)

    def render(self) -> bytes:
        """Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
