"""Safety filter for a drone policy: 4-D commands (vx, vy, vz, yaw rate), fail-safe = hover.

Same contract as `SafetyFilter` (`decide`, `failsafe`, a `SafetyDecision` with the command), so
`lnn_control.deploy.runtime.run` drives either. Every period:

- fail-safe: zero velocity and yaw rate (hover; the autopilot holds position) when the frame is
  older than `max_frame_age_s`, there is no frame, the action has NaN/Inf or the wrong size, or
  the loop overran `max_overruns` times in a row;
- otherwise each axis is clamped to its limit (fraction of the policy's full scale) and its
  change limited to `max_change_per_s` x the time since the previous command (units/s), so a
  glitch cannot jerk the vehicle; the fail-safe bypasses the rate limit and it restarts from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lnn_control.deploy.safety import (
    DEFAULT_MAX_FRAME_AGE_S,
    DEFAULT_MAX_OVERRUNS,
    SafetyDecision,
    watchdog_reason,
)

DRONE_COMMAND_SIZE = 4
DEFAULT_MAX_CHANGE_PER_S = 4.0


@dataclass(frozen=True)
class DroneSafetyConfig:
    """Limits (fractions of full scale, in (0, 1]) and watchdog settings."""

    max_horizontal: float = 1.0  # vx, vy
    max_vertical: float = 1.0  # vz
    max_yaw_rate: float = 1.0
    max_change_per_s: float = DEFAULT_MAX_CHANGE_PER_S
    max_frame_age_s: float = DEFAULT_MAX_FRAME_AGE_S
    max_overruns: int = DEFAULT_MAX_OVERRUNS

    def __post_init__(self) -> None:
        for name in ("max_horizontal", "max_vertical", "max_yaw_rate"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1] of full scale, got {value}")
        if self.max_change_per_s <= 0 or self.max_frame_age_s <= 0:
            raise ValueError("max_change_per_s and max_frame_age_s must be > 0")
        if self.max_overruns < 1:
            raise ValueError(f"max_overruns must be >= 1, got {self.max_overruns}")

    @property
    def limits(self) -> np.ndarray:
        """Per-axis |command| limit, float64 (4,)."""
        h, v, y = self.max_horizontal, self.max_vertical, self.max_yaw_rate
        return np.array([h, h, v, y])


class DroneSafetyFilter:
    """Stateful: remembers the last command and time for the rate limit."""

    def __init__(self, config: DroneSafetyConfig | None = None) -> None:
        self.config = config or DroneSafetyConfig()
        self._last: np.ndarray | None = None
        self._last_time_s: float | None = None

    def failsafe(self, reason: str, now_s: float | None = None) -> SafetyDecision:
        """Hover; the rate limit restarts from it."""
        command = np.zeros(DRONE_COMMAND_SIZE, dtype=np.float32)
        self._last, self._last_time_s = command.astype(np.float64), now_s
        return SafetyDecision(command, True, reason)

    def decide(
        self,
        action: np.ndarray | None,
        now_s: float,
        frame_age_s: float | None,
        consecutive_overruns: int = 0,
    ) -> SafetyDecision:
        """The command for this period (see the module docstring)."""
        cfg = self.config
        reason = watchdog_reason(
            frame_age_s, consecutive_overruns, cfg.max_frame_age_s, cfg.max_overruns
        )
        if reason:
            return self.failsafe(reason, now_s)
        values = None if action is None else np.asarray(action, dtype=np.float64).reshape(-1)
        if values is None or values.size != DRONE_COMMAND_SIZE or not np.all(np.isfinite(values)):
            return self.failsafe("non_finite", now_s)
        command = np.clip(values, -cfg.limits, cfg.limits)
        if self._last is not None and self._last_time_s is not None:
            step = cfg.max_change_per_s * max(now_s - self._last_time_s, 0.0)
            command = np.clip(command, self._last - step, self._last + step)
        self._last, self._last_time_s = command, now_s
        return SafetyDecision(command.astype(np.float32), False, "")
