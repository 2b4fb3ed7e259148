"""`lnn_control/DroneNav-v0`: fly a quadrotor to a red target among obstacles.

Three parts, as in lane keeping: `DroneSim` (in `sim`; owns a PyBullet DIRECT client: scene,
drone, physics substeps, camera), `DroneNavTask` (owns the episode's random generator: layout, wind,
reward, termination) and `DroneNavEnv`, a thin gymnasium.Env.

Observation: the forward camera, uint8 RGB (H, W, 3) (default 64 x 96), rendered with TinyRenderer
once per control step. Action: float32 (4,) in [-1, 1]: forward and left speed in the heading frame
(x `MAX_HORIZONTAL_SPEED_MPS`), climb rate (x `MAX_VERTICAL_SPEED_MPS`) and yaw rate
(x `MAX_YAW_RATE_RAD_S`, positive left); out-of-range values are clipped, a wrong shape or a
non-finite value raises `ValueError`. The cascaded controller in `quadrotor` tracks the command
at 240 Hz.

`terminated` on success (within `success_radius_m` of the target centre, slower than
`success_speed_mps`), collision (any contact with the ground or an obstacle) or leaving the arena;
`truncated` only at the time limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.common import HELD_OUT_SEED_START
from lnn_control.envs.drone.quadrotor import (
    MAX_HORIZONTAL_SPEED_MPS,
    DroneState,
    VelocityCommand,
    clip_unit,
)
from lnn_control.envs.drone.scenario import DroneScenario
from lnn_control.envs.drone.scene import Layout, Obstacle, sample_layout
from lnn_control.envs.drone.sim import DroneSim, Obs

Action = NDArray[np.float32]
Vec3 = tuple[float, float, float]

#: Gust time constant of the Ornstein-Uhlenbeck wind (s).
GUST_TIME_CONSTANT_S = 1.0

# ----- reward -----
#: Per-step time penalty, and weight on the squared norm of the normalised action.
TIME_PENALTY = 0.01
ACTION_PENALTY = 0.01
SUCCESS_REWARD = 10.0
CRASH_REWARD = -10.0


# =====================================================================================
# Task
# =====================================================================================
@dataclass(frozen=True)
class Assessment:
    """What the task makes of one control step: reward (see `DroneNavTask.assess`), distance to
    the target centre (m), and the three ways an episode ends before the time limit."""

    reward: float
    distance_m: float
    success: bool
    collision: bool
    out_of_arena: bool

    @property
    def done(self) -> bool:
        """Success or failure (collision, out of arena): `terminated`, never a time-out."""
        return self.success or self.collision or self.out_of_arena


class DroneNavTask:
    """Seeds episodes (layout and wind), scores steps and decides termination."""

    def __init__(self, scenario: DroneScenario) -> None:
        self.scenario = scenario
        self.rng = np.random.default_rng(0)
        self.layout = sample_layout(scenario, np.random.default_rng(0))
        self._gust = (0.0, 0.0)

    def initialize_episode(self, seed: int) -> Layout:
        """Create the episode's generator from `seed`; draw the layout and the initial gust."""
        self.rng = np.random.default_rng(seed)
        self.layout = sample_layout(self.scenario, self.rng)
        std = self.scenario.wind_gust_std_mps
        gust = self.rng.normal(0.0, 1.0, size=2) * std
        self._gust = (float(gust[0]), float(gust[1]))
        return self.layout

    def wind_mps(self) -> Vec3:
        """Current wind velocity (world frame, horizontal; m/s): steady part plus gust."""
        s = self.scenario
        direction = self.layout.wind_direction_rad
        return (
            s.wind_mean_mps * math.cos(direction) + self._gust[0],
            s.wind_mean_mps * math.sin(direction) + self._gust[1],
            0.0,
        )

    def advance_wind(self) -> None:
        """One control step of the gust process (Ornstein-Uhlenbeck, `GUST_TIME_CONSTANT_S`)."""
        std = self.scenario.wind_gust_std_mps
        if std == 0.0:
            return
        decay = math.exp(-self.scenario.control_dt_s / GUST_TIME_CONSTANT_S)
        noise = self.rng.normal(0.0, std * math.sqrt(1.0 - decay**2), size=2)
        self._gust = (
            decay * self._gust[0] + float(noise[0]),
            decay * self._gust[1] + float(noise[1]),
        )

    def distance_to_target(self, state: DroneState) -> float:
        """Euclidean distance from the drone's centre to the target centre (m)."""
        t = self.layout.target_position_m
        return math.dist(state.position_m, t)

    def assess(
        self,
        previous_distance_m: float,
        state: DroneState,
        collided: bool,
        action: NDArray[np.floating[Any]],
    ) -> Assessment:
        """Score one control step.

        reward = progress - TIME_PENALTY - ACTION_PENALTY |a|^2 (+ SUCCESS_REWARD on success,
        + CRASH_REWARD on collision or leaving the arena), where progress is the decrease of the
        distance to the target over the distance flown in one step at full horizontal speed
        (about 1 per step when flying straight at the target at full speed).
        """
        s = self.scenario
        distance = self.distance_to_target(state)
        progress = (previous_distance_m - distance) / (MAX_HORIZONTAL_SPEED_MPS * s.control_dt_s)
        x, y, z = state.position_m
        half = s.arena_half_size_m
        out = abs(x) > half or abs(y) > half or z > s.ceiling_m
        success = (
            not collided and distance < s.success_radius_m and state.speed_mps < s.success_speed_mps
        )
        reward = progress - TIME_PENALTY - ACTION_PENALTY * float(np.dot(action, action))
        if success:
            reward += SUCCESS_REWARD
        if collided or out:
            reward += CRASH_REWARD
        return Assessment(float(reward), distance, success, collided, out)


