"""Config of a peer's data plane: the ``[peers.wireguard]`` or ``[peers.ipsec]`` table of a site TOML.

Meant to be nested in ``gateway.config.PeerConfig`` as ``wireguard: WireGuardConfig | None`` and
``ipsec: IpsecConfig | None`` next to ``kind = "tcp-tunnel" | "wireguard" | "ipsec"``; the gateway session
with the peer is then the key agreement for the WireGuard peer or IKE connection named here. Example::

    [[peers]]
    name = "site-b"
    kind = "wireguard"
    qkd = "required"
    [peers.wireguard]
    interface = "wg0"
    public_key = "AQuYdnEk…="          # the WireGuard public key of site-b's interface
    rotation_interval_s = 120
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.dataplane.errors import DataPlaneError
from gateway.dataplane.ipsec import IkeCredentials, IpsecPpkRotator, ViciControl
from gateway.dataplane.rotation import RotationPolicy
from gateway.dataplane.wireguard import WgTool, WireGuardPeerSpec, check_public_key


class _RotationSettings(BaseModel):
    """The rotation policy settings every data-plane table carries (times in s; see :class:`RotationPolicy`),
    and the peer's :class:`RotationPolicy` built from them. ``_TABLE`` names the table in messages."""

    model_config = ConfigDict(extra="forbid")
    _TABLE: ClassVar[str]

    rotation_interval_s: float = Field(default=120.0, gt=0)
    max_age_s: float = Field(default=180.0, gt=0)
    #: What a stale key does; default from the peer's QKD policy (``required`` → ``remove``, else ``keep``).
    on_stale: Literal["keep", "remove"] | None = None
    keep_max_s: float = Field(default=120.0, ge=0)
    install_timeout_s: float = Field(default=5.0, gt=0)
    retry_interval_s: float = Field(default=1.0, gt=0)

    def _check_rotation(self) -> None:
        if self.max_age_s <= self.rotation_interval_s:
            raise ValueError(f"{self._TABLE}.max_age_s must be greater than {self._TABLE}.rotation_interval_s")

    def policy(self, qkd: str, min_mode: str = "pqc-only") -> RotationPolicy:
        """The peer's :class:`RotationPolicy`; ``on_stale`` left to the QKD policy's default unless set here."""
        overrides: dict[str, Any] = {"rotation_interval_s": self.rotation_interval_s, "max_age_s": self.max_age_s,
                                     "keep_max_s": self.keep_max_s, "install_timeout_s": self.install_timeout_s,
                                     "retry_interval_s": self.retry_interval_s}
        if self.on_stale is not None:
            overrides["on_stale"] = self.on_stale
        return RotationPolicy.for_peer(qkd, min_mode, **overrides)


class WireGuardConfig(_RotationSettings):
    """The local WireGuard interface and peer a gateway peer keys, and the rotation policy."""

    _TABLE: ClassVar[str] = "wireguard"

    interface: str = Field(min_length=1, max_length=15)
    #: The peer's WireGuard public key (base64), as in ``wg show``.
    public_key: str
    #: Optional: endpoint, allowed IPs and keepalive to (re)create the peer with; what ``wg show`` reports
    #: for the peer at start is used for any left out.
    endpoint: str | None = None
    allowed_ips: list[str] = Field(default_factory=list)
    persistent_keepalive_s: int | None = Field(default=None, ge=1, le=65535)
    #: Network namespace the interface lives in (``ip netns exec``), and the ``wg`` command.
    netns: str | None = None
    wg_command: str = "wg"

    @model_validator(mode="after")
    def _consistent(self) -> WireGuardConfig:
        try:
            check_public_key(self.public_key, "wireguard.public_key")
            WgTool(self.interface, netns=self.netns)   # names that cannot be an interface / namespace
        except DataPlaneError as exc:
            raise ValueError(str(exc)) from None
        self._check_rotation()
        return self

    def spec(self) -> WireGuardPeerSpec:
        return WireGuardPeerSpec(public_key=self.public_key, endpoint=self.endpoint,
                                 allowed_ips=tuple(self.allowed_ips),
                                 persistent_keepalive_s=self.persistent_keepalive_s)

    def tool(self) -> WgTool:
        return WgTool(self.interface, netns=self.netns, wg=self.wg_command, timeout_s=self.install_timeout_s)


