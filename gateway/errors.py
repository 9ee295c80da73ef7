"""Error hierarchy of ``gateway``: every error this package raises derives from :class:`GatewayError`."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of all ``gateway`` errors. Messages name the input and the position of the fault."""


class GatewayConfigError(GatewayError):
    """A site config is valid TOML but inconsistent (unknown peer in a rule, missing key file, ...)."""


class ProtocolError(GatewayError):
    """A record or message on the wire is malformed: names the message, the field and the offset."""


class FrameError(ProtocolError):
    """An inner frame (the plaintext of an authenticated sealed record) is malformed. Only the peer
    gateway can have produced it, so the session is torn down (``malformed_frame``). ``frame`` names the
    frame type, ``stream_id`` the stream."""

    def __init__(self, frame: str, stream_id: int, message: str) -> None:
        self.frame = frame
        self.stream_id = stream_id
        super().__init__(f"inner frame {frame} on stream {stream_id}: {message}")


class HandshakeError(GatewayError):
    """A handshake or rekey failed. ``reason`` is a short stable code used as the metric label.

    Reasons: ``bad_signature``, ``bad_psk_mac``, ``transcript_mismatch``, ``bad_confirmation``,
    ``unknown_peer``, ``wrong_peer``, ``stale``, ``replayed``, ``version``, ``policy``,
    ``qkd_required``, ``key_id_reused``, ``replay_table_full``, ``bad_ready`` (the responder's first
    sealed record does not authenticate as READY), ``retry`` (Retries in a row), ``peer_refused``,
    ``malformed``, ``timeout``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"handshake failed ({reason}): {message}")


class PolicyError(HandshakeError):
    """The key-source policy forbids the only mode available (e.g. ``qkd = "required"`` and no QKD key)."""


class SessionClosedError(GatewayError):
    """The tunnel session to a peer is closed (teardown, too many bad records, expired keys)."""
