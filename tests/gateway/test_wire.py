"""The record layer and the handshake message codec reject malformed input and say where."""

from __future__ import annotations

import asyncio
import struct

import pytest

from gateway.errors import ProtocolError
from gateway.wire import MAX_RECORD_BYTES, PROTOCOL_VERSION, decode_message, encode_message, encode_record, read_record


def test_message_round_trip_keeps_fields_in_tag_order():
    msg = encode_message(1, {3: b"c", 1: b"a", 2: b""})
    assert decode_message(msg, 1, {1, 2, 3}, {1, 3}, "Hello") == {1: b"a", 2: b"", 3: b"c"}


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda m: m[:4] + bytes((9,)) + m[5:], "version 9 not supported (offset 4"),
    (lambda m: m[:5] + bytes((2,)) + m[6:], "message type 2 at offset 5"),
    (lambda m: m + b"\x00", "1 trailing bytes at offset"),
    (lambda m: m[:-1], "runs past the end"),
    (lambda m: b"XXXX" + m[4:], "not a gateway handshake message"),
])
def test_malformed_messages_are_rejected_naming_the_position(mutate, needle):
    msg = encode_message(1, {1: b"a", 2: b"bb"})
    with pytest.raises(ProtocolError, match=needle.replace("(", r"\(")):
        decode_message(mutate(msg), 1, {1, 2}, {1, 2}, "Hello")


def test_out_of_order_unknown_and_missing_fields_are_rejected():
    field = lambda tag, value: struct.pack(">BI", tag, len(value)) + value  # noqa: E731
    head = b"QSGW" + bytes((PROTOCOL_VERSION, 1))
    with pytest.raises(ProtocolError, match="tag 1 out of order at offset 13"):
        decode_message(head + bytes((2,)) + field(2, b"x") + field(1, b"y"), 1, {1, 2}, set(), "Hello")
    with pytest.raises(ProtocolError, match="unknown field tag 7 at offset 7"):
        decode_message(head + bytes((1,)) + field(7, b"x"), 1, {1, 2}, set(), "Hello")
    with pytest.raises(ProtocolError, match=r"missing field\(s\) \[2\]"):
        decode_message(head + bytes((1,)) + field(1, b"x"), 1, {1, 2}, {1, 2}, "Hello")


async def _reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_records_with_bad_length_or_type_are_refused():
    assert await read_record(await _reader_of(encode_record(3, b"abc"))) == (3, b"abc")
    with pytest.raises(ProtocolError, match="unknown type 0x09"):
        await read_record(await _reader_of(struct.pack(">I", 2) + b"\x09x"))
    with pytest.raises(ProtocolError, match="length"):
        await read_record(await _reader_of(struct.pack(">I", MAX_RECORD_BYTES + 10) + b"\x03"))
