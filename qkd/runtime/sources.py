"""Where a link's blocks come from: block index ``i`` as ``(SiftedKey, ParameterEstimate)`` (decoy BB84) or
as a :class:`~qkd.postprocess.link.KeyBlock` of its link kind (BBM92: :class:`~qkd.postprocess.bbm92.Bbm92Block`).

Every source gives both ends of a link the same block ``i`` (each end takes its own side's bits):

* :class:`EmulatedSource` — the physics emulator (``qkd.emulator``), block ``i`` seeded ``seed + i``, with
  the fault knobs of :class:`LinkFaults` (an intercept-resend eavesdropper, a cut quantum channel). In a
  deployment each node emulates its own copy; in-process both ends may share one source.
  EMULATED: the physics comes from the emulator, not from photons.
* :class:`TimetagFileSource` — recorded acquisitions: the receiver's time-tag file ``i`` (any format
  :func:`qkd.events.formats.read_timetags` reads) sifted against the transmitter record ``i``.
* :class:`IterableSource` — blocks already made (tests, the benchmarks), read one at a time.
* :class:`EntangledSource` — an entanglement-based (BBM92) link: a CW SPDC source in the middle of a fibre,
  both stations' time tags with their own clocks (``qkd.events.pairs``), the clock offset and drift found
  from the tags and the coincidences matched (``qkd.events.coincidence``), sifted with the entanglement
  witness (``qkd.postprocess.bbm92``); block ``i`` seeded ``seed + i``, the same :class:`LinkFaults`
  (eavesdropper on Bob's arm, cut fibre, read-out errors). EMULATED, like :class:`EmulatedSource`.
* :class:`EntangledFileSource` — a recorded entanglement-based (BBM92) link: block ``i`` is the pair of
  both stations' time-tag files ``i`` (any format :func:`qkd.events.formats.iter_timetags` reads, each
  station on its own clock), clock found and coincidences matched streaming through both files
  (``synchronise_files``, ``match_files``: bounded memory), then sifted with the witness as above.

Sources are blocking (NumPy and compiled kernels) and are run in a worker thread by the runtime.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from qkd.errors import QkdError
from qkd.events.pairs import PairStation
from qkd.physics.entangled import SpdcSource
from qkd.physics.link import Link
from qkd.postprocess.estimate import Bb84DecoyBlock, ParameterEstimate
from qkd.postprocess.link import KeyBlock
from qkd.postprocess.sift import SiftedKey

#: a decoy-BB84 block as (sifted key, estimate), or a block of any link kind
Block = tuple[SiftedKey, ParameterEstimate] | KeyBlock


def as_key_block(block: Block) -> KeyBlock:
    """The per-block protocol's view of ``block`` (a ``(SiftedKey, ParameterEstimate)`` pair is decoy BB84)."""
    if isinstance(block, tuple):
        return Bb84DecoyBlock(*block)
    return block

#: receiver transmittance standing for a cut quantum channel (120 dB: no photon arrives; dark counts do)
CUT_TRANSMITTANCE = 1e-12


class SourceExhausted(QkdError, cause="source-exhausted"):
    """The source has no block of that index (the last file was read, or an iterable ended)."""


@runtime_checkable
class BlockSource(Protocol):
    """One block per index; ``last_index``: index after the last block (``None``: unbounded)."""

    name: str

    @property
    def last_index(self) -> int | None: ...

    def block(self, index: int) -> Block: ...


@dataclass
class LinkFaults:
    """Fault knobs of an emulated link (shared by both ends in-process, so both see the same world).

    ``eve_fraction``: intercept-resend on that fraction of pulses (``None``: as the link says); ``cut``: the
    quantum channel is cut (no photon reaches the receiver; only dark counts click)."""

    eve_fraction: float | None = None
    cut: bool = False
    #: emulated read-out errors: the next N blocks read by the end named by the key raise
    readout_errors: dict[str, int] = field(default_factory=dict)


class NoDetections(QkdError, cause="too-few-counts"):
    """The block has too few detections to sift (a cut channel): a block with no key, not a fault of the
    runtime; both ends abort it as ``too-few-counts``."""


class EmulatedReadoutError(QkdError, cause="stage-error:source"):
    """An injected fault of the emulated detector read-out (fault testing)."""


