"""Registration of the worlds with gymnasium (string entry points: pybullet loads on `make`)."""

from __future__ import annotations

import gymnasium as gym

LANE_KEEPING_ID = "lnn_control/LaneKeeping-v0"
LANE_KEEPING_ENTRY_POINT = "lnn_control.envs.lane_keeping:LaneKeepingEnv"


def register_envs() -> None:
    """Register `lnn_control/LaneKeeping-v0`; a no-op for ids already in the registry.

    No `max_episode_steps`: the env truncates at its scenario's own time limit.
    """
    if LANE_KEEPING_ID not in gym.registry:
        gym.register(id=LANE_KEEPING_ID, entry_point=LANE_KEEPING_ENTRY_POINT)
