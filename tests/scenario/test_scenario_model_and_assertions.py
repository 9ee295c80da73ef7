"""Scenario schema validation, assertion judging and report outputs on hand-built run records."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from qshift.config import load_config, validate_config
from qshift.errors import ConfigError
from qshift.scenario.assertions import evaluate
from qshift.scenario.model import Scenario
from qshift.scenario.record import Event, LinkSample, RunRecord, Sample, StreamResult
from qshift.scenario.report import junit_xml, write_outputs

BASE = {
    "name": "eve",
    "duration_s": 30,
    "nodes": [{"name": "A", "site": True}, {"name": "T"}, {"name": "B", "site": True}],
    "links": [
        {"name": "A-T", "ends": ["A", "T"], "length_km": 25},
        {"name": "T-B", "ends": ["T", "B"], "kind": "free-space", "length_km": 2, "turbulence": True},
    ],
    "tunnel": {"initiator": "A", "responder": "B"},
    "faults": [{"kind": "eve", "at_s": 10, "link": "T-B", "fraction": 1.0},
               {"kind": "eve", "at_s": 20, "link": "T-B", "fraction": 0.0}],
    "assertions": [
        {"kind": "mode-at", "at_s": 5, "expect": "hybrid-qkd"},
        {"kind": "mode-at", "at_s": 15, "expect": "pqc-only"},
        {"kind": "zero-bytes-lost"},
        {"kind": "max-time-to-fallback", "max_s": 4},
        {"kind": "max-time-to-recover", "max_s": 4},
        {"kind": "max-stall", "max_s": 0.5},
    ],
}


def _record(fallback_at: float, recover_at: float, lost: bool = False) -> RunRecord:
    record = RunRecord("eve", seed=1, duration_s=30)
    record.mode_changes = [(1.0, "hybrid-qkd", "handshake"), (fallback_at, "pqc-only", "relay dry"),
                           (recover_at, "hybrid-qkd", "rekey")]
    record.events = [Event(10, "T-B", "fault:eve", "fraction 1.0"), Event(fallback_at, "tunnel", "mode", "pqc-only")]
    record.samples = [Sample(t, {"T-B": LinkSample(0.02 if t < 10 else 0.25, 1e4, 8192, "running")},
                             record.mode_at(t), int(t * 1000), 0) for t in range(0, 30, 2)]
    record.streams = [StreamResult(0, 1000, 999 if lost else 1000, "aa", "ab" if lost else "aa", 0.1)]
    return record


def test_scenario_validates_references() -> None:
    bad = json.loads(json.dumps(BASE))
    bad["faults"][0]["link"] = "X-Y"
    with pytest.raises(ConfigError, match="unknown link 'X-Y'"):
        validate_config(bad, Scenario, source="s.toml")


def test_unknown_fault_kind_is_rejected_naming_the_key() -> None:
    bad = json.loads(json.dumps(BASE))
    bad["faults"][0]["kind"] = "meteor"
    with pytest.raises(ConfigError) as info:
        validate_config(bad, Scenario, source="s.toml")
    assert info.value.key is not None and info.value.key.startswith("faults.0")


def test_passing_run_passes_every_assertion() -> None:
    scenario = validate_config(BASE, Scenario)
    results = evaluate(scenario, _record(fallback_at=12.0, recover_at=22.5))
    assert [r.passed for r in results] == [True] * 6, results


def test_slow_fallback_and_lost_bytes_fail_with_figures() -> None:
    scenario = validate_config(BASE, Scenario)
    results = {r.name: r for r in evaluate(scenario, _record(fallback_at=16.0, recover_at=22.0, lost=True))}
    assert not results["fallback to pqc-only within 4s"].passed
    assert "6.00s after the fault at 10s" in results["fallback to pqc-only within 4s"].message
    assert not results["zero bytes lost"].passed
    assert "999" in results["zero bytes lost"].message


def test_junit_counts_failures_and_outputs_are_written(tmp_path: Path) -> None:
    scenario = validate_config(BASE, Scenario)
    record = _record(fallback_at=16.0, recover_at=22.0)
    results = evaluate(scenario, record)
    suite = ET.fromstring(junit_xml(record, results).split("?>", 1)[1])
    assert suite.get("tests") == "6" and suite.get("failures") == "2"  # mode at 15 s and time to fallback
    paths = write_outputs(tmp_path, record, results)
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == 3 and "FAIL" in page
    assert json.loads(paths["json"].read_text())["passed"] is False


def test_shipped_scenarios_load(tmp_path: Path) -> None:
    shipped = sorted((Path(__file__).resolve().parents[2] / "deploy" / "scenarios").glob("*.toml"))
    for path in shipped:
        load_config(path, Scenario)
