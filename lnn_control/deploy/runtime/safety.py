"""Safety filter between the model and the actuators: limits, rate limit and a watchdog.

One algorithm, `CommandFilter(lower, upper, max_rate_per_s, failsafe)`, with two presets:
`SafetyFilter` for a car (steering, throttle) and `DroneSafetyFilter` (vx, vy, vz, yaw rate;
`lnn_control.deploy.runtime.drone_safety`). Every control period the runtime asks `decide` for the
command to send:

- fail-safe (the `failsafe` command: centre and stop for a car, hover for a drone) when the
  newest frame is older than `max_frame_age_s`, there is no frame, the action has NaN/Inf or the
  wrong size, or the loop has overrun its period `max_overruns` times in a row;
- otherwise the action is completed with the preset's fill values (a steering-only car policy
  gets `cruise_throttle`), clamped to [lower, upper], and each axis's change is limited to
  `max_rate_per_s` times the time since the previous command.

The fail-safe bypasses the rate limit (stopping must not wait) and the rate limit restarts from
it. The runtime also sends it for a bad frame, at the end of a run, on a signal and on any
exception (see `lnn_control.deploy.runtime.loop`).

Every setting is checked when the config is built (`SafetyConfig`, `WatchdogLimits`): all values
finite, limits inside [-1, 1] with min <= max, fail-safe and cruise inside the limits,
`max_frame_age_s` in (0, 1], rates > 0, counts >= 1. The error is one line naming the key and
the allowed range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_MAX_FRAME_AGE_S = 0.2
MAX_FRAME_AGE_LIMIT_S = 1.0
"""The watchdog cannot be set looser than this: a frame older than 1 s is never driven on."""
DEFAULT_MAX_STEERING_RATE_PER_S = 4.0
"""Full-scale units per second: centre to full lock in 0.25 s."""
DEFAULT_MAX_OVERRUNS = 3
DEFAULT_MAX_BAD_FRAMES = 10
"""Consecutive bad frames (wrong shape or dtype) that stop the run (0.5 s at 20 Hz)."""
DEFAULT_CRUISE_THROTTLE = 0.2
COMMAND_LIMIT = 1.0
"""Commands are normalised to [-1, 1]."""


def check_finite(name: str, value: float) -> float:
    """`value` as float; ValueError naming `name` if it is NaN or infinite."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def check_in(name: str, value: float, low: float, high: float, where: str = "") -> float:
    """`value` if finite and in [low, high]; else ValueError naming `name` and the range."""
    value = check_finite(name, value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {where}[{low:g}, {high:g}], got {value:g}")
    return value


def check_count(name: str, value: int) -> int:
    """`value` if it is an integer >= 1; else ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_rate(name: str, value: float) -> float:
    """`value` if finite and > 0; else ValueError naming `name`."""
    value = check_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value:g}")
    return value


@dataclass(frozen=True)
class WatchdogLimits:
    """When the watchdog sends the fail-safe, and when bad frames stop the run.

    Attributes:
        max_frame_age_s: a newest frame older than this (s, runtime's monotonic clock, since
            receipt) triggers the fail-safe; in (0, 1].
        max_overruns: consecutive loop overruns that trigger the fail-safe (>= 1).
        max_bad_frames: consecutive bad frames that stop the run on the fail-safe (>= 1).
    """

    max_frame_age_s: float = DEFAULT_MAX_FRAME_AGE_S
    max_overruns: int = DEFAULT_MAX_OVERRUNS
    max_bad_frames: int = DEFAULT_MAX_BAD_FRAMES

    def __post_init__(self) -> None:
        age = check_finite("max_frame_age_s", self.max_frame_age_s)
        if not 0.0 < age <= MAX_FRAME_AGE_LIMIT_S:
            raise ValueError(
                f"max_frame_age_s must be in (0, {MAX_FRAME_AGE_LIMIT_S:g}] s, got {age:g}"
            )
        check_count("max_overruns", self.max_overruns)
        check_count("max_bad_frames", self.max_bad_frames)

    def reason(self, frame_age_s: float | None, consecutive_overruns: int) -> str:
        """Why the fail-safe is due ("no_frame", "stale_frame", "overrun"), or ""."""
        return watchdog_reason(
            frame_age_s, consecutive_overruns, self.max_frame_age_s, self.max_overruns
        )


def watchdog_reason(
    frame_age_s: float | None, consecutive_overruns: int, max_frame_age_s: float, max_overruns: int
) -> str:
    """Why the watchdog must send the fail-safe ("no_frame", "stale_frame", "overrun"), or ""."""
    if frame_age_s is None:
        return "no_frame"
    if not frame_age_s <= max_frame_age_s:  # NaN counts as stale
        return "stale_frame"
    if consecutive_overruns >= max_overruns:
        return "overrun"
    return ""


@dataclass(frozen=True)
class SafetyDecision:
    """The command to send (float32 (C,): steering, throttle for a car) and why."""

    command: np.ndarray
    failsafe: bool
    reason: str
    """"" for a normal command; "stale_frame", "no_frame", "non_finite", "overrun",
    "bad_frame", or a runtime stop reason ("end", "sigterm", "exception", ...)."""


def _vector(name: str, values: Sequence[float] | np.ndarray, size: int | None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if size is not None and array.size != size:
        raise ValueError(f"{name} must have {size} values, got {array.size}")
    return array


class CommandFilter:
    """Clamp, rate limit and watchdog for a C-axis command (stateful: last command and time).

    Args:
        lower, upper: (C,) limits in [-1, 1], lower <= upper.
        max_rate_per_s: (C,) largest change per second of each axis (> 0; inf: no limit).
        failsafe: (C,) the fail-safe command, inside [lower, upper].
        watchdog: frame-age, overrun and bad-frame limits.
        fill: (C,) value of each axis the action does not give (NaN: the action must give it);
            e.g. a car's steering-only policy gets (NaN, cruise_throttle).
        names: axis names for messages.
    """

    def __init__(
        self,
        lower: Sequence[float] | np.ndarray,
        upper: Sequence[float] | np.ndarray,
        max_rate_per_s: Sequence[float] | np.ndarray,
        failsafe: Sequence[float] | np.ndarray,
        watchdog: WatchdogLimits | None = None,
        fill: Sequence[float] | np.ndarray | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        self.lower = _vector("lower", lower, None)
        size = self.lower.size
        self.names = tuple(names) if names is not None else tuple(f"axis {i}" for i in range(size))
        self.upper = _vector("upper", upper, size)
        self.max_rate_per_s = _vector("max_rate_per_s", max_rate_per_s, size)
        self.failsafe_command = _vector("failsafe", failsafe, size).astype(np.float32)
        self.fill = _vector("fill", np.full(size, np.nan) if fill is None else fill, size)
        self.watchdog = watchdog or WatchdogLimits()
        self._check()
        missing = np.flatnonzero(np.isnan(self.fill))
        self.required = max(1, int(missing[-1]) + 1 if missing.size else 0)
        """The action must give at least this many values (the axes without a fill value)."""
        self._last: np.ndarray | None = None
        self._last_time_s: float | None = None

    def _check(self) -> None:
        for i, name in enumerate(self.names):
            low = check_in(f"{name} lower limit", self.lower[i], -COMMAND_LIMIT, COMMAND_LIMIT)
            high = check_in(f"{name} upper limit", self.upper[i], low, COMMAND_LIMIT)
            check_in(f"{name} fail-safe", self.failsafe_command[i], low, high, "the limits ")
            if not math.isnan(self.fill[i]):
                check_in(f"{name} fill value", self.fill[i], low, high, "the limits ")
            if not self.max_rate_per_s[i] > 0:  # inf allowed: no rate limit on this axis
                raise ValueError(f"{name} max_rate_per_s must be > 0, got {self.max_rate_per_s[i]}")

    @property
    def max_bad_frames(self) -> int:
        """Consecutive bad frames that stop the run."""
        return self.watchdog.max_bad_frames

    def failsafe(self, reason: str, now_s: float | None = None) -> SafetyDecision:
        """The fail-safe command; the rate limit restarts from it."""
        self._last, self._last_time_s = self.failsafe_command.astype(np.float64), now_s
        return SafetyDecision(self.failsafe_command.copy(), True, reason)

    def _complete(self, action: np.ndarray | None) -> np.ndarray | None:
        """The action as a full (C,) command (fill values added), or None if unusable."""
        if action is None:
            return None
        values = np.asarray(action, dtype=np.float64).reshape(-1)
        size = self.lower.size
        if not self.required <= values.size <= size or not np.all(np.isfinite(values)):
            return None
        return np.concatenate([values, self.fill[values.size :]])

    def decide(
        self,
        action: np.ndarray | None,
        now_s: float,
        frame_age_s: float | None,
        consecutive_overruns: int = 0,
    ) -> SafetyDecision:
        """The command for this period.

        Args:
            action: the model's (A,) action in [-1, 1], or None when there is none.
            now_s: monotonic time (s) of the decision.
            frame_age_s: age (s) of the newest frame, or None if there is none.
            consecutive_overruns: loop periods in a row that ran over.
        """
        reason = self.watchdog.reason(frame_age_s, consecutive_overruns)
        if reason:
            return self.failsafe(reason, now_s)
        values = self._complete(action)
        if values is None:
            return self.failsafe("non_finite", now_s)
        command = np.clip(values, self.lower, self.upper)
        if self._last is not None and self._last_time_s is not None:
            elapsed_s = max(now_s - self._last_time_s, 0.0)
            step = np.where(np.isinf(self.max_rate_per_s), np.inf, self.max_rate_per_s * elapsed_s)
            command = np.clip(command, self._last - step, self._last + step)
        self._last, self._last_time_s = command, now_s
        return SafetyDecision(command.astype(np.float32), False, "")


@dataclass(frozen=True)
class SafetyConfig:
    """A car's limits and watchdog settings (plain dataclass: no pydantic on the robot).

    Attributes:
        steering_min, steering_max: steering limits in [-1, 1].
        throttle_min, throttle_max: throttle limits in [-1, 1].
        cruise_throttle: throttle sent with a steering-only (A = 1) policy, inside the limits.
        max_steering_rate_per_s: largest steering change per second (units/s, > 0).
        max_frame_age_s: older frames trigger the fail-safe (s, in (0, 1]).
        max_overruns: consecutive loop overruns that trigger the fail-safe.
        failsafe_steering, failsafe_throttle: the fail-safe command, inside the limits.
        max_bad_frames: consecutive bad frames that stop the run.
    """

    steering_min: float = -1.0
    steering_max: float = 1.0
    throttle_min: float = -1.0
    throttle_max: float = 1.0
    cruise_throttle: float = DEFAULT_CRUISE_THROTTLE
    max_steering_rate_per_s: float = DEFAULT_MAX_STEERING_RATE_PER_S
    max_frame_age_s: float = DEFAULT_MAX_FRAME_AGE_S
    max_overruns: int = DEFAULT_MAX_OVERRUNS
    failsafe_steering: float = 0.0
    failsafe_throttle: float = 0.0
    max_bad_frames: int = DEFAULT_MAX_BAD_FRAMES

    def __post_init__(self) -> None:
        lim = COMMAND_LIMIT
        for axis in ("steering", "throttle"):
            low = check_in(f"{axis}_min", getattr(self, f"{axis}_min"), -lim, lim)
            check_in(f"{axis}_max", getattr(self, f"{axis}_max"), low, lim, f"[{axis}_min, 1] = ")
        for axis, key in (("steering", "failsafe_steering"), ("throttle", "failsafe_throttle"),
                          ("throttle", "cruise_throttle")):  # fmt: skip
            low, high = getattr(self, f"{axis}_min"), getattr(self, f"{axis}_max")
            check_in(key, getattr(self, key), low, high, f"[{axis}_min, {axis}_max] = ")
        check_rate("max_steering_rate_per_s", self.max_steering_rate_per_s)
        _ = self.watchdog  # validates the watchdog settings

    @property
    def watchdog(self) -> WatchdogLimits:
        """The watchdog settings."""
        return WatchdogLimits(self.max_frame_age_s, self.max_overruns, self.max_bad_frames)


class SafetyFilter(CommandFilter):
    """The car preset: (steering, throttle); steering rate-limited, throttle clamped only;
    a steering-only policy gets `cruise_throttle`; fail-safe (failsafe_steering,
    failsafe_throttle)."""

    def __init__(self, config: SafetyConfig | None = None) -> None:
        cfg = config or SafetyConfig()
        self.config = cfg
        super().__init__(
            lower=[cfg.steering_min, cfg.throttle_min],
            upper=[cfg.steering_max, cfg.throttle_max],
            max_rate_per_s=[cfg.max_steering_rate_per_s, math.inf],
            failsafe=[cfg.failsafe_steering, cfg.failsafe_throttle],
            watchdog=cfg.watchdog,
            fill=[math.nan, cfg.cruise_throttle],
            names=("steering", "throttle"),
        )
