"""CSV time tags: one event per line, ``t_ps,channel`` (decimal integers), optional header line
``t_ps,channel``; ``#`` starts a comment line. Read in chunks of whole lines; a malformed line is
reported with its byte offset and line number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qkd.events.formats.errors import TimeTagFormatError, TruncatedRecordError
from qkd.events.record import TimeTags


def _parse_lines(lines: list[bytes], path: str, offset: int, line_no: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.empty(len(lines), np.int64)
    c = np.empty(len(lines), np.uint8)
    m = 0
    for ln in lines:
        s = ln.strip()
        if s and not s.startswith(b"#") and s.replace(b" ", b"") != b"t_ps,channel":
            parts = s.split(b",")
            try:
                if len(parts) != 2:
                    raise ValueError(f"{len(parts)} fields")
                tv, cv = int(parts[0]), int(parts[1])
                if not 0 <= cv <= 255:
                    raise ValueError(f"channel {cv} outside 0..255")
            except ValueError as exc:
                raise TimeTagFormatError(path, offset, f"line {line_no}: {s[:40]!r} is not 't_ps,channel' "
                                         f"({exc})") from None
            t[m], c[m] = tv, cv
            m += 1
        offset += len(ln) + 1
        line_no += 1
    return t[:m], c[:m]


def iter_csv(path: str | Path, chunk_bytes: int = 1 << 22) -> Iterator[TimeTags]:
    """Stream a CSV time-tag file as :class:`TimeTags` chunks. A last line without its newline is a
    truncated record (reported); an empty file is empty."""
    path = str(path)
    meta = {"format": "csv", "path": path}
    offset, line_no, rest = 0, 1, b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk_bytes)
            data = rest + block
            if not block:
                if data.strip():
                    raise TruncatedRecordError(path, offset, f"line {line_no}: final line lacks its newline "
                                               f"({data[:40]!r})")
                return
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            lines = data[:cut].split(b"\n")
            t, c = _parse_lines(lines, path, offset, line_no)
            offset += cut + 1
            line_no += len(lines)
            rest = data[cut + 1:]
            if t.size:
                yield TimeTags(t, c, meta)


def write_csv(path: str | Path, tags: TimeTags) -> None:
    """Write ``tags`` as ``t_ps,channel`` lines with a header line."""
    with open(path, "w") as fh:
        fh.write("t_ps,channel\n")
        np.savetxt(fh, np.column_stack([tags.t_ps, tags.channel.astype(np.int64)]), fmt="%d", delimiter=",")


def read_csv(path: str | Path) -> TimeTags:
    """Read a whole CSV time-tag file."""
    parts = list(iter_csv(path))
    return TimeTags.concatenate(parts) if parts else TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
