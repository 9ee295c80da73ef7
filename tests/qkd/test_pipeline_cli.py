"""``qshift qkd run`` runs a full emulated link in a real subprocess; ``--eve`` attacks stop key delivery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from qshift.commands.qkd_run import app, parse_eve

QSHIFT = [sys.executable, "-m", "qshift.cli"] if not (Path(sys.executable).parent / "qshift").exists() else [
    str(Path(sys.executable).parent / "qshift")]


def run_cli(*args: str) -> dict:
    out = subprocess.run([*QSHIFT, "qkd", "run", "--block-pulses", "3000000", *args, "--json"], capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_qkd_run_delivers_identical_secret_keys_on_a_25_km_fiber() -> None:
    s = run_cli("--channel", "fiber", "--length-km", "25", "--wall-seconds", "0", "--max-blocks", "2")
    assert s["blocks"] >= 1 and s["delivered"] == s["blocks"]
    assert s["keys_identical"] is True
    assert s["secret_bits"] > 0 and 0 < s["secret_rate_bps_link"] < s["sifted_rate_bps_link"]
    assert s["seed"] == 1 and s["key_length_mode"] == "asymptotic"


def test_qkd_run_reconciles_by_ldpc_with_the_decoder_asked_for() -> None:
    """``--reconciler ldpc --ldpc-decoder min-sum-8``: identical keys, every block on the min-sum family's codes
    (the decoder's own), tens of round trips at most (Cascade: hundreds); the default decoder (φ-sum) plans on the
    optimised family."""
    for decoder, family in (("min-sum-8", "qc2m-"), ("phi-sum", "qc3-")):
        out = CliRunner().invoke(app, ["--block-pulses", "3000000", "--length-km", "25", "--wall-seconds", "0",
                                       "--max-blocks", "2", "--reconciler", "ldpc", "--ldpc-decoder", decoder,
                                       "--json"])
        assert out.exit_code == 0, out.output
        s = json.loads(out.stdout)
        assert s["delivered"] == s["blocks"] >= 1 and s["keys_identical"] is True
        rows = s["blocks_detail"]
        assert rows and all(r["code"].startswith(family) and r["round_trips"] <= 25 for r in rows), rows


def test_qkd_run_takes_the_ldpc_first_attempt_efficiency() -> None:
    """``--ldpc-f-start 1.5`` with the int8 min-sum: the first attempt leaks more and decodes, one round trip a block
    (at the decoder's own start the same block took ten)."""
    out = CliRunner().invoke(app, ["--block-pulses", "3000000", "--length-km", "25", "--wall-seconds", "0",
                                   "--max-blocks", "2", "--reconciler", "ldpc", "--ldpc-decoder", "min-sum-8",
                                   "--ldpc-f-start", "1.5", "--json"])
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert s["delivered"] == s["blocks"] >= 1 and s["keys_identical"] is True
    rows = s["blocks_detail"]
    assert all(r["round_trips"] <= 2 and r["efficiency"] > 1.3 for r in rows), rows


def test_qkd_run_under_full_intercept_resend_delivers_nothing() -> None:
    # the command in-process (the subprocess test above covers its wiring into ``qshift qkd``)
    out = CliRunner().invoke(app, ["--block-pulses", "3000000", "--length-km", "25", "--wall-seconds", "0",
                                   "--max-blocks", "1", "--eve", "intercept-resend:1.0", "--json"])
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert s["delivered"] == 0 and s["secret_bits"] == 0 and s["aborted"] == {"qber": s["blocks"]}
    assert s["alarms"] and s["alarms"][0]["kind"] == "qber-alarm"


def test_eve_option_parsing() -> None:
    assert parse_eve("intercept-resend:0.3") == 0.3
    assert parse_eve(None) == 0.0
    with pytest.raises(typer.BadParameter, match="unknown attack 'beamsplit'"):
        parse_eve("beamsplit:0.1")
    with pytest.raises(typer.BadParameter, match="outside 0..1"):
        parse_eve("intercept-resend:1.5")
