"""Site config of a gateway (TOML, loaded with ``qshift.config.load_config`` by the CLI).

One file per site: the site's identity, where it listens for peer gateways, its KME, its peers with
their pinned public keys and key-source policy, the forward rules (local listener -> peer -> remote
``host:port``) and the reverse rules (which local ``host:port`` each peer may reach). Relative file
paths are taken from the working directory (as in the KME configs). The documented examples are
``deploy/examples/gateway-site-a.toml`` and ``gateway-site-b.toml``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.dataplane.config import IpsecConfig, WireGuardConfig
from gateway.errors import GatewayConfigError

QkdPolicy = Literal["required", "preferred", "off"]
Mode = Literal["hybrid-qkd", "pqc-only"]
AeadName = Literal["aes-256-gcm", "chacha20-poly1305"]

#: Longest wait for the KME ``status`` probe that follows an unanswered ``enc_keys`` (seconds).
KME_PROBE_TIMEOUT_S = 1.0

#: Mode strength order: a peer's ``min_mode`` accepts this mode and every stronger one.
MODE_RANK: dict[str, int] = {"pqc-only": 0, "hybrid-qkd": 1}


def split_host_port(text: str, what: str) -> tuple[str, int]:
    """``"host:port"`` (``[v6]:port`` allowed) -> (host, port); raise naming ``what`` otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{what}: expected host:port, got {text!r}")
    return host.strip("[]"), int(port)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TunnelConfig(_Model):
    """Where this gateway accepts sessions from peer gateways (omit ``listen`` to only dial out)."""

    listen: str | None = None
    handshake_timeout_s: float = Field(default=10.0, gt=0)
    #: A handshake whose initiator clock differs from ours by more than this is stale (seconds).
    max_clock_skew_s: float = Field(default=120.0, gt=0)
    redial_interval_s: float = Field(default=1.0, gt=0)
    #: After failed handshakes in a row the dialer waits ``redial_interval_s`` x 2^(n-1), at most this.
    redial_max_interval_s: float = Field(default=5.0, gt=0)
    # -- before the initiator is authenticated (the responder's cost and state) --
    #: Handshakes in progress (not yet authenticated) at once; further connections are refused (``busy``).
    max_pending_handshakes: int = Field(default=64, ge=1)
    #: Handshakes in progress at once from one source address (``source_limit``).
    max_pending_per_source: int = Field(default=8, ge=1)
    #: Under load — this many handshakes in progress, or more than ``cookie_rate_per_s`` started in the
    #: last second — a ClientHello without a valid cookie gets a stateless Retry (cookie) instead of work.
    cookie_threshold: int = Field(default=8, ge=1)
    cookie_rate_per_s: float = Field(default=20.0, gt=0)
    #: Expensive handshake steps (X-Wing, signature) per source address: a token bucket of this rate
    #: and burst; over it, the connection is refused (``source_limit``).
    source_rate_per_s: float = Field(default=10.0, gt=0)
    source_burst: int = Field(default=20, ge=1)

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, v: str | None) -> str | None:
        if v is not None:
            split_host_port(v, "tunnel.listen")
        return v


class ManagementConfig(_Model):
    """``/healthz``, ``/status``, ``/metrics`` (plain HTTP: bind it to a management network)."""

    listen: str = "127.0.0.1:9100"

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, v: str) -> str:
        split_host_port(v, "management.listen")
        return v


class IdentityConfig(_Model):
    """This site's composite (ML-DSA-65 + Ed25519) signing key, a PEM file made by ``qshift pqc keygen``."""

    signing_key: str | None = None


class KmeConfig(_Model):
    """This site's KME (ETSI GS QKD 014 over mutual TLS) and this gateway's SAE identity there."""

    url: str
    sae_id: str
    ca_file: str
    cert_file: str
    key_file: str
    timeout_s: float = Field(default=5.0, gt=0)
    #: Key size requested with ``enc_keys`` (bits).
    key_size_bits: int = Field(default=256, ge=128, le=4096)

    @field_validator("url")
    @classmethod
    def _https_only(cls, v: str) -> str:
        if not v.lower().startswith("https://") or len(v) <= len("https://"):
            raise ValueError(f"kme.url: {v!r} is not an https:// URL (QKD keys travel only over mutual TLS)")
        return v


