"""Typed YAML configs with `--set key=value` overrides and one-line errors.

    cfg = load_config(ILConfig, "lane_keeping_il", ["train.epochs=3"])   # or a path to a YAML file

Every config is a pydantic model with `extra="forbid"`, so a misspelt key is an error that names
the key and lists the allowed ones, and a bad value names the key, the value and what is allowed.
Every YAML file a user gives is read by `read_yaml_mapping` (or its text parsed by `parse_yaml`),
so a syntax error is one line with the file, line and column.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def invoked_command() -> str:
    """The command line this process runs, as `lnn-control ...` (for model cards and reports)."""
    return "lnn-control " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """The `--set KEY=VALUE` option (repeatable) that every config-driven command takes."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.policy=lstm (repeatable)",
    )


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply `a.b.c=value` strings (values parsed as YAML scalars) to a nested dict in place."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {item!r}")
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"--set {key}: {part!r} is not a section")
            node = child
        try:
            node[parts[-1]] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError as err:
            raise ValueError(
                f"--set {item}: the value is not valid YAML ({_problem(err)})"
            ) from None
    return data


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _problem(err: yaml.YAMLError) -> str:
    """What a YAML error says, on one line, without its position."""
    if isinstance(err, yaml.reader.ReaderError):
        code = err.character if isinstance(err.character, int) else ord(err.character)
        return f"character #x{code:04x} is not allowed ({err.reason})"
    if not isinstance(err, yaml.MarkedYAMLError):
        return _one_line(err)
    problem = _one_line(err.problem or err.context or "syntax error")
    return problem + (f" ({_one_line(err.context)})" if err.context and err.problem else "")


def parse_yaml(text: str, source: str | Path) -> Any:
    """`yaml.safe_load(text)`, with a syntax error turned into a one-line ValueError
    "<source>:<line>:<column>: invalid YAML: <problem>" (line and column counted from 1)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"{_position(err, text, source)}: invalid YAML: {_problem(err)}") from None


def _position(err: yaml.YAMLError, text: str, source: str | Path) -> str:
    """`<source>:<line>:<column>` of a YAML error (counted from 1), or `<source>`."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        return f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(source)
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        return f"{source}:{line}:{column}"
    return str(source)


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of the YAML file at `path` ({} when empty); one-line errors for a
    missing or unreadable file, a syntax error (file, line and column) or another top level.

    `path` may also name a packaged config ("lane_keeping_il", "stress/lane_quick"; see
    `lnn_control.configs.resolve_config`)."""
    from lnn_control.configs import resolve_config

    path = resolve_config(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    loaded = parse_yaml(text, path)
    if not loaded:  # an empty file
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: a config must be a YAML mapping at the top level")
    return loaded


def _format_error(err: ValidationError, model: type[BaseModel]) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "<root>"
    if first["type"] == "extra_forbidden":
        section: Any = model
        for part in first["loc"][:-1]:
            field = (
                section.model_fields.get(str(part)) if hasattr(section, "model_fields") else None
            )
            section = field.annotation if field is not None else None
        allowed = sorted(section.model_fields) if hasattr(section, "model_fields") else []
        return f"unknown config key {where!r}; allowed here: {', '.join(allowed)}"
    value = first.get("input")
    more = f" (and {len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"config key {where!r}: {first['msg']} (got {value!r}){more}"


def validate_config(model: type[M], data: dict[str, Any]) -> M:
    """`model(**data)` with a one-line ValueError on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ValueError(_format_error(err, model)) from None


def load_config(model: type[M], path: str | Path | None, overrides: Sequence[str] = ()) -> M:
    """Read YAML at `path` (None: defaults), apply overrides, validate."""
    data = {} if path is None else read_yaml_mapping(path)
    return validate_config(model, apply_overrides(data, overrides))


def dump_config(config: BaseModel) -> str:
    """YAML text of a config, for run directories and model cards."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
