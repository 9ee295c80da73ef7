"""`qshift qkd plan` as a user runs it: the shipped example, --json, --picture, and bad input (one line,
exit 2, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "examples" / "qkd-network.toml"


def qshift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qshift.cli", *args], capture_output=True, text=True, timeout=240,
                          cwd=REPO)


def test_the_example_plan_prints_tables_that_fit_80_columns_and_the_same_data_as_json(tmp_path: Path) -> None:
    out = qshift("qkd", "plan", str(EXAMPLE))
    assert out.returncode == 0, out.stderr
    assert "bank-a–bank-b" in out.stdout and "tn-north" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    data = json.loads(qshift("qkd", "plan", str(EXAMPLE), "--json").stdout)
    pair = data["pairs"][0]
    assert pair["meets_target"] and pair["rate_bps"] >= pair["target_bps"]
    relay = next(p for p in pair["paths"] if "tn-north" in p["nodes"])
    assert relay["flow_bps"] > relay["plob_bps"]   # trusted relays beat the repeaterless bound of their route
    picture = tmp_path / "net.svg"
    assert qshift("qkd", "plan", str(EXAMPLE), "--picture", str(picture)).returncode == 0
    assert picture.read_text().lstrip().startswith(("<?xml", "<svg")) and "tn-south" in picture.read_text()


def test_a_pair_that_cannot_be_served_is_named_with_why_in_the_table_and_in_json(tmp_path: Path) -> None:
    net = tmp_path / "net.toml"
    net.write_text('clock_rate_hz = 1e9\n'
                   '[[nodes]]\nname = "hq"\n[[nodes]]\nname = "lab"\n[[nodes]]\nname = "dc"\n'
                   '[[links]]\na = "hq"\nb = "lab"\nlength_km = 20\n'
                   '[[links]]\na = "hq"\nb = "dc"\nkind = "satellite"\nprotocol = "bbm92"\nlength_km = 900\n'
                   'passes_per_day = 3\n'
                   '[[targets]]\na = "hq"\nb = "lab"\nmin_key_rate_bps = 1e3\n'
                   '[[targets]]\na = "hq"\nb = "dc"\nmin_key_rate_bps = 1e3\n')
    data = json.loads(qshift("qkd", "plan", str(net), "--json").stdout)
    ok, sat = data["pairs"]
    assert ok["status"] == "met" and ok["meets_target"]
    assert sat["status"] == "infeasible" and not sat["meets_target"] and sat["placement"]["feasible"] is False
    assert sat["reason"].startswith("hq–dc misses the target 1000 bit/s") and "no fibre route" in sat["reason"]
    assert sat["plob_flow_bps"] == sat["rate_bps"] > 0          # the satellite counts at its own rate
    assert data["links"][1]["in_view_bps"] > 0 and data["links"][0]["in_view_bps"] is None
    table = qshift("qkd", "plan", str(net))
    assert table.returncode == 0, table.stderr
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    assert "INFEASIBLE" in table.stdout and "hq–dc" in table.stdout and "met" in table.stdout


def test_bad_input_is_one_line_exit_2_and_no_picture(tmp_path: Path) -> None:
    bad = tmp_path / "net.toml"
    bad.write_text('[[nodes]]\nname = "a"\n[[links]]\na = "a"\nb = "zz"\nlength_km = 5\n')
    picture = tmp_path / "net.png"
    out = qshift("qkd", "plan", str(bad), "--picture", str(picture))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "unknown node 'zz'" in out.stderr and "Traceback" not in out.stderr
    assert not picture.exists() and list(tmp_path.iterdir()) == [bad]
    wrong_kind = qshift("qkd", "plan", str(EXAMPLE), "--picture", str(tmp_path / "net.txt"))
    assert wrong_kind.returncode == 2 and "--picture" in wrong_kind.stderr
    missing = qshift("qkd", "plan", str(tmp_path / "absent.toml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
