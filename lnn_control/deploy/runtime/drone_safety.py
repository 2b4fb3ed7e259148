"""The drone preset of `CommandFilter`: 4-D commands (vx, vy, vz, yaw rate), fail-safe = hover.

Every period (see `lnn_control.deploy.runtime.safety` for the shared algorithm):

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

from lnn_control.deploy.runtime.safety import (
    DEFAULT_MAX_BAD_FRAMES,
    DEFAULT_MAX_FRAME_AGE_S,
    DEFAULT_MAX_OVERRUNS,
    CommandFilter,
    SafetyDecision,
    WatchdogLimits,
    check_finite,
    check_rate,
)

DRONE_COMMAND_SIZE = 4
DEFAULT_MAX_CHANGE_PER_S = 4.0

__all__ = [
    "DEFAULT_MAX_CHANGE_PER_S",
    "DRONE_COMMAND_SIZE",
    "DroneSafetyConfig",
    "DroneSafetyFilter",
    "SafetyDecision",
]


@dataclass(frozen=True)
class DroneSafetyConfig:
    """Limits (fractions of full scale, in (0, 1]) and watchdog settings."""

    max_horizontal: float = 1.0  # vx, vy
    max_vertical: float = 1.0  # vz
    max_yaw_rate: float = 1.0
    max_change_per_s: float = DEFAULT_MAX_CHANGE_PER_S
    max_frame_age_s: float = DEFAULT_MAX_FRAME_AGE_S
    max_overruns: int = DEFAULT_MAX_OVERRUNS
    max_bad_frames: int = DEFAULT_MAX_BAD_FRAMES

    def __post_init__(self) -> None:
        for name in ("max_horizontal", "max_vertical", "max_yaw_rate"):
            value = check_finite(name, getattr(self, name))
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1] of full scale, got {value:g}")
        check_rate("max_change_per_s", self.max_change_per_s)
        _ = self.watchdog  # validates the watchdog settings

    @property
    def watchdog(self) -> WatchdogLimits:
        """The watchdog settings."""
        return WatchdogLimits(self.max_frame_age_s, self.max_overruns, self.max_bad_frames)

    @property
    def limits(self) -> np.ndarray:
        """Per-axis |command| limit, float64 (4,)."""
        h, v, y = self.max_horizontal, self.max_vertical, self.max_yaw_rate
        return np.array([h, h, v, y])


class DroneSafetyFilter(CommandFilter):
    """The drone preset: symmetric limits, every axis rate-limited, hover fail-safe; the action
    must have exactly 4 values."""

    def __init__(self, config: DroneSafetyConfig | None = None) -> None:
        cfg = config or DroneSafetyConfig()
        self.config = cfg
        super().__init__(
            lower=-cfg.limits,
            upper=cfg.limits,
            max_rate_per_s=[cfg.max_change_per_s] * DRONE_COMMAND_SIZE,
            failsafe=np.zeros(DRONE_COMMAND_SIZE),
            watchdog=cfg.watchdog,
            names=("vx", "vy", "vz", "yaw_rate"),
        )
