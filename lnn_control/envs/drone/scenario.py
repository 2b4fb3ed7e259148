"""Scenario knobs of the drone-navigation world: every distribution shift is a named, valid field.

A `DroneScenario` is frozen and validated on construction; a bad value raises a one-line
`ValueError` naming the field and its allowed range. Use `dataclasses.replace(scenario, ...)`
(also validated) or `DroneScenario.from_mapping({...})` to derive variants.

Pure Python: importing this module does not import pybullet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lnn_control.envs.common import HELD_OUT_SEED_START, RGB, Vec3, from_mapping
from lnn_control.envs.common import check_int as _check_int
from lnn_control.envs.common import check_pair as _check_pair
from lnn_control.envs.common import check_range as _check_range

__all__ = ["CONTROL_HZ_CHOICES", "HELD_OUT_SEED_START", "SCENERIES", "DroneScenario", "Palette"]

#: Physics runs at 240 Hz; the control rate must divide it.
PHYSICS_HZ = 240
CONTROL_HZ_CHOICES = (10, 12, 15, 16, 20, 24, 30, 40, 48, 60)
SCENERIES = ("summer", "autumn", "winter", "urban")
#: The target and the start keep at least this far from the arena edge (m).
ARENA_EDGE_MARGIN_M = 1.0


@dataclass(frozen=True)
class Palette:
    """Colours of one scenery: ground, obstacles (one is drawn per obstacle), canopies (forest
    sceneries; empty for urban, whose obstacles are box buildings)."""

    ground: RGB
    obstacles: tuple[RGB, ...]
    canopies: tuple[RGB, ...]


PALETTES: dict[str, Palette] = {
    "summer": Palette(
        (0.26, 0.48, 0.20), ((0.40, 0.27, 0.14), (0.35, 0.23, 0.12)), ((0.12, 0.38, 0.12),)
    ),
    "autumn": Palette(
        (0.52, 0.42, 0.22),
        ((0.32, 0.21, 0.12), (0.28, 0.19, 0.11)),
        ((0.80, 0.42, 0.10), (0.70, 0.25, 0.08), (0.85, 0.65, 0.15)),
    ),
    "winter": Palette(
        (0.90, 0.91, 0.95), ((0.25, 0.20, 0.18), (0.30, 0.26, 0.24)), ((0.80, 0.84, 0.86),)
    ),
    "urban": Palette(
        (0.36, 0.36, 0.38), ((0.62, 0.58, 0.52), (0.50, 0.52, 0.56), (0.70, 0.66, 0.60)), ()
    ),
}


@dataclass(frozen=True)
class DroneScenario:
    """Everything that defines a drone-navigation scenario (except the seed).

    Units are in the field names: metres (`_m`), radians (`_rad`), seconds (`_s`), metres per
    second (`_mps`), per square metre (`_per_m2`). World frame: x/y on the ground, z up; the drone
    starts above the origin; the arena is the square |x|, |y| <= `arena_half_size_m` up to
    `ceiling_m`.
    """

    # --- arena and task ---
    arena_half_size_m: float = 10.0
    ceiling_m: float = 3.0
    """Flying above this height leaves the arena."""
    start_height_m: float = 1.0
    target_distance_range_m: tuple[float, float] = (3.0, 7.0)
    """Horizontal distance from the start to the target, drawn uniformly."""
    target_bearing_range_rad: tuple[float, float] = (-0.6, 0.6)
    """Bearing of the target from the drone's initial heading (positive left); the camera's
    half field of view is about 0.7 rad, so |bearing| beyond that starts with the target out of
    view. The initial heading itself is uniform in [-pi, pi)."""
    target_height_range_m: tuple[float, float] = (0.7, 1.5)
    """Height of the target sphere's centre, drawn uniformly."""
    success_radius_m: float = 0.3
    success_speed_mps: float = 0.3
    """Success: within `success_radius_m` of the target centre and slower than this."""
    # --- obstacles and scenery ---
    obstacle_density_per_m2: float = 0.08
    """Mean number of obstacles per square metre of arena (Poisson); 0 gives an empty arena."""
    obstacle_radius_range_m: tuple[float, float] = (0.08, 0.2)
    """Trunk radius, drawn uniformly; urban buildings are square with half width 2.5 x this."""
    obstacle_clearance_m: float = 1.0
    """No obstacle surface within this distance of the start or the target (horizontal)."""
    scenery: str = "summer"
    """One of "summer", "autumn", "winter" (forests of trunks) or "urban" (box buildings)."""
    # --- lighting (TinyRenderer) ---
    light_direction: Vec3 = (0.4, -0.3, 1.0)
    light_brightness: float = 1.0
    """Scales the ambient and diffuse light coefficients (1 is the default look)."""
    # --- wind ---
    wind_mean_mps: float = 0.0
    """Steady horizontal wind speed; its direction is drawn from the seed."""
    wind_gust_std_mps: float = 0.0
    """Stationary std of the gusts (per horizontal axis, Ornstein-Uhlenbeck, 1 s time constant)."""
    # --- dynamics ---
    mass_scale: float = 1.0
    """The drone's mass and inertia are multiplied by this; the controller keeps nominal values."""
    ground_effect: bool = True
    # --- camera (offsets from the default mount) ---
    camera_pitch_offset_rad: float = 0.0
    """Positive pitches the camera up."""
    camera_height_offset_m: float = 0.0
    image_height: int = 64
    image_width: int = 96
    # --- episode ---
    time_limit_s: float = 30.0
    control_hz: int = 20
    """Policy steps per second; one of `CONTROL_HZ_CHOICES` (divisors of 240 Hz physics)."""

    def __post_init__(self) -> None:
        self._validate_task()
        self._validate_world()
        self._validate_camera_and_episode()

    def _validate_task(self) -> None:
        _check_range("arena_half_size_m", self.arena_half_size_m, 3.0, 100.0)
        _check_range("ceiling_m", self.ceiling_m, 1.0, 20.0)
        _check_range("start_height_m", self.start_height_m, 0.3, round(self.ceiling_m - 0.3, 9))
        reach = self.arena_half_size_m - ARENA_EDGE_MARGIN_M
        _check_pair("target_distance_range_m", self.target_distance_range_m, 0.5, reach)
        _check_pair("target_bearing_range_rad", self.target_bearing_range_rad, -math.pi, math.pi)
        _check_pair(
            "target_height_range_m", self.target_height_range_m, 0.3, round(self.ceiling_m - 0.3, 9)
        )
        _check_range("success_radius_m", self.success_radius_m, 0.05, 2.0)
        _check_range("success_speed_mps", self.success_speed_mps, 0.05, 5.0)

    def _validate_world(self) -> None:
        _check_range("obstacle_density_per_m2", self.obstacle_density_per_m2, 0.0, 0.5)
        _check_pair("obstacle_radius_range_m", self.obstacle_radius_range_m, 0.03, 1.0)
        _check_range("obstacle_clearance_m", self.obstacle_clearance_m, 0.3, 5.0)
        if self.scenery not in SCENERIES:
            raise ValueError(f"scenery must be one of {SCENERIES}, got {self.scenery!r}")
        direction = self.light_direction
        if not isinstance(direction, (tuple, list)) or len(direction) != 3:
            raise ValueError(
                f"light_direction must be 3 numbers in [-1000.0, 1000.0], got {direction!r}"
            )
        for i, item in enumerate(direction):
            _check_range(f"light_direction[{i}]", item, -1e3, 1e3)
        if math.hypot(*direction) < 1e-6:
            raise ValueError(f"light_direction must be non-zero, got {direction!r}")
        _check_range("light_brightness", self.light_brightness, 0.1, 2.0)
        _check_range("wind_mean_mps", self.wind_mean_mps, 0.0, 5.0)
        _check_range("wind_gust_std_mps", self.wind_gust_std_mps, 0.0, 3.0)
        _check_range("mass_scale", self.mass_scale, 0.5, 1.5)
        if not isinstance(self.ground_effect, bool):
            raise ValueError(f"ground_effect must be True or False, got {self.ground_effect!r}")

    def _validate_camera_and_episode(self) -> None:
        _check_range("camera_pitch_offset_rad", self.camera_pitch_offset_rad, -0.8, 0.8)
        _check_range("camera_height_offset_m", self.camera_height_offset_m, -0.05, 0.5)
        _check_int("image_height", self.image_height, 8, 512)
        _check_int("image_width", self.image_width, 8, 512)
        _check_range("time_limit_s", self.time_limit_s, 0.5, 3600.0)
        if (
            not isinstance(self.control_hz, int)
            or isinstance(self.control_hz, bool)
            or self.control_hz not in CONTROL_HZ_CHOICES
        ):
            raise ValueError(
                f"control_hz must be one of {CONTROL_HZ_CHOICES}, got {self.control_hz!r}"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DroneScenario:
        """Build from a mapping (e.g. a YAML config); unknown keys raise `ValueError`."""
        return from_mapping(cls, values)

    @property
    def palette(self) -> Palette:
        """The colours of `scenery`."""
        return PALETTES[self.scenery]

    @property
    def substeps(self) -> int:
        """Physics steps (240 Hz) per control step."""
        return PHYSICS_HZ // self.control_hz

    @property
    def control_dt_s(self) -> float:
        """Duration of one control step (s)."""
        return 1.0 / self.control_hz

    @property
    def max_steps(self) -> int:
        """Control steps in the episode time limit."""
        return round(self.time_limit_s * self.control_hz)
