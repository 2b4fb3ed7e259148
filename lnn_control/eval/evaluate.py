"""`lnn_control.evaluate`: closed-loop runs of a policy on held-out seeds.

Lane keeping runs under the intervention protocol: a lane departure counts an intervention, the
car is put back on the lane centre at the same arc length, and driving goes on; the policy's
hidden state carries on too (the controller keeps running, as on a real car). Drone navigation
flies each episode until success, collision, leaving the arena or the time limit
(`lnn_control.eval.drone_eval`).

    result = evaluate(policy, "lnn_control/LaneKeeping-v0", seeds=range(1_000_000, 1_000_020))
    result.summary["autonomy"], result.episodes[0]["interventions"]
    evaluate(policy, "lnn_control/DroneNav-v0", seeds=range(1_000_000, 1_000_050)).summary
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from lnn_control.eval.drone_eval import DRONE_ENV_ID, drone_metrics, run_drone_episode
from lnn_control.eval.metrics import LaneEpisode, lane_metrics

LANE_ENV_ID = "lnn_control/LaneKeeping-v0"
Wrapper = Callable[[Any], Any]


@dataclass
class EvalResult:
    """summary: the env's summary keys (floats); episodes: one record per seed."""

    summary: dict[str, float]
    episodes: list[dict[str, float]]
    seeds: list[int] = field(default_factory=list)
    traces: list[Any] = field(default_factory=list, repr=False)  # LaneEpisode / DroneEpisode

    @property
    def seed_range(self) -> tuple[int, int]:
        """(first, last) seed evaluated."""
        return (min(self.seeds), max(self.seeds))

    def save(self, directory: Path) -> Path:
        """Write episodes.csv and summary.json into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / "episodes.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(self.episodes[0]))
            writer.writeheader()
            writer.writerows(self.episodes)
        payload = {"summary": self.summary, "seed_range": list(self.seed_range)}
        (directory / "summary.json").write_text(json.dumps(payload, indent=2) + "\n")
        if self.traces and isinstance(self.traces[0], LaneEpisode):
            arrays: dict[str, Any] = {f"lateral_{t.seed}": t.lateral_m for t in self.traces}
            arrays |= {f"steer_{t.seed}": t.steer for t in self.traces}
            np.savez_compressed(directory / "traces.npz", **arrays)
        return directory


def scenario_for_distance(base: dict[str, Any], distance_m: float) -> dict[str, Any]:
    """`base` scenario overrides, changed so that one episode is a road of about `distance_m`
    metres driven at the base's own target speed (LaneScenario's default when it sets none)."""
    from lnn_control.envs.scenario import LaneScenario

    speed_mps = float(base.get("target_speed_mps", LaneScenario.target_speed_mps))
    return {
        **base,
        "road_length_m": distance_m + 20.0,
        "time_limit_s": distance_m / speed_mps,
        "target_speed_mps": speed_mps,
    }


def run_lane_episode(
    policy: Any,
    seed: int,
    *,
    env_id: str = LANE_ENV_ID,
    env_kwargs: dict[str, Any] | None = None,
    wrappers: Sequence[Wrapper] = (),
    episode_steps: int | None = None,
    on_step: Callable[[Any, Any, dict[str, Any], np.ndarray], None] | None = None,
) -> LaneEpisode:
    """Drive one held-out episode with `policy`; `on_step(env, obs, info, action)` sees every
    step (e.g. `DriveRecorder.on_step`)."""
    import gymnasium as gym

    import lnn_control  # noqa: F401  (registers the envs)
    from lnn_control.envs.racecar import CONTROL_DT_S

    env = gym.make(env_id, intervention=True, disable_env_checker=True, **(env_kwargs or {}))
    for wrap in wrappers:
        env = wrap(env)
    try:
        obs, info = env.reset(seed=seed)
        state = policy.initial_state(1)
        lateral: list[float] = []
        heading: list[float] = []
        steer: list[float] = []
        while episode_steps is None or len(steer) < episode_steps:
            action, state = policy.step(obs, state, dt=CONTROL_DT_S)
            action = np.asarray(action, dtype=np.float32).reshape(-1)
            obs, _, terminated, truncated, info = env.step(action)
            lateral.append(info["lateral_offset_m"])
            heading.append(info["heading_error_rad"])
            steer.append(float(action[0]))
            if on_step is not None:
                on_step(env, obs, info, action)
            if terminated or truncated:
                break
    finally:
        env.close()
    return LaneEpisode(
        seed=seed,
        lateral_m=np.asarray(lateral),
        heading_rad=np.asarray(heading),
        steer=np.asarray(steer),
        distance_m=float(info["distance_m"]),
        interventions=int(info["interventions"]),
        control_dt_s=CONTROL_DT_S,
    )


@dataclass(frozen=True)
class _Options:
    """run_lane_episode's keyword arguments, passed to worker processes."""

    env_id: str
    env_kwargs: dict[str, Any] | None
    wrappers: list[Wrapper]
    episode_steps: int | None

    def kwargs(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "wrappers": self.wrappers,
            "episode_steps": self.episode_steps,
        }


def _runner(env_id: str) -> Callable[..., Any]:
    return run_drone_episode if env_id == DRONE_ENV_ID else run_lane_episode


def _worker(args: tuple[str, int, Any]) -> Any:
    import torch

    from lnn_control.policies import load_policy

    torch.set_num_threads(1)
    policy_dir, seed, options = args
    return _runner(options.env_id)(load_policy(policy_dir), seed, **options.kwargs())


def evaluate(
    policy: Any,
    env_id: str = LANE_ENV_ID,
    seeds: Iterable[int] = range(1_000_000, 1_000_005),
    episode_steps: int | None = None,
    wrappers: Sequence[Wrapper] = (),
    *,
    env_kwargs: dict[str, Any] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> EvalResult:
    """Closed-loop evaluation on `seeds`; see the module docstring.

    `episode_steps=None` runs to the env's own time limit (or the end of the road). `wrappers`
    (callables gym.Env -> gym.Env) are applied in order; with `workers > 1` they must be
    picklable (module-level callables or functools.partial), and the policy is handed to the
    worker processes as a temporary checkpoint.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("evaluate needs at least one seed")
    if env_id not in (LANE_ENV_ID, DRONE_ENV_ID):
        raise ValueError(f"evaluate supports {LANE_ENV_ID!r} and {DRONE_ENV_ID!r}, got {env_id!r}")
    options = _Options(env_id, env_kwargs, list(wrappers), episode_steps)
    bar = tqdm(
        total=len(seeds), desc="evaluate", unit="episode", disable=not progress, dynamic_ncols=True
    )
    traces: list[Any] = []
    if workers <= 1 or len(seeds) == 1:
        for seed in seeds:
            traces.append(_runner(env_id)(policy, seed, **options.kwargs()))
            bar.update()
    else:
        from lnn_control.policies import save_checkpoint

        with tempfile.TemporaryDirectory(prefix="lnn_eval_") as tmp:
            save_checkpoint(policy, Path(tmp), env_id=env_id)
            jobs = [(tmp, seed, options) for seed in seeds]
            with mp.get_context("spawn").Pool(min(workers, len(seeds))) as pool:
                for trace in pool.imap(_worker, jobs):
                    traces.append(trace)
                    bar.update()
    bar.close()
    return EvalResult(
        summary=drone_metrics(traces) if env_id == DRONE_ENV_ID else lane_metrics(traces),
        episodes=[t.record() for t in traces],
        seeds=seeds,
        traces=traces,
    )
