"""Registration of the worlds with gymnasium (string entry points: pybullet loads on `make`)."""

from __future__ import annotations

import gymnasium as gym

LANE_KEEPING_ID = "lnn_control/LaneKeeping-v0"
LANE_KEEPING_ENTRY_POINT = "lnn_control.envs.lane_keeping:LaneKeepingEnv"
DRONE_NAV_ID = "lnn_control/DroneNav-v0"
DRONE_NAV_ENTRY_POINT = "lnn_control.envs.drone.env:DroneNavEnv"


def register_envs() -> None:
    """Register `lnn_control/LaneKeeping-v0` and `lnn_control/DroneNav-v0`; a no-op for ids
    already in the registry.

    No `max_episode_steps`: each env truncates at its scenario's own time limit.
    """
    for env_id, entry_point in (
        (LANE_KEEPING_ID, LANE_KEEPING_ENTRY_POINT),
        (DRONE_NAV_ID, DRONE_NAV_ENTRY_POINT),
    ):
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point)
