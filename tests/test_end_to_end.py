"""A tiny imitation run through the CLI: collect, train, DAgger, evaluate, reload, simulate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lnn_control.cli import main
from lnn_control.policies import load_policy
from tests.recipes import tiny_recipe

TINY = tiny_recipe(steps=40, dagger_rounds=None, dagger_steps=30, eval_distance_m=10)


def _train(run_dir: Path, extra: list[str] = ()) -> int:  # type: ignore[assignment]
    args = ["train", "--config", "lane_keeping_il", "--set", f"run_dir={run_dir}"]
    for item in [*TINY, *extra]:
        args += ["--set", item]
    return main(args)


@pytest.mark.slow
def test_tiny_run_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    assert _train(run_dir) == 0
    policy_dir = run_dir / "policy"
    config = json.loads((policy_dir / "config.json").read_text())
    assert config["provenance"]["data_frames"] == 110
    assert config["metrics"]["eval_seed_range"] == [1_000_000, 1_000_000]
    card = (policy_dir / "MODEL_CARD.md").read_text()
    assert "Training data: 110 frames" in card
    policy = load_policy(policy_dir)
    assert policy.kind == "ncp"
    # a second run finds every stage done and retrains nothing
    stamp = (run_dir / "checkpoints" / "bc" / "model.safetensors").stat().st_mtime_ns
    assert _train(run_dir) == 0
    assert (run_dir / "checkpoints" / "bc" / "model.safetensors").stat().st_mtime_ns == stamp
    assert "already trained" in capsys.readouterr().out
    out = tmp_path / "sim"
    code = main(
        [
            "simulate",
            "--policy",
            str(policy_dir),
            "--seeds",
            "1",
            "--distance-m",
            "5",
            "--out",
            str(out),
            "--video",
            "--workers",
            "1",
        ]
    )
    assert code == 0
    assert (out / "episodes.csv").is_file()
    assert (out / "drive.mp4").stat().st_size > 1000


def test_bad_config_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert _train(tmp_path / "x", ["train.window=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lnn-control train: error: config key 'train.window'")
    assert "\n" not in err
