"""Shared plumbing of the benchmark scripts: machine description, median timing, result files.

Every script writes ``bench/results/NAME.json`` in the format of DESIGN.md; the figure that counts is
``ratio`` = value / baseline_value, with the baseline measured in the same run (these machines are noisy).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """CPU model, core count and Python of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def _median(fn: Callable[[], object], clock: Callable[[], float], repeat: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = clock()
        fn()
        samples.append(clock() - start)
    return statistics.median(samples)


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs (seconds), after ``warmup`` runs."""
    return _median(fn, time.perf_counter, repeat, warmup)


def median_cpu_seconds(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median CPU time (process_time) of ``fn()`` (seconds): the cost on one core, robust to a shared machine."""
    return _median(fn, time.process_time, repeat, warmup)


@dataclass
class BenchResult:
    """One figure: ``value`` in ``unit``, against ``baseline_value`` measured in the same run."""

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    params: dict[str, Any] = field(default_factory=dict)
    ratio: float = 0.0

    def __post_init__(self) -> None:
        self.ratio = self.value / self.baseline_value if self.baseline_value else float("nan")


def write_results(benchmark: str, results: list[BenchResult], replace_prefixes: tuple[str, ...] | None = None) -> Path:
    """Write ``bench/results/<benchmark>.json`` and print a one-line summary per figure.

    With ``replace_prefixes`` (a run of some sections only), the figures already in the file whose names
    start with none of those prefixes are kept, so re-running one section does not drop the others.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{benchmark}.json"
    rows = [asdict(r) for r in results]
    if replace_prefixes is not None and path.exists():
        kept = [row for row in json.loads(path.read_text()).get("results", [])
                if not str(row.get("name", "")).startswith(replace_prefixes)]
        rows = kept + rows
    document = {"benchmark": benchmark, "machine": machine(), "results": rows}
    path.write_text(json.dumps(document, indent=2) + "\n")
    for r in results:
        print(f"{r.name}: {r.value:.4g} {r.unit} vs {r.baseline} {r.baseline_value:.4g} (ratio {r.ratio:.2f})")
    return path
