"""The two scenario commands, ``qshift demo`` and ``qshift fallback-test``: load, run, render, write reports."""

from __future__ import annotations

import asyncio
import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.live import Live

from qshift.config import load_config, validate_config
from qshift.logsetup import redirect_logging_to_file
from qshift.scenario.assertions import AssertionResult, evaluate
from qshift.scenario.dashboard import assertions_table, live_view, streams_table, timeline_table
from qshift.scenario.links import KEY_LENGTH_MODE, PULSES_PER_BLOCK
from qshift.scenario.model import Scenario
from qshift.scenario.record import RunRecord, Sample
from qshift.scenario.report import result_json, write_outputs
from qshift.scenario.runner import run_scenario
from qshift.scenario.system import ScenarioSystem


@dataclass
class ScenarioOutcome:
    scenario: Scenario
    record: RunRecord
    results: list[AssertionResult]
    outputs: dict[str, Path]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def story_scenario() -> Scenario:
    """The packaged story of ``qshift demo`` (``qshift/scenario/story.toml``)."""
    text = resources.files("qshift.scenario").joinpath("story.toml").read_text(encoding="utf-8")
    return validate_config(tomllib.loads(text), Scenario, source="qshift/scenario/story.toml")


def run_with_display(scenario: Scenario, out_dir: Path, console: Console, live: bool) -> ScenarioOutcome:
    """Run ``scenario`` (live dashboard on a terminal, event lines otherwise) and write its reports."""
    out_dir.mkdir(parents=True, exist_ok=True)
    redirect_logging_to_file(str(out_dir / "qshift.log"))
    previous: list[Sample] = []
    printed = [0]

    def tick(sample: Sample, _system: ScenarioSystem, record: RunRecord) -> None:
        if live_display is not None:
            live_display.update(live_view(sample, record, previous[-1] if previous else None))
        else:
            for event in record.events[printed[0]:]:
                console.print(f"{event.t_s:6.2f}s  {event.source:<7} {event.kind:<18} {event.detail}")
            printed[0] = len(record.events)
        previous.append(sample)

    live_display: Live | None = None
    if live:
        live_display = Live(console=console, refresh_per_second=4, transient=False)
        live_display.start()
    try:
        record = asyncio.run(run_scenario(scenario, on_tick=tick))
    finally:
        if live_display is not None:
            live_display.stop()
    results = evaluate(scenario, record)
    outputs = write_outputs(out_dir, record, results)
    return ScenarioOutcome(scenario, record, results, outputs)


def demo(out_dir: Path, json_out: bool) -> int:
    console = Console(stderr=json_out)
    scenario = story_scenario()
    console.print(f"[bold]qshift demo[/]: {scenario.description}\n"
                  "A --fiber 25 km-- T --free-space 2 km-- B; KMEs with relay A→T→B; gateways at A and B; "
                  f"real TCP traffic A→B. Emulated blocks of {PULSES_PER_BLOCK:.0e} pulses, key length "
                  f"{KEY_LENGTH_MODE} (Lim et al. 2014, ε_sec 1e-10), balanced bases. "
                  f"State and logs in {out_dir}.")
    outcome = run_with_display(scenario, out_dir, console, live=console.is_terminal and not json_out)
    if json_out:
        print(json.dumps(result_json(outcome.record, outcome.results), indent=2))
    else:
        console.print(timeline_table(outcome.record))
        console.print(streams_table(outcome.record))
        console.print(assertions_table(outcome.results, "Story checks"))
        console.print(f"HTML report: {outcome.outputs['html']}")
        console.print("[bold green]every check of the story held[/]" if outcome.passed
                      else "[bold red]the story did not hold[/]")
    return 0 if outcome.passed else 1


def fallback_test(paths: list[Path], out_dir: Path, json_out: bool) -> int:
    console = Console(stderr=json_out)
    scenarios = [(p, load_config(p, Scenario)) for p in paths]  # every file validated before any run
    outcomes = []
    for path, scenario in scenarios:
        console.print(f"[bold]{scenario.name}[/] ({path}): {scenario.description}")
        outcome = run_with_display(scenario, out_dir / scenario.name, console, live=False)
        console.print(assertions_table(outcome.results, f"{scenario.name}: "
                                       + ("PASS" if outcome.passed else "FAIL")))
        console.print(f"reports: {outcome.outputs['html']}, {outcome.outputs['junit']}")
        outcomes.append(outcome)
    if json_out:
        print(json.dumps([result_json(o.record, o.results) for o in outcomes], indent=2))
    return 0 if all(o.passed for o in outcomes) else 1