class KeyPathConfig(_Model):
    """The key-path watcher: how fast the gateway notices QKD trouble and rekeys around it.

    Every ``probe_interval_s`` the watcher asks the KME for the ETSI ``status`` of the route to each
    peer's SAE (deadline ``probe_timeout_s``). The key path of a peer is *bad* after ``fail_after``
    failed probes in a row (KME unreachable or no answer in time, an alarmed link on the route, no key
    left when this site draws the keys) or at once after a key-path error in a handshake, and *good*
    again after ``recover_after`` good probes in a row (or a handshake that got its QKD key). Under
    ``qkd = "preferred"`` a change rekeys the session at once: bad -> ``pqc-only``, good -> back to
    ``hybrid-qkd``, whatever ``rekey.interval_s`` is. Watcher rekeys of one session are at least
    ``min_switch_interval_s`` apart and come from a bucket of ``switch_burst`` that refills one every
    ``switch_refill_s``: a flapping KME costs a few rekeys and then one per ``switch_refill_s``.
    With the defaults a dead KME (connection refused) or an alarmed link shows as ``pqc-only`` about 1 s
    later, and a healed key path as ``hybrid-qkd`` about 1 s after keys flow again; a KME that takes
    connections but never answers, after ``fail_after`` x ``probe_timeout_s``.
    """

    enabled: bool = True
    probe_interval_s: float = Field(default=0.5, gt=0, le=60)
    #: A KME's ``status`` may ask the route's nodes for their figures (up to 2 s when one hangs).
    probe_timeout_s: float = Field(default=2.5, gt=0, le=30)
    fail_after: int = Field(default=2, ge=1, le=100)
    recover_after: int = Field(default=2, ge=1, le=100)
    min_switch_interval_s: float = Field(default=1.0, ge=0)
    switch_burst: int = Field(default=6, ge=1)
    switch_refill_s: float = Field(default=10.0, gt=0)


class RekeyConfig(_Model):
    """When sessions rekey, and when keys are too old to use (WireGuard / Rosenpass defaults)."""

    interval_s: float = Field(default=120.0, gt=0)
    max_bytes: int = Field(default=1 << 36, gt=0)
    max_frames: int = Field(default=(1 << 32) - (1 << 20), gt=0)
    #: Keys older than this are refused, for sending and receiving (seconds; WireGuard Reject-After-Time).
    hard_limit_s: float = Field(default=180.0, gt=0)
    hard_limit_frames: int = Field(default=1 << 32, gt=0)

    @model_validator(mode="after")
    def _order(self) -> RekeyConfig:
        if self.hard_limit_s <= self.interval_s:
            raise ValueError("rekey.hard_limit_s must be greater than rekey.interval_s")
        if self.hard_limit_frames <= self.max_frames:
            raise ValueError("rekey.hard_limit_frames must be greater than rekey.max_frames")
        return self


class DataPlaneConfig(_Model):
    """AEAD choice, per-stream flow-control window and the bad-record teardown threshold."""

    aead: AeadName = "aes-256-gcm"
    stream_window_bytes: int = Field(default=512 * 1024, ge=16 * 1024)
    max_frame_payload_bytes: int = Field(default=64 * 1024, ge=1024, le=1 << 20)
    #: The session is torn down when this many *authentic* records arrive replayed or out of order (a
    #: record that fails authentication is dropped and counted, never held against the session).
    bad_record_threshold: int = Field(default=16, ge=1)
    open_timeout_s: float = Field(default=10.0, gt=0)


