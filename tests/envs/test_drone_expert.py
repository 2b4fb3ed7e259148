"""DroneExpert: success on held-out seeds, noise injection, obstacle avoidance, the eval CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lnn_control.envs.drone.env import DroneNavEnv, DronePrivilegedState
from lnn_control.envs.drone.expert import DroneExpert, evaluate_expert, main
from lnn_control.envs.drone.quadrotor import DroneState
from lnn_control.envs.drone.scenario import HELD_OUT_SEED_START, DroneScenario
from lnn_control.envs.drone.scene import Obstacle

_LEVEL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _state(
    obstacles: tuple[Obstacle, ...], target: tuple[float, float, float]
) -> DronePrivilegedState:
    drone = DroneState((0.0, 0.0, 1.0), (0.0, 0.0, 0.0), 0.0, 0.0, 0.0, (0.0, 0.0, 0.0), _LEVEL)
    return DronePrivilegedState(drone, target, obstacles, 10.0, 3.0, 0.3, 0.3)


@pytest.mark.slow
def test_expert_succeeds_on_at_least_95_percent_of_20_held_out_seeds() -> None:
    seeds = range(HELD_OUT_SEED_START, HELD_OUT_SEED_START + 20)
    result = evaluate_expert(seeds, DroneScenario())
    assert result["success_rate"] >= 0.95, result


def test_expert_flies_straight_at_a_target_ahead_and_climbs_toward_it() -> None:
    action = DroneExpert().clean_action(_state((), (5.0, 0.0, 1.5)))
    assert action.dtype == np.float32
    assert action[0] == pytest.approx(1.0)
    assert action[1] == pytest.approx(0.0, abs=1e-6)
    assert action[2] > 0.5
    assert action[3] == pytest.approx(0.0, abs=1e-6)


def test_expert_steers_around_a_trunk_on_the_direct_line() -> None:
    trunk = Obstacle(1.0, 0.0, 0.15, 4.0, False, 0)
    action = DroneExpert().clean_action(_state((trunk,), (5.0, 0.0, 1.0)))
    assert abs(float(action[3])) > 0.2  # turns away from the straight line
    assert abs(float(action[1])) > 0.05  # and slides sideways while it turns


def test_expert_turns_in_place_toward_a_target_behind() -> None:
    action = DroneExpert().clean_action(_state((), (-4.0, 0.5, 1.0)))
    assert action[0] == pytest.approx(0.0, abs=1e-6)
    assert action[3] == pytest.approx(1.0)  # the target is behind and to the left


def test_noise_injection_is_seeded_and_labels_stay_clean() -> None:
    scenario = DroneScenario(image_height=16, image_width=24, target_distance_range_m=(2.0, 3.0))
    env = DroneNavEnv(scenario, render_camera=False)
    try:
        runs = []
        for _ in range(2):
            env.reset(seed=3)
            expert = DroneExpert(noise_std=0.3, noise_correlation=0.5)
            expert.reset(seed=3)
            pairs = []
            for _ in range(10):
                executed, label = expert.act(env.privileged_state())
                np.testing.assert_array_equal(label, expert.clean_action(env.privileged_state()))
                pairs.append((executed, label))
                env.step(executed)
            runs.append(pairs)
        for (e1, l1), (e2, l2) in zip(*runs, strict=True):
            np.testing.assert_array_equal(e1, e2)
            np.testing.assert_array_equal(l1, l2)
        assert any(not np.array_equal(e, lab) for e, lab in runs[0])
        assert all(np.all(np.abs(e) <= 1.0) for e, _ in runs[0])
    finally:
        env.close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"noise_std": 2.0}, "noise_std"), ({"noise_correlation": 1.0}, "noise_correlation")],
)
def test_bad_noise_arguments_raise(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DroneExpert(**kwargs)


def test_eval_cli_prints_rates(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = {"target_distance_range_m": [1.5, 2.0], "scenery": "urban"}
    main(["--first-seed", "1000000", "--episodes", "2", "--scenario-json", json.dumps(scenario)])
    result = json.loads(capsys.readouterr().out)
    assert result["seeds"] == [1_000_000, 1_000_001]
    assert result["episodes"] == 2.0
    rates = [
        result[k] for k in ("success_rate", "collision_rate", "out_of_arena_rate", "timeout_rate")
    ]
    assert sum(rates) == pytest.approx(1.0)
    assert result["success_rate"] == 1.0


def test_expert_handles_the_urban_scenery_and_wind() -> None:
    scenario = dataclasses.replace(
        DroneScenario(),
        scenery="urban",
        wind_mean_mps=1.0,
        wind_gust_std_mps=0.3,
        target_distance_range_m=(3.0, 4.0),
    )
    result = evaluate_expert(range(HELD_OUT_SEED_START, HELD_OUT_SEED_START + 3), scenario)
    assert result["success_rate"] == 1.0, result
