"""The site-to-site tunnel keyed by X-Wing plus QKD keys, with fallback to PQC only."""

from gateway.errors import GatewayError

__all__ = ["GatewayError"]
