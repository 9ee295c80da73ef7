"""Mutated source files of every language (the labelled corpus, corrupted) never make a code scanner raise
anything but a typed error, and never make the file walker raise at all."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.errors import InventoryError
from inventory.sources import code_treesitter, files, python_ast
from tests.inventory.recall import CORPUS

FUZZ = settings(max_examples=int(os.environ.get("QSHIFT_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SEEDS = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Path, bytes]:
    path = draw(st.sampled_from(SEEDS))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["cut", "insert", "flip", "truncate"]))
        if op == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16) | st.sampled_from(
                [b"(", b")", b"{", b"}", b'"', b"new ", b"\x00", b"\xff\xfe", b"import ", b"//", b"/*"]))
        elif op == "flip" and data:
            data[min(at, len(data) - 1)] ^= draw(st.integers(1, 255))
        else:
            del data[at:]
    return path, bytes(data)


@FUZZ
@given(mutated())
def test_mutated_source_raises_only_typed_errors(case: tuple[Path, bytes]) -> None:
    path, data = case
    kind = files.classify(path.name, data[:4096])
    assert kind is not None and kind[0] == "code"
    try:
        if kind[1] == "python":
            python_ast.scan(path.name, data)
        else:
            code_treesitter.scan(path.name, data, kind[1])
    except InventoryError:
        pass
