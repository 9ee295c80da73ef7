"""qutools quTAG binary time-stamp files: fixed 10-byte records.

Record (little-endian): int64 time stamp in units of the time base (``unit_ps``, 1 ps by default) and
uint16 channel. The file starts with a preamble of ``header_bytes`` bytes that the reader skips (default
40, the preamble size of qutools' binary time-stamp files; set it for your software version — 0 when the
records start at the beginning). A file whose length after the preamble is not a multiple of 10 ends in a
truncated record, which is reported with its byte offset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qkd.events.formats.errors import TimeTagFormatError, TruncatedRecordError
from qkd.events.record import TimeTags

RECORD = np.dtype([("t", "<i8"), ("channel", "<u2")])
DEFAULT_HEADER_BYTES = 40


def iter_qutag(path: str | Path, *, header_bytes: int = DEFAULT_HEADER_BYTES, unit_ps: int = 1,
               chunk_records: int = 1 << 21) -> Iterator[TimeTags]:
    """Stream a quTAG binary file as :class:`TimeTags` chunks (channels above 255 are an error)."""
    path = str(path)
    meta = {"format": "qutag", "path": path, "unit_ps": unit_ps}
    with open(path, "rb") as fh:
        pre = fh.read(header_bytes)
        if len(pre) < header_bytes:
            raise TruncatedRecordError(path, 0, f"file shorter than the {header_bytes}-byte preamble")
        offset = header_bytes
        while True:
            raw = fh.read(chunk_records * RECORD.itemsize)
            if not raw:
                return
            whole = len(raw) - len(raw) % RECORD.itemsize
            if whole != len(raw):
                raise TruncatedRecordError(path, offset + whole,
                                           f"truncated final record ({len(raw) - whole} of 10 bytes)")
            rec = np.frombuffer(raw, RECORD)
            if rec.size and rec["channel"].max() > 255:
                i = int(np.argmax(rec["channel"] > 255))
                raise TimeTagFormatError(path, offset + 10 * i, f"channel {int(rec['channel'][i])} > 255")
            t = rec["t"].astype(np.int64) * unit_ps
            offset += len(raw)
            yield TimeTags(t, rec["channel"].astype(np.uint8), meta)


def write_qutag(path: str | Path, tags: TimeTags, *, header_bytes: int = DEFAULT_HEADER_BYTES) -> None:
    """Write ``tags`` as 10-byte records after a zero-filled preamble (for tests and interchange)."""
    rec = np.empty(len(tags), RECORD)
    rec["t"] = tags.t_ps
    rec["channel"] = tags.channel
    with open(path, "wb") as fh:
        fh.write(b"\0" * header_bytes)
        fh.write(rec.tobytes())


def read_qutag(path: str | Path, **kw: int) -> TimeTags:
    """Read a whole quTAG binary file."""
    parts = list(iter_qutag(path, **kw))
    return TimeTags.concatenate(parts) if parts else TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