class IpsecConfig(_RotationSettings):
    """The local strongSwan connection a gateway peer keys with PPKs (RFC 8784), and the rotation policy.

    ``connection`` is the IKE connection as VICI ``load-conn`` takes it (swanctl.conf's keys: version,
    local_addrs, remote_addrs, proposals, local/remote auth, children …) without ``ppk_id`` and
    ``ppk_required``, which the gateway sets per epoch. Exactly one of the two sites has ``initiator``.
    charon needs ``make_before_break = yes`` and, where the kernel has no ESP, the kernel-libipsec plugin."""

    _TABLE: ClassVar[str] = "ipsec"

    vici_socket: str = "/var/run/charon.vici"
    name: str = Field(min_length=1, max_length=64)
    child: str = Field(min_length=1, max_length=64)
    initiator: bool
    connection: dict[str, Any]
    #: ``ppk_required`` on the connection; default from the peer's QKD policy (``required`` → yes).
    ppk_required: bool | None = None
    #: How long the old IKE SA lives on after the new one is up (seconds).
    overlap_s: float = Field(default=1.0, ge=0)
    #: IKE takes longer than ``wg set``: a longer install deadline than the other planes' (s).
    install_timeout_s: float = Field(default=10.0, gt=0)
    #: Certificate authentication of IKE (``auth = "pubkey"`` in connection.local/remote): this site's
    #: certificate and private key and the CA of the peer's, PEM files the gateway loads into charon over
    #: VICI (all three, or none: credentials loaded by swanctl, e.g. an IKE PSK).
    cert_file: str | None = None
    key_file: str | None = None
    ca_file: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> IpsecConfig:
        self._check_rotation()
        for key in ("ppk_id", "ppk_required"):
            if key in self.connection:
                raise ValueError(f"ipsec.connection.{key} is set by the gateway per epoch; leave it out")
        if self.child not in self.connection.get("children", {}):
            raise ValueError(f"ipsec.child {self.child!r} is not in ipsec.connection.children")
        files = {"cert_file": self.cert_file, "key_file": self.key_file, "ca_file": self.ca_file}
        if any(files.values()) and not all(files.values()):
            missing = ", ".join(f"ipsec.{k}" for k, v in files.items() if not v)
            raise ValueError(f"certificate authentication needs ipsec.cert_file, key_file and ca_file "
                             f"(missing {missing})")
        if all(files.values()):
            auth = self.connection.get("local", {}).get("auth")
            if auth != "pubkey":
                raise ValueError(f"ipsec.cert_file is given but ipsec.connection.local.auth is {auth!r}, "
                                 "not 'pubkey'")
        return self

    def credentials(self) -> IkeCredentials | None:
        if self.cert_file and self.key_file and self.ca_file:
            return IkeCredentials(cert_file=self.cert_file, key_file=self.key_file, ca_file=self.ca_file)
        return None

    def rotator(self, peer: str, local_site: str, qkd: str, min_mode: str = "pqc-only",
                request_rekey: Any = None, control: ViciControl | None = None) -> IpsecPpkRotator:
        return IpsecPpkRotator(
            peer=peer, local_site=local_site,
            control=control or ViciControl(self.vici_socket, timeout_s=self.install_timeout_s),
            connection=self.name, conn=self.connection, child=self.child, initiator=self.initiator,
            ppk_required=self.ppk_required, overlap_s=self.overlap_s, policy=self.policy(qkd, min_mode),
            request_rekey=request_rekey, credentials=self.credentials())
