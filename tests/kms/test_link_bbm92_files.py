"""Two real KMEs run a BBM92 link from recorded two-station time-tag files (``kind = "timetag-files"``,
``protocol = "bbm92"``): per block, Alice's station file and Bob's (written by the pair emulator, each
station on its own free-running clock, in two formats) → clock found from the tags → coincidences →
BBM92 sifting and witness → the link runtime → KME intake; the same key reaches an SAE pair at both
nodes, and the files are used up after the last block. The feed is the one of the shipped example
deploy/examples/kme-bbm92-files-{a,t}.toml (file paths swapped for the emulated files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qkd.events.formats import write_native, write_ptu
from qkd.events.pairs import PairStation, emulate_pairs
from qkd.kms.config import KmeConfig
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_topology, free_port
from qkd.physics.entangled import SpdcSource
from qkd.physics.fiber import FiberChannel
from qkd.runtime.sources import EntangledFileSource, NoDetections
from qshift.commands.kme import RELATIVE_TO_CONFIG
from qshift.config import load_config
from tests.kms.nodes import assert_sae_c_redeems_sae_a_keys, feed_node_config, until

LINK = "KME_A-KME_T"
POOLS = (f"{LINK}:KME_A>KME_T", f"{LINK}:KME_T>KME_A")
EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
BLOCKS = 3


def write_station_files(directory: Path, n_blocks: int, *, seed: int = 40, seconds: float = 0.3,
                        bob_offset_ps: float = 5.1e7, bob_drift_ppm: float = 3.3) -> tuple[list[str], list[str]]:
    """Both stations' time tags of ``n_blocks`` acquisitions of a 25 km link with the pair source in the
    middle (10⁶ pairs/s, V = 0.98): Alice's as qshift native ``.qtt``, Bob's as PicoQuant PTU, Bob's tagger
    ``bob_offset_ps`` ahead and drifting ``bob_drift_ppm`` against Alice's."""
    arm = FiberChannel(12.5, 0.2).mean_transmittance()
    source = SpdcSource.continuous_wave(1.0e6, 1000.0, visibility=0.98)
    alice = PairStation("alice", arm)
    bob = PairStation("bob", arm, clock_offset_ps=bob_offset_ps, clock_drift_ppm=bob_drift_ppm)
    alice_files, bob_files = [], []
    for i in range(n_blocks):
        run = emulate_pairs(source, alice, bob, seconds, seed + i)
        alice_files.append(str(directory / f"alice-{i}.qtt"))
        bob_files.append(str(directory / f"bob-{i}.ptu"))
        write_native(alice_files[-1], run.alice, block_records=50_000)
        write_ptu(bob_files[-1], run.bob)
    return alice_files, bob_files


def example_feed() -> dict[str, Any]:
    """The bbm92 feed of the shipped example node A."""
    cfg = load_config(EXAMPLES / "kme-bbm92-files-a.toml", KmeConfig, relative_paths=RELATIVE_TO_CONFIG)
    [feed] = cfg.feeds
    return feed.model_dump(mode="json", exclude_defaults=True)


def test_the_shipped_example_nodes_name_the_same_station_files_relative_to_their_directory() -> None:
    a, t = (load_config(EXAMPLES / f"kme-bbm92-files-{n}.toml", KmeConfig, relative_paths=RELATIVE_TO_CONFIG)
            for n in ("a", "t"))
    assert a.topology == t.topology and (a.node.id, t.node.id) == ("KME_A", "KME_T")
    [fa], [ft] = a.feeds, t.feeds
    assert (fa.kind, fa.protocol) == ("timetag-files", "bbm92") and fa.model_dump() == ft.model_dump()
    assert len(fa.timetag_files) == len(fa.bob_timetag_files) >= 1
    assert all(Path(f).is_absolute() and Path(f).is_relative_to(EXAMPLES) for f in fa.timetag_files
               + fa.bob_timetag_files)


@pytest.mark.timeout(120)
async def test_recorded_station_files_key_the_saes_through_two_kmes(tmp_path, pki) -> None:
    alice_files, bob_files = write_station_files(tmp_path, BLOCKS)
    feed = {**example_feed(), "timetag_files": alice_files, "bob_timetag_files": bob_files}
    ports = {"KME_A": free_port(), "KME_T": free_port()}
    topo = chain_topology(["KME_A", "KME_T"], ports, {"SAE_A": "KME_A", "SAE_C": "KME_T"})
    t = await start_kme(feed_node_config(tmp_path, pki, "KME_T", topo, ports, feed))
    a = await start_kme(feed_node_config(tmp_path, pki, "KME_A", topo, ports, feed))
    try:
        ends = [a.service.link_ends[LINK], t.service.link_ends[LINK]]
        await until(lambda: all(e.blocks_done >= BLOCKS for e in ends), 90, f"{BLOCKS} blocks at both ends",
                     lambda: [e.snapshot() for e in ends])
        assert [e.blocks_done for e in ends] == [BLOCKS, BLOCKS]        # and no more: the files are used up
        assert all(r.status == "delivered" for e in ends for r in e.results)
        for pool in POOLS:
            assert a.service.store.available_bits(pool) == t.service.store.available_bits(pool) > 0
        await assert_sae_c_redeems_sae_a_keys(a, t, pki, number=2)
        status = {e["link"]: e for e in a.service.pools_report()["links"]}[LINK]
        assert status["protocol"] == "bbm92" and status["last_chsh"] > 2.5 and not status["alarm"]
    finally:
        await a.stop()
        await t.stop()


def test_the_file_source_finds_each_block_s_clock_and_refuses_files_that_share_no_light(tmp_path: Path) -> None:
    alice_files, bob_files = write_station_files(tmp_path, 2, seconds=0.2)
    source = EntangledFileSource(alice_files, bob_files, window_ps=1000.0, sift_seed=5)
    block = source.block(0)
    assert block.witness.certified and block.witness.chsh > 2.5
    # 0.2 s of a 25 km link: ~40 000 coincidences, half of them in Z, 10 % of those disclosed; V = 0.98 → ~1 %
    assert block.sifted.coincidences > 35_000 and block.sifted.alice_key.size > 8_000
    assert block.sifted.qber(0) < 0.03 and block.sifted.qber(1) < 0.03
    # Alice's file of block 0 against Bob's of block 1: no common light, refused as no detections
    crossed = EntangledFileSource([alice_files[0]], [bob_files[1]], window_ps=1000.0, sift_seed=5)
    with pytest.raises(NoDetections, match="no correlation peak"):
        crossed.block(0)
