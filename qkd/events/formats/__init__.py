"""Time-tag file formats: PicoQuant PTU (T2), qutools quTAG binary, qshift native (``.qtt``), CSV.

:func:`iter_timetags` picks the reader from the file suffix (``.ptu``, ``.qtag``/``.bin``, ``.qtt``,
``.csv``) and streams :class:`~qkd.events.record.TimeTags` chunks. Every reader raises
:class:`TimeTagFormatError` (file + byte offset) for malformed input and :class:`TruncatedRecordError` for a
truncated final record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from qkd.events.formats.csvtags import iter_csv, read_csv, write_csv
from qkd.events.formats.errors import TimeTagFormatError, TruncatedRecordError
from qkd.events.formats.native import iter_native, read_native, write_native
from qkd.events.formats.ptu import iter_ptu, read_ptu, write_ptu
from qkd.events.formats.qutag import iter_qutag, read_qutag, write_qutag
from qkd.events.record import TimeTags

READERS: dict[str, Callable[[str | Path], Iterator[TimeTags]]] = {
    ".ptu": iter_ptu, ".qtag": iter_qutag, ".bin": iter_qutag, ".qtt": iter_native, ".csv": iter_csv,
}


def iter_timetags(path: str | Path) -> Iterator[TimeTags]:
    """Stream any supported time-tag file, by suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise TimeTagFormatError(path, 0, f"unknown time-tag file suffix {suffix!r}; known: {', '.join(READERS)}")
    return READERS[suffix](path)


def read_timetags(path: str | Path) -> TimeTags:
    """Read a whole time-tag file of any supported format."""
    parts = list(iter_timetags(path))
    if not parts:
        import numpy as np
        return TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8))
    return TimeTags.concatenate(parts)


__all__ = ["TimeTagFormatError", "TruncatedRecordError", "iter_timetags", "read_timetags", "iter_ptu", "read_ptu",
           "write_ptu", "iter_qutag", "read_qutag", "write_qutag", "iter_native", "read_native", "write_native",
           "iter_csv", "read_csv", "write_csv"]
