"""Distribution shifts (scenario overrides), fog on the real env, and the preview grid."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import cv2
import gymnasium as gym
import numpy as np
import pytest

import lnn_control  # noqa: F401  (registers the worlds)
from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.scenario import LaneScenario
from lnn_control.envs.lane.shifts import SCENARIO_SHIFTS, shift_scenario
from lnn_control.envs.perturb import Fog
from lnn_control.envs.perturb.preview import write_preview_grid
from lnn_control.envs.perturb.weather import FOG_RGB

#: Small, short scenario for real-env tests (32 x 48 images, 40 m road).
SMALL = {"image_height": 32, "image_width": 48, "time_limit_s": 10.0, "road_length_m": 40.0}
SEED = 1_000_003
DEFAULT = LaneScenario()


def _distance_from_default(overrides: dict[str, Any]) -> float:
    """Sum over overridden numeric fields of |value - default| (tuples element-wise)."""
    total = 0.0
    for key, value in overrides.items():
        default = getattr(DEFAULT, key)
        if isinstance(value, bool | str):
            total += float(value != default)
        else:
            total += float(np.abs(np.subtract(np.asarray(value), default)).sum())
    return total


@pytest.mark.parametrize("name", sorted(SCENARIO_SHIFTS))
def test_every_shift_is_a_valid_scenario_that_grows_with_severity(name: str) -> None:
    distances = []
    for severity in range(1, 6):
        overrides = SCENARIO_SHIFTS[name](severity)
        scenario = LaneScenario.from_mapping(overrides)
        assert scenario != DEFAULT
        assert LaneScenario.from_mapping(shift_scenario(name, severity, SMALL)) != DEFAULT
        distances.append(_distance_from_default(overrides))
    assert all(a < b for a, b in itertools.pairwise(distances)), distances
    with pytest.raises(ValueError, match=r"severity must be an integer in 1\.\.5"):
        SCENARIO_SHIFTS[name](0)


def test_shift_scenario_refits_dependent_fields() -> None:
    wide = shift_scenario("curvature", 5, {"lane_width_m": 1.2})
    assert wide["curvature_range_per_m"][1] == pytest.approx(0.8 / (1.5 * 1.2))
    long = shift_scenario("speed", 5, {"time_limit_s": 100.0, "road_length_m": 300.0})
    assert long["road_length_m"] >= 4.0 * 100.0 + 10.0
    assert shift_scenario("friction", 2, {"lane_width_m": 1.0}) == {
        "lane_width_m": 1.0,
        "friction": 0.5,
    }
    with pytest.raises(ValueError, match="unknown shift 'wind'; available: actuation_latency"):
        shift_scenario("wind", 1, {})
    with pytest.raises(ValueError, match="unknown LaneScenario field"):
        shift_scenario("friction", 1, {"frictoin": 1.0})


@pytest.mark.parametrize("name", ["road_look", "lane_width", "camera_pitch", "camera_yaw"])
def test_look_and_camera_shifts_change_the_image(name: str) -> None:
    def first_frame(scenario: dict[str, Any]) -> np.ndarray:
        env = LaneKeepingEnv(scenario)
        try:
            return env.reset(seed=SEED)[0]
        finally:
            env.close()

    clean = first_frame(SMALL)
    shifted = first_frame(shift_scenario(name, 3, SMALL))
    assert np.mean(np.abs(shifted.astype(float) - clean)) > 5.0


DYNAMICS = ["steering_bias", "steering_gain", "actuation_latency", "friction", "mass", "speed"]


@pytest.mark.parametrize("name", DYNAMICS)
def test_dynamics_shifts_change_the_trajectory(name: str) -> None:
    def trajectory(scenario: dict[str, Any]) -> np.ndarray:
        """(steps, 2): lateral offset and distance along the road (m) under a steady turn."""
        env = LaneKeepingEnv(scenario, render_camera=False)
        try:
            env.reset(seed=SEED)
            steer = np.array([0.5], np.float32)
            infos = [env.step(steer)[4] for _ in range(15)]
            return np.array([(i["lateral_offset_m"], i["distance_m"]) for i in infos])
        finally:
            env.close()

    clean = trajectory(SMALL)
    shifted = trajectory(shift_scenario(name, 5, SMALL))
    assert np.max(np.abs(shifted - clean)) > 0.01


def test_fog_on_the_registered_env_uses_its_depth() -> None:
    scenario = LaneScenario.from_mapping(SMALL)
    env = Fog(gym.make("lnn_control/LaneKeeping-v0", scenario=scenario), severity=4)
    bare = gym.make("lnn_control/LaneKeeping-v0", scenario=scenario)
    try:
        env.reset(seed=SEED)
        bare.reset(seed=SEED)
        foggy, *_ = env.step(np.zeros(1, np.float32))
        clean, *_ = bare.step(np.zeros(1, np.float32))
        fog = np.array(FOG_RGB) * 255
        moved = 1.0 - np.abs(foggy - fog).sum(-1) / np.maximum(np.abs(clean - fog).sum(-1), 1.0)
        depth = env.unwrapped.depth_m()  # type: ignore[attr-defined]
        far, near = depth > np.quantile(depth, 0.8), depth < np.quantile(depth, 0.2)
        assert moved[far].mean() > moved[near].mean() + 0.2
    finally:
        env.close()
        bare.close()


def test_preview_grid_writes_one_png(tmp_path: Path) -> None:
    path = write_preview_grid(tmp_path / "p.png", names=["fog", "camera_pitch"], severities=(2,))
    grid = cv2.imread(str(path))
    assert grid is not None
    assert grid.shape[0] > 2 * 64
    assert grid.shape[1] > 2 * 160
    with pytest.raises(ValueError, match="unknown perturbation or shift 'haze'"):
        write_preview_grid(tmp_path / "q.png", names=["haze"])