class SharedEmulation:
    """Block ``i`` of an emulated link computed once for both ends when they run in one process (each end
    still takes only its own side's bits): halves the emulator's CPU in scenarios and the demo. Keyed by
    the block index and the fault knobs in force, so two ends that see different worlds never share."""

    def __init__(self, keep: int = 4) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[threading.Lock, list[Block | BaseException]]] = {}
        self._keep = keep
        self.computed = 0

    def clear(self) -> None:
        """Drop every cached block (a stopped link's memory goes back now, whatever still references this)."""
        with self._lock:
            self._entries.clear()

    def get(self, key: tuple[object, ...], compute: Callable[[], Block]) -> Block:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = (threading.Lock(), [])
                index = int(key[0])  # type: ignore[call-overload]
                for old in [k for k in self._entries if int(k[0]) < index - self._keep]:  # type: ignore[call-overload]
                    del self._entries[old]
        lock, box = entry
        with lock:
            if not box:
                try:
                    box.append(compute())
                    self.computed += 1
                except Exception as exc:  # noqa: BLE001 - handed to both ends, raised at each
                    box.append(exc)
            result = box[0]
        if isinstance(result, BaseException):
            raise result
        return result



def _emulated_block_due(name: str, index: int, max_blocks: int | None, faults: LinkFaults, end: str) -> None:
    """What an emulated source checks before making block ``index``: past its last block → :class:`SourceExhausted`;
    a read-out error injected for this ``end`` → :class:`EmulatedReadoutError` (one per injected error)."""
    if max_blocks is not None and index >= max_blocks:
        raise SourceExhausted(f"{name}: block {index} is past the last block {max_blocks - 1}")
    pending = faults.readout_errors.get(end, 0)
    if pending > 0:
        faults.readout_errors[end] = pending - 1
        raise EmulatedReadoutError(f"{name}: injected read-out error in block {index} at {end or 'this end'}")

class EmulatedSource:
    """Blocks of ``pulses_per_block`` pulses of ``link`` from the emulator (block ``i``: seed ``seed + i``)."""

    def __init__(self, link: Link, pulses_per_block: int, seed: int, *, faults: LinkFaults | None = None,
                 max_blocks: int | None = None, z_sample_fraction: float = 0.05, name: str = "emulated",
                 end: str = "") -> None:
        self.end = end
        self.shared: SharedEmulation | None = None
        self.link = link
        self.pulses_per_block = pulses_per_block
        self.seed = seed
        self.faults = faults or LinkFaults()
        self.max_blocks = max_blocks
        self.z_sample_fraction = z_sample_fraction
        self.name = name

    @property
    def last_index(self) -> int | None:
        return self.max_blocks

    def world(self) -> Link:
        """The link as the faults leave it now."""
        link = self.link
        if self.faults.eve_fraction is not None:
            link = replace(link, intercept_resend_fraction=self.faults.eve_fraction)
        if self.faults.cut:
            link = replace(link, receiver_efficiency=CUT_TRANSMITTANCE)
        return link

    def block(self, index: int) -> Block:
        from qkd.emulator import emulate_link

        _emulated_block_due(self.name, index, self.max_blocks, self.faults, self.end)
        from qkd.postprocess.sift import SiftError

        world = self.world()

        def compute() -> Block:
            try:
                out = emulate_link(world, self.pulses_per_block, self.seed + index,
                                   z_sample_fraction=self.z_sample_fraction)
            except SiftError as exc:
                raise NoDetections(f"{self.name}: block {index}: {exc}") from None
            return out[0], out[1]
        if self.shared is None:
            return compute()
        key = (index, self.seed, self.pulses_per_block, world.intercept_resend_fraction, world.receiver_efficiency)
        return self.shared.get(key, compute)

    def expected_secret_bits_per_block(self) -> float:
        """Closed-form asymptotic decoy-state key per block (``qkd.physics.keyrate``), for budget checks."""
        from qkd.physics.fiber import FiberChannel
        from qkd.physics.keyrate import key_rate

        length_km = self.link.channel.length_km if isinstance(self.link.channel, FiberChannel) else 0.0
        try:
            rate = key_rate(self.link.theory(), length_km, self.link.source.intensities[0])
        except (QkdError, ValueError):
            return math.nan
        return rate * self.pulses_per_block


