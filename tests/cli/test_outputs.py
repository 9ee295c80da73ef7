"""Outputs are written atomically (temporary file beside the target, fsync, rename): an error or Ctrl-C
leaves the targets as they were and no temporary behind (issue 17, item 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from qshift.errors import OutputError
from qshift.output import atomic_outputs, check_output, write_atomic
from tests.cli.conftest import QSHIFT, leftovers, qshift


def test_write_atomic_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new" and leftovers(tmp_path) == ["report.json"]


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target, other = tmp_path / "a.csv", tmp_path / "b.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_outputs(target, other) as (temp_a, temp_b):
        temp_a.write_text("half")
        temp_b.write_text("{}")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old" and not other.exists()
    assert leftovers(tmp_path) == ["a.csv"]


def test_keyboard_interrupt_while_writing_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "tags.qtt"
    with pytest.raises(KeyboardInterrupt), atomic_outputs(target) as (temp,):
        temp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert leftovers(tmp_path) == []


def test_temporaries_keep_the_suffix_for_writers_that_choose_a_format_by_it(tmp_path: Path) -> None:
    with atomic_outputs(tmp_path / "k.png") as (temp,):
        assert temp.parent == tmp_path and temp.suffix == ".png" and temp.name.startswith(".")
        temp.write_bytes(b"png")
    assert leftovers(tmp_path) == ["k.png"]


def test_a_key_output_that_exists_is_refused_without_force(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    key.write_text("secret")
    with pytest.raises(OutputError, match="refusing to overwrite a key"):
        check_output(key, "--output", holds_keys=True)
    assert check_output(key, "--output", holds_keys=True, force=True) == key


def _sigint_default() -> None:
    """Ctrl-C as at a terminal: a runner started in the background of a shell without job control (``cmd &``)
    leaves SIGINT *ignored*, children inherit that, and Python then rightly keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_emulate_interrupted_by_ctrl_c_leaves_no_partial_file(tmp_path: Path) -> None:
    """SIGINT while the time tags are being written: exit 130, one line, neither output, no temporary.

    The process is stopped (SIGSTOP) as soon as its temporary output appears and interrupted only if the
    temporary is still there, i.e. the outputs are not yet in place: on an idle machine the writing can finish
    between the test seeing the temporary and the signal (seen in CI), which says nothing about the product; such
    a run is repeated in a fresh directory."""
    for attempt in range(5):
        work = tmp_path / f"run{attempt}"
        work.mkdir()
        out, tx = work / "bob.csv", work / "alice.json"
        proc = subprocess.Popen([QSHIFT, "qkd", "emulate", "--out", str(out), "--tx-out", str(tx), "--seconds",
                                 "0.5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_sigint_default)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(name.startswith(".bob.") for name in os.listdir(work)):   # writing has started
                break
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
            if any(name.startswith(".bob.") for name in os.listdir(work)):   # still writing: interrupt it
                proc.send_signal(signal.SIGINT)
                proc.send_signal(signal.SIGCONT)
                _, err = proc.communicate(timeout=60)
                assert proc.returncode == 130, err
                assert err.strip().splitlines() == ["error: interrupted"]
                assert leftovers(work) == []
                return
            proc.send_signal(signal.SIGCONT)
        proc.communicate(timeout=60)
        assert proc.returncode == 0                 # finished before it could be interrupted: both files whole
    pytest.fail("emulate finished its writing before it could be interrupted in 5 runs")


def test_emulate_writes_both_files_complete(tmp_path: Path) -> None:
    out, tx = tmp_path / "bob.qtt", tmp_path / "alice.json"
    result = qshift("qkd", "emulate", "--out", str(out), "--tx-out", str(tx), "--seconds", "0.002", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path) == ["alice.json", "bob.qtt"]
    sifted = qshift("qkd", "sift", "--tx", str(tx), "--rx", str(out), "--json")
    assert sifted.returncode == 0, sifted.stderr


def test_keyrate_plot_is_written_whole(tmp_path: Path) -> None:
    plot = tmp_path / "k.svg"
    result = qshift("qkd", "keyrate", "--distances-km", "0,50", "--plot", str(plot), "--json")
    assert result.returncode == 0, result.stderr
    assert plot.read_text().rstrip().endswith("</svg>") and leftovers(tmp_path) == ["k.svg"]
