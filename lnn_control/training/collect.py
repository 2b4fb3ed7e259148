"""Demonstrations: an expert drives (with noise injection), or the learner drives and the expert
labels (DAgger). Episodes run in worker processes and are written as shards.

Each worker process uses one torch thread and its own PyBullet client; the parent only sees
index entries, never frames.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from lnn_control.eval.drone_eval import DRONE_ENV_ID
from lnn_control.training.config import CollectSection, EnvSection
from lnn_control.training.shards import Episode, write_episode, write_index


@dataclass(frozen=True)
class EpisodeJob:
    """Everything a worker needs to run one episode (picklable, small)."""

    env: dict[str, Any]
    expert: str
    noise_std: float
    noise_correlation: float
    seed: int
    steps: int
    out_dir: str
    learner_dir: str | None = None  # DAgger: the learner's checkpoint drives


def make_env(env_cfg: EnvSection | dict[str, Any]) -> Any:
    """The config's world with its scenario overrides (lane keeping with interventions)."""
    section = env_cfg if isinstance(env_cfg, EnvSection) else EnvSection.model_validate(env_cfg)
    if section.env_id == DRONE_ENV_ID:
        from lnn_control.envs.drone.env import DroneNavEnv

        return DroneNavEnv(dict(section.scenario))
    from lnn_control.envs.lane_keeping import LaneKeepingEnv

    return LaneKeepingEnv(dict(section.scenario), intervention=True)


def make_expert(name: str, noise_std: float, noise_correlation: float) -> Any:
    """An expert by name: "pure_pursuit" or "stanley" (lane), "drone_guidance" (drone)."""
    from lnn_control.envs.drone.expert import DroneExpert
    from lnn_control.envs.experts import PurePursuitExpert, StanleyExpert

    experts: dict[str, Any] = {
        "pure_pursuit": PurePursuitExpert,
        "stanley": StanleyExpert,
        "drone_guidance": DroneExpert,
    }
    if name not in experts:
        raise ValueError(f"expert must be one of {sorted(experts)}, got {name!r}")
    return experts[name](noise_std=noise_std, noise_correlation=noise_correlation)


def run_episode(job: EpisodeJob) -> dict[str, Any]:
    """Drive one episode and write its shard; returns the index entry."""
    import torch

    torch.set_num_threads(1)
    env = make_env(job.env)
    expert = make_expert(job.expert, job.noise_std, job.noise_correlation)
    learner = None
    if job.learner_dir is not None:
        from lnn_control.policies import load_policy

        learner = load_policy(job.learner_dir)
    try:
        episode = _drive(env, expert, learner, job.seed, job.steps)
    finally:
        env.close()
    entry = write_episode(Path(job.out_dir), f"seed_{job.seed:07d}", episode)
    entry["interventions"] = int(getattr(env, "interventions", 0))
    return entry


def _drive(env: Any, expert: Any, learner: Any, seed: int, steps: int) -> Episode:
    from lnn_control.envs.racecar import CONTROL_DT_S as LANE_DT_S

    obs, info = env.reset(seed=seed)
    scenario = getattr(env, "scenario", None)
    dt_s = float(getattr(scenario, "control_dt_s", LANE_DT_S))
    expert.reset(seed=seed)
    state = learner.initial_state(1) if learner is not None else None
    frames, labels, executed, curvature, lateral = [], [], [], [], []
    for _ in range(steps):
        act = expert.act(env.privileged_state())
        if learner is not None:
            action, state = learner.step(obs, state, dt=dt_s)
            action = np.asarray(action, dtype=np.float32).reshape(-1)
        else:
            action = act.executed
        frames.append(obs)
        labels.append(act.label)
        executed.append(action)
        curvature.append(info.get("curvature_ahead", 0.0))  # lane keeping only
        lateral.append(info.get("lateral_offset_m", 0.0))
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    n = len(frames)
    return Episode(
        obs=np.stack(frames),
        label=np.stack(labels).astype(np.float32),
        executed=np.stack(executed).astype(np.float32),
        dt_s=np.full(n, dt_s, dtype=np.float32),
        curvature=np.asarray(curvature, dtype=np.float32),
        lateral_m=np.asarray(lateral, dtype=np.float32),
        seed=seed,
    )


def run_jobs(jobs: list[EpisodeJob], workers: int, desc: str) -> list[dict[str, Any]]:
    """Run episode jobs in `workers` spawned processes (in-process for 1), with a progress bar."""
    entries: list[dict[str, Any]] = []
    bar = tqdm(total=len(jobs), desc=desc, unit="episode", dynamic_ncols=True)
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            entries.append(run_episode(job))
            bar.update()
    else:
        with mp.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
            for entry in pool.imap_unordered(run_episode, jobs):
                entries.append(entry)
                bar.update()
    bar.close()
    return sorted(entries, key=lambda e: int(e["seed"]))


def collect_demonstrations(
    env_cfg: EnvSection,
    cfg: CollectSection,
    out_dir: Path,
    *,
    learner_dir: Path | None = None,
    seed_start: int | None = None,
    episodes: int | None = None,
    steps: int | None = None,
) -> Path:
    """Collect episodes into `out_dir` (shards + index.json); returns `out_dir`.

    With `learner_dir` the learner drives and the expert only labels (a DAgger round).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    first = cfg.seed_start if seed_start is None else seed_start
    count = cfg.episodes if episodes is None else episodes
    jobs = [
        EpisodeJob(
            env=env_cfg.model_dump(),
            expert=cfg.expert,
            noise_std=cfg.noise_std,
            noise_correlation=cfg.noise_correlation,
            seed=first + i,
            steps=cfg.episode_steps if steps is None else steps,
            out_dir=str(out_dir),
            learner_dir=None if learner_dir is None else str(learner_dir),
        )
        for i in range(count)
    ]
    desc = "dagger rollouts" if learner_dir is not None else "expert demonstrations"
    entries = run_jobs(jobs, cfg.workers, desc)
    meta = {
        "expert": cfg.expert,
        "noise_std": 0.0 if learner_dir is not None else cfg.noise_std,
        "noise_correlation": cfg.noise_correlation,
        "driver": "learner" if learner_dir is not None else "expert",
        "seed_range": [first, first + count - 1],
        "frames": sum(int(e["steps"]) for e in entries),
        "env": env_cfg.model_dump(),
    }
    write_index(out_dir, entries, meta)
    return out_dir
