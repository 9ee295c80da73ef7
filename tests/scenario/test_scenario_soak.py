"""Soak of the fallback story (``make soak``): every shipped scenario and the demo story, QSHIFT_SOAK_RUNS times
each (default 20), once on the machine as it is and once with both cores kept busy by a competing load
(``QSHIFT_SOAK_ONLY=name,…``: only the scenarios named).
Zero failures allowed; the time to fall back and to recover (median, maximum) is written to
``$QSHIFT_SOAK_OUT`` (default: the test's tmp dir) as ``scenario-soak-{idle,loaded}.json`` and printed."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import statistics
import threading
import time
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from qshift.scenario.assertions import evaluate
from qshift.scenario.model import Scenario
from qshift.scenario.runner import ScenarioError, run_scenario

REPO = Path(__file__).resolve().parents[2]


def _scenarios() -> list[Scenario]:
    """Every shipped scenario and the demo story; ``QSHIFT_SOAK_ONLY`` (comma-separated names) keeps those named
    (a scenario added after a soak can be soaked alone; an unknown name is an error, not an empty soak)."""
    files = sorted((REPO / "deploy" / "scenarios").glob("*.toml"))
    story = resources.files("qshift.scenario").joinpath("story.toml").read_text()
    every = [Scenario.model_validate(tomllib.loads(f.read_text())) for f in files] + [
        Scenario.model_validate(tomllib.loads(story))]
    only = [name.strip() for name in os.environ.get("QSHIFT_SOAK_ONLY", "").split(",") if name.strip()]
    unknown = sorted(set(only) - {s.name for s in every})
    assert not unknown, f"QSHIFT_SOAK_ONLY names no shipped scenario: {unknown} (have {[s.name for s in every]})"
    return [s for s in every if s.name in only] if only else every


def _busy(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


_TOOK = re.compile(r"(\d+(?:\.\d+)?)s after the (?:fault|fix)")


def _took(results, prefix: str) -> float | None:
    """Seconds from the fault (or fix) to the mode change, read from a passed timing assertion's message
    ("fell back 1.23s after the fault at 10s", "recovered 1.86s after the fix at 20s")."""
    for r in results:
        if r.name.startswith(prefix) and r.passed:
            found = _TOOK.search(r.message)
            assert found is not None, f"unparsed timing message: {r.message!r}"
            return float(found.group(1))
    return None


def _spread(seconds: list[float]) -> dict[str, float]:
    return {"median": statistics.median(seconds), "max": max(seconds), "n": len(seconds)}


@pytest.mark.slow
@pytest.mark.timeout(12 * 3600)
@pytest.mark.parametrize("loaded", [False, True], ids=["idle", "loaded"])
def test_every_scenario_and_the_demo_pass_every_time(loaded: bool, tmp_path: Path) -> None:
    runs = int(os.environ.get("QSHIFT_SOAK_RUNS", "20"))
    out_dir = Path(os.environ.get("QSHIFT_SOAK_OUT", str(tmp_path)))
    scenarios = _scenarios()
    started = time.monotonic()
    load: list[multiprocessing.Process] = []
    if loaded:
        stop_at = time.monotonic() + 4 * 3600
        load = [multiprocessing.Process(target=_busy, args=(stop_at,), daemon=True) for _ in range(2)]
        for p in load:
            p.start()
    load_samples: list[float] = []
    sampling = threading.Event()

    def sample_load() -> None:   # the 1-minute load average every 5 s, so the summary says how idle "idle" was
        while not sampling.wait(5.0):
            load_samples.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    sampler.start()
    failures: list[str] = []
    fallback: dict[str, list[float]] = {}
    recover: dict[str, list[float]] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    out_file = out_dir / f"scenario-soak-{'loaded' if loaded else 'idle'}.json"

    def summary(rounds_done: int) -> dict[str, object]:
        return {
            "runs_per_scenario": runs, "rounds_completed": rounds_done, "loaded": loaded,
            "scenarios": [s.name for s in scenarios], "load_average": os.getloadavg(), "failures": failures,
            "load_1min_during_run": {"mean": round(statistics.fmean(load_samples), 2) if load_samples else None,
                                     "max": max(load_samples, default=None), "samples": len(load_samples)},
            "cpu_count": os.cpu_count(), "wall_s": round(time.monotonic() - started, 1),
            "fallback_s": {k: _spread(v) for k, v in fallback.items()},
            "recover_s": {k: _spread(v) for k, v in recover.items()},
        }

    def write(rounds_done: int) -> dict[str, object]:
        """The summary so far, replaced atomically after every round: a soak stopped early still says what it saw."""
        data = summary(rounds_done)
        partial = out_file.with_suffix(".json.tmp")
        partial.write_text(json.dumps(data, indent=2))
        partial.replace(out_file)
        return data

    try:
        for i in range(runs):
            for scenario in scenarios:
                try:
                    record = asyncio.run(run_scenario(scenario))
                except ScenarioError as exc:    # counted, and the soak goes on: one bad run must not hide the rest
                    failures.append(f"{scenario.name} run {i}: did not run: {exc}")
                    continue
                results = evaluate(scenario, record)
                failures += [f"{scenario.name} run {i}: {r.name}: {r.message}" for r in results if not r.passed]
                for table, prefix in ((fallback, "fallback"), (recover, "back to")):
                    took = _took(results, prefix)
                    if took is not None:
                        table.setdefault(scenario.name, []).append(took)
            write(i + 1)
    finally:
        for p in load:
            p.terminate()
        sampling.set()
    print(json.dumps(write(runs), indent=2))
    assert not failures, failures
