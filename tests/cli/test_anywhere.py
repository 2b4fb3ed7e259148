"""The CLI works from any directory: configs and suites by name, pretrained policies by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.recipes import set_args, tiny_recipe

TIMEOUT_S = 600


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lnn_control.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_demo_help_and_configs_from_an_empty_directory(tmp_path: Path) -> None:
    result = _run(tmp_path, "demo", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--config" in result.stdout
    listed = _run(tmp_path, "configs")
    assert "stress/lane_quick" in listed.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


@pytest.mark.slow
def test_stress_with_a_named_suite_from_an_empty_directory(tmp_path: Path) -> None:
    args = ["stress", "--policy", "p=pretrained:lane_keeping_ncp", "--suite", "lane_quick"]
    tiny = ["seeds.count=1", "distance_m=2", "conditions=[gaussian_noise]", "severities=[1]"]
    result = _run(tmp_path, *args, *set_args(tiny), "--workers", "1", "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "runs" / "stress" / "lane_quick"
    records = json.loads((out / "episodes.json").read_text())
    assert {r["condition"] for r in records} == {"clean", "gaussian_noise"}


@pytest.mark.slow
def test_train_with_a_named_recipe_from_an_empty_directory(tmp_path: Path) -> None:
    overrides = [*tiny_recipe(dagger_rounds=0, eval_distance_m=2), "run_dir=run"]
    result = _run(tmp_path, "train", "--config", "lane_keeping_il", *set_args(overrides))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "run" / "policy" / "model.safetensors").is_file()
