"""Several training seeds of one recipe: overrides, the seed table, local and Ray runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lnn_control.cli import main
from lnn_control.pipelines.multiseed import run_seeds, seed_overrides, seed_table
from tests.recipes import tiny_recipe

TINY = tiny_recipe(dagger_rounds=0)


def test_seed_overrides_name_the_seed_and_the_run() -> None:
    assert seed_overrides("imitation", 3, "runs/x") == ["train.seed=3", "run_dir=runs/x_s3"]
    assert seed_overrides("ppo", 3, "runs/x") == ["seed=3", "run_dir=runs/x_s3"]


def test_seed_table_statistics() -> None:
    results = [
        {"run_dir": "a", "summary": {"autonomy": 1.0}},
        {"run_dir": "b", "summary": {"autonomy": 0.8}},
        {"run_dir": "c", "summary": {"autonomy": 0.9}},
    ]
    row = seed_table(results, [0, 1, 2])["metrics"]["autonomy"]
    assert row["mean"] == pytest.approx(0.9)
    assert row["std"] == pytest.approx(0.1)
    assert row["ci95"] == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert row["values"] == [1.0, 0.8, 0.9]


def test_repeated_seeds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinct non-negative"):
        run_seeds(Path("lane_keeping_il"), [], [1, 1])


def _args(tmp_path: Path, *extra: str) -> list[str]:
    args = ["train", "--config", "lane_keeping_il"]
    for item in [*TINY, f"run_dir={tmp_path / 'run'}"]:
        args += ["--set", item]
    return [*args, *extra]


@pytest.mark.slow
def test_two_seeds_through_the_cli(tmp_path: Path) -> None:
    # two runs at once, each evaluating with its own pool of two workers
    parallel = ["--workers", "2", "--set", "eval.workers=2"]
    assert main(_args(tmp_path, "--seeds", "0", "1", *parallel)) == 0
    table = json.loads((tmp_path / "run_seeds.json").read_text())
    assert table["seeds"] == [0, 1]
    assert table["runs"] == [str(tmp_path / "run_s0"), str(tmp_path / "run_s1")]
    first = json.loads((tmp_path / "run_s0" / "policy" / "config.json").read_text())
    second = json.loads((tmp_path / "run_s1" / "policy" / "config.json").read_text())
    assert first["provenance"]["config"]["train"]["seed"] == 0
    assert second["provenance"]["config"]["train"]["seed"] == 1
    assert first["weights_sha256"] != second["weights_sha256"]
    assert len(table["metrics"]["autonomy"]["values"]) == 2
    assert "| autonomy |" in (tmp_path / "run_seeds.md").read_text()


@pytest.mark.slow
def test_ray_tasks_train_what_the_local_backend_trains(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    local, ray = tmp_path / "local", tmp_path / "ray"
    assert main(_args(local, "--seeds", "5")) == 0
    assert main(_args(ray, "--seeds", "5", "--backend", "ray", "--workers", "1")) == 0
    weights = [
        json.loads((d / "run_s5" / "policy" / "config.json").read_text())["weights_sha256"]
        for d in (local, ray)
    ]
    assert weights[0] == weights[1]
