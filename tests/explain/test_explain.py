"""`lnn-control explain`: one drive's saliency, SSIM, activity, PCA and ablation, written out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lnn_control.cli import main
from lnn_control.cli.explain import parse_condition
from lnn_control.explain.explain import explain_policy, perturbed_pairs
from lnn_control.policies import build_policy, save_checkpoint

LANE = "lnn_control/LaneKeeping-v0"
SCENARIO = {"image_height": 48, "image_width": 64, "distractor_kind": "none"}
CONDITIONS = [
    ("gaussian variance 0.3", "gaussian_noise", 1, {"variance": 0.3}),
    ("fog 3", "fog", 3, {}),
]


@pytest.fixture(scope="module")
def ncp() -> object:
    return build_policy("ncp", image_shape=(48, 64, 3), action_dim=1, seed=1)


def test_perturbed_pairs_share_the_drive_and_differ_only_by_the_perturbation(
    ncp: object,
) -> None:
    clean, noisy = perturbed_pairs(ncp, LANE, 1_000_000, SCENARIO, 2.0, "gaussian_noise", 3, {})
    again, _ = perturbed_pairs(ncp, LANE, 1_000_000, SCENARIO, 2.0, "fog", 3, {})
    assert clean.shape == noisy.shape == again.shape
    np.testing.assert_array_equal(clean, again)  # the policy saw clean frames both times
    assert np.abs(clean.astype(int) - noisy.astype(int)).mean() > 5


@pytest.mark.slow
def test_explain_policy_writes_pictures_and_measures(ncp: object, tmp_path: Path) -> None:
    result = explain_policy(
        ncp,
        "ncp",
        tmp_path,
        env_world=LANE,
        seed=1_000_000,
        scenario=SCENARIO,
        distance_m=2.0,
        conditions=CONDITIONS,
        stride=2,
        ablate=True,
    )
    for key in ("saliency_png", "saliency_gif", "neurons_png", "wiring_png"):
        assert Path(result.files[key]).stat().st_size > 500, key
    ssim = result.summary["ssim"]
    assert set(ssim) == {"gaussian variance 0.3", "fog 3"}
    assert all(-1.0 <= v < 1.0 for v in ssim.values())  # perturbed maps are not identical
    pca = result.summary["pca_explained"]
    assert len(pca) == 3
    assert pca == sorted(pca, reverse=True)
    assert 0.0 < sum(pca) <= 1.0 + 1e-6
    assert len(result.summary["ablation"]["rows"]) == 19
    assert result.summary["ablation"]["metric"] == "mean_abs_lateral_m"
    stored = json.loads((tmp_path / "ncp" / "explain.json").read_text())
    assert stored["ssim"] == pytest.approx(ssim)


def test_parse_condition_names_the_format() -> None:
    assert parse_condition("fog:3") == ("fog 3", "fog", 3, {})
    for bad in ("fog", "fgo:3", "fog:x"):
        with pytest.raises(ValueError, match="NAME:SEVERITY"):
            parse_condition(bad)


@pytest.mark.slow
def test_explain_cli_writes_tables_and_report(tmp_path: Path) -> None:
    checkpoint = tmp_path / "cnn"
    policy = build_policy("cnn", image_shape=(48, 64, 3), action_dim=1, seed=0)
    save_checkpoint(
        policy,
        checkpoint,
        env_id="lnn_control/LaneKeeping-v0",
        provenance={"config": {"env": {"scenario": SCENARIO}}},
    )
    out = tmp_path / "out"
    published = tmp_path / "interpretability.md"
    args = ["explain", "--policy", f"cnn={checkpoint}", "--distance-m", "2", "--stride", "3"]
    args += ["--condition", "rain:3", "--out", str(out), "--publish", str(published)]
    assert main(args) == 0
    tables = (out / "tables.md").read_text()
    assert "| cnn |" in tables
    assert "n/a (no state)" in tables  # a feedforward CNN has no hidden state
    assert "rain 3" in tables
    table_lines = [line for line in tables.splitlines() if line.startswith("|")]
    text = published.read_text()
    assert [line for line in text.splitlines() if line.startswith("|")] == table_lines
    assert "### Attention robustness" in text  # the same tables, one heading level down
    assert main(args) == 0  # a rerun replaces its section instead of adding one
    assert published.read_text() == text
    assert (out / "report.html").stat().st_size > 1000


def test_a_finished_explanation_is_reused_until_a_setting_changes(
    ncp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lnn_control.explain import explain

    def run(conditions: list[tuple[str, str, int, dict[str, float]]]) -> Any:
        return explain_policy(
            ncp, "ncp", tmp_path, env_world=LANE, seed=1_000_000, scenario=SCENARIO,
            distance_m=1.0, stride=2,
            conditions=conditions,
        )  # fmt: skip

    first = run(CONDITIONS[:1])

    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("recomputed")

    monkeypatch.setattr(explain, "record_activity", refuse)
    again = run(CONDITIONS[:1])
    assert again.summary == first.summary
    with pytest.raises(AssertionError, match="recomputed"):
        run(CONDITIONS)


def test_explain_refuses_a_label_that_leaves_the_output_directory(
    ncp: object, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"policy label '\.\./escaped' cannot be a file name"):
        explain_policy(
            ncp, "../escaped", out, env_world=LANE, seed=1_000_000, scenario=SCENARIO,
            distance_m=1.0, stride=2,
            conditions=CONDITIONS[:1],
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_explain_cli_checks_every_label_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a" / "out"
    policies = [
        "--policy",
        "pretrained:lane_keeping_ncp",
        "--policy",
        "..=pretrained:lane_keeping_ncp",
    ]
    args = ["explain", *policies, "--distance-m", "1", "--condition", "fog:1", "--out", str(out)]
    assert main(args) == 2
    assert "policy label '..' cannot be a file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
