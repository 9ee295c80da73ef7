"""qshift native time-tag format (``.qtt``): a self-describing header, then independently decodable blocks.

Layout (all little-endian)::

    magic      8 bytes  b"QSHIFTTT"
    version    uint16   1
    hdr_len    uint32   length of the JSON header in bytes
    header     hdr_len bytes of UTF-8 JSON: {"units": "ps", "time": "int64", "channel": "uint8",
               "compression": "none" | "zlib", "provenance": {...}}   (provenance: source, seed, link …)
    blocks     repeated until end of file:
        n_records   uint32
        payload_len uint32
        payload     payload_len bytes; after zlib-decompression (if compressed) it is
                    n_records int64 time deltas (the first relative to 0, i.e. the absolute first time,
                    then successive differences) followed by n_records uint8 channels

Delta coding keeps the times small so that zlib compresses them well; every block decodes on its own, so
a file is read in chunks of one block and a damaged block is reported at its byte offset.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from qkd.events.formats.errors import TimeTagFormatError, TruncatedRecordError
from qkd.events.record import TimeTags

MAGIC = b"QSHIFTTT"
VERSION = 1
DEFAULT_BLOCK_RECORDS = 1 << 20


def _encode_block(t: np.ndarray, c: np.ndarray, compress: bool) -> bytes:
    d = np.diff(t.astype(np.int64), prepend=np.int64(0)) if t.size else t.astype(np.int64)
    payload = d.astype("<i8").tobytes() + c.astype(np.uint8).tobytes()
    if compress:
        payload = zlib.compress(payload, 1)
    return struct.pack("<II", t.size, len(payload)) + payload


def write_native(path: str | Path, chunks: TimeTags | Iterable[TimeTags], *, compress: bool = True,
                 provenance: dict[str, Any] | None = None, block_records: int = DEFAULT_BLOCK_RECORDS) -> int:
    """Write time tags (one :class:`TimeTags` or an iterable of chunks) to ``path``. Returns records."""
    header = {"units": "ps", "time": "int64", "channel": "uint8",
              "compression": "zlib" if compress else "none", "provenance": provenance or {}}
    hb = json.dumps(header, sort_keys=True, default=str).encode()
    total = 0
    parts = [chunks] if isinstance(chunks, TimeTags) else chunks
    with open(path, "wb") as fh:
        fh.write(MAGIC + struct.pack("<HI", VERSION, len(hb)) + hb)
        for part in parts:
            for s in range(0, len(part), block_records):
                fh.write(_encode_block(part.t_ps[s:s + block_records], part.channel[s:s + block_records], compress))
            total += len(part)
    return total


def read_native_header(fh: Any, path: str) -> tuple[dict[str, Any], int]:
    """(header dict, offset of the first block)."""
    head = fh.read(14)
    if len(head) < 14 or head[:8] != MAGIC:
        raise TimeTagFormatError(path, 0, f"not a qshift time-tag file (magic {head[:8]!r}, expected {MAGIC!r})")
    version, hlen = struct.unpack("<HI", head[8:14])
    if version != VERSION:
        raise TimeTagFormatError(path, 8, f"unsupported version {version} (this reader knows {VERSION})")
    hb = fh.read(hlen)
    if len(hb) != hlen:
        raise TruncatedRecordError(path, 14, f"header truncated ({len(hb)} of {hlen} bytes)")
    try:
        header = json.loads(hb)
    except ValueError as exc:
        raise TimeTagFormatError(path, 14, f"header is not JSON: {exc}") from exc
    if header.get("units") != "ps" or header.get("compression") not in ("none", "zlib"):
        raise TimeTagFormatError(path, 14, f"header units/compression not understood: {header}")
    return header, 14 + hlen


def iter_native(path: str | Path) -> Iterator[TimeTags]:
    """Stream a ``.qtt`` file block by block as :class:`TimeTags` (metadata = the header)."""
    path = str(path)
    with open(path, "rb") as fh:
        header, offset = read_native_header(fh, path)
        compressed = header["compression"] == "zlib"
        prev_t = None
        while True:
            bh = fh.read(8)
            if not bh:
                return
            if len(bh) < 8:
                raise TruncatedRecordError(path, offset, f"truncated block header ({len(bh)} of 8 bytes)")
            n, plen = struct.unpack("<II", bh)
            payload = fh.read(plen)
            if len(payload) < plen:
                raise TruncatedRecordError(path, offset, f"truncated block: {len(payload)} of {plen} payload bytes")
            if compressed:
                try:
                    payload = zlib.decompress(payload)
                except zlib.error as exc:
                    raise TimeTagFormatError(path, offset, f"block does not decompress: {exc}") from exc
            if len(payload) != 9 * n:
                raise TimeTagFormatError(path, offset,
                                         f"block of {n} records has {len(payload)} bytes, expected {9 * n}")
            t = np.cumsum(np.frombuffer(payload, "<i8", n), dtype=np.int64)
            c = np.frombuffer(payload, np.uint8, n, offset=8 * n).copy()
            if n and ((prev_t is not None and t[0] < prev_t) or np.any(t[1:] < t[:-1])):
                raise TimeTagFormatError(path, offset, "time tags decrease inside the block")
            if n:
                prev_t = int(t[-1])
            offset += 8 + plen
            yield TimeTags(t, c, header)


def read_native(path: str | Path) -> TimeTags:
    """Read a whole ``.qtt`` file."""
    parts = list(iter_native(path))
    if not parts:
        with open(path, "rb") as fh:
            header, _ = read_native_header(fh, str(path))
        return TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8), header)
    return TimeTags.concatenate(parts)
