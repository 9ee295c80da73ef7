"""Terminal tables fit 80 columns without breaking words; ``inventory diff`` as a table, ``--json`` and CI gates."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from inventory.report import table
from inventory.report.diff import diff
from inventory.risk import load_policy
from inventory.scan import ScanOptions, run_scan
from tests.inventory import scans
from tests.inventory.scans import OLD_CODE
from tests.inventory.scans import run_cli as _cli

#: The migrated application also holds a P-384 key (an asset added, still broken by Shor).
NEW_CODE = scans.NEW_CODE + """from cryptography.hazmat.primitives.asymmetric import ec
k2 = ec.generate_private_key(ec.SECP384R1())
"""


def _doc(tmp: Path, code: str) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "app.py").write_text(code)
    (tmp / "sshd_config").write_text("KexAlgorithms ecdh-sha2-nistp256,diffie-hellman-group14-sha1\n"
                                     "Ciphers aes128-cbc,chacha20-poly1305@openssh.com\n")
    return run_scan(ScanOptions(paths=[tmp], jobs=1), load_policy("nist")).to_dict()


def _render(fn, *args, width: int = 80) -> list[str]:
    out = io.StringIO()
    fn(*args, Console(file=out, width=width, color_system=None, legacy_windows=False))
    return out.getvalue().splitlines()


def _words(*texts: str) -> set[str]:
    """Words a reader reads (not paths/URIs, which may be folded), shorter than a narrow column."""
    return {w.strip(".,;:()") for t in texts for w in t.split()
            if "/" not in w and 2 < len(w.strip(".,;:()")) <= 18}


@pytest.mark.parametrize("width", [80, 160])
def test_scan_table_fits_the_console_and_wraps_cells_between_words(tmp_path: Path, width: int) -> None:
    doc = _doc(tmp_path, OLD_CODE)
    lines = _render(table.render, doc, width=width)
    assert max(len(line) for line in lines) <= width
    flat = " ".join(re.sub(r"[│┃|]", " ", line) for line in lines).split()
    tokens = {t.strip(".,;:()") for t in flat}
    expected = _words(*(a["risk"]["recommendation"] for a in doc["assets"]), *(a["name"] for a in doc["assets"]),
                      *(a["risk"]["status"] for a in doc["assets"]))
    assert expected - tokens == set()  # every word intact on one line


def _scans(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_doc(tmp_path / "a", OLD_CODE)))
    new.write_text(json.dumps(_doc(tmp_path / "b", NEW_CODE)))
    return old, new


def test_diff_rows_name_each_changed_asset_with_old_and_new_status(tmp_path: Path) -> None:
    d = diff(*_scans(tmp_path))
    rows = {r["key"]: r for r in d["rows"]}
    assert rows["algorithm:MD5"]["change"] == "removed" and rows["algorithm:MD5"]["new_status"] is None
    assert rows["algorithm:ML-DSA-65"]["change"] == "added"
    assert rows["algorithm:ML-DSA-65"]["new_status"] == "quantum-safe"
    assert any(r["new_status"] == "broken-by-shor" and r["change"] == "added" for r in d["rows"])  # ECDSA-P384


def test_diff_table_fits_80_columns(tmp_path: Path) -> None:
    d = diff(*_scans(tmp_path))
    lines = _render(table.render_diff, d)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= 80
    assert "migration progress" in text and "ML-DSA-65" in text and "classically-broken" in text


def test_diff_gate_new_broken_by_shor_exits_1_and_names_the_asset(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _scans(tmp_path)
    code, out, err = _cli(["inventory", "diff", str(old), str(new), "--fail-on", "new-broken-by-shor"], capsys)
    assert code == 1 and "new-broken-by-shor" in err and "Traceback" not in err
    assert "changed assets" in out
    code, out, _ = _cli(["inventory", "diff", str(old), str(new), "--json", "--fail-on", "new-broken-by-shor"],
                        capsys)
    assert code == 1 and json.loads(out)["gate_hits"]


def test_diff_gate_that_nothing_matches_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _scans(tmp_path)
    code, out, _ = _cli(["inventory", "diff", str(old), str(new), "--json", "--fail-on", "new-classically-broken"],
                        capsys)
    assert code == 0 and json.loads(out)["gate_hits"] == []
    # the same scan against itself: nothing is new
    code, _, _ = _cli(["inventory", "diff", str(new), str(new), "--fail-on", "new-broken-by-shor,new-critical"],
                      capsys)
    assert code == 0


def test_diff_unknown_gate_or_missing_file_is_a_usage_error_exit_2(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _scans(tmp_path)
    code, _, err = _cli(["inventory", "diff", str(old), str(new), "--fail-on", "broken-by-shor"], capsys)
    assert code == 2 and "new-broken-by-shor" in err and "Traceback" not in err
    code, _, err = _cli(["inventory", "diff", str(old), str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "nope.json" in err and "Traceback" not in err
