"""What every world shares: the seed split, small types, and the validation of scenario
dataclasses (one-line ValueErrors that name the field and the allowed range; construction from a
mapping such as a YAML config)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
RGB = tuple[float, float, float]
Vec3 = tuple[float, float, float]
#: Seeds from here up are held out: never used for training data; every evaluation uses them.
HELD_OUT_SEED_START = 1_000_000


def check_range(
    name: str, value: float, low: float, high: float, *, open_low: bool = False
) -> float:
    """`value` as a float in [low, high] ((low, high] with `open_low`), or ValueError naming
    `name` and the allowed range (NaN, Inf and bools are refused)."""
    bracket = "(" if open_low else "["
    ok = (
        isinstance(value, int | float | np.floating | np.integer)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (low < value if open_low else low <= value)
        and value <= high
    )
    if not ok:
        raise ValueError(f"{name} must be a number in {bracket}{low}, {high}], got {value!r}")
    return float(value)


def check_int(name: str, value: int, low: int, high: int) -> int:
    """`value` as an int in [low, high], or ValueError naming `name` and the allowed range."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not (low <= value <= high)
    ):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def check_vec(name: str, value: tuple[float, ...], low: float, high: float) -> None:
    """`value` is 3 numbers, each in [low, high]."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"{name} must be 3 numbers in [{low}, {high}], got {value!r}")
    for i, item in enumerate(value):
        check_range(f"{name}[{i}]", item, low, high)


def check_pair(name: str, value: tuple[float, float], low: float, high: float) -> None:
    """A (low, high) pair with low <= high, both within [low, high]."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair within [{low}, {high}], got {value!r}")
    check_range(f"{name}[0]", value[0], low, high)
    check_range(f"{name}[1]", value[1], float(value[0]), high)


def from_mapping(cls: type[T], values: Mapping[str, Any]) -> T:
    """`cls(**values)` for a dataclass, lists turned into tuples; unknown keys raise a ValueError
    that lists the allowed fields."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; allowed: {sorted(known)}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**converted)
