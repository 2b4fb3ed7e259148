"""LaneKeepingEnv: API conformance, determinism, termination, intervention, isolation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.scenario import LaneScenario
from lnn_control.envs.lane.sim import CONTROL_HZ

INFO_KEYS = {
    "lateral_offset_m",
    "heading_error_rad",
    "curvature_ahead",
    "lane_departure",
    "distance_m",
    "interventions",
}

MakeEnv = Callable[..., LaneKeepingEnv]
Rollouter = Callable[..., Any]


def test_gymnasium_env_checker_passes(make_env: MakeEnv) -> None:
    gym_check_env(make_env(), skip_render_check=True)


def test_stable_baselines3_env_checker_passes(make_env: MakeEnv) -> None:
    sb3_check_env(make_env(speed_action=True), warn=False)


def test_registered_id_makes_the_env_and_passes_kwargs(small: LaneScenario) -> None:
    import lnn_control  # noqa: F401  (registers the worlds)

    env = gym.make("lnn_control/LaneKeeping-v0", scenario=small, intervention=True)
    try:
        assert isinstance(env.unwrapped, LaneKeepingEnv)
        assert env.unwrapped.intervention
        obs, info = env.reset(seed=1)
        assert obs.shape == (24, 48, 3)
        assert obs.dtype == np.uint8
        assert set(info) >= INFO_KEYS
    finally:
        env.close()


def test_same_seed_same_trajectory_and_images(make_env: MakeEnv, rollout: Rollouter) -> None:
    plan = list(np.sin(np.arange(30) / 5.0) * 0.3)
    a = rollout(make_env(), 11, plan, 30)
    b = rollout(make_env(), 11, plan, 30)
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images[-1].std() > 5.0  # a real picture, not a blank frame


def test_reset_with_the_same_seed_in_one_env_replays_exactly(
    make_env: MakeEnv, rollout: Rollouter
) -> None:
    env = make_env()
    a = rollout(env, 3, 0.1, 20)
    rollout(env, 4, -0.2, 7)
    b = rollout(env, 3, 0.1, 20)
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.images, b.images)


def test_two_seeds_give_different_roads_and_images(make_env: MakeEnv, rollout: Rollouter) -> None:
    env = make_env()
    env.reset(seed=1)
    road_1 = env.task.road.xy.copy()
    image_1 = rollout(env, 1, 0.0, 30).images[-1]
    env.reset(seed=2)
    assert np.max(np.abs(road_1 - env.task.road.xy)) > 0.5
    assert not np.array_equal(image_1, rollout(env, 2, 0.0, 30).images[-1])


def test_unseeded_reset_draws_a_training_seed_reported_in_info(make_env: MakeEnv) -> None:
    env = make_env()
    env.reset(seed=5)
    _, info = env.reset()
    assert 0 <= info["seed"] < 1_000_000


def test_interleaved_envs_do_not_interfere(make_env: MakeEnv, rollout: Rollouter) -> None:
    alone_a = rollout(make_env(), 21, 0.1, 25)
    alone_b = rollout(make_env(), 22, -0.05, 25)
    assert len(alone_a.poses) == len(alone_b.poses) == 25  # no early termination
    env_a, env_b = make_env(), make_env()
    env_a.reset(seed=21)
    env_b.reset(seed=22)
    poses_a, poses_b, images_a = [], [], []
    for _ in range(25):
        obs_a, *_ = env_a.step(np.array([0.1], np.float32))
        env_b.step(np.array([-0.05], np.float32))
        car_a, car_b = env_a.sim.car_state(), env_b.sim.car_state()
        poses_a.append((car_a.x_m, car_a.y_m, car_a.yaw_rad))
        poses_b.append((car_b.x_m, car_b.y_m, car_b.yaw_rad))
        images_a.append(obs_a)
    np.testing.assert_array_equal(np.array(poses_a), alone_a.poses)
    np.testing.assert_array_equal(np.array(poses_b), alone_b.poses)
    np.testing.assert_array_equal(np.array(images_a), alone_a.images[1:])


def test_full_steer_departs_and_terminates_as_a_crash(
    make_env: MakeEnv, small: LaneScenario, rollout: Rollouter
) -> None:
    run = rollout(make_env(), 0, 1.0, 200)
    assert run.terminated
    assert not run.truncated
    assert run.infos[-1]["lane_departure"]
    assert abs(float(run.infos[-1]["lateral_offset_m"])) > small.lane_half_width_m


def test_flip_terminates(make_env: MakeEnv) -> None:
    env = make_env()
    env.reset(seed=0)
    car = env.sim.car_state()
    upside_down = p.getQuaternionFromEuler([np.pi, 0.0, 0.0])
    p.resetBasePositionAndOrientation(
        env.sim.car, [car.x_m, car.y_m, 0.3], upside_down, physicsClientId=env.sim.client
    )
    _, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
    assert terminated
    assert not truncated
    assert info["flipped"]
    assert float(reward) < -5.0


def test_time_limit_truncates_without_terminating(make_env: MakeEnv, small: LaneScenario) -> None:
    scenario = dataclasses.replace(small, time_limit_s=1.0)
    env = make_env(scenario, render_camera=False)
    expected_steps = int(scenario.time_limit_s * CONTROL_HZ)
    env.reset(seed=0)
    for step in range(1, expected_steps + 1):
        _, _, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
        assert not terminated
        assert truncated == (step == expected_steps)


def test_intervention_puts_the_car_back_and_drives_on(make_env: MakeEnv) -> None:
    env = make_env(intervention=True)
    env.reset(seed=0)
    interventions = 0
    for _ in range(150):
        before = env.distance_along_road()
        _, _, terminated, truncated, info = env.step(np.ones(1, np.float32))
        assert not terminated
        assert not truncated
        if info["intervened"]:
            interventions += 1
            assert info["lane_departure"]
            assert info["interventions"] == interventions
            assert abs(info["lateral_offset_m"]) < 0.02
            assert abs(info["heading_error_rad"]) < 0.02
            assert abs(info["distance_m"] - before) < 0.3  # same arc length (one step's drive)
            assert abs(env.sim.car_state().speed_mps) < 1e-6
    assert interventions >= 2
    assert env.interventions == interventions
    assert env.distance_along_road() > 2.0  # it kept driving between interventions


def test_progress_reward_and_info(make_env: MakeEnv) -> None:
    env = make_env(depth_in_info=True)
    env.reset(seed=0)
    rewards = [float(env.step(np.zeros(1, np.float32))[1]) for _ in range(30)]
    _, _, _, _, info = env.step(np.zeros(1, np.float32))
    assert 0.8 < np.mean(rewards[-10:]) < 1.1  # ~1 per step at target speed near the centre
    assert info["distance_m"] > 2.0
    assert info["depth_m"].shape == (24, 48)
    assert info["depth_m"].dtype == np.float32
    # the bottom rows look at the road a short way ahead; the top rows much further
    assert 0.1 < float(np.median(info["depth_m"][-1])) < float(np.median(info["depth_m"][0]))
    np.testing.assert_array_equal(info["depth_m"], env.depth_m())


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(2, np.float32), r"shape \(1,\)"),
        (np.zeros((1, 1), np.float32), r"shape \(1,\)"),
        (np.array([np.nan], np.float32), "finite"),
        (np.array([np.inf], np.float32), "finite"),
    ],
)
def test_bad_actions_raise_one_line_value_errors(
    make_env: MakeEnv, action: np.ndarray, message: str
) -> None:
    env = make_env(render_camera=False)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message) as err:
        env.step(action)
    assert "\n" not in str(err.value)


def test_speed_action_changes_speed(make_env: MakeEnv) -> None:
    env = make_env(render_camera=False, speed_action=True)
    speeds = []
    for speed_action in (-0.5, 0.5):
        env.reset(seed=0)
        for _ in range(30):
            *_, info = env.step(np.array([0.0, speed_action], np.float32))
        speeds.append(info["speed_mps"])
    assert speeds[0] == pytest.approx(1.0, abs=0.15)
    assert speeds[1] == pytest.approx(3.0, abs=0.3)


def test_render_camera_false_gives_blank_frames_and_same_physics(
    make_env: MakeEnv, rollout: Rollouter
) -> None:
    with_camera = rollout(make_env(), 8, 0.2, 20)
    without = rollout(make_env(render_camera=False), 8, 0.2, 20)
    np.testing.assert_array_equal(with_camera.poses, without.poses)
    assert not without.images.any()


def test_render_mode_rgb_array_returns_the_last_frame(make_env: MakeEnv) -> None:
    env = make_env(render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    frame = env.render()
    assert frame is not None
    np.testing.assert_array_equal(frame, obs)
