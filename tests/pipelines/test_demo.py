"""`make demo`'s job on a tiny budget: every stage runs and the report is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lnn_control.cli import main
from tests.recipes import tiny_recipe

TINY = tiny_recipe(steps=40, dagger_rounds=None, dagger_steps=30, eval_distance_m=8)


@pytest.mark.slow
def test_tiny_demo_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "demo"
    args = ["demo", "--set", f"run_dir={run_dir}"]
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    rows = json.loads((run_dir / "stress.json").read_text())
    assert [r["condition"] for r in rows] == [
        "clean",
        "gaussian_noise (severity 2)",
        "low_light (severity 3)",
    ]
    report = (run_dir / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 5  # loss, lateral, frames, saliency, wiring
    assert "Where the policy looks" in report
    assert "Model card" in report
    assert "| condition | autonomy |" in capsys.readouterr().out
