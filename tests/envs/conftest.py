"""Shared helpers for the lane-keeping tests: small, fast scenarios and rollouts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.scenario import LaneScenario

#: Small images keep rendering cheap in tests.
SMALL = LaneScenario(image_height=24, image_width=48, time_limit_s=10.0, road_length_m=40.0)


@dataclass
class Rollout:
    """Per-step records of a rollout: car pose (T, 3) as x m, y m, yaw rad; images (T, H, W, 3);
    infos and the terminated / truncated flags of the last step."""

    poses: NDArray[np.float64]
    images: NDArray[np.uint8]
    infos: list[dict[str, object]]
    terminated: bool
    truncated: bool


def run_rollout(
    env: LaneKeepingEnv, seed: int, actions: list[float] | float, steps: int
) -> Rollout:
    """Reset on `seed` and step with a constant or listed steering action until done or `steps`."""
    plan = actions if isinstance(actions, list) else [actions] * steps
    obs, info = env.reset(seed=seed)
    poses, images, infos = [], [obs], [info]
    terminated = truncated = False
    for action in plan[:steps]:
        obs, _, terminated, truncated, info = env.step(np.array([action], dtype=np.float32))
        car = env.sim.car_state()
        poses.append((car.x_m, car.y_m, car.yaw_rad))
        images.append(obs)
        infos.append(info)
        if terminated or truncated:
            break
    return Rollout(np.array(poses), np.array(images), infos, terminated, truncated)


MakeEnv = Callable[..., LaneKeepingEnv]


@pytest.fixture
def make_env() -> Iterator[MakeEnv]:
    """`make_env(scenario=SMALL, **kwargs)` builds a `LaneKeepingEnv` closed after the test."""
    made: list[LaneKeepingEnv] = []

    def make(scenario: LaneScenario = SMALL, **kwargs: Any) -> LaneKeepingEnv:
        env = LaneKeepingEnv(scenario, **kwargs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


@pytest.fixture
def small() -> LaneScenario:
    """`SMALL`: 24 x 48 images, 10 s episodes on a 40 m road."""
    return SMALL


@pytest.fixture
def rollout() -> Callable[..., Rollout]:
    """`run_rollout(env, seed, actions, steps) -> Rollout`."""
    return run_rollout