class EntangledSource:
    """Blocks of ``block_seconds`` of an emulated entanglement-based (BBM92) link (block ``i``: seed ``seed + i``).

    ``spdc``: the pair source (CW, Poissonian); ``alice`` / ``bob``: the two stations (arm transmittance,
    detectors, clocks). Per block: both stations' time tags (``qkd.events.pairs.emulate_pairs``, an
    intercept-resend attacker on Bob's arm for ``faults.eve_fraction`` of his photons), Bob's clock found
    against Alice's from the tags alone (``synchronise``), pairs within ``window_ps`` (``match``), sifting
    with a ``z_sample_fraction`` Z sample and the entanglement witness at confidence 1 − ``witness_eps``
    (``qkd.postprocess.bbm92.bbm92_block``). No correlation peak (a cut fibre) is :class:`NoDetections`."""

    def __init__(self, spdc: SpdcSource, alice: PairStation, bob: PairStation, block_seconds: float, seed: int, *,
                 window_ps: float = 1000.0, faults: LinkFaults | None = None, max_blocks: int | None = None,
                 z_sample_fraction: float = 0.1, witness_eps: float = 1e-9, name: str = "entangled",
                 end: str = "") -> None:
        if not 0 < block_seconds <= 100:
            raise QkdError(f"{name}: block_seconds must be in (0, 100] s, got {block_seconds}")
        self.spdc = spdc
        self.alice = alice
        self.bob = bob
        self.block_seconds = block_seconds
        self.seed = seed
        self.window_ps = window_ps
        self.faults = faults or LinkFaults()
        self.max_blocks = max_blocks
        self.z_sample_fraction = z_sample_fraction
        self.witness_eps = witness_eps
        self.name = name
        self.end = end
        self.shared: SharedEmulation | None = None

    @classmethod
    def over_fiber(cls, length_km: float, seed: int, *, pair_rate_hz: float = 1.0e6, visibility: float = 0.98,
                   window_ps: float = 1000.0, block_seconds: float = 0.5, attenuation_db_per_km: float = 0.2,
                   bob_clock_offset_ps: float = 3.7e7, bob_clock_drift_ppm: float = -2.5,
                   faults: LinkFaults | None = None, max_blocks: int | None = None, z_sample_fraction: float = 0.1,
                   witness_eps: float = 1e-9, name: str = "entangled", end: str = "") -> EntangledSource:
        """A source in the middle of ``length_km`` of fibre (each arm ``length_km``/2 at
        ``attenuation_db_per_km``), SNSPD stations (efficiency 0.8, 100 Hz dark counts, 50 ps jitter,
        20 ns dead time); Bob's free-running clock ``bob_clock_offset_ps`` ahead, drifting
        ``bob_clock_drift_ppm``."""
        from qkd.physics.fiber import FiberChannel

        arm = FiberChannel(length_km / 2, attenuation_db_per_km).mean_transmittance()
        spdc = SpdcSource.continuous_wave(pair_rate_hz, window_ps, visibility=visibility)
        return cls(spdc, PairStation("alice", arm),
                   PairStation("bob", arm, clock_offset_ps=bob_clock_offset_ps, clock_drift_ppm=bob_clock_drift_ppm),
                   block_seconds, seed, window_ps=window_ps, faults=faults, max_blocks=max_blocks,
                   z_sample_fraction=z_sample_fraction, witness_eps=witness_eps, name=name, end=end)

    @property
    def last_index(self) -> int | None:
        return self.max_blocks

    def world(self) -> tuple[PairStation, float]:
        """Bob's station and the attacked fraction of his photons, as the faults leave them now."""
        bob = replace(self.bob, arm_transmittance=CUT_TRANSMITTANCE) if self.faults.cut else self.bob
        return bob, float(self.faults.eve_fraction or 0.0)

    def block(self, index: int) -> Block:
        _emulated_block_due(self.name, index, self.max_blocks, self.faults, self.end)
        bob, eve = self.world()

        def compute() -> Block:
            from qkd.events.coincidence import ClockSyncError, match, synchronise
            from qkd.events.pairs import emulate_pairs
            from qkd.postprocess.bbm92 import bbm92_block

            run = emulate_pairs(self.spdc, self.alice, bob, self.block_seconds, self.seed + index,
                                intercept_resend_fraction=eve)
            try:
                model = synchronise(run.alice, run.bob)
            except ClockSyncError as exc:
                raise NoDetections(f"{self.name}: block {index}: {exc}") from None
            found = match(run.alice, run.bob, model, self.window_ps)
            return bbm92_block(found, z_sample_fraction=self.z_sample_fraction, seed=self.seed + index,
                               witness_eps=self.witness_eps)
        if self.shared is None:
            return compute()
        key = (index, "bbm92", self.seed, self.block_seconds, eve, bob.arm_transmittance)
        return self.shared.get(key, compute)

    def expected_secret_bits_per_block(self) -> float:
        """Closed-form asymptotic BBM92 key per block (``qkd.physics.entangled``, [MFL07] Eq. 11: secret bits
        per coincidence window × windows per block), for budget checks; key from the Z-basis pairs left after
        the Z sample only (the X pairs are all disclosed for the witness and the phase error)."""
        from qkd.physics.entangled import StationDetection, bbm92_figures, bbm92_key_rate

        window_s = 1.0 / self.spdc.window_rate_hz

        def station(s: PairStation) -> StationDetection:
            return StationDetection(s.efficiency, min(s.detector.dark_count_rate_hz * window_s, 0.5))
        try:
            key_fraction = self.alice.p_z * self.bob.p_z * (1.0 - self.z_sample_fraction)
            rate = bbm92_key_rate(bbm92_figures(self.spdc, station(self.alice), station(self.bob)),
                                  basis_match=key_fraction)
        except (QkdError, ValueError):
            return math.nan
        return rate * self.spdc.window_rate_hz * self.block_seconds