class PeerConfig(_Model):
    """One peer gateway: identity, how to authenticate it, how to reach it, key-source policy."""

    name: str = Field(min_length=1, max_length=64)
    sae_id: str | None = None
    #: ``host:port`` of the peer's tunnel listener; set on exactly one of the two sites (the dialer).
    connect: str | None = None
    auth: Literal["signature", "psk"] = "signature"
    #: The peer's composite public key (PEM), pinned.
    public_key: str | None = None
    #: A file holding a pre-shared key (>= 32 bytes, raw or hex). Required for ``auth = "psk"``; with
    #: ``auth = "signature"`` it is optional and, when present, mixed into the session keys.
    psk_file: str | None = None
    qkd: QkdPolicy = "preferred"
    #: The weakest mode accepted from this peer.
    min_mode: Mode = "pqc-only"
    #: The data plane the session keys: the built-in TCP tunnel (forward/reverse rules), or a WireGuard
    #: peer's PSK / a strongSwan IKE connection's PPK per session epoch (``gateway.dataplane``).
    kind: Literal["tcp-tunnel", "wireguard", "ipsec"] = "tcp-tunnel"
    wireguard: WireGuardConfig | None = None
    ipsec: IpsecConfig | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PeerConfig:
        tables = {"wireguard": self.wireguard, "ipsec": self.ipsec}
        for kind, table in tables.items():
            if self.kind == kind and table is None:
                raise ValueError(f"peers[{self.name}]: kind = '{kind}' needs a [peers.{kind}] table")
            if self.kind != kind and table is not None:
                raise ValueError(f"peers[{self.name}]: a [peers.{kind}] table needs kind = '{kind}'")
        if self.auth == "signature" and not self.public_key:
            raise ValueError(f"peers[{self.name}]: auth = 'signature' needs public_key")
        if self.auth == "psk" and not self.psk_file:
            raise ValueError(f"peers[{self.name}]: auth = 'psk' needs psk_file")
        if self.qkd != "off" and not self.sae_id:
            raise ValueError(f"peers[{self.name}]: qkd = '{self.qkd}' needs the peer's sae_id")
        if self.qkd == "off" and self.min_mode == "hybrid-qkd":
            raise ValueError(f"peers[{self.name}]: qkd = 'off' contradicts min_mode = 'hybrid-qkd'")
        if self.connect is not None:
            split_host_port(self.connect, f"peers[{self.name}].connect")
        return self


class ForwardRule(_Model):
    """Accept TCP on ``listen`` here; carry each connection to ``peer``, which connects to ``target``."""

    listen: str
    peer: str
    target: str

    @model_validator(mode="after")
    def _addresses(self) -> ForwardRule:
        split_host_port(self.listen, "forward.listen")
        split_host_port(self.target, "forward.target")
        return self


class ReverseRule(_Model):
    """Allow streams from ``peer`` to reach ``target`` (``host:port``) from this site."""

    peer: str
    target: str

    @model_validator(mode="after")
    def _address(self) -> ReverseRule:
        split_host_port(self.target, "reverse.target")
        return self


class SiteConfig(_Model):
    """A whole site: see ``deploy/examples/gateway-site-a.toml``."""

    site_id: str = Field(min_length=1, max_length=64)
    tunnel: TunnelConfig = TunnelConfig()
    management: ManagementConfig = ManagementConfig()
    identity: IdentityConfig = IdentityConfig()
    kme: KmeConfig | None = None
    rekey: RekeyConfig = RekeyConfig()
    key_path: KeyPathConfig = KeyPathConfig()
    data: DataPlaneConfig = DataPlaneConfig()
    peers: list[PeerConfig] = Field(default_factory=list)
    forward: list[ForwardRule] = Field(default_factory=list)
    reverse: list[ReverseRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> SiteConfig:
        names = [p.name for p in self.peers]
        if len(set(names)) != len(names):
            raise ValueError("peers: names must be unique")
        for i, rule in enumerate(self.forward):
            if rule.peer not in names:
                raise ValueError(f"forward[{i}].peer: unknown peer {rule.peer!r}")
        for i, allowed in enumerate(self.reverse):
            if allowed.peer not in names:
                raise ValueError(f"reverse[{i}].peer: unknown peer {allowed.peer!r}")
        if any(p.auth == "signature" for p in self.peers) and not self.identity.signing_key:
            raise ValueError("identity.signing_key: required when a peer uses auth = 'signature'")
        if any(p.qkd != "off" for p in self.peers) and self.kme is None:
            raise ValueError("kme: required when a peer has qkd = 'required' or 'preferred'")
        if self.kme is not None and self.kme.timeout_s + KME_PROBE_TIMEOUT_S >= self.tunnel.handshake_timeout_s:
            raise ValueError(f"kme.timeout_s = {self.kme.timeout_s}: a KME call plus its {KME_PROBE_TIMEOUT_S} s "
                             f"status probe must end before tunnel.handshake_timeout_s = "
                             f"{self.tunnel.handshake_timeout_s}")
        return self

    def peer(self, name: str) -> PeerConfig:
        for p in self.peers:
            if p.name == name:
                return p
        raise GatewayConfigError(f"site {self.site_id}: no peer named {name!r}")
