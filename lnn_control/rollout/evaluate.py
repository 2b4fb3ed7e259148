"""`lnn_control.evaluate`: closed-loop runs of a policy on held-out seeds.

Lane keeping runs under the intervention protocol: a lane departure counts an intervention, the
car is put back on the lane centre at the same arc length, and driving goes on; the policy's
hidden state carries on too (the controller keeps running, as on a real car). Drone navigation
flies each episode until success, collision, leaving the arena or the time limit.

    result = evaluate(policy, "lnn_control/LaneKeeping-v0", seeds=range(1_000_000, 1_000_020))
    result.summary["autonomy"], result.episodes[0]["interventions"]
    evaluate(policy, "lnn_control/DroneNav-v0", seeds=range(1_000_000, 1_000_050)).summary
    evaluate(lnn_control.load_policy("model.onnx"), ...)   # the exported artefact, the same way
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lnn_control.envs.lane.metrics import LaneEpisode
from lnn_control.envs.world import World, env_ids, world
from lnn_control.progress import Progress
from lnn_control.rollout.batch import run_episodes
from lnn_control.rollout.episode import Wrapper, run_episode
from lnn_control.rollout.parallel import map_ordered


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


@dataclass(frozen=True)
class _Job:
    """Episodes for a worker process: the policy's source, the world, seeds and options."""

    source: str
    env_id: str
    seeds: list[int]
    env_kwargs: dict[str, Any] | None
    wrappers: list[Wrapper]
    steps: int | None
    batch_size: int


def _episodes_job(job: _Job) -> list[Any]:
    import torch

    from lnn_control.policies.checkpoint import load_step_policy

    torch.set_num_threads(1)
    return _results(
        load_step_policy(job.source), world(job.env_id), job.seeds, job.env_kwargs, job.wrappers,
        job.steps, job.batch_size,
    )  # fmt: skip


def _results(
    policy: Any,
    the_world: World,
    seeds: list[int],
    env_kwargs: dict[str, Any] | None,
    wrappers: Sequence[Wrapper],
    steps: int | None,
    batch_size: int,
) -> list[Any]:
    """The world's episode results of `seeds`, `batch_size` envs in lockstep (1: unbatched)."""
    if batch_size <= 1:
        records = [
            run_episode(policy, the_world, s, env_kwargs=env_kwargs, wrappers=wrappers, steps=steps)
            for s in seeds
        ]
    else:
        records = run_episodes(
            policy, the_world, seeds, batch_size=batch_size, env_kwargs=env_kwargs,
            wrappers=wrappers, steps=steps,
        )  # fmt: skip
    return [r.result for r in records]


def evaluate(
    policy: Any,
    env_id: str | World | None = None,
    seeds: Iterable[int] = range(1_000_000, 1_000_005),
    episode_steps: int | None = None,
    wrappers: Sequence[Wrapper] = (),
    *,
    env_kwargs: dict[str, Any] | None = None,
    workers: int = 1,
    batch_size: int = 1,
    progress: bool = True,
) -> EvalResult:
    """Closed-loop evaluation on `seeds`; see the module docstring.

    `env_id` (or a World) names the world; None takes the policy's own `env_id` (an exported
    ONNX policy knows it) or else the first registered world, lane keeping.

    `episode_steps=None` runs to the env's own time limit (or the end of the road). `wrappers`
    (callables gym.Env -> gym.Env) are applied in order; with `workers > 1` they must be
    picklable (module-level callables or functools.partial), and the policy reaches the worker
    processes as a file: its `source_path` (an ONNX model) or a temporary checkpoint.
    `batch_size > 1` steps that many envs in lockstep per process with one batched policy call
    (`lnn_control.rollout.batch`): faster, and equal to the unbatched results up to the float
    rounding of a batched forward pass (which a closed loop amplifies: see docs/rollout.md).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("evaluate needs at least one seed")
    the_world = world(env_id or getattr(policy, "env_id", None) or env_ids()[0])
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    chunks = [seeds[i : i + batch_size] for i in range(0, len(seeds), batch_size)]
    if workers <= 1 or len(chunks) == 1:
        traces = []
        with Progress(len(seeds), "evaluate", "episode", enabled=progress) as bar:
            for chunk in chunks:
                options = (env_kwargs, wrappers, episode_steps, batch_size)
                traces += _results(policy, the_world, chunk, *options)
                bar.update(len(chunk))
    else:
        with tempfile.TemporaryDirectory(prefix="lnn_eval_") as tmp:
            source = _policy_file(policy, Path(tmp), the_world.env_id)
            jobs = [
                _Job(source, the_world.env_id, chunk, env_kwargs, list(wrappers), episode_steps,
                     batch_size)
                for chunk in chunks
            ]  # fmt: skip
            desc = "evaluate" if progress else None
            parts = map_ordered(_episodes_job, jobs, workers=workers, desc=desc, unit="batch")
            traces = [trace for part in parts for trace in part]
    return EvalResult(
        summary=the_world.summary(traces),
        episodes=[t.record() for t in traces],
        seeds=seeds,
        traces=traces,
    )


def _policy_file(policy: Any, directory: Path, env_id: str) -> str:
    """A path worker processes can load `policy` from."""
    source = getattr(policy, "source_path", None)
    if source is not None:
        return str(source)
    from lnn_control.policies import save_checkpoint

    save_checkpoint(policy, directory, env_id=env_id)
    return str(directory)
