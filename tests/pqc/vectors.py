"""Locate and parse the published vectors in ``../shared/vectors`` (relative to the repository root).

Tests that need them use :data:`needs_vectors`: a clear skip, not a failure, when the folder is absent
(e.g. a checkout without the shared directory).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO.parent / "shared" / "vectors"

needs_vectors = pytest.mark.skipif(
    not VECTORS.is_dir(), reason=f"published test vectors not found at {VECTORS} (expected ../shared/vectors)"
)


def cctv_records(path: Path) -> list[dict[str, str]]:
    """C2SP/CCTV ``key = hexvalue`` records separated by blank lines (values kept as text)."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            if current:
                records.append(current)
                current = {}
            continue
        if " = " in line:
            key, value = line.split(" = ", 1)
            current[key.strip()] = value.strip()
    if current:
        records.append(current)
    return records


def modulus_keys(variant: str) -> list[bytes]:
    """Invalid encapsulation keys of ``ml-kem/modulus/ML-KEM-<variant>.txt.gz`` (one hex key a line)."""
    with gzip.open(VECTORS / "ml-kem" / "modulus" / f"ML-KEM-{variant}.txt.gz", "rt") as handle:
        return [bytes.fromhex(line) for line in handle.read().split()]