def _file_pair_due(name: str, index: int, n_pairs: int) -> None:
    """Raise :class:`SourceExhausted` when a file source of ``n_pairs`` file pairs has no block ``index``."""
    if index >= n_pairs:
        raise SourceExhausted(f"{name}: no file pair for block {index} ({n_pairs} given)")


class TimetagFileSource:
    """Block ``i``: receiver time tags ``timetag_files[i]`` sifted against ``transmitter_files[i]``."""

    def __init__(self, timetag_files: list[str], transmitter_files: list[str], *, window_ps: float, sift_seed: int,
                 z_sample_fraction: float = 0.05, eps_sec: float = 1e-10, name: str = "timetag-files") -> None:
        if len(timetag_files) != len(transmitter_files):
            raise QkdError(f"{name}: {len(timetag_files)} time-tag files but {len(transmitter_files)} transmitter "
                           f"records")
        self.timetag_files = timetag_files
        self.transmitter_files = transmitter_files
        self.window_ps = window_ps
        self.sift_seed = sift_seed
        self.z_sample_fraction = z_sample_fraction
        self.eps_sec = eps_sec
        self.name = name

    @property
    def last_index(self) -> int | None:
        return len(self.timetag_files)

    def block(self, index: int) -> Block:
        from qkd.events.formats import read_timetags
        from qkd.events.record import load_transmitter
        from qkd.postprocess.estimate import estimate
        from qkd.postprocess.sift import sift

        _file_pair_due(self.name, index, len(self.timetag_files))
        tags = read_timetags(self.timetag_files[index])
        record = load_transmitter(Path(self.transmitter_files[index]))
        key = sift(tags, record, window_ps=self.window_ps, z_sample_fraction=self.z_sample_fraction,
                   seed=self.sift_seed + index)
        return key, estimate(key, eps_sec=self.eps_sec)


