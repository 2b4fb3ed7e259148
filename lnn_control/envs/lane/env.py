"""`lnn_control/LaneKeeping-v0`: a thin gymnasium.Env over the racecar Sim and the lane Task.

Observation: the forward camera, uint8 RGB (H, W, 3) (default 64 x 160), rendered once per
control step (20 Hz). Action: float32 (1,) steering in [-1, 1] (x `MAX_STEER_RAD`, positive
left); with `speed_action=True` a second component in [-1, 1] sets the speed to
target x (1 + a). Out-of-range values are clipped; a wrong shape or a non-finite value raises
`ValueError`. Speed is held by the wheel motors at the scenario's target speed.

`terminated` on lane departure or flip (a crash) and at the end of the road; `truncated` only at the
time limit. With `intervention=True` (the evaluation protocol) a departure or flip does not end the
episode: it counts an intervention, the car is put back at rest on the lane centre at the same arc
length facing along the road, and driving goes on.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.lane.road import Road, RoadPoint
from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START, LaneScenario
from lnn_control.envs.lane.sim import (
    CONTROL_HZ,
    MAX_STEER_RAD,
    WHEELBASE_M,
    CarState,
    RacecarSim,
    depth_buffer_to_metres,
)
from lnn_control.envs.lane.task import LaneKeepingTask

Obs = NDArray[np.uint8]
Action = NDArray[np.float32]


@dataclass(frozen=True)
class PrivilegedState:
    """What experts and metrics may read: the car (rear axle pose, speed), the road, the car
    centre's projection on the road, and the target speed (m/s)."""

    car: CarState
    road: Road
    road_point: RoadPoint
    target_speed_mps: float


