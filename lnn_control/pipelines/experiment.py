"""A comparison experiment: several policy kinds x several training seeds, trained by one
imitation recipe on the same demonstrations, then stress-tested by one suite.

    lnn-control experiment --config ncp_vs_baselines [--set seeds=[0]]

Run directory (every step resumes; finished trainings and finished stress cells are kept):

    run_root/<kind>_s<seed>/       one `lnn-control train` run each (policy/, MODEL_CARD.md)
    run_root/stress/               the stress sweep over every trained policy
    run_root/comparison.md         per kind: mean and 95 % CI over training seeds
    run_root/comparison.json

The first run collects the demonstrations (or reuses `data_from`); every other run reads that
run's data/ (`ILConfig.data_from`), so all kinds and seeds learn from exactly the same frames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from lnn_control.config_io import StrictModel
from lnn_control.configs import resolve_config
from lnn_control.io_utils import check_label, path_inside
from lnn_control.rollout.parallel import parallel_map
from lnn_control.training.config import PolicyKind

DEFAULT_POLICIES: tuple[PolicyKind, ...] = ("ncp", "lstm", "cnn")


class ExperimentConfig(StrictModel):
    """What to train, on which recipe, and how to stress it."""

    name: str = "experiment"
    recipe: str = Field("lane_keeping_il", description="imitation recipe: a name or a YAML path")
    recipe_overrides: list[str] = Field(
        default_factory=list, description="KEY=VALUE overrides applied to every run's recipe"
    )
    data_from: str | None = Field(
        None, description="run directory whose data/ every run reuses (None: the first run's)"
    )
    policies: list[PolicyKind] = Field(default_factory=lambda: list(DEFAULT_POLICIES))
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], description="training seeds")
    suite: str = Field("lane_full", description="stress suite: a name or a YAML path")
    suite_overrides: list[str] = Field(default_factory=list)
    reference: PolicyKind = Field("cnn", description="kind that normalises the mCE")
    workers: int = Field(2, ge=1, le=256, description="parallel stress episodes")
    train_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="trainings at once, each a process with train.threads = CPUs // "
        "train_workers, its output in <run>/train.log",
    )
    run_root: str = "runs/experiments/experiment"

    @field_validator("policies", "seeds")
    @classmethod
    def _distinct(cls, items: list[Any]) -> list[Any]:
        if not items or len(set(items)) != len(items):
            raise ValueError(f"must be a non-empty list without repeats, got {items}")
        return items


def run_dir(config: ExperimentConfig, kind: str, seed: int) -> Path:
    """Where the run of `kind` with training seed `seed` lives (a plain name inside run_root)."""
    return path_inside(config.run_root, check_label(f"{kind}_s{seed}", "experiment run name"))


def _overrides(config: ExperimentConfig, kind: str, seed: int, data_from: str | None) -> list[str]:
    overrides = [
        *config.recipe_overrides,
        f"train.policy={kind}",
        f"train.seed={seed}",
        f"run_dir={run_dir(config, kind, seed)}",
    ]
    return overrides if data_from is None else [*overrides, f"data_from={data_from}"]


def recipe_for(config: ExperimentConfig, kind: str, seed: int, data_from: str | None) -> Any:
    """The validated ILConfig of one run."""
    from lnn_control.config_io import load_config
    from lnn_control.training.config import ILConfig

    return load_config(ILConfig, config.recipe, _overrides(config, kind, seed, data_from))


def _trained(config: ExperimentConfig, run: tuple[str, int], source: str | None) -> bool:
    """Whether `run` finished under this experiment's recipe (StaleRunError, one line, when
    another recipe made it: the comparison must not label old policies with a new recipe)."""
    from lnn_control.training.il_stages import check_run

    if not (run_dir(config, *run) / "policy/config.json").is_file():
        return False
    recipe = recipe_for(config, *run, source)
    if recipe.retrain_from is not None:  # the run itself redoes the named stage
        return False
    check_run(recipe)
    return True


def train_all(config: ExperimentConfig, command: str) -> list[tuple[str, int, Path]]:
    """Train every (kind, seed) not trained yet; returns (kind, seed, policy_dir) in order.

    The first run's data is every other run's (unless `data_from` names another run): it is
    collected first, alone; with `train_workers` > 1 the rest then train side by side."""
    from lnn_control.training.imitation import _collect, main

    runs: list[tuple[str, int]] = [(k, s) for k in config.policies for s in config.seeds]
    shared = config.data_from or str(run_dir(config, *runs[0]))
    sources = {run: config.data_from if run == runs[0] else shared for run in runs}
    pending = [run for run in runs if not _trained(config, run, sources[run])]
    first = recipe_for(config, *runs[0], sources[runs[0]])
    if config.train_workers > 1 and len(pending) > 1 and runs[0] in pending:
        if first.dagger.rounds == 0:  # the expert data is all the runs share
            _collect(first, "expert")
        else:  # the first run's DAgger data depends on its learner: train it alone
            main(first, command=command)
            pending.remove(runs[0])
    if config.train_workers > 1 and len(pending) > 1:
        _train_parallel(config, pending, sources, command)
    else:
        for i, (kind, seed) in enumerate(pending):
            print(f"[experiment] training {i + 1}/{len(pending)}: {kind} seed {seed}")
            main(recipe_for(config, kind, seed, sources[(kind, seed)]), command=command)
    return [(kind, seed, run_dir(config, kind, seed) / "policy") for kind, seed in runs]


def _train_parallel(
    config: ExperimentConfig,
    pending: list[tuple[str, int]],
    sources: dict[tuple[str, int], str | None],
    command: str,
) -> None:
    """Train `pending` in `config.train_workers` processes; stops at the first failure."""
    import os

    threads = max(1, (os.cpu_count() or 1) // config.train_workers)
    text = resolve_config(config.recipe).read_text()
    jobs, logs = [], []
    for kind, seed in pending:
        overrides = _overrides(config, kind, seed, sources[(kind, seed)])
        log = run_dir(config, kind, seed) / "train.log"
        jobs.append((text, [*overrides, f"train.threads={threads}"], command, str(log)))
        logs.append(log)
    print(f"[experiment] {len(pending)} trainings, {config.train_workers} at a time")
    runner = parallel_map(
        _train_logged, jobs, workers=config.train_workers, desc="trainings", unit="training"
    )
    for index, failed in runner:
        kind, seed = pending[index]
        if failed:
            raise SystemExit(f"training {kind} seed {seed} failed: see {logs[index]}")
        print(f"[experiment] {kind} seed {seed} trained (log: {logs[index]})")


def _train_logged(job: tuple[str, list[str], str, str]) -> bool:
    """One training with this process's stdout and stderr (and its pools') sent to a log;
    True if it failed (the traceback is in the log)."""
    import os
    import sys
    import traceback

    from lnn_control.pipelines.multiseed import train_one

    text, overrides, command, log = job
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(log, "a") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            train_one(text, overrides, command)
        except Exception:
            traceback.print_exc()
            return True
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    return False


def run_experiment(config: ExperimentConfig, command: str) -> dict[str, Any]:
    """Train everything, stress everything, write the comparison; returns comparison.json."""
    from lnn_control.config_io import load_config
    from lnn_control.stress.comparison import compare, write_comparison
    from lnn_control.stress.report import write_stress_report
    from lnn_control.stress.suite import StressSuite, expand_cells
    from lnn_control.stress.sweep import policy_spec, run_sweep

    trained = train_all(config, command)
    suite = load_config(StressSuite, config.suite, config.suite_overrides)
    specs = [policy_spec(f"{kind}_s{seed}", str(path)) for kind, seed, path in trained]
    stress_dir = Path(config.run_root) / "stress"
    records = run_sweep(suite, expand_cells(suite, specs), stress_dir, workers=config.workers)
    reference = next((s.label for s in specs if s.kind == config.reference), None)
    write_stress_report(stress_dir, suite, specs, records, reference)
    kinds = {f"{kind}_s{seed}": kind for kind, seed, _ in trained}
    result = compare(records, suite, kinds, config.reference)
    result["command"] = command
    result["config"] = config.model_dump(mode="json")
    result["params"] = _parameter_counts(trained)
    result["train_seconds"] = _train_seconds(trained)
    write_comparison(Path(config.run_root), result, suite)
    return result


def _parameter_counts(trained: list[tuple[str, int, Path]]) -> dict[str, dict[str, int]]:
    from lnn_control.policies import load_policy, parameter_counts

    counts: dict[str, dict[str, int]] = {}
    for kind, _, path in trained:
        if kind not in counts:
            counts[kind] = parameter_counts(load_policy(path))
    return counts


def _train_seconds(trained: list[tuple[str, int, Path]]) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for kind, _, path in trained:
        config = json.loads((path / "config.json").read_text())
        spent = float((config.get("provenance") or {}).get("train_seconds", 0.0))
        seconds[kind] = seconds.get(kind, 0.0) + spent
    return seconds
