"""The link pipeline consumes recorded detector events: time-tag files written to disk and read back by the
format readers, sifted against the transmitter's record, reconciled, verified and amplified."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from qkd.emulator import emulate_link
from qkd.events.formats import write_native
from qkd.physics.presets import link_preset
from qkd.postprocess.link import LinkPolicy
from qkd.runtime import recorded_blocks, run_link

LINK = link_preset("snspd-fiber", 25)


def test_keys_from_recorded_time_tag_files_are_identical_at_both_ends(tmp_path: Path) -> None:
    recordings = []
    expected = []
    for i, seed in enumerate((3, 4)):
        sifted, _, run = emulate_link(LINK, 10**6, seed, return_run=True)
        path = tmp_path / f"block{i}.qtt"
        write_native(path, run.tags)
        recordings.append((path, run.tx))
        expected.append(sifted)
    # the files are read one block at a time, as the pipeline asks for them
    blocks = recorded_blocks(iter(recordings), window_ps=LINK.window_ps, seed=3)
    first_key, _ = next(blocks)
    assert np.array_equal(first_key.alice_bits, expected[0].alice_bits)
    assert np.array_equal(first_key.bob_bits, expected[0].bob_bits)
    run = asyncio.run(run_link([(first_key, _), *blocks], "recorded", LinkPolicy(key_length="asymptotic")))
    assert [r.status for r in run.bob] == ["delivered", "delivered"]
    assert [k[2] for k in run.alice_sink.keys] == [k[2] for k in run.bob_sink.keys]
    assert run.bob[1].n_sifted == pytest.approx(expected[1].n_key, rel=0.01)


def test_a_missing_recording_is_reported_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.qtt"
    with pytest.raises(OSError, match="absent.qtt"):
        next(recorded_blocks([(missing, None)], window_ps=200.0))