class LaneKeepingEnv(gym.Env[Obs, Action]):
    """Lane keeping with a 1/10-scale racecar on a procedurally generated road.

    Args:
        scenario: a `LaneScenario`, a mapping of its fields, or None for the default.
        render_camera: False skips building road visuals and rendering (obs is then all zeros);
            for fast expert-only runs.
        depth_in_info: put the camera depth image (float32 (H, W), metres) in info["depth_m"].
        intervention: run under the intervention protocol (see module docstring).
        speed_action: add a second action component for speed.
        render_mode: None or "rgb_array" (`render()` returns the last camera frame).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": CONTROL_HZ}  # noqa: RUF012

    def __init__(
        self,
        scenario: LaneScenario | dict[str, Any] | None = None,
        *,
        render_camera: bool = True,
        depth_in_info: bool = False,
        intervention: bool = False,
        speed_action: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if scenario is None:
            scenario = LaneScenario()
        elif not isinstance(scenario, LaneScenario):
            scenario = LaneScenario.from_mapping(scenario)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if depth_in_info and not render_camera:
            raise ValueError("depth_in_info=True needs render_camera=True")
        self.scenario = scenario
        self.render_mode = render_mode
        self.depth_in_info = depth_in_info
        self.intervention = intervention
        self.speed_action = speed_action
        shape = (scenario.image_height, scenario.image_width, 3)
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)
        n_act = 2 if speed_action else 1
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
        self.task = LaneKeepingTask(scenario)
        self.sim = RacecarSim(render_camera=render_camera)
        self._blank = np.zeros(shape, np.uint8)
        self._frame = self._blank
        self._depth = np.zeros(shape[:2], np.float32)  # raw depth buffer of the last frame
        self._pending: collections.deque[tuple[float, float]] = collections.deque()
        self._point = RoadPoint(0.0, 0.0, 0.0, 0.0, 0)
        self._steps = 0
        self._interventions = 0
        self._seed = -1

    # ----- gymnasium API -----
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Obs, dict[str, Any]]:
        """Start an episode on the road of `seed`.

        Without a seed, the episode seed is drawn from the env's generator within the training
        range [0, HELD_OUT_SEED_START); info["seed"] always says which seed was used.
        """
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, HELD_OUT_SEED_START))
        self._seed = int(seed)
        road = self.task.initialize_episode(self._seed)
        self.sim.build(self.scenario, road, self.task.rng)
        self._clear_pending()
        self._steps = 0
        self._interventions = 0
        car = self.sim.car_state()
        self._point = self._project(car, hint_index=0)
        self._observe()
        return self._frame, self._info(car, departure=False, flipped=False, end=False, crash=False)

    def step(self, action: Action) -> tuple[Obs, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply `action` (after `latency_steps`), advance 1/20 s, render, score."""
        steer, speed = self._parse_action(action)
        self._pending.append((steer, speed))
        steer, speed = self._pending.popleft()
        self.sim.command(steer, speed)
        self.sim.step()
        self._steps += 1
        previous = self._point
        car = self.sim.car_state()
        self._point = self._project(car, previous.index)
        outcome = self.task.assess(previous, self._point, car)
        terminated = outcome.end_of_road or (outcome.crashed and not self.intervention)
        if outcome.crashed and self.intervention:
            car = self._intervene()
        truncated = not terminated and self._steps >= self.task.max_steps()
        self._observe()
        info = self._info(
            car, outcome.departure, outcome.flipped, outcome.end_of_road, outcome.crashed
        )
        return self._frame, outcome.reward, terminated, truncated, info

    def render(self) -> Obs | None:
        """The last camera frame (uint8 (H, W, 3)) in "rgb_array" mode, else None."""
        return self._frame.copy() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        """Release the PyBullet client."""
        self.sim.close()
        super().close()

    # ----- named accessors -----
    def lateral_offset(self) -> float:
        """Signed offset of the car centre from the lane centre, positive left (m)."""
        return self._point.lateral_m

    def heading_error(self) -> float:
        """Car yaw minus road heading, in (-pi, pi] (rad)."""
        return self._point.heading_error_rad

    def distance_along_road(self) -> float:
        """Arc length of the car centre's projection on the lane centre line (m)."""
        return self._point.s_m

    def depth_m(self) -> NDArray[np.float32]:
        """Depth image of the last rendered frame, float32 (H, W), metres along the view axis."""
        return depth_buffer_to_metres(self._depth)

    def privileged_state(self) -> PrivilegedState:
        """State for experts (not for the policy): car, road and the car's road point."""
        car = self.sim.car_state()
        return PrivilegedState(car, self.task.road, self._point, self.scenario.target_speed_mps)

    @property
    def interventions(self) -> int:
        """Interventions so far this episode (always 0 unless `intervention=True`)."""
        return self._interventions

    # ----- internals -----
    def _parse_action(self, action: Action) -> tuple[float, float]:
        arr = np.asarray(action, dtype=np.float64)
        expected = self.action_space.shape
        if arr.shape != expected:
            parts = "steering, speed" if self.speed_action else "steering"
            raise ValueError(
                f"action must have shape {expected} ({parts} in [-1, 1]), got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"action must be finite values in [-1, 1], got {arr.tolist()}")
        arr = np.clip(arr, -1.0, 1.0)
        s = self.scenario
        steer = s.steering_gain * float(arr[0]) * MAX_STEER_RAD + s.steering_bias_rad
        speed = s.target_speed_mps * (1.0 + float(arr[1]) if self.speed_action else 1.0)
        return steer, speed

    def _clear_pending(self) -> None:
        """Fill the actuation-latency queue with neutral commands (straight, target speed)."""
        neutral = (self.scenario.steering_bias_rad, self.scenario.target_speed_mps)
        self._pending = collections.deque([neutral] * self.scenario.latency_steps)

    def _project(self, car: CarState, hint_index: int) -> RoadPoint:
        x, y = car.point_ahead(0.5 * WHEELBASE_M)
        return self.task.road.project(x, y, car.yaw_rad, hint_index)

    def _intervene(self) -> CarState:
        """Count an intervention; put the car at rest on the lane centre at the same arc length."""
        self._interventions += 1
        s_m = self._point.s_m
        x, y, heading = self.task.road.pose_at(s_m)
        rear_x = x - 0.5 * WHEELBASE_M * np.cos(heading)
        rear_y = y - 0.5 * WHEELBASE_M * np.sin(heading)
        self.sim.place_car(float(rear_x), float(rear_y), heading)
        self._clear_pending()
        car = self.sim.car_state()
        self._point = self._project(car, self._point.index)
        return car

    def _observe(self) -> None:
        if self.sim.render_camera:
            self._frame, self._depth = self.sim.render()
        else:
            self._frame = self._blank

    def _info(
        self, car: CarState, departure: bool, flipped: bool, end: bool, crash: bool
    ) -> dict[str, Any]:
        point = self._point
        info: dict[str, Any] = {
            "lateral_offset_m": point.lateral_m,
            "heading_error_rad": point.heading_error_rad,
            "curvature_ahead": point.curvature_ahead_per_m,
            "lane_departure": departure,
            "flipped": flipped,
            "end_of_road": end,
            "distance_m": point.s_m,
            "speed_mps": car.speed_mps,
            "interventions": self._interventions,
            "intervened": crash and self.intervention,
            "seed": self._seed,
        }
        if self.depth_in_info:
            info["depth_m"] = self.depth_m()
        return info
