"""SSH transport parsing (RFC 4253 §4.2 banner, §6 binary packet, §7.1 SSH_MSG_KEXINIT)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from inventory.errors import MalformedInputError

MSG_KEXINIT = 20
KEXINIT_FIELDS = ("kex_algorithms", "server_host_key_algorithms", "encryption_client_to_server",
                  "encryption_server_to_client", "mac_client_to_server", "mac_server_to_client",
                  "compression_client_to_server", "compression_server_to_client",
                  "languages_client_to_server", "languages_server_to_client")


@dataclass(slots=True)
class KexInit:
    """The ten name-lists of an SSH_MSG_KEXINIT, in RFC 4253 order."""

    kex_algorithms: list[str]
    server_host_key_algorithms: list[str]
    encryption_client_to_server: list[str]
    encryption_server_to_client: list[str]
    mac_client_to_server: list[str]
    mac_server_to_client: list[str]
    compression_client_to_server: list[str]
    compression_server_to_client: list[str]
    languages_client_to_server: list[str]
    languages_server_to_client: list[str]
    first_kex_packet_follows: bool = False


def parse_kexinit(payload: bytes, what: str = "KEXINIT") -> KexInit:
    """Parse an SSH_MSG_KEXINIT payload (starting with the message number 20)."""
    if len(payload) < 17 or payload[0] != MSG_KEXINIT:
        raise MalformedInputError(what, "not an SSH_MSG_KEXINIT payload")
    pos = 17
    lists: list[list[str]] = []
    for name in KEXINIT_FIELDS:
        if pos + 4 > len(payload):
            raise MalformedInputError(what, f"truncated before name-list {name} at byte {pos}")
        n = struct.unpack_from(">I", payload, pos)[0]
        pos += 4
        if pos + n > len(payload):
            raise MalformedInputError(what, f"name-list {name} of {n} bytes runs past the end at byte {pos}")
        raw = payload[pos:pos + n]
        pos += n
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInputError(what, f"name-list {name} is not US-ASCII") from None
        lists.append([x for x in text.split(",") if x])
    follows = bool(payload[pos]) if pos < len(payload) else False
    kex, hostkeys, enc_cs, enc_sc, mac_cs, mac_sc, comp_cs, comp_sc, lang_cs, lang_sc = lists
    return KexInit(kex, hostkeys, enc_cs, enc_sc, mac_cs, mac_sc, comp_cs, comp_sc, lang_cs, lang_sc,
                   first_kex_packet_follows=follows)


def build_kexinit(kex: list[str], hostkeys: list[str], ciphers: list[str], macs: list[str]) -> bytes:
    """An SSH_MSG_KEXINIT payload (for scripted peers in tests and for our own probe)."""
    def nl(items: list[str]) -> bytes:
        s = ",".join(items).encode()
        return struct.pack(">I", len(s)) + s
    body = bytes([MSG_KEXINIT]) + os.urandom(16) + nl(kex) + nl(hostkeys) + nl(ciphers) + nl(ciphers)
    body += nl(macs) + nl(macs) + nl(["none"]) + nl(["none"]) + nl([]) + nl([]) + b"\x00" + b"\x00" * 4
    return body


def packet(payload: bytes) -> bytes:
    """Frame a payload as an unencrypted SSH binary packet (block size 8, ≥ 4 bytes padding)."""
    pad = 8 - ((len(payload) + 5) % 8)
    if pad < 4:
        pad += 8
    return struct.pack(">IB", len(payload) + pad + 1, pad) + payload + os.urandom(pad)


def split_banner(stream: bytes) -> tuple[str | None, int]:
    """The ``SSH-`` identification line of a stream and the offset after it (lines before it are skipped)."""
    pos = 0
    while pos < len(stream):
        nl = stream.find(b"\n", pos)
        if nl < 0:
            return None, pos
        line = stream[pos:nl].rstrip(b"\r")
        pos = nl + 1
        if line.startswith(b"SSH-"):
            return line.decode("ascii", "replace"), pos
        if pos > 8192:
            break
    return None, pos


def first_packet_payload(stream: bytes, offset: int, what: str = "SSH stream") -> bytes | None:
    """The payload of the unencrypted binary packet at ``offset``, or ``None`` if incomplete."""
    if offset + 5 > len(stream):
        return None
    length = struct.unpack_from(">I", stream, offset)[0]
    if length < 5 or length > 256 * 1024:
        raise MalformedInputError(what, f"byte {offset}: implausible packet length {length}")
    if offset + 4 + length > len(stream):
        return None
    pad = stream[offset + 4]
    if pad >= length:
        raise MalformedInputError(what, f"byte {offset}: padding {pad} ≥ packet length {length}")
    return stream[offset + 5:offset + 4 + length - pad]


def negotiate(client: list[str], server: list[str]) -> str | None:
    """RFC 4253 §7.1: the first client algorithm the server also supports."""
    server_set = set(server)
    for name in client:
        if name in server_set:
            return name
    return None
