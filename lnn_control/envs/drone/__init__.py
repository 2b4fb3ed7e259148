"""The drone-navigation world, `lnn_control/DroneNav-v0`.

Importing this package does not import pybullet: `DroneScenario` and the seed constant are
imported eagerly; `DroneNavEnv` and `DroneExpert` load on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lnn_control.envs.drone.scenario import HELD_OUT_SEED_START, DroneScenario

if TYPE_CHECKING:
    from lnn_control.envs.drone.env import DroneNavEnv
    from lnn_control.envs.drone.expert import DroneExpert

_LAZY = {
    "DroneNavEnv": "lnn_control.envs.drone.env",
    "DroneExpert": "lnn_control.envs.drone.expert",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["HELD_OUT_SEED_START", "DroneExpert", "DroneNavEnv", "DroneScenario"]
