"""PicoQuant PTU files, T2 mode: streaming reader and writer.

Layout (PicoQuant's published "PTU file format" description and demo readers,
github.com/PicoQuant/PicoQuant-Time-Tagged-File-Format-Demos): 8-byte magic ``PQTTTR\\0\\0``, 8-byte
version, then tags of 48 bytes — ident (32 bytes, NUL padded), index (int32), type code (uint32), value
(8 bytes) — where AnsiString/WideString/BinaryBlob/Float8Array tags are followed by that many bytes of
data; the header ends with tag ``Header_End``. Records follow, 32-bit little-endian each.

T2 record types read here (``TTResultFormat_TTTRRecType``):

* PicoHarp T2 (0x00010203): channel = bits 31..28, time = bits 27..0. Channel 0xF is special: marker
  bits = time & 0xF; 0 means overflow: add 210698240 to the time base.
* HydraHarp V1 T2 (0x00010204): special = bit 31, channel = bits 30..25, time = bits 24..0. Special
  with channel 0x3F is an overflow adding 33552000 (one per record).
* HydraHarp V2 (0x01010204), TimeHarp 260 N/P (0x00010205/6), MultiHarp/PicoHarp 330 "generic"
  (0x00010207) T2: as HydraHarp V1, but an overflow record's time field holds the number of overflows
  (0 is read as 1, as in the vendor's demo code), each adding 2²⁵ = 33554432.
  Special channel 0 is a sync event; channels 1..15 are markers.

Times are in units of ``MeasDesc_GlobalResolution`` seconds; the reader returns int64 ps (rounded),
photon channels as-is (0-based) and sync events as channel :data:`SYNC_CHANNEL`; markers are counted and
dropped. The writer emits the generic T2 (or HydraHarp V2) layout with 1 ps resolution.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from qkd._native.timetag_decode import decode_t2
from qkd.events.formats.errors import TimeTagFormatError, TruncatedRecordError
from qkd.events.record import TimeTags

MAGIC = b"PQTTTR\0\0"
SYNC_CHANNEL = 254

TY_EMPTY8 = 0xFFFF0008
TY_BOOL8 = 0x00000008
TY_INT8 = 0x10000008
TY_BITSET64 = 0x11000008
TY_COLOR8 = 0x12000008
TY_FLOAT8 = 0x20000008
TY_TDATETIME = 0x21000008
TY_FLOAT8ARRAY = 0x2001FFFF
TY_ANSISTRING = 0x4001FFFF
TY_WIDESTRING = 0x4002FFFF
TY_BINARYBLOB = 0xFFFFFFFF
_FIXED = {TY_EMPTY8, TY_BOOL8, TY_INT8, TY_BITSET64, TY_COLOR8, TY_FLOAT8, TY_TDATETIME}
_VARIABLE = {TY_FLOAT8ARRAY, TY_ANSISTRING, TY_WIDESTRING, TY_BINARYBLOB}

RT_PICOHARP_T2 = 0x00010203
RT_HYDRAHARP_T2 = 0x00010204
RT_HYDRAHARP2_T2 = 0x01010204
RT_TIMEHARP260N_T2 = 0x00010205
RT_TIMEHARP260P_T2 = 0x00010206
RT_GENERIC_T2 = 0x00010207
T2_RECORD_TYPES = {RT_PICOHARP_T2: "PicoHarp T2", RT_HYDRAHARP_T2: "HydraHarp V1 T2",
                   RT_HYDRAHARP2_T2: "HydraHarp V2 T2", RT_TIMEHARP260N_T2: "TimeHarp 260N T2",
                   RT_TIMEHARP260P_T2: "TimeHarp 260P T2", RT_GENERIC_T2: "MultiHarp/generic T2"}

PICOHARP_T2_WRAP = 210698240
HYDRAHARP_V1_WRAP = 33552000
HYDRAHARP_V2_WRAP = 1 << 25

DEFAULT_CHUNK_RECORDS = 1 << 22


@dataclass
class PtuHeader:
    """Parsed PTU header: tags by name (indexed tags as lists), record type, resolution, data offset."""

    tags: dict[str, Any]
    record_type: int
    resolution_s: float
    n_records: int
    data_offset: int
    version: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def _read_exact(fh: BinaryIO, n: int, path: str, offset: int, what: str) -> bytes:
    b = fh.read(n)
    if len(b) != n:
        raise TimeTagFormatError(path, offset, f"file ends inside the header ({what}: {len(b)} of {n} bytes)")
    return b


def read_header(fh: BinaryIO, path: str) -> PtuHeader:
    """Parse the header from ``fh`` positioned at 0; leaves it at the first record."""
    magic = fh.read(8)
    if magic != MAGIC:
        raise TimeTagFormatError(path, 0, f"not a PTU file (magic {magic!r}, expected {MAGIC!r})")
    version = _read_exact(fh, 8, path, 8, "version").rstrip(b"\0").decode("ascii", "replace")
    tags: dict[str, Any] = {}
    offset = 16
    while True:
        raw = _read_exact(fh, 48, path, offset, "tag")
        ident_b, idx, typ, value = struct.unpack("<32siI8s", raw)
        ident = ident_b.rstrip(b"\0").decode("ascii", "replace")
        tag_offset = offset
        offset += 48
        if typ in _FIXED:
            if typ == TY_FLOAT8 or typ == TY_TDATETIME:
                v: Any = struct.unpack("<d", value)[0]
            elif typ == TY_BOOL8:
                v = bool(struct.unpack("<q", value)[0])
            elif typ == TY_EMPTY8:
                v = None
            else:
                v = struct.unpack("<q", value)[0]
        elif typ in _VARIABLE:
            size = struct.unpack("<q", value)[0]
            if size < 0 or size > 1 << 28:
                raise TimeTagFormatError(path, tag_offset, f"tag {ident!r}: implausible data size {size}")
            data = _read_exact(fh, size, path, offset, f"data of tag {ident!r}")
            offset += size
            if typ == TY_ANSISTRING:
                v = data.rstrip(b"\0").decode("latin-1")
            elif typ == TY_WIDESTRING:
                v = data.decode("utf-16-le", "replace").rstrip("\0")
            elif typ == TY_FLOAT8ARRAY:
                v = list(struct.unpack(f"<{size // 8}d", data[: size - size % 8]))
            else:
                v = data
        else:
            raise TimeTagFormatError(path, tag_offset, f"tag {ident!r}: unknown type code 0x{typ:08X}")
        if idx >= 0:
            tags.setdefault(ident, []).append(v)
        else:
            tags[ident] = v
        if ident == "Header_End":
            break
    rec_type = tags.get("TTResultFormat_TTTRRecType")
    if rec_type not in T2_RECORD_TYPES:
        kind = "missing" if rec_type is None else f"0x{rec_type:08X}"
        raise TimeTagFormatError(path, offset, f"record type {kind} is not a supported T2 type "
                                 f"({', '.join(T2_RECORD_TYPES.values())})")
    res = tags.get("MeasDesc_GlobalResolution")
    if not isinstance(res, float) or res <= 0:
        res = 4e-12 if rec_type == RT_PICOHARP_T2 else 1e-12
    n = int(tags.get("TTResult_NumberOfRecords", -1) or -1)
    return PtuHeader(tags, int(rec_type), float(res), n, offset, version)


class PtuT2Decoder:
    """Stateful vectorised decoder of T2 records (the overflow count carries across chunks)."""

    def __init__(self, record_type: int, resolution_s: float) -> None:
        self.record_type = record_type
        self.scale_ps = resolution_s * 1e12
        self.ovf_units = 0  # accumulated overflow time, in resolution units
        self.n_markers = 0
        self.n_overflow_records = 0

    def decode(self, rec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(t_ps int64, channel uint8) of the photon and sync events in ``rec`` (uint32 array).

        Integer-ps resolutions (1 ps, the PicoHarp's 4 ps) use the compiled one-pass decoder; other
        resolutions the vectorised numpy path below (same rules)."""
        rec = np.ascontiguousarray(rec, dtype=np.uint32)
        scale = round(self.scale_ps)
        if abs(self.scale_ps - scale) < 1e-9 and scale >= 1:
            kind = 0 if self.record_type == RT_PICOHARP_T2 else 1 if self.record_type == RT_HYDRAHARP_T2 else 2
            t, c, self.ovf_units, n_mark, n_ovf = decode_t2(rec, kind, self.ovf_units, scale, SYNC_CHANNEL)
            self.n_markers += n_mark
            self.n_overflow_records += n_ovf
            return t, c
        return self.decode_numpy(rec)

    def decode_numpy(self, rec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised numpy decoding of ``rec`` (the reference of the compiled decoder)."""
        rec = rec.astype(np.uint32, copy=False)
        if self.record_type == RT_PICOHARP_T2:
            ch = (rec >> np.uint32(28)).astype(np.uint8)
            tt = (rec & np.uint32(0x0FFFFFFF)).astype(np.int64)
            special = ch == 0xF
            ovf_rec = special & ((tt & 0xF) == 0)
            inc = ovf_rec.astype(np.int64) * PICOHARP_T2_WRAP
            photon = ~special
            self.n_markers += int((special & ~ovf_rec).sum())
            out_ch = ch
        else:
            special = (rec >> np.uint32(31)).astype(bool)
            ch = ((rec >> np.uint32(25)) & np.uint32(0x3F)).astype(np.uint8)
            tt = (rec & np.uint32(0x1FFFFFF)).astype(np.int64)
            ovf_rec = special & (ch == 0x3F)
            if self.record_type == RT_HYDRAHARP_T2:
                inc = ovf_rec.astype(np.int64) * HYDRAHARP_V1_WRAP
            else:
                inc = np.where(ovf_rec, np.where(tt == 0, 1, tt), 0) * HYDRAHARP_V2_WRAP
            sync = special & (ch == 0)
            self.n_markers += int((special & (ch >= 1) & (ch <= 15)).sum())
            photon = ~special | sync
            out_ch = np.where(sync, np.uint8(SYNC_CHANNEL), ch).astype(np.uint8)
        self.n_overflow_records += int(ovf_rec.sum())
        base = np.cumsum(inc) + self.ovf_units
        if inc.size:
            self.ovf_units = int(base[-1])
        t_units = base[photon] + tt[photon]
        if self.scale_ps == 1.0:
            t_ps = t_units
        else:
            t_ps = np.rint(t_units * self.scale_ps).astype(np.int64)
        return t_ps, out_ch[photon]


def iter_ptu(path: str | Path, chunk_records: int = DEFAULT_CHUNK_RECORDS) -> Iterator[TimeTags]:
    """Stream a PTU T2 file as :class:`TimeTags` chunks of up to ``chunk_records`` records.

    Raises :class:`TimeTagFormatError` for a malformed header or a record count that disagrees with the
    data, :class:`TruncatedRecordError` (with the offset of the partial record) for a truncated file."""
    path = str(path)
    with open(path, "rb", buffering=0) as fh:
        hdr = read_header(fh, path)
        fh.seek(hdr.data_offset)
        dec = PtuT2Decoder(hdr.record_type, hdr.resolution_s)
        meta = {"format": "ptu", "record_type": T2_RECORD_TYPES[hdr.record_type], "resolution_s": hdr.resolution_s,
                "path": path, "n_records_header": hdr.n_records}
        offset = hdr.data_offset
        n_read = 0
        buf = bytearray(chunk_records * 4)
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            # a short read may be followed by more data (pipes); keep reading to fill whole records
            while n % 4:
                more = fh.read(4 - n % 4)
                if not more:
                    raise TruncatedRecordError(path, offset + n - n % 4,
                                               f"truncated final record ({n % 4} of 4 bytes)")
                buf[n:n + len(more)] = more
                n += len(more)
            rec = np.frombuffer(buf, dtype="<u4", count=n // 4)
            t, c = dec.decode(rec)
            offset += n
            n_read += n // 4
            yield TimeTags(t, c, meta)
        if hdr.n_records >= 0 and n_read != hdr.n_records:
            raise TimeTagFormatError(path, offset, f"header announces {hdr.n_records} records, file holds {n_read}")


def read_ptu(path: str | Path) -> TimeTags:
    """Read a whole PTU T2 file (see :func:`iter_ptu`)."""
    return TimeTags.concatenate(list(iter_ptu(path)))


def encode_t2(t_units: np.ndarray, channel: np.ndarray, record_type: int = RT_GENERIC_T2) -> np.ndarray:
    """Encode events (time in resolution units, non-decreasing; channel 0..62 or SYNC_CHANNEL) as T2
    records of the HydraHarp V2 / TimeHarp 260 / generic layout, inserting overflow records."""
    if record_type not in (RT_HYDRAHARP2_T2, RT_TIMEHARP260N_T2, RT_TIMEHARP260P_T2, RT_GENERIC_T2):
        raise ValueError(f"writer supports the V2/generic T2 layouts, not 0x{record_type:08X}")
    t = np.asarray(t_units, dtype=np.int64)
    ch = np.asarray(channel, dtype=np.uint8)
    if t.size and (np.any(np.diff(t) < 0) or t[0] < 0):
        raise ValueError("event times must be non-negative and non-decreasing")
    if np.any((ch > 62) & (ch != SYNC_CHANNEL)):
        raise ValueError("T2 photon channels must be 0..62")
    wraps = t >> 25
    d_wraps = np.diff(wraps, prepend=0)
    max_per_rec = (1 << 25) - 1
    n_ovf = (d_wraps + max_per_rec - 1) // max_per_rec   # overflow records before each event
    total = int(t.size + n_ovf.sum())
    out = np.empty(total, dtype=np.uint32)
    ev_pos = np.arange(t.size) + np.cumsum(n_ovf)
    is_sync = ch == SYNC_CHANNEL
    words = np.where(is_sync, (1 << 31), ch.astype(np.int64) << 25) | (t & 0x1FFFFFF)
    out[ev_pos] = words.astype(np.uint32)
    # overflow records: for an event with d wraps, records carrying max_per_rec each and the remainder
    has = np.flatnonzero(n_ovf)
    if has.size:
        reps = n_ovf[has]
        starts = ev_pos[has] - reps
        idx = np.repeat(starts, reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
        counts = np.full(idx.size, max_per_rec, dtype=np.int64)
        last = np.cumsum(reps) - 1
        counts[last] = d_wraps[has] - (reps - 1) * max_per_rec
        out[idx] = ((1 << 31) | (0x3F << 25) | counts).astype(np.uint32)
    return out


def _tag(ident: str, typ: int, value: Any, idx: int = -1) -> bytes:
    name = ident.encode("ascii").ljust(32, b"\0")
    if typ in _VARIABLE:
        data = value if isinstance(value, bytes) else str(value).encode("latin-1") + b"\0"
        data = data.ljust((len(data) + 7) // 8 * 8, b"\0")
        return struct.pack("<32siIq", name, idx, typ, len(data)) + data
    if typ in (TY_FLOAT8, TY_TDATETIME):
        return struct.pack("<32siId", name, idx, typ, float(value))
    return struct.pack("<32siIq", name, idx, typ, int(value or 0))


def write_ptu(path: str | Path, tags: TimeTags, *, record_type: int = RT_GENERIC_T2, comment: str = "",
              sync_rate_hz: int = 0) -> int:
    """Write ``tags`` (t_ps ≥ 0, non-decreasing) as a PTU T2 file with 1 ps resolution. Returns records."""
    rec = encode_t2(tags.t_ps, tags.channel, record_type)
    hdr = b"".join([
        MAGIC, b"1.0.00\0\0",
        _tag("File_GUID", TY_ANSISTRING, "{" + str(uuid.uuid4()).upper() + "}"),
        _tag("File_Comment", TY_ANSISTRING, comment or "written by qshift"),
        _tag("CreatorSW_Name", TY_ANSISTRING, "qshift"),
        _tag("Measurement_Mode", TY_INT8, 2),
        _tag("Measurement_SubMode", TY_INT8, 0),
        _tag("TTResultFormat_TTTRRecType", TY_INT8, record_type),
        _tag("TTResultFormat_BitsPerRecord", TY_INT8, 32),
        _tag("MeasDesc_GlobalResolution", TY_FLOAT8, 1e-12),
        _tag("MeasDesc_Resolution", TY_FLOAT8, 1e-12),
        _tag("TTResult_SyncRate", TY_INT8, sync_rate_hz),
        _tag("TTResult_NumberOfRecords", TY_INT8, rec.size),
        _tag("Header_End", TY_EMPTY8, None),
    ])
    with open(path, "wb") as fh:
        fh.write(hdr)
        fh.write(rec.astype("<u4").tobytes())
    return int(rec.size)
