"""Where a link's blocks come from: ``(SiftedKey, ParameterEstimate)`` for block index ``i``.

Every source gives both ends of a link the same block ``i`` (each end takes its own side's bits):

* :class:`EmulatedSource` — the physics emulator (``qkd.emulator``), block ``i`` seeded ``seed + i``, with
  the fault knobs of :class:`LinkFaults` (an intercept-resend eavesdropper, a cut quantum channel). In a
  deployment each node emulates its own copy; in-process both ends may share one source.
  EMULATED: the physics comes from the emulator, not from photons.
* :class:`TimetagFileSource` — recorded acquisitions: the receiver's time-tag file ``i`` (any format
  :func:`qkd.events.formats.read_timetags` reads) sifted against the transmitter record ``i``.
* :class:`IterableSource` — blocks already made (tests, the benchmarks), read one at a time.

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
from qkd.physics.link import Link
from qkd.postprocess.estimate import ParameterEstimate
from qkd.postprocess.sift import SiftedKey

Block = tuple[SiftedKey, ParameterEstimate]

#: receiver transmittance standing for a cut quantum channel (120 dB: no photon arrives; dark counts do)
CUT_TRANSMITTANCE = 1e-12


class SourceExhausted(QkdError):
    """The source has no block of that index (the last file was read, or an iterable ended)."""

    cause = "source-exhausted"


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


class NoDetections(QkdError):
    """The block has too few detections to sift (a cut channel): a block with no key, not a fault of the
    runtime; both ends abort it as ``too-few-counts``."""

    cause = "too-few-counts"


class EmulatedReadoutError(QkdError):
    """An injected fault of the emulated detector read-out (fault testing)."""

    cause = "stage-error:source"


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

        if self.max_blocks is not None and index >= self.max_blocks:
            raise SourceExhausted(f"{self.name}: block {index} is past the last block {self.max_blocks - 1}")
        pending = self.faults.readout_errors.get(self.end, 0)
        if pending > 0:
            self.faults.readout_errors[self.end] = pending - 1
            raise EmulatedReadoutError(f"{self.name}: injected read-out error in block {index} at "
                                       f"{self.end or 'this end'}")
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

        if index >= len(self.timetag_files):
            raise SourceExhausted(f"{self.name}: no file pair for block {index} ({len(self.timetag_files)} given)")
        tags = read_timetags(self.timetag_files[index])
        record = load_transmitter(Path(self.transmitter_files[index]))
        key = sift(tags, record, window_ps=self.window_ps, z_sample_fraction=self.z_sample_fraction,
                   seed=self.sift_seed + index)
        return key, estimate(key, eps_sec=self.eps_sec)


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


__all__ = ["Block", "BlockSource", "EmulatedReadoutError", "EmulatedSource", "IterableSource", "LinkFaults",
           "NoDetections", "SharedEmulation", "SourceExhausted",
           "TimetagFileSource", "emulated_blocks", "recorded_blocks", "with_eavesdropper"]
