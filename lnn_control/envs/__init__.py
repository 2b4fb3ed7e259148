"""PyBullet worlds, experts and recording tools; `world(env_id)` is the World registry.

Importing this package does not import pybullet: the modules that need it (`lane_keeping`,
`racecar`, `experts`, `record`) are imported on first attribute access, so code that only needs
`LaneScenario` or the seed constants stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START, LaneScenario
from lnn_control.envs.world import World, env_ids, world, worlds

if TYPE_CHECKING:
    from lnn_control.envs.lane.env import LaneKeepingEnv
    from lnn_control.envs.lane.expert import PurePursuitExpert, StanleyExpert

_LAZY = {
    "LaneKeepingEnv": "lnn_control.envs.lane.env",
    "PurePursuitExpert": "lnn_control.envs.lane.expert",
    "StanleyExpert": "lnn_control.envs.lane.expert",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HELD_OUT_SEED_START",
    "LaneKeepingEnv",
    "LaneScenario",
    "PurePursuitExpert",
    "StanleyExpert",
    "World",
    "env_ids",
    "world",
    "worlds",
]
