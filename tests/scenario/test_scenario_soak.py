"""Soak of the fallback story (``make soak``): every shipped scenario and the demo story, QSHIFT_SOAK_RUNS times
each (default 20), once on the machine as it is and once with both cores kept busy by a competing load.
Zero failures allowed; the time to fall back and to recover (median, maximum) is written to
``$QSHIFT_SOAK_OUT`` (default: the test's tmp dir) as ``scenario-soak-{idle,loaded}.json`` and printed."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import time
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from qshift.scenario.assertions import evaluate
from qshift.scenario.model import Scenario
from qshift.scenario.runner import run_scenario

REPO = Path(__file__).resolve().parents[2]


def _scenarios() -> list[Scenario]:
    files = sorted((REPO / "deploy" / "scenarios").glob("*.toml"))
    story = resources.files("qshift.scenario").joinpath("story.toml").read_text()
    return [Scenario.model_validate(tomllib.loads(f.read_text())) for f in files] + [
        Scenario.model_validate(tomllib.loads(story))]


def _busy(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def _took(results, prefix: str) -> float | None:
    for r in results:
        if r.name.startswith(prefix) and r.passed and "after the" in r.message:
            return float(r.message.split(" ")[1].rstrip("s"))
    return None


@pytest.mark.slow
@pytest.mark.timeout(12 * 3600)
@pytest.mark.parametrize("loaded", [False, True], ids=["idle", "loaded"])
def test_every_scenario_and_the_demo_pass_every_time(loaded: bool, tmp_path: Path) -> None:
    runs = int(os.environ.get("QSHIFT_SOAK_RUNS", "20"))
    out_dir = Path(os.environ.get("QSHIFT_SOAK_OUT", str(tmp_path)))
    scenarios = _scenarios()
    load: list[multiprocessing.Process] = []
    if loaded:
        stop_at = time.monotonic() + 4 * 3600
        load = [multiprocessing.Process(target=_busy, args=(stop_at,), daemon=True) for _ in range(2)]
        for p in load:
            p.start()
    failures: list[str] = []
    fallback: dict[str, list[float]] = {}
    recover: dict[str, list[float]] = {}
    try:
        for i in range(runs):
            for scenario in scenarios:
                record = asyncio.run(run_scenario(scenario))
                results = evaluate(scenario, record)
                failures += [f"{scenario.name} run {i}: {r.name}: {r.message}" for r in results if not r.passed]
                for table, prefix in ((fallback, "fallback"), (recover, "back to")):
                    took = _took(results, prefix)
                    if took is not None:
                        table.setdefault(scenario.name, []).append(took)
    finally:
        for p in load:
            p.terminate()
    summary = {
        "runs_per_scenario": runs, "loaded": loaded, "load_average": os.getloadavg(), "failures": failures,
        "fallback_s": {k: {"median": statistics.median(v), "max": max(v), "n": len(v)} for k, v in fallback.items()},
        "recover_s": {k: {"median": statistics.median(v), "max": max(v), "n": len(v)} for k, v in recover.items()},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"scenario-soak-{'loaded' if loaded else 'idle'}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    assert not failures, failures
