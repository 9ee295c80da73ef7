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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError, HandshakeError, PolicyError, ProtocolError, SessionClosedError

if TYPE_CHECKING:
    from gateway.config import SiteConfig
    from gateway.service import GatewayService, create_gateway_app, service_of

#: names this package exports from its heavier modules, imported on first use (PEP 562): ``import gateway.errors``
#: (what the CLI needs to print a gateway error) then costs milliseconds, not the service's 0.9 s of aiohttp,
#: the KME client and the data plane
_LAZY = {"SiteConfig": "gateway.config", "GatewayService": "gateway.service",
         "create_gateway_app": "gateway.service", "service_of": "gateway.service"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = ["GatewayError", "GatewayService", "HandshakeError", "PolicyError", "ProtocolError", "SessionClosedError",
           "SiteConfig", "create_gateway_app", "service_of"]
