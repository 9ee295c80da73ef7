"""Suite-wide settings: tests marked ``slow`` run only with QSHIFT_SLOW=1 (``make soak``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = REPO_ROOT.parent / "shared" / "vectors"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("QSHIFT_SLOW") == "1":
        return
    skip_slow = pytest.mark.skip(reason="slow soak/fuzz run: set QSHIFT_SLOW=1 or run `make soak`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def shared_vectors() -> Path:
    """``../shared/vectors`` beside the repository (published test vectors)."""
    if not SHARED_VECTORS.is_dir():
        pytest.fail(f"published vectors not found at {SHARED_VECTORS}; CI puts ../shared beside the clone")
    return SHARED_VECTORS
