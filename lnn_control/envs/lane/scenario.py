"""Scenario knobs of the lane-keeping world: every distribution shift is a named, validated field.

A `LaneScenario` is frozen and validated on construction; a bad value raises `ValueError` naming
the field and its allowed range. Use `dataclasses.replace(scenario, field=value)` (also validated)
or `LaneScenario.from_mapping({...})` to derive variants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lnn_control.envs.common import HELD_OUT_SEED_START as HELD_OUT_SEED_START
from lnn_control.envs.common import RGB as RGB
from lnn_control.envs.common import Vec3 as Vec3
from lnn_control.envs.common import check_int as _check_int
from lnn_control.envs.common import check_range as _check_range
from lnn_control.envs.common import check_vec as _check_vec
from lnn_control.envs.common import from_mapping

#: Seeds below this are for training; seeds from here up are held out for evaluation.

DISTRACTOR_KINDS = ("none", "posts", "boxes", "trees", "mixed")

#: Largest |curvature| x (1.5 lane widths) allowed, so that the outer road edge keeps a positive
#: radius of curvature (the lane centre sits half a lane from the road's right edge, 1.5 from the
#: left edge).
_MAX_CURVATURE_TIMES_EDGE_OFFSET = 0.8
#: Road kept beyond what the target speed covers within the time limit (m).
ROAD_LENGTH_MARGIN_M = 10.0


@dataclass(frozen=True)
class LaneScenario:
    """Everything that defines a lane-keeping scenario (except the seed).

    Units are in the field names: metres (`_m`), radians (`_rad`), seconds (`_s`), 1/m for
    curvature, metres per second (`_mps`); colours are RGB in [0, 1].
    """

    # --- road geometry ---
    lane_width_m: float = 0.8
    """Width of one lane; the road has two lanes and the car drives in the right one."""
    curvature_range_per_m: tuple[float, float] = (0.1, 0.4)
    """|curvature| of the arcs is drawn uniformly in this range (1/m); 0.4 is a 2.5 m radius."""
    segment_length_range_m: tuple[float, float] = (4.0, 12.0)
    """Length of each straight or arc is drawn uniformly in this range."""
    straight_probability: float = 0.35
    """Probability that a road segment is a straight rather than an arc."""
    road_length_m: float = 140.0
    """Length of the lane centre line; must cover target speed x time limit + 10 m."""
    # --- road look ---
    asphalt_rgb: RGB = (0.27, 0.27, 0.29)
    edge_line_rgb: RGB = (0.95, 0.95, 0.95)
    centre_line_rgb: RGB = (0.95, 0.80, 0.10)
    dashed_centre: bool = True
    ground_rgb: RGB = (0.22, 0.45, 0.18)
    # --- lighting (TinyRenderer) ---
    light_direction: Vec3 = (0.4, -0.3, 1.0)
    light_rgb: RGB = (1.0, 1.0, 1.0)
    light_ambient: float = 0.6
    light_diffuse: float = 0.35
    shadows: bool = False
    # --- distractors ---
    distractor_kind: str = "mixed"
    """One of "none", "posts", "boxes", "trees", "mixed"."""
    distractor_density_per_m: float = 0.15
    """Roadside objects per metre of road (both sides together)."""
    # --- dynamics ---
    friction: float = 1.0
    """Lateral friction coefficient of the tyres and the ground."""
    mass_scale: float = 1.0
    """Every link mass of the car is multiplied by this."""
    steering_gain: float = 1.0
    """Executed steering angle = gain x commanded angle + bias."""
    steering_bias_rad: float = 0.0
    latency_steps: int = 0
    """Control steps between an action and its execution."""
    target_speed_mps: float = 2.0
    # --- camera (offsets from the default mount) ---
    camera_height_offset_m: float = 0.0
    camera_pitch_offset_rad: float = 0.0
    """Positive pitches the camera up."""
    camera_yaw_offset_rad: float = 0.0
    """Positive yaws the camera left."""
    camera_forward_offset_m: float = 0.0
    image_height: int = 64
    image_width: int = 160
    # --- episode ---
    time_limit_s: float = 60.0

    def __post_init__(self) -> None:
        self._validate_road()
        self._validate_look()
        self._validate_dynamics()
        self._validate_camera()

    def _validate_road(self) -> None:
        _check_range("lane_width_m", self.lane_width_m, 0.4, 2.0)
        low, high = _pair("curvature_range_per_m", self.curvature_range_per_m)
        max_curvature = _MAX_CURVATURE_TIMES_EDGE_OFFSET / (1.5 * self.lane_width_m)
        _check_range("curvature_range_per_m[0]", low, 0.0, max_curvature)
        _check_range("curvature_range_per_m[1]", high, low, max_curvature)
        seg_low, seg_high = _pair("segment_length_range_m", self.segment_length_range_m)
        _check_range("segment_length_range_m[0]", seg_low, 1.0, 100.0)
        _check_range("segment_length_range_m[1]", seg_high, seg_low, 100.0)
        _check_range("straight_probability", self.straight_probability, 0.0, 1.0)
        _check_range("time_limit_s", self.time_limit_s, 0.5, 3600.0)
        _check_range("target_speed_mps", self.target_speed_mps, 0.3, 5.0)
        needed = self.target_speed_mps * self.time_limit_s + ROAD_LENGTH_MARGIN_M
        _check_range("road_length_m", self.road_length_m, needed, 20_000.0)

    def _validate_look(self) -> None:
        for name in ("asphalt_rgb", "edge_line_rgb", "centre_line_rgb", "ground_rgb", "light_rgb"):
            _check_vec(name, getattr(self, name), 0.0, 1.0)
        _check_vec("light_direction", self.light_direction, -1e3, 1e3)
        if math.hypot(*self.light_direction) < 1e-6:
            raise ValueError(f"light_direction must be non-zero, got {self.light_direction!r}")
        _check_range("light_ambient", self.light_ambient, 0.0, 1.0)
        _check_range("light_diffuse", self.light_diffuse, 0.0, 1.0)
        for name in ("dashed_centre", "shadows"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.distractor_kind not in DISTRACTOR_KINDS:
            raise ValueError(
                f"distractor_kind must be one of {DISTRACTOR_KINDS}, got {self.distractor_kind!r}"
            )
        _check_range("distractor_density_per_m", self.distractor_density_per_m, 0.0, 2.0)

    def _validate_dynamics(self) -> None:
        _check_range("friction", self.friction, 0.05, 5.0)
        _check_range("mass_scale", self.mass_scale, 0.2, 5.0)
        _check_range("steering_gain", self.steering_gain, 0.2, 2.0)
        _check_range("steering_bias_rad", self.steering_bias_rad, -0.3, 0.3)
        _check_int("latency_steps", self.latency_steps, 0, 20)

    def _validate_camera(self) -> None:
        _check_range("camera_height_offset_m", self.camera_height_offset_m, -0.15, 1.0)
        _check_range("camera_pitch_offset_rad", self.camera_pitch_offset_rad, -0.8, 0.5)
        _check_range("camera_yaw_offset_rad", self.camera_yaw_offset_rad, -0.8, 0.8)
        _check_range("camera_forward_offset_m", self.camera_forward_offset_m, -0.5, 1.0)
        _check_int("image_height", self.image_height, 8, 512)
        _check_int("image_width", self.image_width, 8, 512)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> LaneScenario:
        """Build from a mapping (e.g. a YAML config); unknown keys raise `ValueError`."""
        return from_mapping(cls, values)

    @property
    def lane_half_width_m(self) -> float:
        """Half a lane: the lateral offset at which the car centre reaches a lane marking (m)."""
        return 0.5 * self.lane_width_m


def _pair(name: str, value: tuple[float, float]) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}")
    return float(value[0]), float(value[1])