# =====================================================================================
# Env
# =====================================================================================
@dataclass(frozen=True)
class DronePrivilegedState:
    """What experts and metrics may read (never the policy): the drone's state, the target centre
    (m), the obstacles, the arena bounds (m) and the success criteria."""

    drone: DroneState
    target_position_m: Vec3
    obstacles: tuple[Obstacle, ...]
    arena_half_size_m: float
    ceiling_m: float
    success_radius_m: float
    success_speed_mps: float


class DroneNavEnv(gym.Env[Obs, Action]):
    """Drone navigation to a visual target among obstacles (see the module docstring).

    Args:
        scenario: a `DroneScenario`, a mapping of its fields, or None for the default.
        render_camera: False skips scene visuals and rendering (obs is then all zeros); for fast
            expert-only runs. Physics and randomness are identical either way.
        render_mode: None or "rgb_array" (`render()` returns the last camera frame).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 20}  # noqa: RUF012

    def __init__(
        self,
        scenario: DroneScenario | dict[str, Any] | None = None,
        *,
        render_camera: bool = True,
        render_mode: str | None = None,
    ) -> None:
        if scenario is None:
            scenario = DroneScenario()
        elif not isinstance(scenario, DroneScenario):
            scenario = DroneScenario.from_mapping(scenario)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.scenario = scenario
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": scenario.control_hz}
        shape = (scenario.image_height, scenario.image_width, 3)
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.task = DroneNavTask(scenario)
        self.sim = DroneSim(render_camera=render_camera)
        self._blank = np.zeros(shape, np.uint8)
        self._frame = self._blank
        self._distance = 0.0
        self._steps = 0
        self._seed = -1

    # ----- gymnasium API -----
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Obs, dict[str, Any]]:
        """Start an episode in the arena of `seed`.

        Without a seed, the episode seed is drawn from the env's generator within the training
        range [0, HELD_OUT_SEED_START); info["seed"] always says which seed was used.
        """
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, HELD_OUT_SEED_START))
        self._seed = int(seed)
        layout = self.task.initialize_episode(self._seed)
        self.sim.build(self.scenario, layout)
        self._steps = 0
        state = self.sim.drone_state()
        self._distance = self.task.distance_to_target(state)
        self._observe()
        start = Assessment(0.0, self._distance, False, False, False)
        return self._frame, self._info(state, start)

    def step(self, action: Action) -> tuple[Obs, SupportsFloat, bool, bool, dict[str, Any]]:
        """Track `action` for one control period (1 / control_hz s), render, score."""
        values = self._parse_action(action)
        command = VelocityCommand.from_action(values)
        self.task.advance_wind()
        collided, state = self.sim.step(command, self.task.wind_mps())
        self._steps += 1
        outcome = self.task.assess(self._distance, state, collided, np.array(values))
        self._distance = outcome.distance_m
        terminated = outcome.done
        truncated = not terminated and self._steps >= self.scenario.max_steps
        self._observe(state)
        return self._frame, outcome.reward, terminated, truncated, self._info(state, outcome)

    def render(self) -> Obs | None:
        """The last camera frame (uint8 (H, W, 3)) in "rgb_array" mode, else None."""
        return self._frame.copy() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        """Release the PyBullet client."""
        self.sim.close()
        super().close()

    # ----- named accessors -----
    def distance_to_target(self) -> float:
        """Distance from the drone's centre to the target centre after the last step (m)."""
        return self._distance

    def target_position(self) -> Vec3:
        """World position of the target sphere's centre (m)."""
        return self.task.layout.target_position_m

    def privileged_state(self) -> DronePrivilegedState:
        """State for experts (not for the policy): drone, target, obstacles, arena bounds."""
        s = self.scenario
        return DronePrivilegedState(
            self.sim.drone_state(),
            self.task.layout.target_position_m,
            self.task.layout.obstacles,
            s.arena_half_size_m,
            s.ceiling_m,
            s.success_radius_m,
            s.success_speed_mps,
        )

    # ----- internals -----
    def _parse_action(self, action: Action) -> tuple[float, float, float, float]:
        """The action as four floats clipped to [-1, 1]; ValueError on a wrong shape or a
        non-finite value."""
        arr = np.asarray(action, dtype=np.float64)
        if arr.shape != (4,):
            raise ValueError(
                f"action must have shape (4,) (vx, vy, vz, yaw rate in [-1, 1]), "
                f"got shape {arr.shape}"
            )
        a, b, c, d = arr.tolist()
        if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c) and math.isfinite(d)):
            raise ValueError(f"action must be finite values in [-1, 1], got {[a, b, c, d]}")
        return clip_unit(a), clip_unit(b), clip_unit(c), clip_unit(d)

    def _observe(self, state: DroneState | None = None) -> None:
        self._frame = self.sim.render(state) if self.sim.render_camera else self._blank

    def _info(self, state: DroneState, outcome: Assessment) -> dict[str, Any]:
        return {
            "distance_to_target_m": outcome.distance_m,
            "success": outcome.success,
            "collision": outcome.collision,
            "out_of_arena": outcome.out_of_arena,
            "position_m": state.position_m,
            "velocity_mps": state.velocity_mps,
            "speed_mps": state.speed_mps,
            "yaw_rad": state.yaw_rad,
            "target_position_m": self.task.layout.target_position_m,
            "wind_mps": self.task.wind_mps(),
            "elapsed_s": self._steps * self.scenario.control_dt_s,
            "seed": self._seed,
        }
