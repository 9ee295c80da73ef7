"""Find an installed liboqs shared library *without* importing ``oqs``.

``liboqs-python`` (module ``oqs``) downloads and builds liboqs at import time when it finds no shared
library. qshift must never trigger that, so the optional liboqs backend first calls
:func:`locate_liboqs` and imports ``oqs`` only when a library was found.

Search order mirrors what ``oqs`` itself would load: ``$OQS_INSTALL_PATH/lib*/liboqs.*``, then the
system loader path (``ctypes.util.find_library("oqs")``), then ``$LD_LIBRARY_PATH``.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

_LIB_NAMES = ("liboqs.so", "liboqs.dylib", "oqs.dll")


@dataclass(frozen=True)
class LiboqsLocation:
    """Where liboqs was found (``path``), or why not (``reason``)."""

    path: str | None
    reason: str

    @property
    def found(self) -> bool:
        return self.path is not None


def _scan_dir(directory: Path) -> str | None:
    if not directory.is_dir():
        return None
    for name in _LIB_NAMES:
        for candidate in sorted(directory.glob(name + "*")):
            if candidate.is_file():
                return str(candidate)
    return None


def locate_liboqs(environ: dict[str, str] | None = None) -> LiboqsLocation:
    """Look for a liboqs shared library; never imports ``oqs`` and never touches the network."""
    env = os.environ if environ is None else environ
    install = env.get("OQS_INSTALL_PATH")
    if install:
        for sub in ("lib", "lib64", "bin"):
            hit = _scan_dir(Path(install) / sub)
            if hit:
                return LiboqsLocation(hit, f"found under OQS_INSTALL_PATH={install}")
    found = ctypes.util.find_library("oqs")
    if found:
        return LiboqsLocation(found, "found on the system library path")
    for entry in env.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if entry:
            hit = _scan_dir(Path(entry))
            if hit:
                return LiboqsLocation(hit, f"found in LD_LIBRARY_PATH entry {entry}")
    home_default = Path.home() / "_oqs"  # where liboqs-python would have built it
    hit = _scan_dir(home_default / "lib") or _scan_dir(home_default / "lib64")
    if hit:
        return LiboqsLocation(hit, f"found in {home_default}")
    where = "OQS_INSTALL_PATH unset" if not install else f"nothing under OQS_INSTALL_PATH={install}"
    return LiboqsLocation(None, f"no liboqs shared library ({where}; not on the library path; {sys.platform})")
