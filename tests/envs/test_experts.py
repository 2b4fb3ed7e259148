"""Privileged experts keep the lane; noise injection perturbs only the executed action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.expert import LaneExpert, PurePursuitExpert, StanleyExpert
from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START, LaneScenario

EXPERTS = [PurePursuitExpert, StanleyExpert]

MakeEnv = Callable[..., LaneKeepingEnv]
Rollouter = Callable[..., Any]


def drive(env: LaneKeepingEnv, expert: LaneExpert, seed: int) -> tuple[int, float, float]:
    """Drive one episode; returns (departures, distance m, max |lateral offset| m)."""
    env.reset(seed=seed)
    expert.reset(seed=seed)
    departures, max_lateral = 0, 0.0
    while True:
        executed, _ = expert.act(env.privileged_state())
        _, _, terminated, truncated, info = env.step(executed)
        departures += int(info["lane_departure"])
        max_lateral = max(max_lateral, abs(info["lateral_offset_m"]))
        if terminated or truncated:
            return departures, float(info["distance_m"]), max_lateral


@pytest.mark.slow
@pytest.mark.parametrize("expert_type", EXPERTS)
def test_expert_keeps_the_lane_on_held_out_seeds(
    make_env: MakeEnv, expert_type: type[LaneExpert]
) -> None:
    scenario = LaneScenario(time_limit_s=75.0, road_length_m=165.0)  # 150 m at 2 m/s
    env = make_env(scenario, render_camera=False, intervention=True)
    for seed in range(HELD_OUT_SEED_START, HELD_OUT_SEED_START + 2):
        departures, distance, max_lateral = drive(env, expert_type(), seed)
        assert departures == 0
        assert distance > 145.0
        assert max_lateral < 0.5 * scenario.lane_half_width_m


@pytest.mark.parametrize("expert_type", EXPERTS)
def test_noise_perturbs_the_executed_action_and_keeps_the_clean_label(
    make_env: MakeEnv, expert_type: type[LaneExpert]
) -> None:
    env = make_env(render_camera=False)
    clean, noisy = expert_type(), expert_type(noise_std=0.3, noise_correlation=0.5)
    noisy.reset(seed=1)
    env.reset(seed=4)
    differences = []
    for _ in range(40):
        state = env.privileged_state()
        executed, label = noisy.act(state)
        assert executed.shape == label.shape == (1,)
        assert executed.dtype == label.dtype == np.float32
        np.testing.assert_array_equal(label, clean.act(state).label)  # label is noise-free
        np.testing.assert_array_equal(clean.act(state).executed, clean.act(state).label)
        assert -1.0 <= executed[0] <= 1.0
        differences.append(float(executed[0] - label[0]))
        env.step(executed)
    assert 0.15 < np.std(differences) < 0.45


def test_noise_is_reproducible_from_the_seed() -> None:
    def noise(seed: int) -> list[float]:
        expert = PurePursuitExpert(noise_std=0.2)
        expert.reset(seed=seed)
        return [float(expert.rng.normal()) for _ in range(3)]

    assert noise(3) == noise(3)
    assert noise(3) != noise(4)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"noise_std": -0.1}, "noise_std"), ({"noise_correlation": 1.0}, "noise_correlation")],
)
def test_bad_noise_arguments_raise(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        StanleyExpert(**kwargs)
