"""Errors of the data-plane adapters: every one derives from :class:`gateway.errors.GatewayError`."""

from __future__ import annotations

from gateway.errors import GatewayError


class DataPlaneError(GatewayError):
    """Driving a local data plane failed. ``reason`` is a short stable code used as a metric label:
    ``timeout`` (the tool did not answer within its deadline), ``tool_failed`` (it exited non-zero),
    ``tool_missing`` (not installed), ``bad_argument`` (an interface name or key that cannot be right)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"data plane ({reason}): {message}")
