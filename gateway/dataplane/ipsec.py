"""Driving a local strongSwan (charon) through its VICI socket: PPKs (RFC 8784) fed by the gateway session.

Each epoch's PPK (:mod:`gateway.dataplane.ppk`) is loaded as a ``PPK`` shared secret under its own
PPK_ID and the IKE connection is reloaded naming that PPK_ID (``ppk_required`` follows the peer's QKD
policy: ``required`` → ``yes``), at both ends. A PPK enters IKEv2 only at IKE_AUTH (RFC 8784: it modifies
SK_d, SK_pi, SK_pr); an IKE rekey (CREATE_CHILD_SA) inherits it through SK_d, so a new PPK needs a new IKE
SA. Found on strongSwan 5.9.8: a *reauthentication* (``rekey`` with ``reauth``) keeps the IKE SA's old
peer config and so its old PPK_ID, and the responder refuses a PPK_ID other than the one its connection
names (``received PPK_ID …, but require …``). So the switch is: the responder reloads (new PPK, connection
naming it; its established SAs stay), then the initiator reloads, *initiates* a new IKE SA (it uses the
new config and PPK) and terminates the old one by its unique id (make-before-break by hand); then both
unload the old PPK. An initiation that reaches a responder which has not reloaded yet fails with
AUTH_FAILED and is retried every 0.2 s for up to half the install deadline (expected, counted in
``initiate_retries``, not a failure), while the old SAs carry traffic.

**What a rotation can cost.** strongSwan installs a CHILD SA negotiated in IKE_AUTH at the IKE
responder in both directions at once, before it answers (only a CHILD SA *rekey* holds the responder's
outbound SA back until the old SA is deleted, RFC 7296 section 2.8), and from then on sends on the newest
outbound SA of those policies (libipsec and the kernel alike); the initiator installs its half when the
answer arrives. A packet the responder sends in between (one IKE_AUTH answer in flight plus the
initiator's processing of it) reaches the initiator under an SPI it does not know yet and is dropped
(``inbound ESP packet does not belong to an installed SA`` in charon's log). Nothing else is lost: the
old SAs carry traffic until then, and the old IKE SA ends ``overlap_s`` later, when both ends send on the
new one. No sequence over VICI avoids that window on strongSwan 5.9 (a PPK needs a new IKE SA, whose
CHILD SAs are never rekeys); RFC 9867 (a PPK in an IKE rekey, then CHILD SA rekeys) would. Measured
(``tests/gateway/test_dataplane_ipsec.py``, slow probe): 20 rotations under a 250 packet/s echo, 1 packet
lost, a reply B -> A, dropped at A 1 ms after B installed the new SA and 1 ms before A did; no request
lost, no send refused. The window is about one millisecond here.

The ``vici`` client is synchronous: every call runs in a thread on a socket with a timeout, under an
asyncio deadline, and fails as a :class:`~gateway.dataplane.errors.DataPlaneError` (``timeout``,
``vici_unreachable``, ``vici_failed``).

Verified here (Debian bookworm, strongSwan 5.9.8): the kernel has no ESP (``ip xfrm state add … proto
esp`` fails), but ``charon`` with the ``kernel-libipsec`` plugin (``libcharon-extra-plugins``) runs ESP in
user space over a TUN device (``ipsec0``) inside a network namespace; an IKE SA with ``ppk_required``
logs ``using PPK for PPK_ID``, and UDP crosses the ESP SA. 5.9.8 has RFC 8784 PPKs but not RFC 9867's
IKE_INTERMEDIATE exchange (strongSwan 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gateway.dataplane.errors import DataPlaneError
from gateway.dataplane.ppk import IkePpk, derive_ikev2_ppk
from gateway.dataplane.rotation import EpochKey, EpochKeyRotator, RotationPolicy
from gateway.keys import SessionKeys, wipe

log = logging.getLogger(__name__)

T = TypeVar("T")


class ViciControl:
    """One charon, through its VICI socket (``unix://`` path)."""

    def __init__(self, socket_path: str, *, timeout_s: float = 5.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s

    async def _call(self, what: str, fn: Callable[[Any], T]) -> T:
        import vici
        from vici.exception import CommandException, SessionException

        def work() -> T:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout_s)
                sock.connect(self.socket_path)
                return fn(vici.Session(sock))
            finally:
                sock.close()

        try:
            return await asyncio.wait_for(asyncio.to_thread(work), self.timeout_s + 1)
        except TimeoutError:
            raise DataPlaneError("timeout", f"vici {what} at {self.socket_path} took longer than "
                                            f"{self.timeout_s} s") from None
        except (CommandException, SessionException) as exc:
            raise DataPlaneError("vici_failed", f"vici {what} at {self.socket_path}: {exc}") from None
        except OSError as exc:
            raise DataPlaneError("vici_unreachable", f"vici {what} at {self.socket_path}: {exc}") from None

    async def load_shared(self, ident: str, kind: str, data: bytes, owners: list[str]) -> None:
        await self._call(f"load-shared {ident}", lambda s: s.load_shared(
            {"id": ident, "type": kind, "data": data, "owners": owners}))

    async def load_ppk(self, ppk: IkePpk) -> None:
        """Load ``ppk`` under its PPK_ID (its value reaches charon over the socket only)."""
        await self.load_shared(ppk.ppk_id, "PPK", bytes(ppk.value), [ppk.ppk_id])

    async def load_cert(self, pem: bytes, *, ca: bool) -> None:
        """Load an X.509 certificate (PEM or DER): a trust anchor with ``ca``, else an end-entity one."""
        await self._call("load-cert", lambda s: s.load_cert(
            {"type": "X509", "flag": "CA" if ca else "NONE", "data": pem}))

    async def load_key(self, pem: bytes, key_type: str) -> None:
        """Load a private key (``rsa``, ``ecdsa`` or ``any``: PKCS#8); its bytes reach charon over the
        socket only."""
        await self._call(f"load-key {key_type}", lambda s: s.load_key({"type": key_type, "data": pem}))

    async def unload_shared(self, ident: str) -> None:
        await self._call(f"unload-shared {ident}", lambda s: s.unload_shared({"id": ident}))

    async def load_conn(self, name: str, conn: dict[str, Any], *, ppk_id: str | None, ppk_required: bool) -> None:
        """(Re)load connection ``name`` naming ``ppk_id``; established SAs are left as they are."""
        body = dict(conn)
        if ppk_id is not None:
            body["ppk_id"] = ppk_id
        body["ppk_required"] = "yes" if ppk_required else "no"
        await self._call(f"load-conn {name}", lambda s: s.load_conn({name: body}))

    async def unload_conn(self, name: str) -> None:
        await self._call(f"unload-conn {name}", lambda s: s.unload_conn({"name": name}))

    async def initiate(self, child: str, ike: str) -> None:
        await self._call(f"initiate {ike}/{child}", lambda s: list(s.initiate(
            {"child": child, "ike": ike, "timeout": int(self.timeout_s * 1000)})))

    async def terminate(self, ike: str, ike_id: str | None = None) -> None:
        """Terminate the IKE SAs of connection ``ike``, or only the one whose unique id is ``ike_id``."""
        sel = {"ike-id": ike_id} if ike_id is not None else {"ike": ike}
        await self._call(f"terminate {ike}", lambda s: list(s.terminate(
            {**sel, "force": "yes", "timeout": int(self.timeout_s * 1000)})))

    async def ike_sas(self, ike: str) -> list[dict[str, Any]]:
        """The IKE SAs of connection ``ike`` as ``list-sas`` reports them (values decoded to str)."""
        def listing(s: Any) -> list[dict[str, Any]]:
            out = []
            for entry in s.list_sas({"ike": ike}):
                for sa in entry.values():
                    out.append(_decode(sa))
            return out
        return await self._call(f"list-sas {ike}", listing)


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


#: PEM header of a private key -> the key type VICI ``load-key`` takes.
PEM_KEY_TYPES = {b"-----BEGIN EC PRIVATE KEY-----": "ecdsa", b"-----BEGIN RSA PRIVATE KEY-----": "rsa",
                 b"-----BEGIN PRIVATE KEY-----": "any"}


@dataclass(frozen=True)
class IkeCredentials:
    """Certificate authentication of the IKE SA (``auth = "pubkey"``) instead of a PSK: this site's
    certificate and private key and the trust anchor that signed the peer's, as PEM files. The rotator
    loads them into charon over VICI when it starts (what ``swanctl --load-creds`` would do); the
    connection names the identities (``local.id`` = this certificate's subject, ``remote.id`` the peer's)."""

    cert_file: str
    key_file: str
    ca_file: str

    def key_type(self, pem: bytes) -> str:
        for header, kind in PEM_KEY_TYPES.items():
            if pem.lstrip().startswith(header):
                return kind
        raise DataPlaneError("bad_argument", f"{self.key_file}: not a PEM private key (EC, RSA or PKCS#8)")

    async def load(self, control: ViciControl) -> None:
        """Load the trust anchor, the certificate and the key. A file that cannot be read, or a key file
        others may read (like an SSH key, it must be ``chmod 600``), is ``bad_argument``."""
        try:
            ca, cert = Path(self.ca_file).read_bytes(), Path(self.cert_file).read_bytes()
            mode = Path(self.key_file).stat().st_mode & 0o777
            key = bytearray(Path(self.key_file).read_bytes())
        except OSError as exc:
            raise DataPlaneError("bad_argument", f"IKE credentials: cannot read {exc.filename}: "
                                                 f"{exc.strerror}") from None
        if mode & 0o077:
            wipe(key)
            raise DataPlaneError("bad_argument", f"{self.key_file} has mode {mode:04o}; a private key must be "
                                                 "readable by its owner only (chmod 600)")
        try:
            await control.load_cert(ca, ca=True)
            await control.load_cert(cert, ca=False)
            await control.load_key(bytes(key), self.key_type(bytes(key)))
        finally:
            wipe(key)


class IpsecPpkRotator(EpochKeyRotator):
    """The PPK of one IKE connection, one per session epoch (see the module docstring for the switch).

    ``initiator``: this site starts the new IKE SA and, ``overlap_s`` later (packets in flight on the old
    CHILD SA still arrive), ends the old one when a PPK is installed; the other site only reloads.
    ``credentials``: certificate authentication of IKE, loaded into charon when the rotator starts.
    ``conn`` is the connection as VICI ``load-conn`` takes it, without
    ``ppk_id``/``ppk_required``, which the rotator sets (``ppk_required`` defaults to the policy failing
    closed). Taking the peer away terminates its IKE SAs and unloads the connection: IKE is refused."""

    plane = "ipsec"
    #: Pause between initiations refused because the responder has not loaded the new PPK yet (s).
    INITIATE_RETRY_S = 0.2

    def __init__(self, *, peer: str, local_site: str, control: ViciControl, connection: str, conn: dict[str, Any],
                 child: str, initiator: bool, ppk_required: bool | None = None, overlap_s: float = 1.0,
                 policy: RotationPolicy | None = None, request_rekey: Callable[[], None] | None = None,
                 credentials: IkeCredentials | None = None) -> None:
        super().__init__(peer=peer, local_site=local_site, target=connection, policy=policy,
                         request_rekey=request_rekey)
        self.credentials = credentials
        self.control = control
        self.connection = connection
        self.conn = conn
        self.child = child
        self.initiator = initiator
        self.ppk_required = self.policy.on_stale == "remove" if ppk_required is None else ppk_required
        self.overlap_s = overlap_s
        self._loaded: set[str] = set()
        self._ppk_id: str | None = None
        self.initiate_retries = 0   # initiations refused while the responder had not reloaded yet (expected)

    def _derive(self, keys: SessionKeys, epoch: int) -> IkePpk:
        return derive_ikev2_ppk(keys, local_site=self.local_site, epoch=epoch)

    async def _prepare(self) -> None:
        if self.credentials is not None:   # before any IKE SA: certificate authentication needs them
            try:
                await asyncio.wait_for(self.credentials.load(self.control), self.policy.install_timeout_s)
            except TimeoutError:
                raise DataPlaneError("timeout", f"loading the IKE credentials of {self.peer} took longer than "
                                                f"{self.policy.install_timeout_s} s") from None
        await super()._prepare()

    async def _inspect(self) -> bool:
        return bool(await self.control.ike_sas(self.connection))

    async def _put(self, key: EpochKey, present: bool) -> None:
        assert isinstance(key, IkePpk)
        await self.control.load_ppk(key)
        self._loaded.add(key.ppk_id)
        await self.control.load_conn(self.connection, self.conn, ppk_id=key.ppk_id, ppk_required=self.ppk_required)
        if self.initiator:
            before = [sa.get("uniqueid") for sa in await self.control.ike_sas(self.connection)]
            await self._initiate_once_peer_reloaded()
            if before:
                # both ends send on the new CHILD SA by now; packets in flight on the old one still arrive
                await asyncio.sleep(self.overlap_s)
            for ike_id in before:
                if ike_id:
                    await self.control.terminate(self.connection, ike_id)
        self._ppk_id = key.ppk_id
        await self._unload_except(key.ppk_id)

    async def _initiate_once_peer_reloaded(self) -> None:
        """Initiate the new IKE SA. The responder reloads when its own gateway sees the same epoch, about one
        round trip of the session plus a VICI call after us (longer on a loaded machine): until then it
        answers AUTH_FAILED (its connection still names the old PPK_ID). That race is expected, not a
        fault: it is retried every ``INITIATE_RETRY_S`` for up to half the install deadline, logged at debug
        and counted in ``initiate_retries``; an initiation still refused after that raises its VICI error,
        which the rotator counts and logs as a failed install (a wrong PPK or a peer that never reloads)."""
        deadline = time.monotonic() + self.policy.install_timeout_s / 2
        while True:
            try:
                await self.control.initiate(self.child, self.connection)
                return
            except DataPlaneError as exc:
                if exc.reason != "vici_failed" or time.monotonic() + self.INITIATE_RETRY_S >= deadline:
                    raise
                self.initiate_retries += 1
                log.debug("ipsec initiation refused, peer not reloaded yet", extra={
                    "event": "gateway.ipsec.initiate_retry", "peer": self.peer, "target": self.target,
                    "error": str(exc), "retries": self.initiate_retries})
            await asyncio.sleep(self.INITIATE_RETRY_S)

    async def _unload_except(self, keep: str | None) -> None:
        for ppk_id in sorted(self._loaded - {keep}):
            try:
                await self.control.unload_shared(ppk_id)
            except DataPlaneError as exc:   # counted; tried again after the next install or removal
                self._fail("unload", exc.reason, str(exc))
                continue
            self._loaded.discard(ppk_id)

    async def _take_away(self) -> None:
        if await self.control.ike_sas(self.connection):
            await self.control.terminate(self.connection)
        with contextlib.suppress(DataPlaneError):   # not loaded: already away
            await self.control.unload_conn(self.connection)
        self._ppk_id = None
        await self._unload_except(None)

    def peer_id(self) -> str | None:
        return self._ppk_id
