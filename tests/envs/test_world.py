"""The World registry: one record per world, consistent with gymnasium and the world's code."""

from __future__ import annotations

import gymnasium as gym
import pytest

import lnn_control  # noqa: F401  (registers the envs)
from lnn_control.envs import World, env_ids, world, worlds
from lnn_control.envs.drone.shifts import DRONE_SHIFTS
from lnn_control.envs.lane.shifts import SCENARIO_SHIFTS


def test_registry_lists_both_worlds_with_their_action_meaning() -> None:
    assert env_ids() == ("lnn_control/LaneKeeping-v0", "lnn_control/DroneNav-v0")
    lane, drone = worlds()
    assert (lane.action_size, drone.action_size) == (1, 4)
    assert drone.action_names == ("vx", "vy", "vz", "yaw_rate")
    assert world(lane) is lane
    assert world("lnn_control/DroneNav-v0") is drone


def test_unknown_world_is_one_line_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown world 'CartPole-v1'; known: lnn_control/Lane"):
        world("CartPole-v1")


@pytest.mark.parametrize("the_world", worlds(), ids=lambda w: w.name)
def test_gymnasium_registration_and_period_come_from_the_record(the_world: World) -> None:
    assert gym.spec(the_world.env_id).entry_point == the_world.entry_point
    env = the_world.make_env({"image_height": 24, "image_width": 36})
    try:
        env.reset(seed=1_000_000)
        assert the_world.period_s(env) == pytest.approx(the_world.control_dt_s)
        assert env.action_space.shape == (the_world.action_size,)
        _, _, _, _, info = env.step(env.action_space.sample() * 0)
        assert set(the_world.trace_keys) <= set(info)
    finally:
        env.close()


def test_shift_names_match_the_shift_tables() -> None:
    assert set(world("lnn_control/LaneKeeping-v0").shifts) == set(SCENARIO_SHIFTS)
    assert set(world("lnn_control/DroneNav-v0").shifts) == set(DRONE_SHIFTS)


def test_experts_by_name_and_bad_names_refused() -> None:
    lane = world("lnn_control/LaneKeeping-v0")
    assert type(lane.make_expert()).__name__ == "PurePursuitExpert"
    assert type(lane.make_expert("stanley")).__name__ == "StanleyExpert"
    with pytest.raises(ValueError, match=r"must be one of \['drone_guidance'\], got 'stanley'"):
        world("lnn_control/DroneNav-v0").make_expert("stanley")


def test_perturbations_the_drone_cannot_render_are_named() -> None:
    world("lnn_control/LaneKeeping-v0").check_perturbation("fog")
    with pytest.raises(ValueError, match="'fog' is not supported by lnn_control/DroneNav-v0"):
        world("lnn_control/DroneNav-v0").check_perturbation("fog")


def test_lane_scenario_for_a_distance_keeps_the_base_speed() -> None:
    lane = world("lnn_control/LaneKeeping-v0")
    scenario = lane.scenario_for({"target_speed_mps": 2.0}, 100.0)
    assert scenario["time_limit_s"] == pytest.approx(50.0)
    assert scenario["road_length_m"] == pytest.approx(120.0)
    assert world("lnn_control/DroneNav-v0").scenario_for({"scenery": "winter"}, 100.0) == {
        "scenery": "winter"
    }
