"""Distribution shifts of the lane-keeping world: not image wrappers but `LaneScenario` overrides
(road look, geometry, distractors, camera pose, dynamics, actuation, speed), severity 1-5.

    from lnn_control.envs.lane.shifts import shift_scenario
    scenario = shift_scenario("friction", 3, base={})  # a dict for LaneScenario.from_mapping
    env = gym.make("lnn_control/LaneKeeping-v0", scenario=scenario)

`SCENARIO_SHIFTS[name](severity)` gives the overrides relative to the default scenario; every one
is accepted by `LaneScenario.from_mapping` at every severity. `shift_scenario` merges them into a
base mapping and refits the fields that depend on others (curvature limit vs lane width, road
length vs speed x time limit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lnn_control.envs.lane.scenario import ROAD_LENGTH_MARGIN_M, LaneScenario
from lnn_control.envs.perturb.base import check_severity

Overrides = dict[str, Any]
RGB = tuple[float, float, float]

#: Road look by severity: (asphalt, edge line, centre line, ground, dashed centre). From darker
#: asphalt (1), white centre line (2), solid centre (3), to pale concrete with faded, low-contrast
#: markings and dry ground (4-5).
ROAD_LOOKS: dict[int, tuple[RGB, RGB, RGB, RGB, bool]] = {
    1: ((0.17, 0.17, 0.19), (0.95, 0.95, 0.95), (0.95, 0.8, 0.1), (0.22, 0.45, 0.18), True),
    2: ((0.38, 0.37, 0.35), (0.95, 0.95, 0.95), (0.92, 0.92, 0.92), (0.3, 0.45, 0.2), True),
    3: ((0.48, 0.46, 0.43), (0.92, 0.92, 0.9), (0.92, 0.92, 0.92), (0.4, 0.45, 0.25), False),
    4: ((0.58, 0.56, 0.53), (0.85, 0.85, 0.8), (0.88, 0.88, 0.86), (0.48, 0.44, 0.3), False),
    5: ((0.66, 0.64, 0.6), (0.8, 0.78, 0.72), (0.8, 0.75, 0.55), (0.6, 0.55, 0.45), False),
}
#: Lane width (m) by severity (default 0.8).
LANE_WIDTH_M = {1: 0.72, 2: 0.65, 3: 0.58, 4: 0.52, 5: 0.46}
#: Arc curvature range (1/m) by severity (default (0.1, 0.4); the limit is 0.8 / (1.5 lane
#: width) = 0.667 at the default 0.8 m lane).
CURVATURE_RANGE_PER_M = {
    1: (0.15, 0.45),
    2: (0.2, 0.5),
    3: (0.25, 0.55),
    4: (0.3, 0.6),
    5: (0.35, 0.66),
}
#: Roadside objects per metre (default 0.15, mixed kinds).
DISTRACTOR_DENSITY_PER_M = {1: 0.3, 2: 0.5, 3: 0.8, 4: 1.2, 5: 2.0}
#: Camera mount raised by (m) (default mount 0.22 m up).
CAMERA_HEIGHT_OFFSET_M = {1: 0.03, 2: 0.06, 3: 0.1, 4: 0.15, 5: 0.22}
#: Camera pitched up by (rad) (default 0.35 rad down): less road in view.
CAMERA_PITCH_OFFSET_RAD = {1: 0.04, 2: 0.08, 3: 0.12, 4: 0.17, 5: 0.23}
#: Camera yawed left by (rad).
CAMERA_YAW_OFFSET_RAD = {1: 0.03, 2: 0.06, 3: 0.1, 4: 0.15, 5: 0.2}
#: Tyre and ground lateral friction coefficient (default 1.0): wet to icy.
FRICTION = {1: 0.7, 2: 0.5, 3: 0.35, 4: 0.25, 5: 0.15}
#: Link mass multiplier (default 1.0): payload.
MASS_SCALE = {1: 1.3, 2: 1.6, 3: 2.0, 4: 2.5, 5: 3.0}
#: Executed / commanded steering angle (default 1.0): a weak servo.
STEERING_GAIN = {1: 0.85, 2: 0.72, 3: 0.6, 4: 0.5, 5: 0.4}
#: Steering trim error (rad), added to every executed angle (default 0).
STEERING_BIAS_RAD = {1: 0.01, 2: 0.02, 3: 0.04, 4: 0.06, 5: 0.09}
#: Control steps between an action and its execution (x 50 ms; default 0).
ACTUATION_LATENCY_STEPS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6}
#: Held speed (m/s) (default 2.0).
TARGET_SPEED_MPS = {1: 2.4, 2: 2.8, 3: 3.2, 4: 3.6, 5: 4.0}

_DEFAULT = LaneScenario()


def _road_look(severity: int) -> Overrides:
    asphalt, edge, centre, ground, dashed = ROAD_LOOKS[severity]
    return {
        "asphalt_rgb": asphalt,
        "edge_line_rgb": edge,
        "centre_line_rgb": centre,
        "ground_rgb": ground,
        "dashed_centre": dashed,
    }


def _speed(severity: int) -> Overrides:
    speed = TARGET_SPEED_MPS[severity]
    needed = speed * _DEFAULT.time_limit_s + ROAD_LENGTH_MARGIN_M
    return {"target_speed_mps": speed, "road_length_m": max(_DEFAULT.road_length_m, needed)}


def _field(name: str, table: Mapping[int, Any]) -> Callable[[int], Overrides]:
    def overrides(severity: int) -> Overrides:
        return {name: table[check_severity(severity)]}

    overrides.__name__ = f"shift_{name}"
    return overrides


def _checked(fn: Callable[[int], Overrides]) -> Callable[[int], Overrides]:
    def overrides(severity: int) -> Overrides:
        return fn(check_severity(severity))

    overrides.__name__ = fn.__name__
    return overrides


#: name -> callable(severity) -> LaneScenario overrides (relative to the default scenario).
SCENARIO_SHIFTS: dict[str, Callable[[int], Overrides]] = {
    "road_look": _checked(_road_look),
    "lane_width": _field("lane_width_m", LANE_WIDTH_M),
    "curvature": _field("curvature_range_per_m", CURVATURE_RANGE_PER_M),
    "distractors": lambda s: {
        "distractor_kind": "mixed",
        "distractor_density_per_m": DISTRACTOR_DENSITY_PER_M[check_severity(s)],
    },
    "camera_height": _field("camera_height_offset_m", CAMERA_HEIGHT_OFFSET_M),
    "camera_pitch": _field("camera_pitch_offset_rad", CAMERA_PITCH_OFFSET_RAD),
    "camera_yaw": _field("camera_yaw_offset_rad", CAMERA_YAW_OFFSET_RAD),
    "friction": _field("friction", FRICTION),
    "mass": _field("mass_scale", MASS_SCALE),
    "steering_gain": _field("steering_gain", STEERING_GAIN),
    "steering_bias": _field("steering_bias_rad", STEERING_BIAS_RAD),
    "actuation_latency": _field("latency_steps", ACTUATION_LATENCY_STEPS),
    "speed": _checked(_speed),
}


def shift_scenario(name: str, severity: int, base: Mapping[str, Any] | None = None) -> Overrides:
    """`base` (a mapping of LaneScenario fields; None or {} for the default) with shift `name`
    at `severity` applied, validated by `LaneScenario.from_mapping`.

    Dependent fields are refitted: the curvature range is capped at the base lane width's limit
    (0.8 / (1.5 lane width), 1/m), and the road is lengthened to cover speed x time limit + 10 m.
    Raises ValueError for an unknown name, a bad severity or a base the scenario rejects.
    """
    if name not in SCENARIO_SHIFTS:
        raise ValueError(f"unknown shift {name!r}; available: {', '.join(sorted(SCENARIO_SHIFTS))}")
    merged: Overrides = dict(base or {})
    merged.update(SCENARIO_SHIFTS[name](severity))
    base_scenario = LaneScenario.from_mapping(base or {})
    fields = {**vars(base_scenario), **merged}
    max_curvature = 0.8 / (1.5 * float(fields["lane_width_m"]))
    low, high = (float(v) for v in fields["curvature_range_per_m"])
    if high > max_curvature:
        merged["curvature_range_per_m"] = (min(low, max_curvature), max_curvature)
    needed = float(fields["target_speed_mps"]) * float(fields["time_limit_s"])
    if float(fields["road_length_m"]) < needed + ROAD_LENGTH_MARGIN_M:
        merged["road_length_m"] = needed + ROAD_LENGTH_MARGIN_M
    LaneScenario.from_mapping(merged)  # raises ValueError naming the field if still invalid
    return merged
