"""DroneNavEnv: API conformance, determinism, seeds, knobs, actions, flight, termination."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from lnn_control.envs.drone.env import DroneNavEnv
from lnn_control.envs.drone.expert import DroneExpert
from lnn_control.envs.drone.quadrotor import (
    HOVER_RPM,
    KF_N_PER_RPM2,
    KM_NM_PER_RPM2,
    MASS_KG,
    ROTOR_POSITIONS_M,
    YAW_SIGNS,
    CascadedController,
    VelocityCommand,
    mix,
)
from lnn_control.envs.drone.scenario import DroneScenario

#: Small images keep rendering cheap in tests.
SMALL = DroneScenario(image_height=24, image_width=36, time_limit_s=10.0)
INFO_KEYS = {
    "distance_to_target_m",
    "success",
    "collision",
    "out_of_arena",
    "position_m",
    "velocity_mps",
    "yaw_rad",
    "target_position_m",
    "seed",
}
MakeEnv = Callable[..., DroneNavEnv]


@pytest.fixture
def make_env() -> Iterator[MakeEnv]:
    """`make_env(scenario=SMALL, **kwargs)` builds a `DroneNavEnv` closed after the test."""
    made: list[DroneNavEnv] = []

    def make(scenario: DroneScenario = SMALL, **kwargs: Any) -> DroneNavEnv:
        env = DroneNavEnv(scenario, **kwargs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


def _act(vx: float = 0.0, vy: float = 0.0, vz: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    return np.array([vx, vy, vz, yaw], np.float32)


def _rollout(
    env: DroneNavEnv, seed: int, steps: int, action: np.ndarray
) -> tuple[list[np.ndarray], list[dict[str, Any]], bool, bool]:
    obs, info = env.reset(seed=seed)
    images, infos = [obs], [info]
    terminated = truncated = False
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(action)
        images.append(obs)
        infos.append(info)
        if terminated or truncated:
            break
    return images, infos, terminated, truncated


# ----- API -----
def test_gymnasium_env_checker_passes(make_env: MakeEnv) -> None:
    gym_check_env(make_env(), skip_render_check=True)


def test_stable_baselines3_env_checker_passes(make_env: MakeEnv) -> None:
    sb3_check_env(make_env(), warn=False)


def test_registered_id_makes_the_env_and_passes_kwargs() -> None:
    import lnn_control  # noqa: F401  (registers the worlds)

    env = gym.make("lnn_control/DroneNav-v0", scenario={"image_height": 16, "image_width": 24})
    try:
        assert isinstance(env.unwrapped, DroneNavEnv)
        obs, info = env.reset(seed=1)
        assert obs.shape == (16, 24, 3)
        assert obs.dtype == np.uint8
        assert set(info) >= INFO_KEYS
        assert env.action_space.shape == (4,)
    finally:
        env.close()


def test_importing_lnn_control_registers_drone_nav_without_pybullet() -> None:
    code = (
        "import sys, lnn_control, lnn_control.envs.drone;"
        "from lnn_control.envs.drone import DroneScenario;"
        "assert 'lnn_control/DroneNav-v0' in __import__('gymnasium').registry;"
        "assert 'pybullet' not in sys.modules, 'pybullet imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    spec = gym.spec("lnn_control/DroneNav-v0")
    assert spec.entry_point == "lnn_control.envs.drone.env:DroneNavEnv"
    assert spec.max_episode_steps is None  # the env truncates at its own time limit


def test_default_observation_is_64_by_96_and_shows_the_red_target(make_env: MakeEnv) -> None:
    scenario = DroneScenario(obstacle_density_per_m2=0.0, target_bearing_range_rad=(0.0, 0.0))
    obs, _ = make_env(scenario).reset(seed=4)
    assert obs.shape == (64, 96, 3)
    rgb = obs.astype(np.int64)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
    assert red.sum() >= 2
    cols = np.nonzero(red)[1]
    assert abs(float(cols.mean()) - 47.5) < 6.0  # straight ahead: the middle of the image


# ----- determinism and seeds -----
def test_same_seed_gives_identical_observations_and_infos(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, wind_mean_mps=1.0, wind_gust_std_mps=0.5)
    a = _rollout(make_env(scenario), 11, 25, _act(0.6, 0.2, 0.1, 0.3))
    env = make_env(scenario)
    _rollout(env, 12, 5, _act(-1.0))
    b = _rollout(env, 11, 25, _act(0.6, 0.2, 0.1, 0.3))  # same env, after another episode
    np.testing.assert_array_equal(np.array(a[0]), np.array(b[0]))
    assert a[1] == b[1]
    assert a[0][-1].std() > 5.0  # a real picture, not a blank frame


def test_two_seeds_give_different_arenas_and_images(make_env: MakeEnv) -> None:
    env = make_env()
    obs_1, info_1 = env.reset(seed=1)
    layout_1 = env.task.layout
    obs_2, info_2 = env.reset(seed=2)
    assert info_1["target_position_m"] != info_2["target_position_m"]
    assert layout_1.obstacles != env.task.layout.obstacles
    assert not np.array_equal(obs_1, obs_2)


def test_unseeded_reset_draws_a_training_seed_reported_in_info(make_env: MakeEnv) -> None:
    env = make_env(render_camera=False)
    env.reset(seed=5)
    _, info = env.reset()
    assert 0 <= info["seed"] < 1_000_000


def test_render_camera_false_gives_blank_frames_and_the_same_flight(make_env: MakeEnv) -> None:
    with_camera = _rollout(make_env(), 8, 15, _act(0.5, 0.0, 0.0, 0.5))
    without = _rollout(make_env(render_camera=False), 8, 15, _act(0.5, 0.0, 0.0, 0.5))
    assert with_camera[1] == without[1]
    assert not np.array(without[0]).any()


# ----- knobs -----
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("arena_half_size_m", 1.0),
        ("ceiling_m", float("nan")),
        ("start_height_m", 2.9),  # above ceiling - 0.3
        ("target_distance_range_m", (5.0, 3.0)),
        ("target_distance_range_m", (3.0, 20.0)),  # beyond the arena
        ("target_distance_range_m", (3.0,)),
        ("target_bearing_range_rad", (-4.0, 0.0)),
        ("target_height_range_m", (0.5, 3.5)),
        ("success_radius_m", 0.0),
        ("obstacle_density_per_m2", -0.1),
        ("obstacle_radius_range_m", (0.2, 0.1)),
        ("scenery", "desert"),
        ("light_direction", (0.0, 0.0, 0.0)),
        ("light_direction", (1.0, 2.0)),
        ("light_brightness", 5.0),
        ("wind_mean_mps", -1.0),
        ("wind_gust_std_mps", 10.0),
        ("mass_scale", 3.0),
        ("ground_effect", "yes"),
        ("camera_pitch_offset_rad", 2.0),
        ("camera_height_offset_m", -1.0),
        ("image_height", 4),
        ("image_width", 32.0),
        ("time_limit_s", 0.0),
        ("control_hz", 25),
        ("control_hz", 20.0),
    ],
)
def test_bad_knobs_raise_one_line_errors_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field) as err:
        DroneScenario(**{field: value})
    assert "\n" not in str(err.value)


def test_from_mapping_converts_lists_and_rejects_unknown_keys() -> None:
    scenario = DroneScenario.from_mapping(
        {"target_distance_range_m": [2.0, 4.0], "scenery": "urban"}
    )
    assert scenario.target_distance_range_m == (2.0, 4.0)
    with pytest.raises(ValueError, match="unknown DroneScenario field"):
        DroneScenario.from_mapping({"fog": 1.0})


def test_control_rate_sets_the_substeps_and_the_time_limit(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, control_hz=10, time_limit_s=0.5)
    assert scenario.substeps == 24
    env = make_env(scenario, render_camera=False)
    _, infos, terminated, truncated = _rollout(env, 0, 100, _act())
    assert truncated
    assert not terminated
    assert len(infos) == 6  # reset + 5 steps of 0.1 s
    assert infos[-1]["elapsed_s"] == pytest.approx(0.5)


@pytest.mark.parametrize("scenery", ["summer", "autumn", "winter", "urban"])
def test_sceneries_build_and_differ_in_colour(make_env: MakeEnv, scenery: str) -> None:
    obs, _ = make_env(dataclasses.replace(SMALL, scenery=scenery)).reset(seed=3)
    ground = obs[-4:].reshape(-1, 3).mean(axis=0)  # the bottom rows see the ground
    expected = np.array(DroneScenario(scenery=scenery).palette.ground) * 255.0
    assert np.abs(ground - expected).max() < 60.0


def test_wind_pushes_the_drone_downwind(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, wind_mean_mps=3.0, obstacle_density_per_m2=0.0)
    env = make_env(scenario, render_camera=False)
    _, infos, *_ = _rollout(env, 0, 20, _act())
    wind = np.array(infos[-1]["wind_mps"][:2])
    drift = np.array(infos[-1]["position_m"][:2])
    assert float(drift @ wind) / float(np.linalg.norm(wind)) > 0.05


def test_heavier_drone_still_holds_altitude(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, mass_scale=1.3, obstacle_density_per_m2=0.0)
    _, infos, *_ = _rollout(make_env(scenario, render_camera=False), 0, 60, _act())
    heights = [info["position_m"][2] for info in infos]
    # It sags while the velocity integrator winds up (the controller assumes the nominal mass),
    # then holds its new height.
    assert min(heights) > 0.75
    assert abs(heights[-1] - heights[-10]) < 0.01
    assert abs(infos[-1]["velocity_mps"][2]) < 0.02


# ----- actions and flight -----
@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(3, np.float32), r"shape \(4,\)"),
        (np.zeros((1, 4), np.float32), r"shape \(4,\)"),
        (np.array([0.0, np.nan, 0.0, 0.0], np.float32), "finite"),
        (np.array([np.inf, 0.0, 0.0, 0.0], np.float32), "finite"),
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


def test_zero_action_hovers_within_a_few_centimetres_for_two_seconds(make_env: MakeEnv) -> None:
    _, infos, terminated, _ = _rollout(make_env(render_camera=False), 0, 40, _act())
    assert not terminated
    positions = np.array([info["position_m"] for info in infos])
    assert np.abs(positions[:, 2] - positions[0, 2]).max() < 0.03
    assert np.abs(positions[:, :2] - positions[0, :2]).max() < 0.03


@pytest.mark.parametrize(
    ("action", "body_direction"),
    [
        (_act(vx=1.0), (1.0, 0.0, 0.0)),
        (_act(vx=-1.0), (-1.0, 0.0, 0.0)),
        (_act(vy=1.0), (0.0, 1.0, 0.0)),
        (_act(vz=1.0), (0.0, 0.0, 1.0)),
    ],
)
def test_velocity_command_moves_the_drone_in_the_commanded_body_direction(
    make_env: MakeEnv, action: np.ndarray, body_direction: tuple[float, float, float]
) -> None:
    scenario = dataclasses.replace(SMALL, obstacle_density_per_m2=0.0)
    env = make_env(scenario, render_camera=False)
    _, infos, terminated, _ = _rollout(env, 7, 20, action)  # 1 s
    assert not terminated
    yaw = infos[0]["yaw_rad"]
    c, s = math.cos(yaw), math.sin(yaw)
    bx, by, bz = body_direction
    expected = np.array([c * bx - s * by, s * bx + c * by, bz])
    moved = np.array(infos[-1]["position_m"]) - np.array(infos[0]["position_m"])
    speed_limit = 0.5 if bz else 1.0
    assert float(moved @ expected) > 0.5 * speed_limit  # most of 1 s at the commanded speed
    assert np.linalg.norm(moved - (moved @ expected) * expected) < 0.05
    velocity = np.array(infos[-1]["velocity_mps"])
    assert float(velocity @ expected) == pytest.approx(speed_limit, abs=0.08)


def test_yaw_rate_command_turns_left(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, obstacle_density_per_m2=0.0)
    _, infos, *_ = _rollout(make_env(scenario, render_camera=False), 7, 10, _act(yaw=0.5))
    turned = (infos[-1]["yaw_rad"] - infos[0]["yaw_rad"] + math.pi) % (2 * math.pi) - math.pi
    assert 0.25 < turned < 0.40  # 0.75 rad/s for 0.5 s, less the spin-up


def test_mixer_inverts_the_rotor_model() -> None:
    thrust, torque = 0.3, (2e-5, -1e-5, 3e-6)
    rpm = mix(thrust, torque)
    forces = [KF_N_PER_RPM2 * w**2 for w in rpm]
    assert sum(forces) == pytest.approx(thrust)
    tau_x = sum(f * pos[1] for f, pos in zip(forces, ROTOR_POSITIONS_M, strict=True))
    tau_y = sum(-f * pos[0] for f, pos in zip(forces, ROTOR_POSITIONS_M, strict=True))
    tau_z = sum(s * KM_NM_PER_RPM2 * w**2 for s, w in zip(YAW_SIGNS, rpm, strict=True))
    assert (tau_x, tau_y, tau_z) == pytest.approx(torque)
    assert mix(MASS_KG * 9.81, (0.0, 0.0, 0.0)) == pytest.approx((HOVER_RPM,) * 4)
    assert max(mix(10.0, (0.0, 0.0, 0.0), max_rpm=20_000.0)) == 20_000.0  # saturation


def test_controller_reset_clears_its_state(make_env: MakeEnv) -> None:
    env = make_env(render_camera=False)
    env.reset(seed=0)
    state = env.sim.drone_state()
    command = VelocityCommand(0.5, 0.0, 0.0, 0.0)
    expected = CascadedController().rotor_rpm(state, command, 1 / 240)
    for _ in range(5):
        env.step(_act(1.0, 0.0, 1.0))  # winds up the integrator of env.sim.controller
    controller = env.sim.controller
    assert controller.rotor_rpm(state, command, 1 / 240) != expected
    controller.reset()
    assert controller.rotor_rpm(state, command, 1 / 240) == expected


# ----- task -----
def test_expert_reaches_the_target_on_a_short_episode(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, target_distance_range_m=(2.0, 2.5))
    env = make_env(scenario, render_camera=False)
    expert = DroneExpert()
    _, first = env.reset(seed=1_000_000)
    expert.reset(1_000_000)
    rewards = []
    for _ in range(scenario.max_steps):
        _, reward, terminated, truncated, info = env.step(
            expert.act(env.privileged_state()).executed
        )
        rewards.append(float(reward))
        if terminated or truncated:
            break
    assert terminated
    assert info["success"]
    assert not info["collision"]
    assert not info["out_of_arena"]
    assert info["distance_to_target_m"] < scenario.success_radius_m
    assert rewards[-1] > 5.0  # the success bonus
    # progress: 1 per 5 cm (one step at full speed) closer, + 10 for success, - small penalties
    progress = (first["distance_to_target_m"] - info["distance_to_target_m"]) / 0.05
    assert progress + 10.0 - 0.02 * len(rewards) <= sum(rewards) <= progress + 10.0


def test_flying_into_the_ground_is_a_collision_that_terminates(make_env: MakeEnv) -> None:
    env = make_env(render_camera=False)
    _, infos, terminated, truncated = _rollout(env, 0, 80, _act(vz=-1.0))
    assert terminated
    assert not truncated
    assert infos[-1]["collision"]
    assert not infos[-1]["success"]


def test_flying_into_an_obstacle_is_a_collision_that_terminates(make_env: MakeEnv) -> None:
    env = make_env(render_camera=False)
    env.reset(seed=0)
    obstacle = env.task.layout.obstacles[0]
    assert env.sim.drone is not None
    start = (obstacle.x_m - obstacle.radius_m - 0.6, obstacle.y_m, 1.0)
    env.sim.drone.reset_pose(start, 0.0)  # facing +x, straight at the trunk
    for _ in range(60):
        _, reward, terminated, truncated, info = env.step(_act(vx=1.0))
        if terminated or truncated:
            break
    assert terminated
    assert info["collision"]
    assert float(reward) < -5.0
    assert info["position_m"][0] < obstacle.x_m


def test_leaving_the_arena_terminates(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(
        SMALL, ceiling_m=1.2, start_height_m=0.8, target_height_range_m=(0.5, 0.9)
    )
    _, infos, terminated, truncated = _rollout(
        make_env(scenario, render_camera=False), 0, 60, _act(vz=1.0)
    )
    assert terminated
    assert not truncated
    assert infos[-1]["out_of_arena"]
    assert not infos[-1]["collision"]
    assert infos[-1]["position_m"][2] > 1.2


def test_time_limit_truncates_without_terminating(make_env: MakeEnv) -> None:
    scenario = dataclasses.replace(SMALL, time_limit_s=1.0)
    env = make_env(scenario, render_camera=False)
    env.reset(seed=0)
    for step in range(1, 21):
        _, _, terminated, truncated, _ = env.step(_act())
        assert not terminated
        assert truncated == (step == 20)


def test_privileged_state_matches_the_info(make_env: MakeEnv) -> None:
    env = make_env(render_camera=False)
    _, info = env.reset(seed=3)
    state = env.privileged_state()
    assert state.drone.position_m == info["position_m"]
    assert state.target_position_m == info["target_position_m"] == env.target_position()
    assert state.obstacles == env.task.layout.obstacles
    for o in state.obstacles:  # obstacles keep clear of the start and the target
        assert math.hypot(o.x_m, o.y_m) - o.bounding_radius_m >= 1.0
        tx, ty, _ = state.target_position_m
        assert math.hypot(o.x_m - tx, o.y_m - ty) - o.bounding_radius_m >= 1.0
    assert env.distance_to_target() == info["distance_to_target_m"]
