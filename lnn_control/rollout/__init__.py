"""Closed loops: the one episode loop (`run_episode`), evaluation, and the one parallel map.

    from lnn_control.rollout import run_episode, evaluate
    record = run_episode(policy, world("lnn_control/DroneNav-v0"), 1_000_000)

Imports torch only where a policy is loaded from a file (worker processes).
"""

from __future__ import annotations

from lnn_control.rollout.episode import (
    EpisodeRecord,
    EpisodeSlot,
    Recorder,
    Step,
    StepPolicy,
    run_episode,
)
from lnn_control.rollout.evaluate import EvalResult, evaluate
from lnn_control.rollout.parallel import map_ordered, parallel_map

__all__ = [
    "EpisodeRecord",
    "EpisodeSlot",
    "EvalResult",
    "Recorder",
    "Step",
    "StepPolicy",
    "evaluate",
    "map_ordered",
    "parallel_map",
    "run_episode",
]
