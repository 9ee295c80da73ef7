"""In-memory detector events: receiver time tags and the transmitter's per-slot record.

* :class:`TimeTags` — what a time tagger produces: ``t_ps`` (int64, picoseconds on the receiver's
  clock, non-decreasing) and ``channel`` (uint8 detector channel), plus provenance metadata.
* Transmitter records answer "what did Alice send in slot k?" for any slot indices, so only detected
  slots are ever looked at: :class:`PhiloxTransmitterRecord` computes them on demand from a counter-based
  generator keyed by slot index (emulator), :class:`ArrayTransmitterRecord` indexes stored arrays (real
  transmitter files, ``.npz``). Basis 0 = Z (key basis), 1 = X; intensity class 0 = signal μ.

Detector channel convention of the emulator and the native format: channel = basis·2 + bit
(0: Z/0, 1: Z/1, 2: X/0, 3: X/1, passive basis choice with four detectors).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qkd._native import philox as _philox
from qkd.errors import QkdError

TAG_DTYPE = np.dtype([("t_ps", "<i8"), ("channel", "u1")])


class EventsError(QkdError):
    """Malformed or inconsistent detector events (message names the input and position)."""


def on_station_clock(t_true_ps: np.ndarray, *, jitter_ps: float, clock_drift_ppm: float, clock_offset_ps: float,
                     rng: np.random.Generator) -> np.ndarray:
    """The times (int64 ps) a station's time tagger registers for clicks at true times ``t_true_ps`` (ps):
    Gaussian timing jitter (standard deviation ``jitter_ps``), then the station's own clock, running fast by
    ``clock_drift_ppm`` (parts per million) and ahead by ``clock_offset_ps``, rounded to the picosecond."""
    t = t_true_ps + rng.normal(0.0, jitter_ps, t_true_ps.size) if jitter_ps > 0 else t_true_ps
    return np.rint(t * (1.0 + clock_drift_ppm * 1e-6) + clock_offset_ps).astype(np.int64)


@dataclass(frozen=True)
class TimeTags:
    """Receiver time tags: ``t_ps`` int64 ps, ``channel`` uint8, equal length, time-ordered."""

    t_ps: np.ndarray
    channel: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.t_ps.shape != self.channel.shape or self.t_ps.ndim != 1:
            raise EventsError(f"t_ps {self.t_ps.shape} and channel {self.channel.shape} must be equal 1-D")

    def __len__(self) -> int:
        return int(self.t_ps.shape[0])

    @staticmethod
    def concatenate(parts: list[TimeTags], meta: dict[str, Any] | None = None) -> TimeTags:
        """One :class:`TimeTags` from chunks (in order)."""
        if not parts:
            return TimeTags(np.empty(0, np.int64), np.empty(0, np.uint8), meta or {})
        return TimeTags(np.concatenate([p.t_ps for p in parts]), np.concatenate([p.channel for p in parts]),
                        meta if meta is not None else dict(parts[0].meta))


class TransmitterRecord(Protocol):
    """Alice's per-slot record, read at the slots that matter (read-only: records are frozen dataclasses)."""

    @property
    def period_ps(self) -> float: ...
    @property
    def intensities(self) -> tuple[float, ...]: ...
    @property
    def intensity_probabilities(self) -> tuple[float, ...]: ...
    @property
    def p_z(self) -> float: ...
    @property
    def n_slots(self) -> int: ...

    def at(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(basis, bit, intensity class) uint8 arrays at int64 ``slots``."""
        ...

    def sent_counts(self) -> np.ndarray:
        """Number of slots sent per (basis, intensity class): int64 array 2×n_int."""
        ...


def _thresholds(p_z: float, probs: tuple[float, ...]) -> tuple[int, np.ndarray]:
    z = min(int(round(p_z * 2**32)), 2**32 - 1)
    cum = np.cumsum(probs)[:-1]
    return z, np.minimum(np.round(cum * 2**32), 2**32 - 1).astype(np.uint32)


@dataclass(frozen=True)
class PhiloxTransmitterRecord:
    """Emulated transmitter: slot k's (basis, bit, intensity) = Philox4x32-10(counter=k, key=(k0, k1)).

    ``seed`` (int) derives the key; ``n_slots`` is the number of slots emitted (slots 0..n_slots−1)."""

    seed: int
    n_slots: int
    period_ps: float
    intensities: tuple[float, ...]
    intensity_probabilities: tuple[float, ...]
    p_z: float
    stream: int = 0

    @property
    def key(self) -> tuple[int, int]:
        s = np.random.SeedSequence([self.seed, 0x51F7]).generate_state(2, dtype=np.uint32)
        return int(s[0]), int(s[1])

    def at(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        if slots.size and (slots.min() < 0 or slots.max() >= self.n_slots):
            bad = int(slots[(slots < 0) | (slots >= self.n_slots)][0])
            raise EventsError(f"slot {bad} outside the transmitter record [0, {self.n_slots})")
        z, cum = _thresholds(self.p_z, self.intensity_probabilities)
        k0, k1 = self.key
        return _philox.tx_record_at(slots, k0, k1, self.stream, z, cum)

    def sent_counts(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Exact per-(basis, intensity) slot counts over [start, stop) (a compiled pass over the slots)."""
        z, cum = _thresholds(self.p_z, self.intensity_probabilities)
        k0, k1 = self.key
        return _philox.tx_count_classes(start, self.n_slots if stop is None else stop, k0, k1, self.stream, z, cum)

    def expected_sent_counts(self) -> np.ndarray:
        """N·p_basis·p_intensity per (basis, intensity), the law-of-large-numbers stand-in."""
        pb = np.array([self.p_z, 1 - self.p_z])
        return np.outer(pb, np.asarray(self.intensity_probabilities)) * self.n_slots

    def describe(self) -> dict[str, Any]:
        return {"kind": "philox", "seed": self.seed, "n_slots": self.n_slots, "period_ps": self.period_ps,
                "intensities": list(self.intensities),
                "intensity_probabilities": list(self.intensity_probabilities), "p_z": self.p_z}


@dataclass(frozen=True)
class ArrayTransmitterRecord:
    """Transmitter record stored per slot (from hardware): uint8 arrays ``basis``, ``bit``, ``intensity``."""

    basis: np.ndarray = field(repr=False)
    bit: np.ndarray = field(repr=False)
    intensity: np.ndarray = field(repr=False)
    period_ps: float
    intensities: tuple[float, ...]
    intensity_probabilities: tuple[float, ...]
    p_z: float

    @property
    def n_slots(self) -> int:
        return int(self.basis.shape[0])

    @property
    def packed(self) -> np.ndarray:
        """One byte per slot: bit 0 basis, bit 1 bit value, bits 2..7 intensity class (computed once)."""
        cached = self.__dict__.get("_packed")
        if cached is None:
            cached = (self.basis & 1) | ((self.bit & 1) << 1) | (self.intensity.astype(np.uint8) << 2)
            cached = np.ascontiguousarray(cached, dtype=np.uint8)
            object.__setattr__(self, "_packed", cached)
        return cached

    def at(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size and (slots.min() < 0 or slots.max() >= self.n_slots):
            bad = int(slots[(slots < 0) | (slots >= self.n_slots)][0])
            raise EventsError(f"slot {bad} outside the transmitter record [0, {self.n_slots})")
        return self.basis[slots], self.bit[slots], self.intensity[slots]

    def sent_counts(self) -> np.ndarray:
        """Pulses sent per (basis, intensity class), shape (2, classes): counted once over every slot
        (a pass over the whole record), then kept; a copy is returned so callers cannot change the cache."""
        cached = self.__dict__.get("_sent_counts")
        if cached is None:
            n_int = len(self.intensities)
            flat = np.bincount(self.basis.astype(np.int64) * n_int + self.intensity, minlength=2 * n_int)
            cached = flat[: 2 * n_int].reshape(2, n_int).astype(np.int64)
            object.__setattr__(self, "_sent_counts", cached)
        return cached.copy()

    def save(self, path: str | Path) -> None:
        """Write the ``.npz`` transmitter file (arrays ``basis``, ``bit``, ``intensity``; scalars
        ``period_ps``, ``p_z``; vectors ``intensities``, ``intensity_probabilities``)."""
        np.savez(path, basis=self.basis, bit=self.bit, intensity=self.intensity, period_ps=self.period_ps,
                 p_z=self.p_z, intensities=np.asarray(self.intensities),
                 intensity_probabilities=np.asarray(self.intensity_probabilities))

    @staticmethod
    def load(path: str | Path) -> ArrayTransmitterRecord:
        """Read a ``.npz`` transmitter file written by :meth:`save` (or by hardware tooling)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise EventsError(f"{path}: not a readable .npz transmitter file: {exc}") from exc
        required = ("basis", "bit", "intensity", "period_ps", "p_z", "intensities", "intensity_probabilities")
        missing = [k for k in required if k not in arrays]
        if missing:
            raise EventsError(f"{path}: transmitter file lacks arrays {missing}")
        n = arrays["basis"].shape[0]
        for k in ("bit", "intensity"):
            if arrays[k].shape[0] != n:
                raise EventsError(f"{path}: array {k!r} has {arrays[k].shape[0]} slots, basis has {n}")
        return ArrayTransmitterRecord(
            arrays["basis"].astype(np.uint8), arrays["bit"].astype(np.uint8),
            arrays["intensity"].astype(np.uint8), float(arrays["period_ps"]),
            tuple(float(x) for x in arrays["intensities"]),
            tuple(float(x) for x in arrays["intensity_probabilities"]), float(arrays["p_z"]))


def load_transmitter(path: Path) -> TransmitterRecord:
    """A transmitter record from ``.npz`` (per-slot arrays) or ``.json`` (Philox descriptor)."""
    if path.suffix.lower() == ".npz":
        return ArrayTransmitterRecord.load(path)
    if path.suffix.lower() == ".json":
        try:
            d = json.loads(path.read_text())
            return PhiloxTransmitterRecord(int(d["seed"]), int(d["n_slots"]), float(d["period_ps"]),
                                           tuple(d["intensities"]), tuple(d["intensity_probabilities"]),
                                           float(d["p_z"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EventsError(f"{path}: not a transmitter descriptor: {exc}") from None
    raise EventsError(f"{path}: transmitter record must be .npz or .json")
