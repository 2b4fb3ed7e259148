"""DroneNav-v0 episode results and their summary keys (DESIGN.md).

- success_rate: share of episodes that ended at the target (within its radius, slow).
- collision_rate: share that ended in a collision (ground or obstacle).
- mean_final_distance_m: distance to the target when the episode ended, mean over episodes.
- mean_time_to_target_s: flight time of the successful episodes, mean (nan if none succeeded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

DRONE_SUMMARY_KEYS = (
    "success_rate",
    "collision_rate",
    "mean_final_distance_m",
    "mean_time_to_target_s",
)


@dataclass
class DroneEpisode:
    """How one evaluated flight ended."""

    seed: int
    steps: int
    elapsed_s: float
    success: bool
    collision: bool
    out_of_arena: bool
    final_distance_m: float

    def record(self) -> dict[str, float]:
        """The per-episode CSV row."""
        return {k: float(v) for k, v in asdict(self).items()}


def drone_metrics(episodes: Sequence[DroneEpisode]) -> dict[str, float]:
    """The DESIGN.md drone summary keys over `episodes`."""
    if not episodes:
        raise ValueError("drone_metrics needs at least one episode")
    times = [e.elapsed_s for e in episodes if e.success]
    return {
        "success_rate": float(np.mean([e.success for e in episodes])),
        "collision_rate": float(np.mean([e.collision for e in episodes])),
        "mean_final_distance_m": float(np.mean([e.final_distance_m for e in episodes])),
        "mean_time_to_target_s": float(np.mean(times)) if times else float("nan"),
    }
