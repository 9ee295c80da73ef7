"""Helpers shared by the KME tests that start node processes from a TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qkd.kms.config import KmeConfig
from qkd.kms.testing import to_toml


def _without_nones(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _without_nones(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_without_nones(v) for v in x]
    return x


def write_toml(cfg: KmeConfig, path: Path) -> None:
    """Write ``cfg`` as a node TOML file (TOML has no null: unset options are left out)."""
    path.write_text(to_toml(_without_nones(cfg.model_dump(mode="json"))))
