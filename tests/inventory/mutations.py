"""Mutations of real seed files for the fuzz tests: generic byte edits (bit flips, byte sets, cuts, inserts,
truncation, duplication, splicing with another seed) and structure-aware ones — DER length fields and tags,
ASN.1 nesting (a subtree wrapped in thousands of SEQUENCEs, re-encoded so that the outer structure stays
valid), subtrees spliced between certificates and keys, capture record/IP/TCP/TLS/SSH length fields, and for
text the tokens and nestings of each format (quotes, braces, deep JSON/TOML/XML, entities, long lines).

A case is ``(seed, ops, layer)``: ``layer`` picks a PEM block whose DER the ops edit (re-armoured afterwards),
or the raw file. Ops are plain tuples so that hypothesis shrinks them; :func:`apply` is deterministic.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

#: Values written into length fields: edges of every length encoding.
LENGTHS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0xFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
_PEM = re.compile(rb"(-----BEGIN ([A-Z0-9 #]+)-----\r?\n)(.*?)(-----END \2-----)", re.S)

#: Text tokens per text kind (besides random bytes): syntax of the formats the scanner parses.
TEXT_TOKENS: dict[str, tuple[bytes, ...]] = {
    "config": (b";", b"{", b"}", b"#", b'"', b"'", b"\\", b"\n", b"\r\n", b"\t", b"=", b":", b"!", b"+", b"-", b",",
               b"@", b"[", b"]", b"ssl_ciphers ", b"ssl_conf_command Groups ", b"SSLOpenSSLConfCmd Curves ",
               b"Ciphers ", b"KexAlgorithms ", b"bind :443 ssl ciphers ", b"Groups = ", b"MinProtocol = ",
               b"jdk.tls.disabledAlgorithms=", b"server {", b"<VirtualHost *:443>", b"\x00", b"\xff\xfe", b"\xc3",
               b"A" * 5000, b"\\\n", b"include ", b"X25519MLKEM768:", b"ECDHE-RSA-AES128-GCM-SHA256:"),
    "manifest": (b'"', b"{", b"}", b"[", b"]", b",", b":", b"=", b"\n", b"#", b"\\", b"\x00", b"\xff", b"<", b">",
                 b"</", b"<dependency>", b"<artifactId>", b"&", b"&amp;", b"&#0;", b"]]>", b"<![CDATA[",
                 b'"dependencies": {', b"[dependencies]", b"require (", b"cryptography==", b">=", b"~=", b"^",
                 b"[" * 3000, b'{"a":' * 2000, b"a = [" * 2000, b"x = {y = " * 1000, b"<a>" * 3000,
                 b"\xed\xa0\x80", b"\\u0000", b"-r ", b"--hash=sha256:", b"@ git+https://"),
    "source": (b"(", b")", b"{", b"}", b"[", b"]", b'"', b"'", b"`", b"new ", b"\x00", b"\xff\xfe", b"import ",
               b"//", b"/*", b"*/", b"#", b"\\", b"\n", b"${", b"=>", b"::", b"<", b">", b";", b"(" * 3000,
               b"[" * 3000, b"x." * 3000, b"getInstance(", b"createHash(", b"EVP_", b"hashlib.md5(",
               b'"AES/GCM/NoPadding"', b"2048", b"\xe2\x80\xae", b"\t" * 1000),
}
_BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' +
                   b"".join(b'<!ENTITY %c "%s">' % (ord("b") + i, (b"&%c;" % (ord("a") + i)) * 10) for i in range(8))
                   + b"]>")
TEXT_TOKENS["manifest"] += (_BILLION_LAUGHS, b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', b"&i;")


@dataclass(slots=True)
class Node:
    """One DER TLV: the identifier octets, then children (constructed) or the content bytes."""

    tag: bytes
    content: bytes = b""
    children: list[Node] | None = None
    #: start of the TLV, start of its length octets, their count (offsets in the parsed buffer)
    at: int = 0
    length_at: int = 0
    length_len: int = 0
    raw: bytes | None = None  #: the whole encoding, when it was built elsewhere (deep nestings)

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.children is None:
            body = self.content
        else:
            body = self.content + b"".join(c.encode() for c in self.children)
        return self.tag + encode_length(len(body)) + body


def _body_len(node: Node) -> int:
    return len(node.encode()) - len(node.tag) - node.length_len


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _header(data: bytes, pos: int, end: int) -> tuple[bytes, int, int, int] | None:
    """(tag octets, length-octets start, their count, content length) of the TLV at ``pos``, or ``None``."""
    if pos >= end:
        return None
    t = pos + 1
    if data[pos] & 0x1F == 0x1F:
        while t < end and data[t] & 0x80:
            t += 1
        t += 1
    if t >= end:
        return None
    first = data[t]
    if first < 0x80:
        return data[pos:t], t, 1, first
    n = first & 0x7F
    if n == 0 or n > 4 or t + 1 + n > end:
        return None
    return data[pos:t], t, 1 + n, int.from_bytes(data[t + 1:t + 1 + n], "big")


def parse_der(data: bytes, pos: int = 0, end: int | None = None, depth: int = 0,
              budget: list[int] | None = None) -> list[Node] | None:
    """The TLVs between ``pos`` and ``end``, or ``None`` unless they cover it exactly. OCTET STRINGs and BIT
    STRINGs holding DER (PKCS#12 bags, SubjectPublicKeyInfo keys) are opened too."""
    end = len(data) if end is None else end
    budget = budget if budget is not None else [4000]
    out: list[Node] = []
    while pos < end:
        budget[0] -= 1
        h = _header(data, pos, end)
        if h is None or budget[0] < 0:
            return None
        tag, lat, llen, n = h
        start = lat + llen
        if start + n > end:
            return None
        node = Node(tag=tag, at=pos, length_at=lat, length_len=llen)
        if depth < 40 and tag[0] & 0x20:
            node.children = parse_der(data, start, start + n, depth + 1, budget)
            if node.children is None:
                node.content = data[start:start + n]
        elif depth < 40 and tag[0] in (0x04, 0x03) and n > 2:
            lead = 1 if tag[0] == 0x03 else 0
            inner = parse_der(data, start + lead, start + n, depth + 1, budget)
            if inner:
                node.content = data[start:start + lead]
                node.children = inner
        if node.children is None:
            node.content = data[start:start + n]
        out.append(node)
        pos = start + n
    return out


def flatten(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    stack = list(reversed(nodes))
    while stack:
        n = stack.pop()
        out.append(n)
        if n.children:
            stack.extend(reversed(n.children))
    return out


def _put_length(data: bytearray, node: Node, value: int, keep_width: bool) -> bytearray:
    if keep_width and node.length_len > 1:
        width = node.length_len - 1
        enc = bytes([0x80 | width]) + (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big")
    elif keep_width:
        enc = bytes([value & 0xFF])  # short form; 0x80.. makes it an indefinite or long form
    else:
        enc = encode_length(value) if value != 0x80 else b"\x80"
    return data[:node.length_at] + bytearray(enc) + data[node.length_at + node.length_len:]


def _pcap_fields(data: bytes) -> list[tuple[int, int, str]]:
    """(offset, size, byte order) of the length fields of a classic pcap or pcapng file and of the IP, TCP, TLS
    and SSH headers in its frames (best effort: a corrupted file yields fewer)."""
    fields: list[tuple[int, int, str]] = []
    frames: list[tuple[int, int, int]] = []  # (offset, length, linktype)
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        link = struct.unpack_from(order + "I", data, 20)[0] if len(data) >= 24 else 1
        fields.append((16, 4, order))  # snaplen
        pos = 24
        while pos + 16 <= len(data) and len(frames) < 64:
            incl = struct.unpack_from(order + "I", data, pos + 8)[0]
            fields += [(pos + 8, 4, order), (pos + 12, 4, order)]
            frames.append((pos + 16, incl, link))
            pos += 16 + incl
    elif data[:4] == b"\x0a\x0d\x0d\x0a" and len(data) >= 12:
        order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        pos = 0
        links: list[int] = []
        while pos + 12 <= len(data) and len(frames) < 64:
            btype, blen = struct.unpack_from(order + "II", data, pos)
            fields += [(pos + 4, 4, order)]
            if pos + blen - 4 >= 0 and pos + blen <= len(data) and blen >= 12:
                fields.append((pos + blen - 4, 4, order))
            if btype == 1 and pos + 10 <= len(data):
                links.append(struct.unpack_from(order + "H", data, pos + 8)[0])
            if btype == 6 and pos + 28 <= len(data):
                fields += [(pos + 20, 4, order), (pos + 24, 4, order)]
                frames.append((pos + 28, struct.unpack_from(order + "I", data, pos + 20)[0], links[0] if links else 1))
            if blen < 12:
                break
            pos += blen
    for off, n, link in frames:
        ip = off + (14 if link == 1 else 16 if link == 113 else 0)
        if ip + 20 > len(data):
            continue
        if data[ip] >> 4 == 4:
            fields += [(ip, 1, ">"), (ip + 2, 2, ">")]
            l4 = ip + (data[ip] & 0x0F) * 4
            proto = data[ip + 9]
        else:
            fields.append((ip + 4, 2, ">"))
            l4, proto = ip + 40, data[ip + 6] if ip + 6 < len(data) else 0
        if proto == 6 and l4 + 13 < len(data):
            fields.append((l4 + 12, 1, ">"))
            payload = l4 + (data[l4 + 12] >> 4) * 4
        elif proto == 17:
            fields.append((l4 + 4, 2, ">"))
            payload = l4 + 8
            if payload + 28 <= len(data):  # IKE: message length, then the first payload's length
                fields += [(payload + 24, 4, ">"), (payload + 30, 2, ">")]
            continue
        else:
            continue
        p = payload
        while p + 9 <= len(data) and data[p] in (0x14, 0x15, 0x16, 0x17) and data[p + 1] == 3:
            fields += [(p + 3, 2, ">"), (p + 6, 3, ">")]  # TLS record length, handshake length
            p += 5 + struct.unpack_from(">H", data, p + 3)[0]
        crlf = data.find(b"\r\n", payload, off + n)
        if data[payload:payload + 4] == b"SSH-" and crlf > 0:
            fields += [(crlf + 2, 4, ">"), (crlf + 6, 1, ">")]  # SSH packet length, padding length
            fields += [(crlf + 7 + 17 + k, 4, ">") for k in (0,)]  # the first name-list length
    return [(o, s, e) for o, s, e in fields if 0 <= o and o + s <= len(data)]


def _pem_blocks(data: bytes) -> list[re.Match[bytes]]:
    return list(_PEM.finditer(data))


def _edit(data: bytearray, op: tuple, kind: str, donors: list[bytes]) -> bytearray:
    name = op[0]
    n = len(data)
    if name == "flip":
        if n:
            data[op[1] % n] ^= 1 << (op[2] % 8)
    elif name == "set":
        if n:
            data[op[1] % n] = op[2] & 0xFF
    elif name == "cut":
        if n:
            at = op[1] % n
            del data[at:at + 1 + op[2] % 64]
    elif name == "insert":
        at = op[1] % (n + 1)
        data[at:at] = op[2]
    elif name == "token":
        tokens = TEXT_TOKENS.get(kind) or TEXT_TOKENS["source"]
        at = op[1] % (n + 1)
        data[at:at] = tokens[op[2] % len(tokens)]
    elif name == "truncate":
        del data[op[1] % (n + 1):]
    elif name == "duplicate":
        if n:
            at = op[1] % n
            chunk = data[at:at + 1 + op[2] % 256]
            data[at:at] = chunk * (1 + op[3] % 64)
    elif name == "splice":
        donor = donors[op[2] % len(donors)] if donors else bytes(data)
        if donor:
            src = op[3] % len(donor)
            chunk = donor[src:src + 1 + op[4] % 512]
            at = op[1] % (n + 1)
            data[at:at + len(chunk) * (op[5] % 2)] = chunk  # insert, or overwrite as many bytes
    elif name == "lines":
        lines = bytes(data).split(b"\n")
        i, j = op[1] % len(lines), op[2] % len(lines)
        mode = op[3] % 3
        if mode == 0:
            lines.insert(i, lines[j])
        elif mode == 1:
            del lines[i]
        else:
            lines[i], lines[j] = lines[j], lines[i]
        data = bytearray(b"\n".join(lines))
    elif name in ("length", "tag", "nest", "graft"):
        data = _der_edit(data, op, donors) if kind != "pcap" else _pcap_edit(data, op)
    return data


def _der_edit(data: bytearray, op: tuple, donors: list[bytes]) -> bytearray:
    tree = parse_der(bytes(data))
    if not tree:
        return data
    nodes = flatten(tree)
    node = nodes[op[1] % len(nodes)]
    name = op[0]
    if name == "length":
        choice = op[2] % (len(LENGTHS) + 3)
        current = _body_len(node)
        edges = (*LENGTHS, current - 1, current + 1, len(data))
        value = edges[choice]
        return _put_length(data, node, max(0, value), keep_width=bool(op[3] % 2))
    if name == "tag":
        data[node.at] = op[2] & 0xFF
        return data
    if name == "nest":  # wrap the subtree in `depth` SEQUENCEs (or SETs / context tags), definite lengths
        depth = 1 + op[2] % 5000
        tag = (b"\x30", b"\x31", b"\xa0", b"\x04")[op[3] % 4]
        inner = node.encode()
        for _ in range(depth):
            inner = tag + encode_length(len(inner)) + inner
        node.raw = inner
        return bytearray(b"".join(n.encode() for n in tree))
    # graft: replace the subtree with one from a donor seed's DER
    donor_ders = [d for d in (_der_of(x) for x in donors) if d]
    if not donor_ders:
        return data
    donor = donor_ders[op[2] % len(donor_ders)]
    dtree = parse_der(donor)
    if not dtree:
        return data
    dnodes = flatten(dtree)
    graft = dnodes[op[3] % len(dnodes)]
    node.tag, node.content, node.children = graft.tag, graft.content, graft.children
    return bytearray(b"".join(n.encode() for n in tree))


def _der_of(data: bytes) -> bytes | None:
    m = _PEM.search(data)
    if m is None:
        return data if data[:1] == b"\x30" else None
    try:
        return base64.b64decode(b"".join(m.group(3).split()))
    except (binascii.Error, ValueError):
        return None


def _pcap_edit(data: bytearray, op: tuple) -> bytearray:
    fields = _pcap_fields(bytes(data))
    if not fields:
        return data
    off, size, order = fields[op[1] % len(fields)]
    current = int.from_bytes(data[off:off + size], "little" if order == "<" else "big")
    choices = (*LENGTHS, current - 1, current + 1, current * 2, current // 2, len(data))
    value = max(0, choices[op[2] % len(choices)]) & ((1 << (8 * size)) - 1)
    data[off:off + size] = value.to_bytes(size, "little" if order == "<" else "big")
    return data


def apply(seed: bytes, ops: list[tuple], layer: int, kind: str, donors: list[bytes]) -> bytes:
    """``seed`` with ``ops`` applied, in the DER of PEM block ``layer - 1`` (re-armoured) or, with ``layer``
    0 or no such block, in the raw bytes."""
    blocks = _pem_blocks(seed) if layer else []
    if blocks:
        m = blocks[(layer - 1) % len(blocks)]
        try:
            der = base64.b64decode(b"".join(m.group(3).split()))
        except (binascii.Error, ValueError):
            der = None
        if der is not None:
            buf = bytearray(der)
            for op in ops:
                buf = _edit(buf, op, "der", donors)
            body = base64.encodebytes(bytes(buf))
            return seed[:m.start(3)] + body + seed[m.end(3):]
    buf = bytearray(seed)
    for op in ops:
        buf = _edit(buf, op, kind, donors)
    return bytes(buf)


#: Op vocabulary per kind (names of :func:`_edit`'s operations).
BINARY_OPS = ("flip", "set", "cut", "insert", "truncate", "duplicate", "splice")
DER_OPS = ("length", "tag", "nest", "graft")
TEXT_OPS = ("token", "lines")
OPS_OF: dict[str, tuple[str, ...]] = {
    "certificate": BINARY_OPS + DER_OPS * 2 + TEXT_OPS,
    "key": BINARY_OPS + DER_OPS * 2 + TEXT_OPS,
    "pkcs12": BINARY_OPS + DER_OPS * 2,
    "pcap": BINARY_OPS + ("length",) * 4,
    "config": BINARY_OPS + TEXT_OPS * 3,
    "manifest": BINARY_OPS + TEXT_OPS * 3,
    "source": BINARY_OPS + TEXT_OPS * 3,
}


def random_case(rng: random.Random, kind: str, items: list[tuple[str, bytes]]) -> tuple[str, bytes, list[tuple]]:
    """(name, mutated bytes, ops) of one case drawn from ``rng``: a seed, a layer, one to five ops."""
    name, seed = items[rng.randrange(len(items))]
    layer = rng.randrange(4) if b"-----BEGIN " in seed else 0
    names = OPS_OF[kind]
    ops: list[tuple] = []
    for _ in range(1 + min(4, int(rng.expovariate(0.8)))):
        op = names[rng.randrange(len(names))]
        small = 1 << rng.choice((3, 8, 12, 20))  # positions and sizes: mostly small, sometimes anywhere
        args: tuple = tuple(rng.randrange(small) for _ in range(5))
        if op == "insert":
            args = (args[0], rng.randbytes(1 + rng.randrange(16)))
        elif op == "nest":
            args = (args[0], rng.choice((1, 2, 40, 1000, 4999)), args[2])
        ops.append((op, *args))
    return name, apply(seed, ops, layer, kind, [b for _, b in items]), ops


def minimise(data: bytes, fails: Callable[[bytes], bool]) -> bytes:
    """A smaller input that still ``fails`` (ddmin over byte chunks, then single bytes), for regression tests."""
    chunk = max(1, len(data) // 2)
    while chunk >= 1:
        i = 0
        while i < len(data):
            candidate = data[:i] + data[i + chunk:]
            if candidate != data and fails(candidate):
                data = candidate
            else:
                i += chunk
        chunk //= 2
    return data
