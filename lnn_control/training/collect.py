"""Demonstrations: an expert drives (with noise injection), or the learner drives and the expert
labels (DAgger). Episodes run in worker processes and are written as shards.

Each worker process uses one torch thread and its own PyBullet client; the parent only sees
index entries, never frames. Every finished episode is committed on its own (its shard, then
`seed_<seed>.json` naming the job that made it and the shard's hash), so a collection killed
part-way resumes with the missing episodes only; an episode made by another job (other noise,
steps, learner, ...) or whose shard no longer matches its hash is collected again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lnn_control import rollout
from lnn_control.envs.world import world
from lnn_control.io_utils import atomic_write_json, read_json, sha256_bytes
from lnn_control.rollout.episode import Recorder, Step
from lnn_control.rollout.parallel import parallel_map
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
    learner_sha256: str | None = None  # ... and these are its weights

    @property
    def name(self) -> str:
        """The episode's file stem in out_dir."""
        return f"seed_{self.seed:07d}"

    def description(self) -> dict[str, Any]:
        """What makes the episode what it is (not where it is written, nor the learner's path)."""
        fields = asdict(self)
        del fields["out_dir"], fields["learner_dir"]
        loaded: dict[str, Any] = json.loads(json.dumps(fields, sort_keys=True))
        return loaded


class ExpertLabels(Recorder):
    """Labels every step with the expert's clean action for the state the driver sees, and keeps
    the frames, the executed actions and the privileged traces of an `Episode` shard.

    The expert acts first (its noise generator advances once per step whichever drives); with
    `ExpertDriver` it also drives, with its noisy executed action.
    """

    def __init__(self, expert: Any, seed: int) -> None:
        self.expert, self.seed = expert, seed
        self.current: Any = None
        self.frames: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.executed: list[np.ndarray] = []
        self.curvature: list[float] = []
        self.lateral: list[float] = []

    def on_reset(self, env: Any, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.expert.reset(seed=self.seed)

    def before_step(self, env: Any, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.current = self.expert.act(env.unwrapped.privileged_state())
        self.frames.append(obs)
        self.labels.append(self.current.label)
        self.curvature.append(info.get("curvature_ahead", 0.0))  # 0 where a world has none
        self.lateral.append(info.get("lateral_offset_m", 0.0))

    def on_step(self, step: Step) -> None:
        self.executed.append(step.action)

    def episode(self, seed: int, dt_s: float) -> Episode:
        """The recorded steps as a shard's `Episode`."""
        n = len(self.frames)
        return Episode(
            obs=np.stack(self.frames),
            label=np.stack(self.labels).astype(np.float32),
            executed=np.stack(self.executed).astype(np.float32),
            dt_s=np.full(n, dt_s, dtype=np.float32),
            curvature=np.asarray(self.curvature, dtype=np.float32),
            lateral_m=np.asarray(self.lateral, dtype=np.float32),
            seed=seed,
        )


class ExpertDriver:
    """A `StepPolicy` that sends the executed (noisy) action `labels` computed for this step."""

    def __init__(self, labels: ExpertLabels) -> None:
        self.labels = labels

    def initial_state(self, batch_size: int = 1) -> None:
        """The expert keeps no state here."""

    def step(self, obs: np.ndarray, state: Any, dt_s: float | np.ndarray) -> tuple[Any, None]:
        """The expert's executed action for the state `before_step` saw."""
        return self.labels.current.executed, None


def run_episode(job: EpisodeJob) -> dict[str, Any]:
    """Drive one episode (`lnn_control.rollout.run_episode`) and write its shard; returns the
    index entry."""
    import torch

    torch.set_num_threads(1)
    env_id = str(job.env["env_id"])
    labels = ExpertLabels(
        world(env_id).make_expert(job.expert, job.noise_std, job.noise_correlation), job.seed
    )
    driver: Any = ExpertDriver(labels)
    if job.learner_dir is not None:
        from lnn_control.policies import load_policy

        driver = load_policy(job.learner_dir)
    record = rollout.run_episode(
        driver, env_id, job.seed, env_kwargs={"scenario": job.env.get("scenario") or {}},
        steps=job.steps, recorders=[labels],
    )  # fmt: skip
    out_dir = Path(job.out_dir)
    entry = write_episode(out_dir, job.name, labels.episode(job.seed, record.dt_s))
    entry["interventions"] = int(record.final_info.get("interventions", 0))
    atomic_write_json(out_dir / f"{job.name}.json", {**entry, "job": job.description()})
    return entry


def finished_entry(job: EpisodeJob) -> dict[str, Any] | None:
    """The index entry of `job`'s episode if a finished one of exactly this job is on disk."""
    out_dir = Path(job.out_dir)
    marker, shard = out_dir / f"{job.name}.json", out_dir / f"{job.name}.npz"
    if not (marker.is_file() and shard.is_file()):
        return None
    try:
        entry = read_json(marker, "episode record")
    except ValueError:  # torn by something other than our atomic writes: collect it again
        return None
    if entry.pop("job", None) != job.description():
        return None
    return entry if sha256_bytes(shard.read_bytes()) == entry.get("sha256") else None


def run_jobs(jobs: list[EpisodeJob], workers: int, desc: str) -> list[dict[str, Any]]:
    """Run episode jobs in `workers` processes (in-process for 1), with progress; entries in
    seed order."""
    entries = [entry for _, entry in parallel_map(run_episode, jobs, workers=workers, desc=desc,
                                                  unit="episode")]  # fmt: skip
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
    record: dict[str, Any] | None = None,
) -> Path:
    """Collect episodes into `out_dir` (shards + index.json); returns `out_dir`.

    With `learner_dir` the learner drives and the expert only labels (a DAgger round). Episodes
    already finished by the same job are kept (see the module docstring). `record` (the stage
    record of `lnn_control.training.stages`) is stored in index.json as "stage".
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    learner_sha = None
    if learner_dir is not None:
        learner_config = read_json(learner_dir / "config.json", "learner checkpoint config")
        learner_sha = str(learner_config.get("weights_sha256"))
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
            learner_sha256=learner_sha,
        )
        for i in range(count)
    ]
    kept = {job.seed: finished_entry(job) for job in jobs}
    entries = [entry for entry in kept.values() if entry is not None]
    todo = [job for job in jobs if kept[job.seed] is None]
    if entries:
        print(f"[collect] {len(entries)} of {len(jobs)} episodes already in {out_dir}")
    desc = "dagger rollouts" if learner_dir is not None else "expert demonstrations"
    entries = sorted(entries + run_jobs(todo, cfg.workers, desc), key=lambda e: int(e["seed"]))
    meta = {
        "expert": cfg.expert,
        "noise_std": 0.0 if learner_dir is not None else cfg.noise_std,
        "noise_correlation": cfg.noise_correlation,
        "driver": "learner" if learner_dir is not None else "expert",
        "seed_range": [first, first + count - 1],
        "frames": sum(int(e["steps"]) for e in entries),
        "env": env_cfg.model_dump(),
        **({"stage": record} if record is not None else {}),
    }
    write_index(out_dir, entries, meta)
    return out_dir
