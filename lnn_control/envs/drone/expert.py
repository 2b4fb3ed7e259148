"""A privileged drone-navigation expert: guidance to the target with look-ahead obstacle avoidance.

The expert reads `DroneNavEnv.privileged_state()` (never the image) and returns a normalised
action in [-1, 1]^4 (vx, vy, vz, yaw rate; see `DroneNavEnv`). Each control step:

1. goal heading: the horizontal bearing from the drone to the target;
2. look-ahead steering: candidate headings at `CANDIDATE_STEP_RAD` steps up to
   `MAX_DEVIATION_RAD` either side of the goal heading are checked against every obstacle along a
   ray of `min(LOOKAHEAD_M, horizontal distance to target)`; a ray is blocked when it passes
   closer than (obstacle bounding radius + drone radius + `SAFETY_MARGIN_M`) to an obstacle
   centre while still approaching it. The expert picks the free heading with the lowest cost
   |deviation from goal| + `HYSTERESIS` |change from last step's heading|; if none is free, the
   heading with the most clearance, at `BLOCKED_SPEED_FACTOR` of the speed;
3. speed along that heading: min(max speed, `APPROACH_GAIN_PER_S` x horizontal distance), times
   max(0, cos(yaw error)) so the drone turns toward where it flies (the camera looks ahead);
4. yaw rate `YAW_GAIN_PER_S` x yaw error toward the chosen heading; climb rate
   `CLIMB_GAIN_PER_S` x height error; all scaled to the action limits and clipped to [-1, 1].

For imitation learning with noise injection `act(state)` returns `ExpertAction(executed, label)`
like the lane-keeping experts: train on `label`, step the env with `executed`.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.drone.env import DroneNavEnv, DronePrivilegedState
from lnn_control.envs.drone.quadrotor import (
    BODY_RADIUS_M,
    MAX_HORIZONTAL_SPEED_MPS,
    MAX_VERTICAL_SPEED_MPS,
    MAX_YAW_RATE_RAD_S,
)
from lnn_control.envs.drone.scenario import HELD_OUT_SEED_START, DroneScenario

LOOKAHEAD_M = 1.5
SAFETY_MARGIN_M = 0.15
CANDIDATE_STEP_RAD = math.radians(7.5)
MAX_DEVIATION_RAD = math.radians(120.0)
HYSTERESIS = 0.5
BLOCKED_SPEED_FACTOR = 0.3
APPROACH_GAIN_PER_S = 0.8
YAW_GAIN_PER_S = 2.0
CLIMB_GAIN_PER_S = 1.5

_OFFSETS = np.arange(
    -MAX_DEVIATION_RAD, MAX_DEVIATION_RAD + 0.5 * CANDIDATE_STEP_RAD, CANDIDATE_STEP_RAD
)


class ExpertAction(NamedTuple):
    """executed: the (noisy) action to step the env with; label: the clean expert action.

    Both float32 arrays of shape (4,) in [-1, 1].
    """

    executed: NDArray[np.float32]
    label: NDArray[np.float32]


def _wrap(angle: float) -> float:
    """Angle wrapped to [-pi, pi) (rad)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class DroneExpert:
    """Guidance law with look-ahead obstacle avoidance (see the module docstring).

    Args:
        noise_std: std of the executed-action noise (action units, [0, 1]).
        noise_correlation: AR(1) coefficient in [0, 1) of that noise (0: white).
    """

    def __init__(self, noise_std: float = 0.0, noise_correlation: float = 0.0) -> None:
        if not 0.0 <= noise_std <= 1.0:
            raise ValueError(f"noise_std must be in [0, 1], got {noise_std!r}")
        if not 0.0 <= noise_correlation < 1.0:
            raise ValueError(f"noise_correlation must be in [0, 1), got {noise_correlation!r}")
        self.noise_std = noise_std
        self.noise_correlation = noise_correlation
        self.rng = np.random.default_rng(0)
        self._noise = np.zeros(4)
        self._heading: float | None = None

    def reset(self, seed: int | None = None) -> None:
        """Episode start: reseed the noise generator, clear the noise and heading memory."""
        self.rng = np.random.default_rng(seed)
        self._noise = np.zeros(4)
        self._heading = None

    def act(self, state: DronePrivilegedState) -> ExpertAction:
        """The executed (noisy) and clean actions for `state`."""
        label = self.clean_action(state)
        executed = label
        if self.noise_std > 0.0:
            rho = self.noise_correlation
            innovation = self.rng.normal(0.0, self.noise_std * math.sqrt(1.0 - rho**2), size=4)
            self._noise = rho * self._noise + innovation
            executed = np.clip(label + self._noise, -1.0, 1.0).astype(np.float32)
        return ExpertAction(executed, label)

    def clean_action(self, state: DronePrivilegedState) -> NDArray[np.float32]:
        """The clean action (float32 (4,), in [-1, 1]) for `state`; updates the heading memory."""
        drone = state.drone
        x, y, z = drone.position_m
        tx, ty, tz = state.target_position_m
        horizontal = math.hypot(tx - x, ty - y)
        goal = math.atan2(ty - y, tx - x)
        heading, free = self._choose_heading(state, goal, horizontal)
        self._heading = heading
        yaw_error = _wrap(heading - drone.yaw_rad)
        speed = min(MAX_HORIZONTAL_SPEED_MPS, APPROACH_GAIN_PER_S * horizontal)
        speed *= max(0.0, math.cos(yaw_error)) * (1.0 if free else BLOCKED_SPEED_FACTOR)
        vx_world, vy_world = speed * math.cos(heading), speed * math.sin(heading)
        cy, sy = math.cos(drone.yaw_rad), math.sin(drone.yaw_rad)
        action = np.array(
            [
                (cy * vx_world + sy * vy_world) / MAX_HORIZONTAL_SPEED_MPS,
                (-sy * vx_world + cy * vy_world) / MAX_HORIZONTAL_SPEED_MPS,
                CLIMB_GAIN_PER_S * (tz - z) / MAX_VERTICAL_SPEED_MPS,
                YAW_GAIN_PER_S * yaw_error / MAX_YAW_RATE_RAD_S,
            ]
        )
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def _choose_heading(
        self, state: DronePrivilegedState, goal: float, horizontal_m: float
    ) -> tuple[float, bool]:
        """(heading in rad, whether its ray is free) by the look-ahead rule."""
        if not state.obstacles:
            return goal, True
        x, y, _ = state.drone.position_m
        centres = np.array([(o.x_m - x, o.y_m - y) for o in state.obstacles])  # (N, 2)
        margins = np.array(
            [o.bounding_radius_m + BODY_RADIUS_M + SAFETY_MARGIN_M for o in state.obstacles]
        )
        headings = goal + _OFFSETS  # (K,)
        directions = np.stack([np.cos(headings), np.sin(headings)], axis=1)  # (K, 2)
        length = min(LOOKAHEAD_M, horizontal_m)
        along = np.clip(directions @ centres.T, 0.0, length)  # (K, N)
        closest = centres[None, :, :] - along[:, :, None] * directions[:, None, :]
        distance = np.hypot(closest[..., 0], closest[..., 1])  # (K, N)
        blocked = ((distance < margins) & (along > 0.0)).any(axis=1)
        previous = goal if self._heading is None else self._heading
        change = np.abs((headings - previous + math.pi) % (2.0 * math.pi) - math.pi)
        cost = np.abs(_OFFSETS) + HYSTERESIS * change
        if not blocked.all():
            k = int(np.argmin(np.where(blocked, np.inf, cost)))
            return float(headings[k]), True
        clearance = (distance - margins).min(axis=1)
        return float(headings[int(np.argmax(clearance))]), False


