"""Comparison experiments: shared data, kinds x seeds, the comparison table."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from lnn_control.cli import main
from lnn_control.config_io import load_config, validate_config
from lnn_control.pipelines.experiment import ExperimentConfig
from lnn_control.stress.comparison import (
    compare,
    comparison_markdown,
    comparison_plot,
    severity_plot,
)
from lnn_control.stress.suite import CLEAN, StressSuite
from lnn_control.training.config import ILConfig
from lnn_control.training.imitation import _collect
from tests.recipes import tiny_recipe

TINY_RECIPE = tiny_recipe(dagger_rounds=0, eval_distance_m=2)
SUITE = {
    "name": "tiny",
    "seeds": {"start": 1_000_000, "count": 1},
    "distance_m": 2.0,
    "severities": [1],
    "conditions": [
        {
            "label": "paper_variance_0.3",
            "perturbation": "gaussian_noise",
            "params": {"variance": 0.3},
            "in_mce": False,
        },
        "camera_yaw",
    ],
}


def _record(
    policy: str, condition: str, severity: int, interventions: int, autonomy: float
) -> dict[str, Any]:
    return {
        "policy": policy,
        "condition": condition,
        "perturbation": condition,
        "severity": severity,
        "seed": 1_000_000,
        "interventions": float(interventions),
        "distance_km": 0.5,
        "autonomy": autonomy,
        "interventions_per_km": interventions / 0.5,
        "mean_abs_lateral_m": 0.0,
        "steer_smoothness": 0.0,
    }


def test_compare_reports_mean_and_ci_over_training_seeds(tmp_path: Path) -> None:
    suite = validate_config(StressSuite, SUITE)
    records = [
        _record("ncp_s0", CLEAN, 0, 0, 1.0),
        _record("ncp_s1", CLEAN, 0, 1, 0.9),
        _record("ncp_s0", "paper_variance_0.3", 1, 2, 0.8),
        _record("ncp_s1", "paper_variance_0.3", 1, 4, 0.6),
        _record("ncp_s0", "camera_yaw", 1, 0, 0.9),  # degradation 0.1
        _record("ncp_s1", "camera_yaw", 1, 0, 0.9),  # 0.0
        _record("cnn_s0", CLEAN, 0, 0, 1.0),
        _record("cnn_s0", "paper_variance_0.3", 1, 0, 1.0),
        _record("cnn_s0", "camera_yaw", 1, 0, 0.8),  # 0.2: the reference
    ]
    kinds = {"ncp_s0": "ncp", "ncp_s1": "ncp", "cnn_s0": "cnn"}
    result = compare(records, suite, kinds, reference="cnn")
    assert result["columns"] == ["clean/0", "paper_variance_0.3/1"]
    ncp = result["kinds"]["ncp"]
    assert ncp["seeds"] == ["ncp_s0", "ncp_s1"]
    assert ncp["clean/0"][0] == pytest.approx(1.0)  # (0 + 2) / 2 per km
    assert ncp["paper_variance_0.3/1"][0] == pytest.approx(6.0)  # (4 + 8) / 2
    assert ncp["mce"][0] == pytest.approx((0.1 / 0.2 + 0.0 / 0.2) / 2)
    assert result["kinds"]["cnn"]["mce"][0] == pytest.approx(1.0)
    page = comparison_markdown({**result, "params": {"ncp": {"rnn": 1131, "total": 76007}}})
    assert "| ncp | 1131 / 76007 | 1 ± " in page
    curve = [r for r in result["severity_rows"] if r["policy"] == "ncp"]
    # in the mCE: clean, then each severity of camera_yaw
    assert [(r["condition"], r["severity"]) for r in curve] == [(CLEAN, 0), ("camera_yaw", 1)]
    assert [r["interventions_per_km"] for r in curve] == pytest.approx([1.0, 0.0])
    figures = [
        comparison_plot(result, tmp_path / "bars.png"),
        severity_plot(result, suite, tmp_path / "severity.png"),
    ]
    for figure in figures:
        assert figure.read_bytes().startswith(b"\x89PNG")


def test_data_from_must_hold_the_dataset(tmp_path: Path) -> None:
    config = load_config(ILConfig, None, [f"run_dir={tmp_path / 'b'}", f"data_from={tmp_path}"])
    with pytest.raises(SystemExit, match=r"data_from=.*expert/index\.json not found"):
        _collect(config, "expert")


def test_experiment_config_rejects_repeats() -> None:
    with pytest.raises(ValueError, match="without repeats"):
        validate_config(ExperimentConfig, {"seeds": [0, 0]})


@pytest.mark.slow
@pytest.mark.parametrize("train_workers", [1, 2])
def test_tiny_experiment_shares_data_and_writes_the_comparison(
    tmp_path: Path, train_workers: int
) -> None:
    suite_path = tmp_path / "suite.yaml"
    suite_path.write_text(yaml.safe_dump(SUITE))
    config: dict[str, Any] = {
        "name": "tiny_comparison",
        "recipe_overrides": TINY_RECIPE,
        "policies": ["cnn", "lstm"],
        "seeds": [0, 1],
        "suite": str(suite_path),
        "workers": 1,
        "train_workers": train_workers,
        "run_root": str(tmp_path / "exp"),
    }
    config_path = tmp_path / "experiment.yaml"
    config_path.write_text(yaml.safe_dump(config))
    published = tmp_path / "docs" / "tiny.md"
    assert main(["experiment", "--config", str(config_path), "--publish", str(published)]) == 0
    root = tmp_path / "exp"
    assert sorted(p.parent.name for p in root.glob("*/data")) == ["cnn_s0"]  # collected once
    lstm = json.loads((root / "lstm_s1" / "policy" / "config.json").read_text())
    assert lstm["provenance"]["data_dirs"] == [str(root / "cnn_s0" / "data" / "expert")]
    result = json.loads((root / "comparison.json").read_text())
    assert list(result["kinds"]) == ["cnn", "lstm"]
    assert result["kinds"]["lstm"]["seeds"] == ["lstm_s0", "lstm_s1"]
    assert result["params"]["lstm"]["rnn"] > result["params"]["cnn"]["rnn"]
    page = (root / "comparison.md").read_text()
    assert "![interventions per km and mCE per model](comparison.png)" in page
    renamed = page.replace("(comparison.png)", "(tiny.png)")
    assert published.read_text() == renamed.replace("(comparison_severity", "(tiny_severity")
    for suffix in (".png", "_severity.png"):
        figure = published.parent / f"tiny{suffix}"
        assert figure.read_bytes() == (root / f"comparison{suffix}").read_bytes()
    assert (root / "stress" / "report.html").is_file()
    if train_workers > 1:  # side by side: each run's output is in its own log
        log = (root / "lstm_s1" / "train.log").read_text()
        assert "[bc] epoch 1/1" in log
        assert "[done]" in log
        threads = max(1, (os.cpu_count() or 1) // 2)
        assert lstm["provenance"]["config"]["train"]["threads"] == threads


@pytest.mark.slow
def test_an_experiment_refuses_runs_that_another_recipe_trained(tmp_path: Path) -> None:
    from lnn_control.pipelines.experiment import train_all

    config = {"recipe_overrides": TINY_RECIPE, "policies": ["cnn"], "seeds": [0]}
    config["run_root"] = str(tmp_path / "exp")
    first = train_all(validate_config(ExperimentConfig, config), command="test")
    weights = (first[0][2] / "model.safetensors").read_bytes()
    again = train_all(validate_config(ExperimentConfig, config), command="test")  # kept as is
    assert (again[0][2] / "model.safetensors").read_bytes() == weights
    changed = {**config, "recipe_overrides": [*TINY_RECIPE, "train.epochs=2"]}
    with pytest.raises(ValueError, match=r"stage 'bc' was made by another recipe \(train.epochs"):
        train_all(validate_config(ExperimentConfig, changed), command="test")
