"""Registration of the worlds with gymnasium (string entry points: pybullet loads on `make`)."""

from __future__ import annotations

import gymnasium  # noqa: F401  (without it, importing this module fails: nothing to register)

from lnn_control.envs.world import worlds


def register_envs() -> None:
    """Register every world of the registry (`lnn_control/LaneKeeping-v0`,
    `lnn_control/DroneNav-v0`, ...); a no-op for ids already in gymnasium's registry.

    No `max_episode_steps`: each env truncates at its scenario's own time limit.
    """
    for record in worlds():
        record.register()
