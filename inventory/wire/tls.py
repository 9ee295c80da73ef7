"""TLS record and handshake parsing (RFC 8446 §4, RFC 5246 §7.4): ClientHello, ServerHello, Certificate.

Pure functions over bytes; every fault raises :class:`~inventory.errors.MalformedInputError` naming the
message and byte offset. Code points stay numeric here; names come from :mod:`pqc.catalogue`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from inventory.errors import MalformedInputError

CONTENT_HANDSHAKE = 22
HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
HS_CERTIFICATE = 11
EXT_SUPPORTED_GROUPS = 10
EXT_SIGNATURE_ALGORITHMS = 13
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51
#: ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

VERSION_NAMES = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}


def version_name(v: int) -> str:
    return VERSION_NAMES.get(v, f"0x{v:04x}")


class _Reader:
    """Bounds-checked big-endian reader; ``what`` names the message in errors."""

    __slots__ = ("buf", "pos", "end", "what")

    def __init__(self, buf: bytes, what: str, start: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.pos = start
        self.end = len(buf) if end is None else end
        self.what = what

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise MalformedInputError(self.what, f"truncated at byte {self.pos} (need {n}, have {self.end - self.pos})")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u24(self) -> int:
        b = self.take(3)
        return (b[0] << 16) | (b[1] << 8) | b[2]

    def vec(self, len_bytes: int) -> bytes:
        n = {1: self.u8, 2: self.u16, 3: self.u24}[len_bytes]()
        return self.take(n)

    def remaining(self) -> int:
        return self.end - self.pos


def _u16_list(data: bytes, what: str) -> list[int]:
    if len(data) % 2:
        raise MalformedInputError(what, f"odd-length list of 16-bit values ({len(data)} bytes)")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


@dataclass(slots=True)
class ClientHello:
    """The parts of a ClientHello the inventory reports. ``key_shares`` maps group → key-share length (bytes)."""

    legacy_version: int
    cipher_suites: list[int]
    extensions: list[int]
    supported_versions: list[int] = field(default_factory=list)
    supported_groups: list[int] = field(default_factory=list)
    signature_algorithms: list[int] = field(default_factory=list)
    key_shares: dict[int, int] = field(default_factory=dict)
    server_name: str | None = None


@dataclass(slots=True)
class ServerHello:
    """The negotiated version, suite and (TLS 1.3) key-share group; ``retry`` for a HelloRetryRequest."""

    legacy_version: int
    cipher_suite: int
    selected_version: int | None = None
    key_share_group: int | None = None
    retry: bool = False

    @property
    def version(self) -> int:
        return self.selected_version or self.legacy_version


def _extensions(r: _Reader) -> list[tuple[int, bytes]]:
    if r.remaining() == 0:
        return []
    block = r.vec(2)
    er = _Reader(block, r.what)
    out = []
    while er.remaining():
        etype = er.u16()
        out.append((etype, er.vec(2)))
    return out


def parse_client_hello(body: bytes, what: str = "ClientHello") -> ClientHello:
    """Parse a ClientHello handshake body (after the 4-byte handshake header)."""
    r = _Reader(body, what)
    legacy = r.u16()
    r.take(32)
    r.vec(1)  # session id
    suites = _u16_list(r.vec(2), what + " cipher_suites")
    r.vec(1)  # compression methods
    hello = ClientHello(legacy_version=legacy, cipher_suites=suites, extensions=[])
    for etype, data in _extensions(r):
        hello.extensions.append(etype)
        er = _Reader(data, f"{what} extension {etype}")
        if etype == EXT_SUPPORTED_GROUPS:
            hello.supported_groups = _u16_list(er.vec(2), f"{what} supported_groups")
        elif etype == EXT_SIGNATURE_ALGORITHMS:
            hello.signature_algorithms = _u16_list(er.vec(2), f"{what} signature_algorithms")
        elif etype == EXT_SUPPORTED_VERSIONS:
            hello.supported_versions = _u16_list(er.vec(1), f"{what} supported_versions")
        elif etype == EXT_KEY_SHARE:
            kr = _Reader(er.vec(2), f"{what} key_share")
            while kr.remaining():
                group = kr.u16()
                hello.key_shares[group] = len(kr.vec(2))
        elif etype == 0:  # server_name
            sr = _Reader(er.vec(2), f"{what} server_name")
            while sr.remaining():
                kind = sr.u8()
                name = sr.vec(2)
                if kind == 0:
                    hello.server_name = name.decode("ascii", "replace")
    return hello


def parse_server_hello(body: bytes, what: str = "ServerHello") -> ServerHello:
    """Parse a ServerHello (or HelloRetryRequest) handshake body."""
    r = _Reader(body, what)
    legacy = r.u16()
    random = r.take(32)
    r.vec(1)
    suite = r.u16()
    r.u8()
    hello = ServerHello(legacy_version=legacy, cipher_suite=suite, retry=random == HRR_RANDOM)
    for etype, data in _extensions(r):
        er = _Reader(data, f"{what} extension {etype}")
        if etype == EXT_SUPPORTED_VERSIONS:
            hello.selected_version = er.u16()
        elif etype == EXT_KEY_SHARE:
            hello.key_share_group = er.u16()
    return hello


def parse_certificate_list(body: bytes, tls13: bool = False, what: str = "Certificate") -> list[bytes]:
    """DER certificates of a Certificate message (TLS 1.2 layout; TLS 1.3 with its context and extensions)."""
    r = _Reader(body, what)
    if tls13:
        r.vec(1)
    lr = _Reader(r.vec(3), what)
    certs = []
    while lr.remaining():
        certs.append(lr.vec(3))
        if tls13:
            lr.vec(2)
    return certs


@dataclass(slots=True)
class HandshakeMessage:
    """One handshake message and the stream offset of its record (to find the frame that carried it)."""

    msg_type: int
    body: bytes
    offset: int


def handshake_messages(stream: bytes, what: str = "TLS stream") -> tuple[list[HandshakeMessage], int]:
    """Split a reassembled TLS byte stream into handshake messages, stopping at the first non-handshake,
    encrypted or incomplete record. Returns (messages, bytes consumed). Handshake messages may span records.
    """
    msgs: list[HandshakeMessage] = []
    pos = 0
    pending = bytearray()
    pending_offset = 0
    n = len(stream)
    while pos + 5 <= n:
        ctype = stream[pos]
        if ctype not in (20, 21, 22, 23):
            raise MalformedInputError(what, f"byte {pos}: not a TLS record (content type {ctype})")
        length = int.from_bytes(stream[pos + 3:pos + 5], "big")
        if length > 18432:
            raise MalformedInputError(what, f"byte {pos}: record length {length} exceeds 2^14+2048")
        if pos + 5 + length > n:
            break
        if ctype != CONTENT_HANDSHAKE:
            if ctype == 23 or ctype == 20:
                # ChangeCipherSpec / application data: the rest of the handshake is encrypted (TLS 1.3)
                pos += 5 + length
                if ctype == 23:
                    break
                continue
            pos += 5 + length
            continue
        if not pending:
            pending_offset = pos
        pending += stream[pos + 5:pos + 5 + length]
        pos += 5 + length
        while len(pending) >= 4:
            mlen = int.from_bytes(pending[1:4], "big")
            if len(pending) < 4 + mlen:
                break
            msgs.append(HandshakeMessage(pending[0], bytes(pending[4:4 + mlen]), pending_offset))
            del pending[:4 + mlen]
            pending_offset = pos
    return msgs, pos


def record(content_type: int, payload: bytes, version: int = 0x0301) -> bytes:
    """Wrap ``payload`` in TLS records of at most 2^14 bytes."""
    out = bytearray()
    for i in range(0, max(len(payload), 1), 16384):
        chunk = payload[i:i + 16384]
        out += struct.pack(">BHH", content_type, version, len(chunk)) + chunk
    return bytes(out)


def build_client_hello(cipher_suites: list[int], groups: list[int], key_shares: dict[int, bytes],
                       versions: tuple[int, ...] = (0x0304, 0x0303), sig_algs: tuple[int, ...] = (
                           0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807,
                           0x0904, 0x0905, 0x0906),
                       server_name: str | None = None, random: bytes | None = None) -> bytes:
    """A complete ClientHello handshake message (header included), for probes and test captures."""
    import os

    def ext(etype: int, data: bytes) -> bytes:
        return struct.pack(">HH", etype, len(data)) + data

    exts = b""
    if server_name:
        sn = server_name.encode()
        entry = b"\x00" + struct.pack(">H", len(sn)) + sn
        exts += ext(0, struct.pack(">H", len(entry)) + entry)
    gl = b"".join(struct.pack(">H", g) for g in groups)
    exts += ext(EXT_SUPPORTED_GROUPS, struct.pack(">H", len(gl)) + gl)
    exts += ext(11, b"\x01\x00")  # ec_point_formats: uncompressed
    sl = b"".join(struct.pack(">H", s) for s in sig_algs)
    exts += ext(EXT_SIGNATURE_ALGORITHMS, struct.pack(">H", len(sl)) + sl)
    if versions:
        vl = b"".join(struct.pack(">H", v) for v in versions)
        exts += ext(EXT_SUPPORTED_VERSIONS, bytes([len(vl)]) + vl)
    if key_shares:
        ks = b"".join(struct.pack(">HH", g, len(k)) + k for g, k in key_shares.items())
        exts += ext(EXT_KEY_SHARE, struct.pack(">H", len(ks)) + ks)
    exts += ext(0xFF01, b"\x00")  # renegotiation_info
    cs = b"".join(struct.pack(">H", c) for c in cipher_suites)
    body = (struct.pack(">H", 0x0303) + (random or os.urandom(32)) + b"\x20" + os.urandom(32)
            + struct.pack(">H", len(cs)) + cs + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
    return bytes([HS_CLIENT_HELLO]) + len(body).to_bytes(3, "big") + body
