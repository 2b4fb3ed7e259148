"""Distribution shifts of the drone world: `DroneScenario` overrides at severity 1-5.

    from lnn_control.envs.drone.shifts import drone_shift_scenario
    scenario = drone_shift_scenario("wind", 3, base={})
    env = gym.make("lnn_control/DroneNav-v0", scenario=scenario)

| name | fields | severity 1 / 2 / 3 / 4 / 5 (default) |
|---|---|---|
| wind | wind_mean_mps, wind_gust_std_mps | 0.3/0.1, 0.6/0.2, 1.0/0.3, 1.5/0.5, 2.0/0.8 m/s (0/0) |
| scenery | scenery, light_brightness | autumn, winter, urban, winter 0.6, urban 0.5 (summer 1.0) |
| obstacle_density | obstacle_density_per_m2 | 0.11 / 0.14 / 0.18 / 0.22 / 0.28 per m^2 (0.08) |
| drone_mass | mass_scale | 1.1 / 1.2 / 1.3 / 1.4 / 1.5 (1.0) |
| drone_camera_pitch | camera_pitch_offset_rad | 0.05 / 0.1 / 0.15 / 0.2 / 0.3 rad down (0) |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lnn_control.envs.perturb.base import check_severity

Overrides = dict[str, Any]

WIND_MPS = {1: (0.3, 0.1), 2: (0.6, 0.2), 3: (1.0, 0.3), 4: (1.5, 0.5), 5: (2.0, 0.8)}
SCENERY = {
    1: ("autumn", 1.0),
    2: ("winter", 1.0),
    3: ("urban", 1.0),
    4: ("winter", 0.6),
    5: ("urban", 0.5),
}
OBSTACLE_DENSITY_PER_M2 = {1: 0.11, 2: 0.14, 3: 0.18, 4: 0.22, 5: 0.28}
MASS_SCALE = {1: 1.1, 2: 1.2, 3: 1.3, 4: 1.4, 5: 1.5}
CAMERA_PITCH_DOWN_RAD = {1: 0.05, 2: 0.1, 3: 0.15, 4: 0.2, 5: 0.3}


def _wind(severity: int) -> Overrides:
    mean, gust = WIND_MPS[check_severity(severity)]
    return {"wind_mean_mps": mean, "wind_gust_std_mps": gust}


def _scenery(severity: int) -> Overrides:
    scenery, light = SCENERY[check_severity(severity)]
    return {"scenery": scenery, "light_brightness": light}


def _field(name: str, table: Mapping[int, Any], sign: float = 1.0) -> Callable[[int], Overrides]:
    def overrides(severity: int) -> Overrides:
        return {name: sign * table[check_severity(severity)]}

    return overrides


#: name -> callable(severity) -> DroneScenario overrides.
DRONE_SHIFTS: dict[str, Callable[[int], Overrides]] = {
    "wind": _wind,
    "scenery": _scenery,
    "obstacle_density": _field("obstacle_density_per_m2", OBSTACLE_DENSITY_PER_M2),
    "drone_mass": _field("mass_scale", MASS_SCALE),
    "drone_camera_pitch": _field("camera_pitch_offset_rad", CAMERA_PITCH_DOWN_RAD, sign=-1.0),
}


def drone_shift_scenario(
    name: str, severity: int, base: Mapping[str, Any] | None = None
) -> Overrides:
    """`base` DroneScenario overrides with shift `name` at `severity` applied, validated by
    `DroneScenario.from_mapping` (ValueError for an unknown name or bad severity)."""
    from lnn_control.envs.drone.scenario import DroneScenario

    if name not in DRONE_SHIFTS:
        raise ValueError(f"unknown drone shift {name!r}; available: {', '.join(DRONE_SHIFTS)}")
    merged: Overrides = {**dict(base or {}), **DRONE_SHIFTS[name](severity)}
    DroneScenario.from_mapping(merged)
    return merged
