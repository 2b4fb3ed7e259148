"""Typed YAML configs with `--set key=value` overrides and one-line errors.

    cfg = load_config(ILConfig, "configs/lane_keeping_il.yaml", ["train.epochs=3"])

Every config is a pydantic model with `extra="forbid"`, so a misspelt key is an error that names
the key and lists the allowed ones, and a bad value names the key, the value and what is allowed.
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
        node[parts[-1]] = yaml.safe_load(raw) if raw else ""
    return data


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
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config not found: {path}")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a config must be a YAML mapping at the top level")
        data = loaded
    return validate_config(model, apply_overrides(data, overrides))


def dump_config(config: BaseModel) -> str:
    """YAML text of a config, for run directories and model cards."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
