"""LaneScenario validation: every bad value names its field and the allowed range."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START, LaneScenario


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lane_width_m", 0.1),
        ("lane_width_m", float("nan")),
        ("curvature_range_per_m", (0.3, 0.1)),
        ("curvature_range_per_m", (0.0, 5.0)),
        ("curvature_range_per_m", (0.1,)),
        ("segment_length_range_m", (0.0, 5.0)),
        ("straight_probability", 1.5),
        ("road_length_m", 50.0),  # shorter than 2 m/s x 60 s + margin
        ("asphalt_rgb", (0.2, 0.2, 2.0)),
        ("centre_line_rgb", (0.2, 0.2)),
        ("light_direction", (0.0, 0.0, 0.0)),
        ("light_ambient", -0.1),
        ("dashed_centre", "yes"),
        ("distractor_kind", "cows"),
        ("distractor_density_per_m", -1.0),
        ("friction", 0.0),
        ("mass_scale", 10.0),
        ("steering_gain", 0.0),
        ("steering_bias_rad", 1.0),
        ("latency_steps", 1.5),
        ("latency_steps", -1),
        ("target_speed_mps", 50.0),
        ("camera_pitch_offset_rad", 2.0),
        ("camera_height_offset_m", -1.0),
        ("image_height", 4),
        ("image_width", 10_000),
        ("time_limit_s", 0.0),
    ],
)
def test_bad_value_raises_value_error_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(LaneScenario(), **{field: value})


def test_road_length_must_cover_the_time_limit_at_target_speed() -> None:
    with pytest.raises(ValueError, match=r"road_length_m must be a number in \[130"):
        LaneScenario(target_speed_mps=2.0, time_limit_s=60.0, road_length_m=120.0)
    LaneScenario(target_speed_mps=2.0, time_limit_s=60.0, road_length_m=130.0)


def test_from_mapping_accepts_lists_and_rejects_unknown_keys() -> None:
    scenario = LaneScenario.from_mapping({"asphalt_rgb": [0.1, 0.1, 0.1], "lane_width_m": 1.0})
    assert scenario.asphalt_rgb == (0.1, 0.1, 0.1)
    assert scenario.lane_half_width_m == 0.5
    with pytest.raises(ValueError, match="lane_widht_m"):
        LaneScenario.from_mapping({"lane_widht_m": 1.0})


def test_held_out_seed_start() -> None:
    assert HELD_OUT_SEED_START == 1_000_000
