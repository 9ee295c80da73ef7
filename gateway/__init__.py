"""The site-to-site tunnel keyed by X-Wing plus QKD keys, with fallback to PQC only.

Public API::

    from gateway import SiteConfig, GatewayService, create_gateway_app, service_of
    app = create_gateway_app(load_config("site.toml", SiteConfig))   # aiohttp app: /healthz /status /metrics
    # starting the app starts the tunnel listener, the dialers and the forward listeners
    service_of(app).status()        # the same dict /status serves

Modules: ``config`` (site TOML), ``wire`` (records, message codec), ``handshake`` (protocol v2, see
``gateway/PROTOCOL.md``), ``keysource`` (QKD keys from the KME), ``keypath`` (KME probe watcher),
``admission`` (pre-authentication limits; ``ratelimit`` its token bucket), ``session`` (sealed records,
epochs, rekey), ``mux`` (streams, flow control), ``service`` (the gateway), ``metrics`` (Prometheus).
``pqc`` is reached through its surface only, by ``primitives`` (the handshake's X-Wing, signatures,
combiner), ``record`` (record protection over ``pqc.aead``) and ``keys`` (HKDF export of session keys).
"""

from gateway.config import SiteConfig
from gateway.errors import GatewayError, HandshakeError, PolicyError, ProtocolError, SessionClosedError
from gateway.service import GatewayService, create_gateway_app, service_of

__all__ = ["GatewayError", "GatewayService", "HandshakeError", "PolicyError", "ProtocolError", "SessionClosedError",
           "SiteConfig", "create_gateway_app", "service_of"]