def evaluate_expert(
    seeds: range, scenario: DroneScenario | None = None, noise_std: float = 0.0
) -> dict[str, float]:
    """Fly the expert (camera off) on `seeds`; fractions of episodes ending in success, collision,
    out of arena and time-out, and the mean time to the target over successes (s)."""
    env = DroneNavEnv(scenario, render_camera=False)
    expert = DroneExpert(noise_std=noise_std)
    counts = {"success": 0, "collision": 0, "out_of_arena": 0, "timeout": 0}
    times: list[float] = []
    try:
        for seed in seeds:
            env.reset(seed=seed)
            expert.reset(seed)
            terminated = truncated = False
            info: dict[str, Any] = {}
            while not (terminated or truncated):
                action = expert.act(env.privileged_state()).executed
                _, _, terminated, truncated, info = env.step(action)
            outcome = next(
                (k for k in ("success", "collision", "out_of_arena") if info[k]), "timeout"
            )
            counts[outcome] += 1
            if outcome == "success":
                times.append(float(info["elapsed_s"]))
    finally:
        env.close()
    n = max(len(seeds), 1)
    result = {f"{k}_rate": v / n for k, v in counts.items()}
    result["mean_time_to_target_s"] = float(np.mean(times)) if times else float("nan")
    result["episodes"] = float(len(seeds))
    return result


def main(argv: list[str] | None = None) -> None:
    """`python -m lnn_control.envs.drone.expert --first-seed 1000000 --episodes 20`: the
    expert's success rate on consecutive seeds of the default scenario (or `--scenario-json`)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--first-seed", type=int, default=HELD_OUT_SEED_START)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--noise-std", type=float, default=0.0)
    parser.add_argument("--scenario-json", default="{}", help='e.g. \'{"scenery": "urban"}\'')
    args = parser.parse_args(argv)
    scenario = DroneScenario.from_mapping(json.loads(args.scenario_json))
    seeds = range(args.first_seed, args.first_seed + args.episodes)
    result = evaluate_expert(seeds, scenario, args.noise_std)
    print(json.dumps({"seeds": [seeds.start, seeds.stop - 1], **result}, indent=2))


if __name__ == "__main__":
    main()
