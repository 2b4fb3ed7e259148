"""Closed-loop episodes of DroneNav-v0 and their summary keys (DESIGN.md).

- success_rate: share of episodes that ended at the target (within its radius, slow).
- collision_rate: share that ended in a collision (ground or obstacle).
- mean_final_distance_m: distance to the target when the episode ended, mean over episodes.
- mean_time_to_target_s: flight time of the successful episodes, mean (nan if none succeeded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DRONE_ENV_ID = "lnn_control/DroneNav-v0"
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


def run_drone_episode(
    policy: Any,
    seed: int,
    *,
    env_id: str = DRONE_ENV_ID,
    env_kwargs: dict[str, Any] | None = None,
    wrappers: Sequence[Callable[[Any], Any]] = (),
    episode_steps: int | None = None,
    on_step: Callable[[Any, Any, dict[str, Any], np.ndarray], None] | None = None,
) -> DroneEpisode:
    """Fly one episode with `policy` (dt = the env's control period) until it ends."""
    import gymnasium as gym

    import lnn_control  # noqa: F401  (registers the envs)

    env = gym.make(env_id, disable_env_checker=True, **(env_kwargs or {}))
    for wrap in wrappers:
        env = wrap(env)
    try:
        obs, info = env.reset(seed=seed)
        dt_s = 1.0 / float(env.unwrapped.get_wrapper_attr("scenario").control_hz)
        state = policy.initial_state(1)
        steps = 0
        while episode_steps is None or steps < episode_steps:
            action, state = policy.step(obs, state, dt=dt_s)
            action = np.asarray(action, dtype=np.float32).reshape(-1)
            obs, _, terminated, truncated, info = env.step(action)
            steps += 1
            if on_step is not None:
                on_step(env, obs, info, action)
            if terminated or truncated:
                break
    finally:
        env.close()
    return DroneEpisode(
        seed=int(seed),
        steps=steps,
        elapsed_s=steps * dt_s,
        success=bool(info["success"]),
        collision=bool(info["collision"]),
        out_of_arena=bool(info["out_of_arena"]),
        final_distance_m=float(info["distance_to_target_m"]),
    )


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
