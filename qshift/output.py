"""Command outputs: checked before any work starts, written atomically, never half-written.

Every file a command writes goes first to a temporary file in the target's own directory (same file
system, same suffix so that writers choosing a format by suffix still work), is flushed and fsync'd, and
is renamed over the target only when every output of the command is complete; the directory is then
fsync'd. On an error or Ctrl-C the temporaries are removed and the targets are left as they were.
Outputs that hold keys or a CA are never replaced without ``--force``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from qshift.errors import InputError, OutputError


def check_output(path: Path, option: str, *, suffixes: Sequence[str] | None = None, holds_keys: bool = False,
                 force: bool = False) -> Path:
    """Raise :class:`OutputError` unless ``path`` can take a new file: its directory exists, it is not a
    directory itself, its suffix is one of ``suffixes``, and (``holds_keys``) it does not exist unless
    ``force``."""
    where = f"{option} {path}"
    if path.is_dir():
        raise OutputError(f"{where}: is a directory, expected a file name")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise OutputError(f"{where}: expected a {' | '.join(suffixes)} file name")
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"{where}: directory {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"{where}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: directory {parent} is not writable")
    if holds_keys and not force and (path.exists() or path.is_symlink()):
        raise OutputError(f"{where}: exists; refusing to overwrite a key (use --force)")
    return path


def check_input(path: Path, option: str, *, suffixes: Sequence[str] | None = None) -> Path:
    """Raise :class:`InputError` unless ``path`` is a readable regular file (with one of ``suffixes``)."""
    where = f"{option} {path}"
    if not path.exists():
        raise InputError(f"{where}: no such file")
    if path.is_dir():
        raise InputError(f"{where}: is a directory, expected a file")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise InputError(f"{where}: expected a {' | '.join(suffixes)} file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{where}: permission denied")
    return path


def temp_for(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (hidden, same suffix)."""
    return target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
        _fsync_file(path)


@contextlib.contextmanager
def atomic_replace(pairs: Sequence[tuple[Path, Path]]) -> Iterator[None]:
    """Write the temporaries of ``pairs`` (temporary, target) in the body; on success each is fsync'd and
    renamed over its target, and the directories are fsync'd. On any exception, ``KeyboardInterrupt``
    included, every temporary is removed and no target is touched."""
    try:
        yield
        for temp, target in pairs:
            if not temp.exists():
                raise OutputError(f"{target}: the writer produced no file")
            _fsync_file(temp)
        for temp, target in pairs:
            os.replace(temp, target)
        for directory in dict.fromkeys(target.parent for _, target in pairs):
            _fsync_dir(directory)
    except BaseException:
        for temp, _ in pairs:
            with contextlib.suppress(OSError):
                temp.unlink()
        raise


@contextlib.contextmanager
def atomic_outputs(*targets: Path) -> Iterator[tuple[Path, ...]]:
    """Yield one temporary path per target; see :func:`atomic_replace`."""
    temps = tuple(temp_for(t) for t in targets)
    with atomic_replace(list(zip(temps, targets, strict=True))):
        yield temps


def write_atomic(target: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``target`` atomically (created with ``mode``)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_outputs(target) as (temp,):
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
