"""The lane-keeping Task: episode init (seed -> road), reward and termination.

The task owns the episode's `numpy.random.Generator`, created from the seed passed to
`reset(seed)`; nothing else draws random numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lnn_control.envs.lane.road import Road, RoadPoint, generate_road
from lnn_control.envs.lane.scenario import LaneScenario
from lnn_control.envs.lane.sim import CONTROL_DT_S, CarState

#: Penalty weight on (lateral offset / half lane width)^2, per step.
LATERAL_PENALTY = 0.5
#: Penalty weight on (heading error in rad)^2, per step (1/rad^2).
HEADING_PENALTY_PER_RAD2 = 1.0
#: One-off reward when an episode ends in a crash (departure or flip).
CRASH_REWARD = -10.0
#: The car counts as flipped once its up axis tilts more than this from vertical (rad).
FLIP_TILT_RAD = math.radians(60.0)


@dataclass(frozen=True)
class Assessment:
    """What the task makes of one control step.

    reward: progress (1 per step at target speed on the centre line) minus lateral and heading
    penalties; departure: the car centre is more than half a lane from the lane centre; flipped:
    the car tilted past `FLIP_TILT_RAD`; end_of_road: the car reached `road_length_m`.
    """

    reward: float
    departure: bool
    flipped: bool
    end_of_road: bool

    @property
    def crashed(self) -> bool:
        """Lane departure or flip: a failure, never a time-out."""
        return self.departure or self.flipped


class LaneKeepingTask:
    """Seeds episodes, scores steps and decides termination for one `LaneScenario`."""

    def __init__(self, scenario: LaneScenario) -> None:
        self.scenario = scenario
        self.rng = np.random.default_rng(0)
        self.road = generate_road(scenario, np.random.default_rng(0))

    def initialize_episode(self, seed: int) -> Road:
        """Create the episode's generator from `seed` and draw the road from it."""
        self.rng = np.random.default_rng(seed)
        self.road = generate_road(self.scenario, self.rng)
        return self.road

    def assess(self, previous: RoadPoint, current: RoadPoint, car: CarState) -> Assessment:
        """Score the step that took the car from `previous` to `current` (road points)."""
        s = self.scenario
        nominal_step_m = s.target_speed_mps * CONTROL_DT_S
        progress = (current.s_m - previous.s_m) / nominal_step_m
        lateral = current.lateral_m / s.lane_half_width_m
        reward = (
            progress
            - LATERAL_PENALTY * lateral**2
            - HEADING_PENALTY_PER_RAD2 * current.heading_error_rad**2
        )
        departure = abs(current.lateral_m) > s.lane_half_width_m
        flipped = car.up_z < math.cos(FLIP_TILT_RAD)
        if departure or flipped:
            reward += CRASH_REWARD
        end = current.s_m >= s.road_length_m
        return Assessment(float(reward), departure, flipped, end)

    def max_steps(self) -> int:
        """Control steps in the episode time limit."""
        return round(self.scenario.time_limit_s / CONTROL_DT_S)
