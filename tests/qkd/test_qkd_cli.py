"""``qshift qkd`` as a user runs it: real subprocesses of the installed entry point, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from qkd.physics.linkconfig import LinkConfig
from qshift.config import load_config

QSHIFT = shutil.which("qshift") or str(Path(sys.executable).parent / "qshift")
REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QSHIFT, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_keyrate_json_and_plot_for_the_gys_preset(tmp_path: Path) -> None:
    out = tmp_path / "keyrate.png"
    r = run("qkd", "keyrate", "--preset", "gys", "--decoy", "vacuum-weak", "--nu", "0.1", "--plot", str(out),
            "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["preset"] == "gys" and data["decoy"] == "vacuum-weak"
    assert abs(data["max_distance_km"] - 139.8) < 0.2
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rates, plob = data["rates_bits_per_pulse"], data["plob_bits_per_pulse"]
    assert all(b is None or r_ <= b for r_, b in zip(rates, plob, strict=True))


def test_keyrate_table_lists_optimal_mu_and_maximum_distance() -> None:
    r = run("qkd", "keyrate", "--preset", "gys", "--distances-km", "0,50,100")
    assert r.returncode == 0, r.stderr
    assert "max distance 142.2 km" in r.stdout and "0.486" in r.stdout


def test_keyrate_unknown_preset_is_one_line_and_exit_2() -> None:
    r = run("qkd", "keyrate", "--preset", "nope")
    assert r.returncode == 2
    assert "preset 'nope'" in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_simulate_json_reports_qber_gains_bounds_and_recovered_clock() -> None:
    r = run("qkd", "simulate", "--channel", "fiber", "--length-km", "25", "--seconds", "0.05", "--seed", "3",
            "--clock-offset-ps", "3700", "--clock-drift-ppm", "2", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["seed"] == 3 and d["n_pulses"] == 50_000_000
    assert 0.005 < d["estimate"]["qber_z"] < 0.06
    assert abs(d["sifted"]["clock"]["offset_ps"] - 3700) < 2
    assert abs(d["sifted"]["clock"]["drift_ppm"] - 2) < 0.01
    assert d["estimate"]["single_photon_lower"] > 0


def test_simulate_with_the_example_config_and_eve_raises_the_qber(tmp_path: Path) -> None:
    cfg = REPO / "deploy" / "examples" / "qkd-link-fiber.toml"
    r = run("qkd", "simulate", "--config", str(cfg), "--seconds", "0.05", "--eve", "1.0", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["estimate"]["qber_x"] > 0.2


def test_example_link_configs_load() -> None:
    for name in ("qkd-link-fiber.toml", "qkd-link-freespace.toml"):
        link = load_config(REPO / "deploy" / "examples" / name, LinkConfig).to_link()
        assert link.window_ps > 0


def test_emulate_to_ptu_then_sift_the_files_like_real_hardware(tmp_path: Path) -> None:
    ptu, tx = tmp_path / "bob.ptu", tmp_path / "alice.npz"
    r = run("qkd", "emulate", "--out", str(ptu), "--tx-out", str(tx), "--preset", "ingaas-fiber",
            "--length-km", "20", "--seconds", "0.01", "--seed", "4", "--clock-offset-ps", "12345",
            "--clock-drift-ppm", "-3", "--json")
    assert r.returncode == 0, r.stderr
    r = run("qkd", "sift", "--tx", str(tx), "--rx", str(ptu), "--window-ps", "300", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert abs(d["sifted"]["clock"]["offset_ps"] - 12345) < 2
    assert abs(d["sifted"]["clock"]["drift_ppm"] + 3) < 0.01
    assert d["estimate"]["n_sifted"] > 5_000 and d["estimate"]["qber_z"] < 0.06


def test_sift_of_a_truncated_file_names_file_and_offset(tmp_path: Path) -> None:
    qtt, tx = tmp_path / "bob.qtt", tmp_path / "alice.json"
    r = run("qkd", "emulate", "--out", str(qtt), "--tx-out", str(tx), "--seconds", "0.002", "--seed", "5")
    assert r.returncode == 0, r.stderr
    qtt.write_bytes(qtt.read_bytes()[:-3])
    r = run("qkd", "sift", "--tx", str(tx), "--rx", str(qtt))
    assert r.returncode == 2
    assert str(qtt) in r.stderr and "byte offset" in r.stderr


def test_satellite_pass_json_profile() -> None:
    r = run("qkd", "satellite-pass", "--points", "5", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    rows = rep["rows"]
    assert len(rows) == 5 and rows[2]["elevation_deg"] > 89.9
    # the key rate peaks at zenith (shortest range, least airmass) and the pass yields a secret key
    rates = [row["key_rate_bits_per_pulse"] for row in rows]
    assert rates[2] == max(rates) > 0 and rep["secret_bits_per_pass"] > 0
