"""Load TOML config files into typed, validated models (pydantic v2).

Each package defines its own config models (subclasses of :class:`pydantic.BaseModel` with
``extra="forbid"`` so that unknown keys are errors); this module only reads the file and turns every
failure into one :class:`~qshift.errors.ConfigError` that names the file, the key and what was expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from qshift.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; raise :class:`ConfigError` naming the file and line of a syntax error."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(p), "file not found") from None
    except IsADirectoryError:
        raise ConfigError(str(p), "is a directory, expected a TOML file") from None
    except PermissionError:
        raise ConfigError(str(p), "permission denied") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(p), f"not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), f"invalid TOML: {exc}") from None


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """Return (dotted key, message) for one pydantic error entry."""
    key = ".".join(str(part) for part in error.get("loc", ())) or "(top level)"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return key, "unknown key"
    if kind == "missing":
        return key, "required key is missing"
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], dict | list):
        shown = repr(error["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg} (got {shown})"
    return key, msg


def validate_config(data: dict[str, Any], model: type[ModelT], source: str = "<config>") -> ModelT:
    """Validate an already-parsed mapping against ``model``; errors name ``source`` and the key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        key, msg = _describe(errors[0])
        more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        raise ConfigError(source, msg + more, key=key) from None


def resolve_paths(data: dict[str, Any], keys: Sequence[str], base: Path) -> dict[str, Any]:
    """Make the relative file paths at ``keys`` of ``data`` relative to ``base`` (in place; returns ``data``).

    A key is a dotted path; ``name[]`` walks every item of a list (``feeds[].auth_psk_file``,
    ``feeds[].timetag_files[]``). Absent keys, empty strings, non-strings and absolute paths are left as
    they are, so validation still reports them."""

    def walk(node: Any, parts: list[str]) -> Any:
        if not parts:
            if isinstance(node, str) and node and not Path(node).is_absolute():
                return str(base / node)
            return node
        head, rest = parts[0], parts[1:]
        many = head.endswith("[]")
        name = head.removesuffix("[]")
        if not isinstance(node, dict) or name not in node:
            return node
        value = node[name]
        if many and isinstance(value, list):
            node[name] = [walk(item, rest) if rest else walk(item, []) for item in value]
        elif not many:
            node[name] = walk(value, rest)
        return node

    for key in keys:
        walk(data, key.split("."))
    return data


def load_config(path: str | Path, model: type[ModelT], *, relative_paths: Sequence[str] = ()) -> ModelT:
    """Read the TOML file at ``path`` and validate it into ``model``.

    The file paths at ``relative_paths`` (see :func:`resolve_paths`) are taken relative to the config
    file's directory, so a command reads the same files whatever its working directory."""
    data = read_toml(path)
    if relative_paths:
        resolve_paths(data, relative_paths, Path(path).parent)
    return validate_config(data, model, source=str(path))
