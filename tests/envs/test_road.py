"""Road geometry: generation from a generator, arc-length parametrisation and projection."""

from __future__ import annotations

import numpy as np
import pytest

from lnn_control.envs.lane.road import MAX_ROAD_HEADING_RAD, SAMPLE_SPACING_M, Road, generate_road
from lnn_control.envs.lane.scenario import LaneScenario


def test_same_seed_same_road_and_two_seeds_differ() -> None:
    scenario = LaneScenario()
    a = generate_road(scenario, np.random.default_rng(5))
    b = generate_road(scenario, np.random.default_rng(5))
    c = generate_road(scenario, np.random.default_rng(6))
    np.testing.assert_array_equal(a.xy, b.xy)
    assert np.max(np.abs(a.xy - c.xy)) > 1.0


@pytest.mark.parametrize("seed", range(10))
def test_road_respects_scenario_geometry(seed: int) -> None:
    scenario = LaneScenario(curvature_range_per_m=(0.2, 0.3), road_length_m=300.0)
    road = generate_road(scenario, np.random.default_rng(seed))
    assert road.length_m >= scenario.road_length_m
    arcs = np.abs(road.curvature[road.curvature != 0.0])
    assert arcs.size > 0
    assert arcs.min() >= 0.2 - 1e-12
    assert arcs.max() <= 0.3 + 1e-12
    assert np.max(np.abs(road.heading)) <= MAX_ROAD_HEADING_RAD + 1e-9
    # consecutive samples are SAMPLE_SPACING_M apart along the curve (chords of arcs)
    steps = np.hypot(*np.diff(road.xy, axis=0).T)
    np.testing.assert_allclose(steps, SAMPLE_SPACING_M, rtol=1e-3)
    # x is monotone, so the road cannot cross itself
    assert np.all(np.diff(road.xy[:, 0]) > 0)


def test_circle_projection_gives_lateral_heading_and_curvature() -> None:
    radius = 5.0
    road = Road(np.full(200, 1.0 / radius))
    s = 10.0
    x, y, heading = road.pose_at(s)
    normal = np.array([-np.sin(heading), np.cos(heading)])
    px, py = np.array([x, y]) + 0.3 * normal
    point = road.project(float(px), float(py), heading + 0.2, hint_index=int(s / SAMPLE_SPACING_M))
    assert point.s_m == pytest.approx(s, abs=0.01)  # polyline of chords
    assert point.lateral_m == pytest.approx(0.3, abs=0.01)
    assert point.heading_error_rad == pytest.approx(0.2, abs=0.01)
    assert point.curvature_ahead_per_m == pytest.approx(1.0 / radius)
    # the centre line really is a circle of that radius around (0, radius)
    np.testing.assert_allclose(np.hypot(road.xy[:, 0], road.xy[:, 1] - radius), radius, rtol=1e-6)


def test_projection_to_the_right_is_negative_and_heading_error_wraps() -> None:
    road = Road(np.zeros(100))
    point = road.project(3.0, -0.25, 2 * np.pi - 0.1, hint_index=0)
    assert point.s_m == pytest.approx(3.0)
    assert point.lateral_m == pytest.approx(-0.25)
    assert point.heading_error_rad == pytest.approx(-0.1)
