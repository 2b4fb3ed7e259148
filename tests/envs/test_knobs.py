"""Every scenario knob changes what it should."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pybullet as p
import pytest

from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.meshes import distractor_meshes, road_meshes
from lnn_control.envs.lane.road import RoadPoint, generate_road
from lnn_control.envs.lane.scenario import LaneScenario
from lnn_control.envs.lane.sim import CONTROL_HZ
from lnn_control.envs.lane.task import LaneKeepingTask

MakeEnv = Callable[..., LaneKeepingEnv]
Rollouter = Callable[..., Any]


def _knob(small: LaneScenario, **changes: Any) -> LaneScenario:
    return dataclasses.replace(small, **changes)


def _first_frame(make_env: MakeEnv, scenario: LaneScenario, seed: int = 0) -> np.ndarray:
    obs, _ = make_env(scenario).reset(seed=seed)
    return obs.astype(np.int64)


def test_lane_width_widens_the_road_mesh_and_the_departure_limit(small: LaneScenario) -> None:
    road = generate_road(small, np.random.default_rng(0))
    narrow = road_meshes(road, _knob(small, lane_width_m=0.6))[0]
    wide = road_meshes(road, _knob(small, lane_width_m=1.0))[0]
    n = narrow.vertices.shape[0] // 2  # right edge vertices, then left edge vertices
    width_narrow = np.hypot(*(narrow.vertices[n, :2] - narrow.vertices[0, :2]))
    width_wide = np.hypot(*(wide.vertices[n, :2] - wide.vertices[0, :2]))
    assert width_narrow == pytest.approx(1.2)  # two lanes
    assert width_wide == pytest.approx(2.0)
    car = __import__("lnn_control.envs.lane.sim", fromlist=["CarState"]).CarState(0, 0, 0, 2, 1)
    here = RoadPoint(1.0, 0.0, 0.0, 0.0, 0)
    off = RoadPoint(1.1, 0.45, 0.0, 0.0, 0)
    assert LaneKeepingTask(_knob(small, lane_width_m=0.8)).assess(here, off, car).departure
    assert not LaneKeepingTask(_knob(small, lane_width_m=1.0)).assess(here, off, car).departure


def test_road_length_and_curvature_range_shape_the_road(small: LaneScenario) -> None:
    rng = np.random.default_rng(1)
    road = generate_road(_knob(small, road_length_m=90.0, curvature_range_per_m=(0.3, 0.35)), rng)
    assert 90.0 <= road.length_m < 100.0
    arcs = np.abs(road.curvature[road.curvature != 0])
    assert arcs.min() >= 0.3
    assert arcs.max() <= 0.35
    straight = generate_road(_knob(small, straight_probability=1.0), np.random.default_rng(1))
    assert not straight.curvature.any()


def test_marking_knobs_change_the_marking_meshes(small: LaneScenario) -> None:
    road = generate_road(small, np.random.default_rng(0))
    dashed = road_meshes(road, _knob(small, dashed_centre=True))[2]
    solid = road_meshes(road, _knob(small, dashed_centre=False, centre_line_rgb=(1.0, 1.0, 1.0)))[2]
    assert dashed.num_triangles < 0.7 * solid.num_triangles
    assert solid.rgb == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "changes",
    [
        {"asphalt_rgb": (0.6, 0.1, 0.1)},
        {"ground_rgb": (0.8, 0.8, 0.1)},
        {"light_ambient": 0.2},
        {"light_direction": (-1.0, 0.5, 0.3)},
        {"light_rgb": (1.0, 0.6, 0.6)},
        {"camera_pitch_offset_rad": 0.2},
        {"camera_height_offset_m": 0.3},
        {"camera_yaw_offset_rad": 0.3},
        {"camera_forward_offset_m": 0.5},
    ],
)
def test_look_and_camera_knobs_change_the_image(
    make_env: MakeEnv, changes: dict[str, Any], small: LaneScenario
) -> None:
    base = _first_frame(make_env, small)
    changed = _first_frame(make_env, _knob(small, **changes))
    assert np.mean(np.abs(base - changed)) > 2.0


def test_shadows_darken_part_of_the_image(make_env: MakeEnv, small: LaneScenario) -> None:
    busy = _knob(small, distractor_kind="trees", distractor_density_per_m=0.5)
    plain = _first_frame(make_env, busy)
    shaded = _first_frame(make_env, _knob(busy, shadows=True))
    changed = np.abs(plain - shaded) > 0
    assert changed.mean() > 0.05
    assert shaded[changed].mean() < plain[changed].mean()  # shadows only darken


def test_asphalt_tone_is_the_colour_straight_ahead(make_env: MakeEnv, small: LaneScenario) -> None:
    dark = _first_frame(make_env, _knob(small, asphalt_rgb=(0.1, 0.1, 0.1)))
    light = _first_frame(make_env, _knob(small, asphalt_rgb=(0.7, 0.7, 0.7)))
    bottom_centre = (slice(-4, None), slice(20, 28))
    assert light[bottom_centre].mean() > dark[bottom_centre].mean() + 60


def test_pitching_the_camera_up_shows_more_sky(make_env: MakeEnv, small: LaneScenario) -> None:
    sky = 240  # TinyRenderer's clear colour is near white; the road and grass are darker
    level = _first_frame(make_env, _knob(small, camera_pitch_offset_rad=0.3))
    down = _first_frame(make_env, small)
    assert (level.min(axis=2) > sky).mean() > (down.min(axis=2) > sky).mean() + 0.05


def test_image_size_sets_the_observation_shape(make_env: MakeEnv, small: LaneScenario) -> None:
    env = make_env(_knob(small, image_height=20, image_width=30))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (20, 30, 3)
    assert env.observation_space.shape == (20, 30, 3)


def test_distractor_density_and_kind_add_bodies_and_triangles(
    make_env: MakeEnv, small: LaneScenario
) -> None:
    road = generate_road(small, np.random.default_rng(0))

    def triangles(**changes: Any) -> int:
        meshes = distractor_meshes(road, _knob(small, **changes), np.random.default_rng(0))
        return sum(m.num_triangles for m in meshes)

    assert triangles(distractor_kind="none") == 0
    assert triangles(distractor_density_per_m=0.0) == 0
    assert triangles(distractor_density_per_m=1.0) > 3 * triangles(distractor_density_per_m=0.1)
    posts = distractor_meshes(road, _knob(small, distractor_kind="posts"), np.random.default_rng(0))
    assert len(posts) == 1
    assert (
        len(
            distractor_meshes(road, _knob(small, distractor_kind="trees"), np.random.default_rng(0))
        )
        == 2
    )

    def bodies(**changes: Any) -> int:
        env = make_env(_knob(small, **changes))
        env.reset(seed=0)
        return int(p.getNumBodies(physicsClientId=env.sim.client))

    assert bodies(distractor_kind="mixed") == bodies(distractor_kind="none") + 4


def test_steering_bias_steers_the_car_with_a_zero_action(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    straight = rollout(make_env(render_camera=False), 0, 0.0, 20).poses
    biased = rollout(
        make_env(_knob(small, steering_bias_rad=0.2), render_camera=False), 0, 0.0, 20
    ).poses
    assert biased[-1, 2] - straight[-1, 2] > 0.3  # turned left


def test_steering_gain_scales_the_turn(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    def yaw_after(gain: float) -> float:
        env = make_env(_knob(small, steering_gain=gain), render_camera=False)
        return float(rollout(env, 0, 0.3, 15).poses[-1, 2])

    assert yaw_after(1.0) > 1.6 * yaw_after(0.5) > 0.0


def test_latency_delays_the_effect_of_an_action(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    plan = [1.0] * 12
    env_0 = make_env(render_camera=False)
    env_3 = make_env(_knob(small, latency_steps=3), render_camera=False)
    straight = rollout(make_env(render_camera=False), 0, 0.0, 12).poses
    prompt, late = rollout(env_0, 0, plan, 12).poses, rollout(env_3, 0, plan, 12).poses
    np.testing.assert_array_equal(late[:3], straight[:3])  # nothing happens for 3 steps
    assert abs(prompt[2, 2] - straight[2, 2]) > 0.01  # without latency it has turned by now
    assert abs(late[5, 2] - straight[5, 2]) > 0.01  # with it, the turn comes 3 steps later


def test_target_speed_is_held(make_env: MakeEnv, small: LaneScenario, rollout: Rollouter) -> None:
    for speed in (1.0, 3.0):
        env = make_env(_knob(small, target_speed_mps=speed), render_camera=False)
        run = rollout(env, 0, 0.0, 2 * CONTROL_HZ)
        assert float(run.infos[-1]["speed_mps"]) == pytest.approx(speed, rel=0.1)


def test_mass_scale_slows_the_start(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    def distance_after_5_steps(mass_scale: float) -> float:
        env = make_env(_knob(small, mass_scale=mass_scale), render_camera=False)
        return float(rollout(env, 0, 0.0, 5).infos[-1]["distance_m"])

    assert distance_after_5_steps(4.0) < 0.9 * distance_after_5_steps(1.0)


def test_friction_changes_the_turning_dynamics(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    def yaw_after(friction: float) -> float:
        env = make_env(_knob(small, friction=friction), render_camera=False)
        return float(rollout(env, 0, [0.0] * 20 + [1.0] * 6, 26).poses[-1, 2])

    grippy, slippery = yaw_after(1.5), yaw_after(0.1)
    assert abs(grippy - slippery) > 0.05


def test_time_limit_sets_the_truncation_step(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    env = make_env(_knob(small, time_limit_s=0.5), render_camera=False)
    run = rollout(env, 0, 0.0, 100)
    assert run.truncated
    assert len(run.poses) == 10
