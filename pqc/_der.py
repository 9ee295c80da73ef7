"""Minimal DER reader/writer (ITU-T X.690) for the few structures ``cryptography`` does not parse for us:
the ML-DSA / ML-KEM private-key CHOICE inside PKCS#8 (RFC 9881 / draft-ietf-lamps-kyber-certificates).

Only definite lengths, single-byte tags. Errors raise :class:`~pqc.errors.InvalidKeyError` with the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from pqc.catalogue.oid import MalformedOidError
from pqc.catalogue.oid import decode_oid as catalogue_decode_oid
from pqc.errors import InvalidKeyError

SEQUENCE = 0x30
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06
CONTEXT_0_PRIMITIVE = 0x80


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    offset: int  # offset of the tag byte in the parsed buffer
    end: int  # offset just past the value


def read_tlv(data: bytes, offset: int = 0, what: str = "DER") -> Tlv:
    """Read one TLV at ``offset``."""
    if offset + 2 > len(data):
        raise InvalidKeyError(f"{what}: truncated header at byte {offset}")
    tag = data[offset]
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise InvalidKeyError(f"{what}: bad length encoding at byte {offset + 1}")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise InvalidKeyError(f"{what}: value at byte {pos} runs {pos + length - len(data)} bytes past the end")
    return Tlv(tag, bytes(data[pos : pos + length]), offset, pos + length)


def read_children(value: bytes, what: str = "DER") -> list[Tlv]:
    """All TLVs inside a constructed value."""
    children = []
    offset = 0
    while offset < len(value):
        tlv = read_tlv(value, offset, what)
        children.append(tlv)
        offset = tlv.end
    return children


def decode_oid(value: bytes) -> str:
    """Dotted string of an OBJECT IDENTIFIER value (X.690 §8.19, :func:`pqc.catalogue.decode_oid`);
    malformed contents are an :class:`InvalidKeyError` here."""
    try:
        return catalogue_decode_oid(value)
    except MalformedOidError as exc:
        raise InvalidKeyError(str(exc)) from None


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode_tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def parse_pkcs8(der: bytes, what: str = "PKCS#8") -> tuple[str, bytes]:
    """Return ``(algorithm OID, privateKey OCTET STRING contents)`` of a OneAsymmetricKey (RFC 5958)."""
    outer = read_tlv(der, 0, what)
    if outer.tag != SEQUENCE or outer.end != len(der):
        raise InvalidKeyError(f"{what}: not a single DER SEQUENCE")
    fields = read_children(outer.value, what)
    if len(fields) < 3 or fields[0].tag != INTEGER or fields[1].tag != SEQUENCE or fields[2].tag != OCTET_STRING:
        raise InvalidKeyError(f"{what}: expected version, algorithm, privateKey")
    algorithm = read_children(fields[1].value, what)
    if not algorithm or algorithm[0].tag != OID:
        raise InvalidKeyError(f"{what}: algorithm identifier has no OID")
    return decode_oid(algorithm[0].value), fields[2].value
