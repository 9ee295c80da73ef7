"""The CLI's surface: `qshift --version`, help on every option, no `<bool>` metavars, one name and one unit
per option across commands, tables that fit 80 columns without breaking words (issue 17, item 6)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

from qshift.cli import app
from tests.cli.conftest import REPO, qshift


def _commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "qshift")
    return found


def _options() -> list[tuple[str, Any]]:
    return [(path, p) for path, c in _commands() for p in c.params if p.param_type_name == "option"]


def test_version_option_prints_the_distribution_version() -> None:
    result = qshift("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"qshift {version('qshift')}"


def test_every_option_argument_and_command_has_help() -> None:
    missing = [f"{path} {p.name}" for path, c in _commands() for p in c.params if not (p.help or "").strip()]
    missing += [path for path, c in _commands() if not (c.help or "").strip()]
    assert not missing, missing


def test_help_pages_show_no_type_placeholders_for_flags() -> None:
    """Every visible command's ``--help`` as the console script prints it (one subprocess each, four at a time:
    the pages are independent and each start is mostly interpreter and import time)."""
    paths = [path for path, command in _commands() if not getattr(command, "hidden", False)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda path: qshift(*path.split()[1:], "--help", columns=100), paths))
    assert len(results) == len(paths) > 20
    for path, result in zip(paths, results, strict=True):
        assert result.returncode == 0, (path, result.stderr)
        assert path.split()[-1] in result.stdout, path   # the page is this command's
        assert "<bool>" not in result.stdout, path


UNIT = re.compile(r"\((s|km|ps|ppm|°|bits?|bit/s|photons/pulse)\b")


def test_one_option_name_means_one_thing_in_one_unit_everywhere() -> None:
    by_name: dict[str, set[str]] = {}
    for _, option in _options():
        if option.hidden:
            continue
        for name in option.opts:
            by_name.setdefault(name, set()).add(" ".join(UNIT.findall(option.help or "")))
    mixed = {name: units for name, units in by_name.items() if len(units) > 1}
    assert not mixed, mixed
    # --seconds is emulated link time wherever it is shown; wall time has its own name
    seconds = [(path, o.help) for path, o in _options() if "--seconds" in o.opts and not o.hidden]
    assert seconds and all("emulated link time" in (h or "") for _, h in seconds), seconds
    assert any("--wall-seconds" in o.opts for _, o in _options())
    assert {o.help for _, o in _options() if "--json" in o.opts} == {"Print the result as JSON on stdout (data only, "
                                                                     "no table)."}
    # an option whose value has a unit names it: --length-km, --window-ps, --timeout-s, --min-time-s …
    for path, option in _options():
        long_name = max(option.opts, key=len)
        unit = UNIT.search(option.help or "")
        if unit and unit.group(1) in ("km", "ps", "ppm") and not option.hidden:
            assert long_name.endswith("-" + unit.group(1)), (path, long_name)


def _fits(text: str, words: list[str], width: int = 80) -> None:
    lines = text.splitlines()
    assert lines and max(len(line) for line in lines) <= width, max(lines, key=len)
    for word in words:   # cells wrap between words, never inside one
        assert word in text, word


def test_pqc_algorithms_fits_80_columns_without_breaking_words() -> None:
    result = qshift("pqc", "algorithms", columns=80)
    assert result.returncode == 0, result.stderr
    _fits(result.stdout, ["ML-DSA-65", "MLDSA65-Ed25519", "X25519MLKEM768", "classically-broken", "broken-by-shor",
                          "weakened-by-grover", "quantum-safe", "cryptography"])


def test_kme_status_table_fits_80_columns_without_breaking_words() -> None:
    from qshift.commands.kme import status_table

    pools = [{"name": name, "kind": kind, "stored_bits": 1_073_741_824, "capacity_bits": 1_073_741_824,
              "in_rate_bps": 123456.0, "out_rate_bps": 98765.0, "oldest_age_s": 3600.0, "alarm": alarm,
              "qber": 0.11 if alarm else None}
             for name, kind, alarm in [("local", "local", False), ("KME_A-KME_T", "link", True),
                                       ("KME_T-KME_B", "link", False)]]
    console = Console(width=80, record=True, file=open("/dev/null", "w"))   # noqa: SIM115
    console.print(status_table({"node": "KME_T", "pools": pools}, console.width))
    _fits(console.export_text(), ["KME_A-KME_T", "1,073,741,824", "123456", "QBER", "3600"])


def test_inventory_scan_fits_80_columns_without_breaking_words(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "legacy.py").write_text(
        "import hashlib\nfrom cryptography.hazmat.primitives.asymmetric import rsa\n"
        "hashlib.md5(b'x')\nrsa.generate_private_key(public_exponent=65537, key_size=2048)\n")
    result = qshift("inventory", "scan", "src", columns=80, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _fits(result.stdout, ["MD5", "RSA-2048", "src/legacy.py:3:1", "classically-broken", "broken-by-shor"])


def test_readme_lists_only_commands_that_exist() -> None:
    names = {path.removeprefix("qshift ") for path, _ in _commands()}
    readme = (REPO / "README.md").read_text()
    for match in re.finditer(r"`qshift ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", readme):
        words = match.group(1).split()
        assert " ".join(words) in names or words[0] in names, match.group(0)


def test_the_other_tables_fit_80_columns(tmp_path: Path) -> None:
    for args, words in [
        (["qkd", "keyrate", "--distances-km", "0,50,100"], ["max distance", "PLOB"]),
        (["qkd", "satellite-pass", "--points", "3"], ["elevation", "freespace-night"]),
        (["qkd", "simulate", "--seconds", "0.002", "--seed", "2"], ["QBER", "single-photon"]),
        (["kme", "pki", str(tmp_path / "pki"), "--kme", "KME_A", "--sae", "SAE_A"], ["KME_A", "SAE_A"]),
    ]:
        result = qshift(*args, columns=80)
        assert result.returncode == 0, (args, result.stderr)
        _fits(result.stdout, words)


def test_the_cli_starts_without_loading_the_services_it_does_not_run() -> None:
    """``qshift --help`` and every command's start-up import only what parsing needs: the gateway service, the KME,
    the link runtime, aiohttp and networkx load when a command that uses them runs (they were 1.2 s of every
    invocation's 1.7 s). Checked by module, not by time: a loaded machine cannot make it pass or fail."""
    import subprocess
    import sys

    heavy = ["aiohttp", "networkx", "matplotlib", "gateway.service", "gateway.config", "qkd.kms", "qkd.runtime",
             "qkd.planner", "qkd.postprocess.link"]
    probe = ("import sys, qshift.cli; "
             f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == [], out.stdout
    # and the lazily exported names still resolve where they are used
    import gateway
    import pqc

    assert gateway.SiteConfig.__module__ == "gateway.config" and callable(gateway.create_gateway_app)
    assert pqc.kem("ML-KEM-768") is not None and pqc.backend_statuses is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = pqc.nothing  # type: ignore[attr-defined]
