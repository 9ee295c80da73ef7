"""Driving a local WireGuard interface with ``wg`` (kernel module or a userspace implementation alike).

Secrets never appear on a command line: the PSK reaches ``wg`` through an inherited pipe, named
``/dev/fd/N`` where ``wg`` expects a key file, so it is in no argv (``ps``), no file and no log. Every
call has a deadline (``timeout_s``; the process is killed past it) and fails with a
:class:`~gateway.dataplane.errors.DataPlaneError` whose ``reason`` is a metric label. ``netns`` runs the
tool inside a network namespace (``ip netns exec``), for interfaces that live there.

``wg set`` with a new ``preshared-key`` changes only what the *next* WireGuard handshake mixes in: the
keypairs in use stay valid (up to WireGuard's Reject-After-Time, 180 s), so a PSK change does not
interrupt traffic (see :mod:`gateway.dataplane.rotation` for how both ends switch).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import re
import shutil
from dataclasses import dataclass

from gateway.dataplane.errors import DataPlaneError
from gateway.dataplane.psk import WireGuardPsk

_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+-]{0,14}$")
_NETNS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_public_key(key: str, what: str = "WireGuard public key") -> str:
    """``key`` if it is a base64 Curve25519 key (32 bytes), else a ``bad_argument`` error naming it."""
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise DataPlaneError("bad_argument", f"{what} {key!r} is not 32 bytes of base64")
    return key


@dataclass(frozen=True)
class WireGuardPeerSpec:
    """What ``wg`` needs to (re)create a peer: its public key, where to reach it, what it routes."""

    public_key: str
    endpoint: str | None = None
    allowed_ips: tuple[str, ...] = ()
    persistent_keepalive_s: int | None = None


@dataclass(frozen=True)
class WireGuardPeerState:
    """A peer as ``wg show <if> dump`` reports it (its PSK column is read past, never kept)."""

    spec: WireGuardPeerSpec
    has_psk: bool
    latest_handshake: int
    rx_bytes: int
    tx_bytes: int


class WgTool:
    """One local WireGuard interface, driven through the ``wg`` command."""

    def __init__(self, interface: str, *, netns: str | None = None, wg: str = "wg", timeout_s: float = 5.0) -> None:
        if not _IFNAME.match(interface):
            raise DataPlaneError("bad_argument", f"interface name {interface!r} is not a Linux interface name")
        if netns is not None and not _NETNS.match(netns):
            raise DataPlaneError("bad_argument", f"network namespace {netns!r} is not a plain name")
        self.interface = interface
        self.netns = netns
        self.wg = wg
        self.timeout_s = timeout_s

    def _argv(self, *args: str) -> list[str]:
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, self.wg, *args]

    async def _run(self, *args: str, secret: bytes | None = None) -> str:
        """Run ``wg args``; ``secret`` goes through a pipe whose ``/dev/fd/N`` replaces ``{fd}`` in args."""
        if shutil.which(self.wg) is None and os.sep not in self.wg:
            raise DataPlaneError("tool_missing", f"{self.wg!r} is not installed (Debian: wireguard-tools)")
        read_fd = write_fd = -1
        try:
            if secret is not None:
                read_fd, write_fd = os.pipe()
                os.write(write_fd, secret)   # 45 bytes: far below the pipe buffer, never blocks
                os.close(write_fd)
                write_fd = -1
                args = tuple(a.replace("{fd}", f"/dev/fd/{read_fd}") for a in args)
            proc = await asyncio.create_subprocess_exec(
                *self._argv(*args), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, pass_fds=(read_fd,) if read_fd >= 0 else ())
        except OSError as exc:
            raise DataPlaneError("tool_missing", f"cannot run {self.wg!r} for {self.interface}: {exc}") from exc
        finally:
            for fd in (read_fd, write_fd):
                if fd >= 0:
                    os.close(fd)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 1.0)
            raise DataPlaneError("timeout", f"'wg {args[0]}' on {self.interface} did not finish within "
                                            f"{self.timeout_s} s") from None
        if proc.returncode != 0:
            detail = err.decode("utf-8", "replace").strip()[:300]
            raise DataPlaneError("tool_failed", f"'wg {args[0]}' on {self.interface} exited {proc.returncode}: "
                                                f"{detail}")
        return out.decode("utf-8", "replace")

    async def set_psk(self, public_key: str, psk: WireGuardPsk) -> None:
        """Replace the PSK of an existing peer (WireGuard uses it from its next handshake)."""
        check_public_key(public_key)
        await self._run("set", self.interface, "peer", public_key, "preshared-key", "{fd}",
                        secret=psk.wg_key_line())

    async def add_peer(self, spec: WireGuardPeerSpec, psk: WireGuardPsk) -> None:
        """Create (or update) the peer ``spec`` with ``psk``."""
        check_public_key(spec.public_key)
        args = ["set", self.interface, "peer", spec.public_key, "preshared-key", "{fd}"]
        if spec.endpoint:
            args += ["endpoint", spec.endpoint]
        if spec.allowed_ips:
            args += ["allowed-ips", ",".join(spec.allowed_ips)]
        if spec.persistent_keepalive_s:
            args += ["persistent-keepalive", str(spec.persistent_keepalive_s)]
        await self._run(*args, secret=psk.wg_key_line())

    async def remove_peer(self, public_key: str) -> None:
        """Remove the peer and its keypairs: nothing more goes to it or comes from it."""
        check_public_key(public_key)
        await self._run("set", self.interface, "peer", public_key, "remove")

    async def peers(self) -> dict[str, WireGuardPeerState]:
        """Every peer of the interface (``wg show <if> dump``; the PSK column is dropped unread)."""
        out = await self._run("show", self.interface, "dump")
        peers: dict[str, WireGuardPeerState] = {}
        for line in out.splitlines()[1:]:   # the first line is the interface (its private key: skipped)
            cols = line.split("\t")
            if len(cols) < 8:
                continue
            key, psk_col, endpoint, allowed, handshake, rx, tx, keepalive = cols[:8]
            spec = WireGuardPeerSpec(
                public_key=key, endpoint=None if endpoint == "(none)" else endpoint,
                allowed_ips=tuple(a for a in allowed.split(",") if a and a != "(none)"),
                persistent_keepalive_s=None if keepalive == "off" else int(keepalive))
            peers[key] = WireGuardPeerState(spec=spec, has_psk=psk_col != "(none)",
                                            latest_handshake=int(handshake), rx_bytes=int(rx), tx_bytes=int(tx))
            del psk_col
        return peers

    async def peer(self, public_key: str) -> WireGuardPeerState | None:
        return (await self.peers()).get(check_public_key(public_key))
