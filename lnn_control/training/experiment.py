"""A comparison experiment: several policy kinds x several training seeds, trained by one
imitation recipe on the same demonstrations, then stress-tested by one suite.

    lnn-control experiment --config configs/experiments/ncp_vs_baselines.yaml [--set seeds=[0]]

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
from lnn_control.training.config import PolicyKind

DEFAULT_POLICIES: tuple[PolicyKind, ...] = ("ncp", "lstm", "cnn")


class ExperimentConfig(StrictModel):
    """What to train, on which recipe, and how to stress it."""

    name: str = "experiment"
    recipe: str = Field("configs/lane_keeping_il.yaml", description="imitation config (YAML)")
    recipe_overrides: list[str] = Field(
        default_factory=list, description="KEY=VALUE overrides applied to every run's recipe"
    )
    data_from: str | None = Field(
        None, description="run directory whose data/ every run reuses (None: the first run's)"
    )
    policies: list[PolicyKind] = Field(default_factory=lambda: list(DEFAULT_POLICIES))
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], description="training seeds")
    suite: str = Field("configs/stress/lane_full.yaml", description="stress suite (YAML)")
    suite_overrides: list[str] = Field(default_factory=list)
    reference: PolicyKind = Field("cnn", description="kind that normalises the mCE")
    workers: int = Field(2, ge=1, le=256, description="parallel stress episodes")
    run_root: str = "runs/experiments/experiment"

    @field_validator("policies", "seeds")
    @classmethod
    def _distinct(cls, items: list[Any]) -> list[Any]:
        if not items or len(set(items)) != len(items):
            raise ValueError(f"must be a non-empty list without repeats, got {items}")
        return items


def run_dir(config: ExperimentConfig, kind: str, seed: int) -> Path:
    """Where the run of `kind` with training seed `seed` lives."""
    return Path(config.run_root) / f"{kind}_s{seed}"


def recipe_for(config: ExperimentConfig, kind: str, seed: int, data_from: str | None) -> Any:
    """The validated ILConfig of one run."""
    from lnn_control.config_io import load_config
    from lnn_control.training.config import ILConfig

    overrides = [
        *config.recipe_overrides,
        f"train.policy={kind}",
        f"train.seed={seed}",
        f"run_dir={run_dir(config, kind, seed)}",
    ]
    if data_from is not None:
        overrides.append(f"data_from={data_from}")
    return load_config(ILConfig, config.recipe, overrides)


def train_all(config: ExperimentConfig, command: str) -> list[tuple[str, int, Path]]:
    """Train every (kind, seed) not trained yet; returns (kind, seed, policy_dir) in order."""
    from lnn_control.training.imitation import main

    runs = [(kind, seed) for kind in config.policies for seed in config.seeds]
    data_from = config.data_from
    done: list[tuple[str, int, Path]] = []
    for i, (kind, seed) in enumerate(runs):
        policy_dir = run_dir(config, kind, seed) / "policy"
        print(f"[experiment] run {i + 1}/{len(runs)}: {kind} seed {seed}")
        if not (policy_dir / "config.json").is_file():
            main(recipe_for(config, kind, seed, data_from), command=command)
        done.append((kind, seed, policy_dir))
        data_from = data_from or str(run_dir(config, kind, seed))
    return done


def run_experiment(config: ExperimentConfig, command: str) -> dict[str, Any]:
    """Train everything, stress everything, write the comparison; returns comparison.json."""
    from lnn_control.config_io import load_config
    from lnn_control.eval.comparison import compare, write_comparison
    from lnn_control.eval.stress_report import write_stress_report
    from lnn_control.eval.suite import StressSuite, expand_cells
    from lnn_control.eval.sweep import policy_spec, run_sweep

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
    write_comparison(Path(config.run_root), result)
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
