"""Outer record layer on a TCP connection, and the field codec of handshake messages.

Every byte between two gateways is a *record*::

    record   := length:u32be  type:u8  body[length-1]
    type 0x01  HANDSHAKE  body = one handshake message (plaintext; only before the session is up)
    type 0x02  ALERT      body = UTF-8 reason code (plaintext, unauthenticated, informative only)
    type 0x03  SEALED     body = epoch:u32be  frame   (``frame`` is the AEAD frame of ``pqc``'s framing
                                                     helper; the 5 header bytes are its associated data)

Handshake messages (see ``gateway/PROTOCOL.md``) are::

    message  := "QSGW"  version:u8  msg_type:u8  count:u8  field*count
    field    := tag:u8  length:u32be  value[length]

with tags strictly increasing, no unknown tag for the message type and no trailing bytes. Transcript
hashes are taken over the exact encoded bytes, so any change a man in the middle makes shows.
"""

from __future__ import annotations

import asyncio
import struct

from gateway.errors import ProtocolError

REC_HANDSHAKE = 0x01
REC_ALERT = 0x02
REC_SEALED = 0x03
RECORD_TYPES = (REC_HANDSHAKE, REC_ALERT, REC_SEALED)

#: Largest record body accepted (bytes): a 1 MiB payload plus headers and tag.
MAX_RECORD_BYTES = (1 << 20) + 1024
#: Largest record body accepted before the peer is authenticated (the longest handshake message, a
#: ServerHello with its composite signature, is under 5 KiB).
MAX_HANDSHAKE_RECORD_BYTES = 16 * 1024

MAGIC = b"QSGW"
PROTOCOL_VERSION = 2

_LEN = struct.Struct(">I")
_FIELD = struct.Struct(">BI")


def encode_record(rtype: int, body: bytes | bytearray | memoryview) -> bytes:
    """One record: length prefix, type byte, body."""
    return _LEN.pack(len(body) + 1) + bytes((rtype,)) + bytes(body)


async def read_record(reader: asyncio.StreamReader, max_body: int = MAX_RECORD_BYTES) -> tuple[int, bytes]:
    """Read one record of at most ``max_body`` body bytes; raise :class:`ProtocolError` on a bad length or
    type (before reading the body), EOF as IncompleteReadError."""
    head = await reader.readexactly(5)
    (length,) = _LEN.unpack_from(head)
    rtype = head[4]
    if length < 1 or length > max_body + 1:
        raise ProtocolError(f"record: length {length} outside 1..{max_body + 1}")
    if rtype not in RECORD_TYPES:
        raise ProtocolError(f"record: unknown type 0x{rtype:02x}")
    body = await reader.readexactly(length - 1) if length > 1 else b""
    return rtype, body


def encode_message(msg_type: int, fields: dict[int, bytes]) -> bytes:
    """Encode a handshake message; ``fields`` maps tag -> value, written in increasing tag order."""
    out = bytearray(MAGIC)
    out += bytes((PROTOCOL_VERSION, msg_type, len(fields)))
    for tag in sorted(fields):
        value = fields[tag]
        out += _FIELD.pack(tag, len(value))
        out += value
    return bytes(out)


def decode_message(data: bytes, expected_type: int, allowed_tags: set[int], required_tags: set[int],
                   name: str) -> dict[int, bytes]:
    """Decode and check a handshake message; errors name the message, the field and the byte offset."""
    if len(data) < 7 or data[:4] != MAGIC:
        raise ProtocolError(f"{name}: not a gateway handshake message (offset 0)")
    if data[4] != PROTOCOL_VERSION:
        raise ProtocolError(f"{name}: protocol version {data[4]} not supported (offset 4; expected "
                            f"{PROTOCOL_VERSION})")
    if data[5] != expected_type:
        raise ProtocolError(f"{name}: message type {data[5]} at offset 5, expected {expected_type}")
    count = data[6]
    pos = 7
    fields: dict[int, bytes] = {}
    last = -1
    for _ in range(count):
        if pos + _FIELD.size > len(data):
            raise ProtocolError(f"{name}: truncated field header at offset {pos}")
        tag, length = _FIELD.unpack_from(data, pos)
        if tag <= last:
            raise ProtocolError(f"{name}: field tag {tag} out of order at offset {pos}")
        if tag not in allowed_tags:
            raise ProtocolError(f"{name}: unknown field tag {tag} at offset {pos}")
        start = pos + _FIELD.size
        if start + length > len(data):
            raise ProtocolError(f"{name}: field {tag} at offset {pos} runs past the end")
        fields[tag] = data[start:start + length]
        last = tag
        pos = start + length
    if pos != len(data):
        raise ProtocolError(f"{name}: {len(data) - pos} trailing bytes at offset {pos}")
    missing = required_tags - fields.keys()
    if missing:
        raise ProtocolError(f"{name}: missing field(s) {sorted(missing)}")
    return fields
