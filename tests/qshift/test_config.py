"""Config loading: TOML into pydantic models, with errors naming file, key and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from qshift.config import load_config
from qshift.errors import ConfigError


class _Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length_km: float
    attenuation_db_per_km: float = 0.2


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    port: int
    link: _Link


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_into_typed_model(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "site-a"\nport = 8443\n[link]\nlength_km = 25.0\n')
    node = load_config(path, _Node)
    assert node == _Node(name="site-a", port=8443, link=_Link(length_km=25.0))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=r"absent\.toml: file not found"):
        load_config(missing, _Node)


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "a"\nport = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, _Node)
    message = str(info.value)
    assert str(path) in message and "invalid TOML" in message and "line 2" in message


def test_unknown_key_is_an_error_naming_the_dotted_key(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "a"\nport = 1\n[link]\nlength_km = 1.0\nlenght_km = 2.0\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, _Node)
    assert info.value.key == "link.lenght_km"
    assert "unknown key" in str(info.value)


def test_wrong_type_names_key_expected_type_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "a"\nport = "eighty"\n[link]\nlength_km = 1.0\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, _Node)
    assert info.value.key == "port"
    assert "integer" in str(info.value) and "'eighty'" in str(info.value)


def test_missing_required_key(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "a"\n[link]\nlength_km = 1.0\n')
    with pytest.raises(ConfigError, match=r"port: required key is missing"):
        load_config(path, _Node)


def test_non_utf8_file_is_rejected_with_offset(tmp_path: Path) -> None:
    path = tmp_path / "bin.toml"
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 8\)"):
        load_config(path, _Node)
