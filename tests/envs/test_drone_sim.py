"""DroneSim: skipping the contact query far from everything gives the same flights and collisions
as querying on every physics step."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lnn_control.envs.drone import sim
from lnn_control.envs.drone.env import DroneNavEnv
from lnn_control.envs.drone.quadrotor import BODY_RADIUS_M
from lnn_control.envs.drone.scenario import DroneScenario
from lnn_control.envs.drone.scene import Obstacle

FOREST = DroneScenario(image_height=24, image_width=36, time_limit_s=6.0)
URBAN = DroneScenario(image_height=24, image_width=36, time_limit_s=6.0, scenery="urban")
Start = Callable[[Obstacle], tuple[float, float, float]]
#: name: (scenario, start position next to the layout's first obstacle (None: the layout's
#: start), start yaw, action held until the episode ends).
CASES: dict[str, tuple[DroneScenario, Start | None, float, tuple[float, ...]]] = {
    "ground": (FOREST, None, 0.0, (0.5, 0.2, -1.0, 0.3)),
    "trunk": (FOREST, lambda o: (o.x_m - o.radius_m - 0.6, o.y_m, 1.0), 0.0, (1.0, 0, 0, 0)),
    "trunk_graze": (
        FOREST,
        lambda o: (o.x_m - o.radius_m - 0.8, o.y_m + o.radius_m + BODY_RADIUS_M + 0.01, 1.0),
        0.0,
        (1.0, 0.0, 0.0, 0.0),
    ),
    "building_corner": (
        URBAN,
        lambda o: (o.x_m - o.radius_m - 0.5, o.y_m - o.radius_m - 0.5, 1.0),
        math.pi / 4,
        (1.0, 0.0, 0.0, 0.0),
    ),
}


def _flight(monkeypatch: pytest.MonkeyPatch, case: str, seed: int) -> tuple[list[Any], int]:
    """Fly `case` until the episode ends (at most 60 steps): the infos, and how many contact
    queries ran."""
    scenario, start, yaw, action = CASES[case]
    query = sim.p.getContactPoints
    queries = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal queries
        queries += 1
        return query(*args, **kwargs)

    monkeypatch.setattr(sim.p, "getContactPoints", counted)
    env = DroneNavEnv(scenario, render_camera=False)
    _, info = env.reset(seed=seed)
    if start is not None:
        assert env.sim.drone is not None
        env.sim.drone.reset_pose(start(env.task.layout.obstacles[0]), yaw)
    infos = [info]
    for _ in range(60):
        _, _, terminated, truncated, info = env.step(np.array(action, np.float32))
        infos.append(info)
        if terminated or truncated:
            break
    env.close()
    monkeypatch.setattr(sim.p, "getContactPoints", query)
    return infos, queries


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [2, 3])
def test_skipping_far_contact_queries_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, case: str, seed: int
) -> None:
    skipping, skipping_queries = _flight(monkeypatch, case, seed)
    monkeypatch.setattr(sim, "CONTACT_QUERY_MARGIN_M", math.inf)  # query every physics step
    every, every_queries = _flight(monkeypatch, case, seed)
    assert skipping == every  # same positions, velocities, collision step and flags
    assert skipping_queries < every_queries
    assert not every[-1]["out_of_arena"]
    if case != "trunk_graze":  # a graze may or may not touch; the others must crash
        assert every[-1]["collision"]


def test_every_obstacle_of_a_dense_forest_is_solid() -> None:
    """PyBullet keeps at most 16 shapes per createCollisionShapeArray: each obstacle must still
    stop a ray aimed at its centre (the scene splits them over several bodies)."""
    env = DroneNavEnv(DroneScenario(obstacle_density_per_m2=0.28), render_camera=False)
    env.reset(seed=3)
    obstacles = env.task.layout.obstacles
    assert len(obstacles) > 2 * 16
    client = env.sim.client
    solid = set(env.sim.bodies.obstacles)
    for o in obstacles:
        mid = 0.5 * o.height_m
        hit = sim.p.rayTest(
            [o.x_m + o.radius_m + 0.3, o.y_m, mid], [o.x_m, o.y_m, mid], physicsClientId=client
        )[0]
        assert hit[0] in solid, f"obstacle at ({o.x_m:.1f}, {o.y_m:.1f}) has no collision shape"
    env.close()
