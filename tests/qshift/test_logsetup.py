"""Structured logging: JSON lines carry the ``extra=`` fields."""

from __future__ import annotations

import json
import logging

import pytest

from qshift.logsetup import JsonLineFormatter, TextFormatter, configure_logging


def test_json_line_has_message_level_and_extra_fields() -> None:
    record = logging.LogRecord("gateway.session", logging.WARNING, __file__, 1, "fell back to %s", ("pqc-only",), None)
    record.event = "tunnel.mode_change"
    record.peer = "site-b"
    entry = json.loads(JsonLineFormatter().format(record))
    assert entry["msg"] == "fell back to pqc-only"
    assert entry["level"] == "warning" and entry["logger"] == "gateway.session"
    assert entry["event"] == "tunnel.mode_change" and entry["peer"] == "site-b"
    assert entry["ts"].endswith("Z")


def test_text_format_appends_fields() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.peer = "b"
    assert TextFormatter().format(record).endswith("x: hello peer=b")


def test_configure_json_writes_json_lines_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    logging.getLogger("qkd.link").info("link up", extra={"event": "link.up", "qber": 0.021})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["qber"] == 0.021
