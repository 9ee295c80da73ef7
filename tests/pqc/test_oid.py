"""OBJECT IDENTIFIER decoding (X.690 §8.19) shared by the key parser and open to the inventory."""

from __future__ import annotations

import pytest

from pqc import _der
from pqc.catalogue import MalformedOidError, by_oid, decode_oid
from pqc.errors import InvalidKeyError


def _contents(dotted: str) -> bytes:
    """X.690 §8.19 contents octets, written independently of the decoder under test."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


@pytest.mark.parametrize("dotted", ["2.16.840.1.101.3.4.4.2", "1.2.840.113549.1.1.11", "1.3.101.112", "2.999.3",
                                    "1.3.6.1.4.1.62253.25722"])
def test_decoding_inverts_the_encoding(dotted: str) -> None:
    assert decode_oid(_contents(dotted)) == dotted == _der.decode_oid(_contents(dotted))


def test_a_known_der_oid_decodes_to_its_catalogue_row() -> None:
    contents = bytes.fromhex("608648016503040402")   # id-alg-ml-kem-768, as in every ML-KEM-768 SPKI
    assert contents == _contents("2.16.840.1.101.3.4.4.2")
    entry = by_oid(decode_oid(contents))
    assert entry is not None and entry.name == "ML-KEM-768"


@pytest.mark.parametrize(("contents", "message"), [(b"", "empty"), (b"\x81", "unterminated"),
                                                   (bytes.fromhex("2a86"), "unterminated")])
def test_malformed_contents_are_typed_errors(contents: bytes, message: str) -> None:
    with pytest.raises(MalformedOidError, match=message):
        decode_oid(contents)
    with pytest.raises(InvalidKeyError, match=message):   # the key parser's own error type
        _der.decode_oid(contents)
