"""Typed errors of the time-tag readers: each names the file and the byte offset of the fault."""

from __future__ import annotations

from pathlib import Path

from qkd.events.record import EventsError


class TimeTagFormatError(EventsError):
    """A time-tag file is malformed at ``offset`` (bytes from the start of ``path``)."""

    def __init__(self, path: str | Path, offset: int, reason: str) -> None:
        self.path = str(path)
        self.offset = int(offset)
        self.reason = reason
        super().__init__(f"{self.path}: byte offset {self.offset}: {reason}")


class TruncatedRecordError(TimeTagFormatError):
    """The file ends inside a record: the final partial record starts at ``offset``."""