@dataclass
class EntangledFileSource:
    """Block ``i``: Alice's station file ``alice_files[i]`` and Bob's ``bob_files[i]`` (time tags of the same
    acquisition, each on its station's free-running clock) → Bob's clock against Alice's from the tags
    (``qkd.events.coincidence.synchronise_files``) → coincidences within ``window_ps``
    (``match_files``; both read streaming, so files larger than memory go through) → BBM92 sifting with a
    ``z_sample_fraction`` Z sample (seed ``sift_seed + i``) and the witness at 1 − ``witness_eps``. Files
    that share no light (no correlation peak) give :class:`NoDetections`, as a cut fibre does."""

    alice_files: list[str]
    bob_files: list[str]
    window_ps: float
    sift_seed: int
    z_sample_fraction: float = 0.1
    witness_eps: float = 1e-9
    max_drift_ppm: float = 20.0
    name: str = "entangled time-tag files"

    def __post_init__(self) -> None:
        if len(self.alice_files) != len(self.bob_files) or not self.alice_files:
            raise QkdError(f"{self.name}: {len(self.alice_files)} Alice and {len(self.bob_files)} Bob station files; "
                           "one pair per block is needed")

    @property
    def last_index(self) -> int | None:
        return len(self.alice_files)

    def block(self, index: int) -> Block:
        from qkd.events.coincidence import ClockSyncError, Coincidences, match_files, synchronise_files
        from qkd.postprocess.bbm92 import bbm92_block

        _file_pair_due(self.name, index, len(self.alice_files))
        path_a, path_b = self.alice_files[index], self.bob_files[index]
        try:
            model = synchronise_files(path_a, path_b, max_drift_ppm=self.max_drift_ppm)
        except ClockSyncError as exc:
            raise NoDetections(f"{self.name}: block {index} ({path_a}, {path_b}): {exc}") from None
        found = Coincidences.concatenate(list(match_files(path_a, path_b, model, self.window_ps)))
        return bbm92_block(found, z_sample_fraction=self.z_sample_fraction, seed=self.sift_seed + index,
                           witness_eps=self.witness_eps)


class IterableSource:
    """Blocks from an iterable, read lazily in index order (each block once; both ends of an in-process
    pair share it, so block ``i`` is read once and handed to both)."""

    def __init__(self, blocks: Iterable[Block], name: str = "blocks") -> None:
        self._it: Iterator[Block] = iter(blocks)
        self._cache: dict[int, Block] = {}
        self._next = 0
        self._end: int | None = None
        self._lock = threading.Lock()
        self.name = name

    @property
    def last_index(self) -> int | None:
        return self._end

    def block(self, index: int) -> Block:
        with self._lock:
            while self._next <= index and self._end is None:
                try:
                    self._cache[self._next] = next(self._it)
                except StopIteration:
                    self._end = self._next
                    break
                self._next += 1
            for old in [k for k in self._cache if k < index - 1]:
                del self._cache[old]
            if index not in self._cache:
                raise SourceExhausted(f"{self.name}: no block {index} (the blocks end at {self._end})")
            return self._cache[index]


def emulated_blocks(link: Link, pulses_per_block: int, seed: int, n_blocks: int | None = None,
                    z_sample_fraction: float = 0.05) -> Iterator[Block]:
    """(SiftedKey, ParameterEstimate) per block from the physics emulator (``qkd.emulator``)."""
    source = EmulatedSource(link, pulses_per_block, seed, max_blocks=n_blocks, z_sample_fraction=z_sample_fraction)
    i = 0
    while n_blocks is None or i < n_blocks:
        yield source.block(i)
        i += 1


def recorded_blocks(recordings: Iterable[tuple[object, object]], *, window_ps: float,
                    z_sample_fraction: float = 0.05, eps_sec: float = 1e-10, seed: int = 0) -> Iterator[Block]:
    """(SiftedKey, ParameterEstimate) per recorded acquisition: ``recordings`` yields ``(path, tx)``, a
    time-tag file in any format :func:`qkd.events.formats.read_timetags` reads (PTU, quTAG, native, CSV)
    and the transmitter's record of the same acquisition. Files are read lazily, one block at a time."""
    from qkd.events.formats import read_timetags
    from qkd.postprocess.estimate import estimate
    from qkd.postprocess.sift import sift

    for i, (path, tx) in enumerate(recordings):
        key = sift(read_timetags(path), tx, window_ps=window_ps,  # type: ignore[arg-type]
                   z_sample_fraction=z_sample_fraction, seed=seed + i)
        yield key, estimate(key, eps_sec=eps_sec)


def with_eavesdropper(link: Link, fraction: float) -> Link:
    """The same link with an intercept-resend attack on ``fraction`` of the pulses (emulator)."""
    return replace(link, intercept_resend_fraction=fraction)


__all__ = ["Block", "BlockSource", "EmulatedReadoutError", "EmulatedSource", "EntangledFileSource", "EntangledSource",
           "IterableSource",
           "LinkFaults", "as_key_block",
           "NoDetections", "SharedEmulation", "SourceExhausted",
           "TimetagFileSource", "emulated_blocks", "recorded_blocks", "with_eavesdropper"]
