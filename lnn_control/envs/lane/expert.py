"""Privileged lane-keeping experts (pure pursuit, Stanley) with noise injection.

An expert reads `LaneKeepingEnv.privileged_state()` (never the image) and returns an action in
[-1, 1] (steering / `MAX_STEER_RAD`, positive left). For imitation learning with noise injection
(DART-style), `act(state)` returns an `ExpertAction(executed, label)`:

- `label`: the expert's clean action for this state: train on this;
- `executed`: `label` plus noise (Gaussian, optionally AR(1)-correlated over time), clipped to
  [-1, 1]: step the env with this, so demonstrations visit recovery states.

With `noise_std=0` both are equal. Noise comes only from the generator seeded by `reset(seed)`.

    expert = PurePursuitExpert(noise_std=0.2)
    obs, info = env.reset(seed=7)
    expert.reset(seed=7)
    executed, label = expert.act(env.unwrapped.privileged_state())
    obs, reward, terminated, truncated, info = env.step(executed)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.lane.env import PrivilegedState
from lnn_control.envs.lane.sim import MAX_STEER_RAD, WHEELBASE_M

#: Pure pursuit lookahead = PP_LOOKAHEAD_MIN_M + PP_LOOKAHEAD_S x speed (m, s).
PP_LOOKAHEAD_MIN_M = 0.6
PP_LOOKAHEAD_S = 0.3
#: Stanley cross-track gain (1/s) and low-speed softening (m/s).
STANLEY_GAIN_PER_S = 2.5
STANLEY_SOFTENING_MPS = 0.5


class ExpertAction(NamedTuple):
    """executed: the (noisy) action to step the env with; label: the clean expert action.

    Both float32 arrays of shape (1,) in [-1, 1].
    """

    executed: NDArray[np.float32]
    label: NDArray[np.float32]


class LaneExpert(ABC):
    """Shared noise injection; subclasses give the clean steering angle."""

    def __init__(self, noise_std: float = 0.0, noise_correlation: float = 0.0) -> None:
        """noise_std: std of the executed-action noise (action units, [0, 1]); noise_correlation:
        AR(1) coefficient in [0, 1) (0: white noise; the stationary std stays `noise_std`)."""
        if not 0.0 <= noise_std <= 1.0:
            raise ValueError(f"noise_std must be in [0, 1], got {noise_std!r}")
        if not 0.0 <= noise_correlation < 1.0:
            raise ValueError(f"noise_correlation must be in [0, 1), got {noise_correlation!r}")
        self.noise_std = noise_std
        self.noise_correlation = noise_correlation
        self.rng = np.random.default_rng(0)
        self._noise = 0.0

    def reset(self, seed: int | None = None) -> None:
        """Reseed the noise generator and clear the correlated noise state."""
        self.rng = np.random.default_rng(seed)
        self._noise = 0.0

    @abstractmethod
    def steer_rad(self, state: PrivilegedState) -> float:
        """Clean steering angle (rad, positive left) for `state`."""

    def act(self, state: PrivilegedState) -> ExpertAction:
        """The executed (noisy) and clean actions for `state` (see module docstring)."""
        label = float(np.clip(self.steer_rad(state) / MAX_STEER_RAD, -1.0, 1.0))
        executed = label
        if self.noise_std > 0.0:
            rho = self.noise_correlation
            innovation = self.rng.normal(0.0, self.noise_std * math.sqrt(1.0 - rho**2))
            self._noise = rho * self._noise + innovation
            executed = float(np.clip(label + self._noise, -1.0, 1.0))
        return ExpertAction(
            np.array([executed], dtype=np.float32), np.array([label], dtype=np.float32)
        )


class PurePursuitExpert(LaneExpert):
    """Pure pursuit on the lane centre: steer the rear axle along the arc through a point
    `PP_LOOKAHEAD_MIN_M + PP_LOOKAHEAD_S * speed` ahead on the centre line."""

    def steer_rad(self, state: PrivilegedState) -> float:
        car = state.car
        speed = max(car.speed_mps, 0.0)
        lookahead = PP_LOOKAHEAD_MIN_M + PP_LOOKAHEAD_S * speed
        s_rear = state.road_point.s_m - 0.5 * WHEELBASE_M
        tx, ty, _ = state.road.pose_at(s_rear + lookahead)
        dx, dy = tx - car.x_m, ty - car.y_m
        alpha = math.atan2(dy, dx) - car.yaw_rad
        distance = max(math.hypot(dx, dy), 1e-6)
        return math.atan2(2.0 * WHEELBASE_M * math.sin(alpha), distance)


class StanleyExpert(LaneExpert):
    """Stanley: front-axle heading error plus atan(k e / (v + softening)) on cross-track error e,
    with a curvature feed-forward atan(L kappa) for the road ahead."""

    def steer_rad(self, state: PrivilegedState) -> float:
        car = state.car
        fx, fy = car.point_ahead(WHEELBASE_M)
        front = state.road.project(fx, fy, car.yaw_rad, state.road_point.index)
        speed = max(car.speed_mps, 0.0)
        cross_track = math.atan2(
            STANLEY_GAIN_PER_S * front.lateral_m, speed + STANLEY_SOFTENING_MPS
        )
        feed_forward = math.atan(WHEELBASE_M * state.road.curvature_ahead(front.s_m, 0.5))
        return -front.heading_error_rad - cross_track + feed_forward
