"""Safety filter between the model and the actuators: limits, rate limit and a watchdog.

Every control period the runtime asks `SafetyFilter.decide` for the command to send:

- fail-safe (steering `failsafe_steering`, throttle `failsafe_throttle`: centre and stop) when
  the frame is older than `max_frame_age_s`, there is no frame, the action has NaN/Inf, or the
  loop has overrun its period `max_overruns` times in a row;
- otherwise steering = action[0] and throttle = action[1] (or `cruise_throttle` for a
  steering-only policy), clamped to the limits, then the steering change is limited to
  `max_steering_rate_per_s` times the time since the previous command.

The fail-safe bypasses the rate limit (stopping must not wait) and the rate limit restarts from
it. The runtime also sends the fail-safe on Ctrl-C, on any exception and at the end of a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_MAX_FRAME_AGE_S = 0.2
DEFAULT_MAX_STEERING_RATE_PER_S = 4.0
"""Full-scale units per second: centre to full lock in 0.25 s."""
DEFAULT_MAX_OVERRUNS = 3
DEFAULT_CRUISE_THROTTLE = 0.2


@dataclass(frozen=True)
class SafetyConfig:
    """Limits and watchdog settings (plain dataclass: no pydantic on the robot).

    Attributes:
        steering_min, steering_max: steering limits, [-1, 1] units.
        throttle_min, throttle_max: throttle limits, [-1, 1] units.
        cruise_throttle: throttle sent with a steering-only (A = 1) policy.
        max_steering_rate_per_s: largest steering change per second (units/s).
        max_frame_age_s: older frames trigger the fail-safe (s).
        max_overruns: consecutive loop overruns that trigger the fail-safe.
        failsafe_steering, failsafe_throttle: the fail-safe command.
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

    def __post_init__(self) -> None:
        if not (self.steering_min <= self.steering_max and self.throttle_min <= self.throttle_max):
            raise ValueError("safety limits must satisfy min <= max")
        if self.max_steering_rate_per_s <= 0 or self.max_frame_age_s <= 0:
            raise ValueError("max_steering_rate_per_s and max_frame_age_s must be > 0")
        if self.max_overruns < 1:
            raise ValueError(f"max_overruns must be >= 1, got {self.max_overruns}")


@dataclass(frozen=True)
class SafetyDecision:
    """The command to send (float32 (2,): steering, throttle) and why."""

    command: np.ndarray
    failsafe: bool
    reason: str
    """"" for a normal command; "stale_frame", "no_frame", "non_finite", "overrun", or a
    runtime reason ("interrupt", "exception", "end")."""


def watchdog_reason(
    frame_age_s: float | None, consecutive_overruns: int, max_frame_age_s: float, max_overruns: int
) -> str:
    """Why the watchdog must send the fail-safe ("no_frame", "stale_frame", "overrun"), or ""."""
    if frame_age_s is None:
        return "no_frame"
    if frame_age_s > max_frame_age_s:
        return "stale_frame"
    if consecutive_overruns >= max_overruns:
        return "overrun"
    return ""


class SafetyFilter:
    """Stateful filter: remembers the last command and time for the rate limit."""

    def __init__(self, config: SafetyConfig | None = None) -> None:
        self.config = config or SafetyConfig()
        self._last_steering: float | None = None
        self._last_time_s: float | None = None

    def failsafe(self, reason: str, now_s: float | None = None) -> SafetyDecision:
        """The fail-safe command; the rate limit restarts from it."""
        cfg = self.config
        self._last_steering, self._last_time_s = cfg.failsafe_steering, now_s
        command = np.array([cfg.failsafe_steering, cfg.failsafe_throttle], dtype=np.float32)
        return SafetyDecision(command, True, reason)

    def decide(
        self,
        action: np.ndarray | None,
        now_s: float,
        frame_age_s: float | None,
        consecutive_overruns: int = 0,
    ) -> SafetyDecision:
        """The command for this period.

        Args:
            action: the model's (A,) action in [-1, 1], or None when the model did not run.
            now_s: monotonic time (s) of the decision.
            frame_age_s: age (s) of the newest frame, or None if there is none.
            consecutive_overruns: loop periods in a row that ran over.
        """
        cfg = self.config
        reason = watchdog_reason(
            frame_age_s, consecutive_overruns, cfg.max_frame_age_s, cfg.max_overruns
        )
        if reason:
            return self.failsafe(reason, now_s)
        if action is None or action.size == 0 or not bool(np.all(np.isfinite(action))):
            return self.failsafe("non_finite", now_s)
        steering = min(max(float(action[0]), cfg.steering_min), cfg.steering_max)
        raw_throttle = float(action[1]) if action.size > 1 else cfg.cruise_throttle
        throttle = min(max(raw_throttle, cfg.throttle_min), cfg.throttle_max)
        if self._last_steering is not None and self._last_time_s is not None:
            max_change = cfg.max_steering_rate_per_s * max(now_s - self._last_time_s, 0.0)
            change = steering - self._last_steering
            if abs(change) > max_change:
                steering = self._last_steering + math.copysign(max_change, change)
        self._last_steering, self._last_time_s = steering, now_s
        return SafetyDecision(np.array([steering, throttle], dtype=np.float32), False, "")
