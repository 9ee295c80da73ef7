"""The shipped fallback scenarios and the demo story, run for real: KMEs, emulated links with post-processing,
gateways and TCP traffic on loopback, driven through the ``qshift`` CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from qshift.scenario.dashboard import live_view
from qshift.scenario.record import Event, LinkSample, RunRecord, Sample

REPO = Path(__file__).resolve().parents[2]
QSHIFT = shutil.which("qshift") or str(Path(sys.executable).parent / "qshift")
SHIPPED = sorted((REPO / "deploy" / "scenarios").glob("*.toml"))


def qshift(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QSHIFT, *args], capture_output=True, text=True, timeout=timeout)


# one scenario file per test: each has its own time budget, and a failure names the scenario
@pytest.mark.parametrize("scenario_file", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_passes_with_junit_and_html(scenario_file: Path, tmp_path: Path) -> None:
    assert len(SHIPPED) >= 4
    result = qshift("fallback-test", str(scenario_file), "--out", str(tmp_path), "--json")
    outcomes = json.loads(result.stdout)
    failed = {o["scenario"]: [a for a in o["assertions"] if not a["passed"]] for o in outcomes if not o["passed"]}
    assert result.returncode == 0 and not failed, failed
    for outcome in outcomes:
        directory = tmp_path / outcome["scenario"]
        suite = ET.parse(directory / "junit.xml").getroot()
        assert suite.get("failures") == "0" and int(suite.get("tests", "0")) == len(outcome["assertions"])
        assert (directory / "report.html").read_text().count("data:image/png;base64,") == 3
        streams = outcome["run"]["streams"]
        assert streams and all(s["intact"] for s in streams)


def test_impossible_assertion_fails_with_a_clear_message(tmp_path: Path) -> None:
    scenario = tmp_path / "impossible.toml"
    shipped = (REPO / "deploy" / "scenarios" / "kme-restart.toml").read_text()
    head = shipped.split("[tunnel]")[0].replace('name = "kme-restart"', 'name = "impossible"')
    head = head.replace("duration_s = 26", "duration_s = 5")
    scenario.write_text(head + """
[tunnel]
initiator = "A"
responder = "B"

[traffic]
streams = 1
bytes_per_stream = 100_000
rate_bytes_per_s = 50_000

[[assertions]]
kind = "mode-at"
at_s = 3
expect = "pqc-only"
""")
    result = qshift("fallback-test", str(scenario), "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 1
    (outcome,) = json.loads(result.stdout)
    (assertion,) = outcome["assertions"]
    assert assertion == {"name": "mode at 3s is pqc-only", "passed": False, "message": "mode at 3s was hybrid-qkd"}
    junit = ET.parse(tmp_path / "out" / "impossible" / "junit.xml").getroot()
    assert junit.find("testcase/failure").get("message") == "mode at 3s was hybrid-qkd"


def test_malformed_scenario_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    shipped = (REPO / "deploy" / "scenarios" / "link-cut.toml").read_text()
    bad.write_text(shipped.replace('link = "A-T"', 'link = "A-X"'))
    result = qshift("fallback-test", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}: (top level): fault 'link-cut' at 5.0s names unknown link 'A-X'"]


def test_demo_story_holds_and_writes_the_report(tmp_path: Path) -> None:
    result = qshift("demo", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout)
    assert outcome["passed"], outcome["assertions"]
    modes = [c["mode"] for c in outcome["run"]["mode_changes"]]
    assert modes[:3] == ["hybrid-qkd", "pqc-only", "hybrid-qkd"]
    kinds = [e["kind"] for e in outcome["run"]["events"]]
    assert "link:aborting" in kinds and "fault:eve" in kinds
    html = (tmp_path / "report.html").read_text()
    assert "demo-story" in html and html.count("data:image/png;base64,") == 3
    log = (tmp_path / "qshift.log").read_text()
    assert '"event"' in log  # structured logs went to the file, not over the dashboard


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="headless Chromium not installed (.ci/run installs Debian's chromium when it can)")
def test_html_report_renders_its_plots_in_a_browser(tmp_path: Path) -> None:
    from qshift.config import validate_config
    from qshift.scenario.assertions import evaluate
    from qshift.scenario.model import Scenario
    from qshift.scenario.report import html_report
    from tests.scenario.test_scenario_model_and_assertions import BASE, _record

    record = _record(fallback_at=12.0, recover_at=22.5)
    page = tmp_path / "report.html"
    page.write_text(html_report(record, evaluate(validate_config(BASE, Scenario), record)))
    shot = tmp_path / "shot.png"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=False, env={**os.environ, "HOME": str(tmp_path)})
    assert shot.exists(), "Chromium wrote no screenshot"
    from matplotlib.image import imread

    pixels = imread(str(shot))
    # matplotlib's default first line colour (#1f77b4) appears only if the plots were decoded and drawn
    blue = (abs(pixels[..., 0] - 0x1F / 255) < 0.03) & (abs(pixels[..., 1] - 0x77 / 255) < 0.03) & (
        abs(pixels[..., 2] - 0xB4 / 255) < 0.03)
    assert blue.sum() > 500


def test_live_view_renders_links_tunnel_and_events() -> None:
    record = RunRecord("x", 1)
    record.events.append(Event(8.0, "T-B", "fault:eve", "intercept-resend on 100% of pulses"))
    before = Sample(7.5, {"T-B": LinkSample(0.01, 5e4, 80_000, "running")}, "hybrid-qkd", 1_000_000, 7)
    after = Sample(8.0, {"T-B": LinkSample(0.25, 0.0, 80_000, "aborted")}, "pqc-only", 1_100_000, 8)
    console = Console(record=True, width=120)
    console.print(live_view(after, record, before))
    text = console.export_text()
    assert "T-B" in text and "aborted" in text and "25.00 %" in text and "pqc-only" in text
    assert "200 kB/s" in text and "intercept-resend" in text
