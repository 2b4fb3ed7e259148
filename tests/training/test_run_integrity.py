"""A run directory holds one recipe: a rerun under a changed recipe is refused in one line (or
retrains from a named stage on request), replaced weights are caught, a diverging stage is never
marked done, and an unchanged rerun still skips every finished stage."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from lnn_control.config_io import load_config
from lnn_control.policies import build_policy, save_checkpoint
from lnn_control.training.config import ILConfig
from lnn_control.training.imitation import main
from tests.recipes import tiny_recipe

RECIPE = "lane_keeping_il"  # the packaged recipe, by name
TINY = tiny_recipe()


def _config(run_dir: Path, *extra: str) -> ILConfig:
    return load_config(ILConfig, RECIPE, [*TINY, f"run_dir={run_dir}", *extra])


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished tiny run (expert data, bc, dagger_1 data and training, policy/)."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    main(_config(run_dir), command="test")
    return run_dir


@pytest.fixture
def run_dir(finished: Path, tmp_path: Path) -> Path:
    """A private copy of the finished run."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


def _bytes(run_dir: Path) -> dict[str, bytes]:
    names = [
        "checkpoints/bc/model.safetensors",
        "checkpoints/dagger_1/model.safetensors",
        "data/expert/index.json",
        "data/dagger_1/index.json",
        "policy/model.safetensors",
        "policy/config.json",
        "policy/MODEL_CARD.md",
        "config.yaml",
    ]
    return {name: (run_dir / name).read_bytes() for name in names}


def _provenance_train(run_dir: Path) -> dict[str, Any]:
    config = json.loads((run_dir / "policy" / "config.json").read_text())
    return dict(config["provenance"]["config"]["train"])


@pytest.mark.slow
def test_an_unchanged_rerun_skips_every_stage(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _bytes(run_dir)
    # workers and the evaluation do not change what a stage trains
    main(_config(run_dir, "collect.workers=2", "eval.distance_m=4"), command="test")
    out = capsys.readouterr().out
    assert "[bc] already trained" in out
    assert "[dagger_1] already trained" in out
    after = _bytes(run_dir)
    for name in ("checkpoints/bc/model.safetensors", "checkpoints/dagger_1/model.safetensors"):
        assert after[name] == before[name]
    assert after["data/dagger_1/index.json"] == before["data/dagger_1/index.json"]


@pytest.mark.slow
def test_a_changed_recipe_is_refused_in_one_line_and_nothing_is_relabelled(
    run_dir: Path,
) -> None:
    before = _bytes(run_dir)
    with pytest.raises(ValueError, match="was made by another recipe") as caught:
        main(_config(run_dir, "train.lr=0.01", "train.epochs=5"), command="test")
    message = str(caught.value)
    assert "\n" not in message
    assert "'bc'" in message
    assert "train.lr: 0.002 -> 0.01" in message
    assert "train.epochs: 1 -> 5" in message
    assert "retrain_from=bc" in message
    assert "new run_dir" in message
    assert _bytes(run_dir) == before  # no weights, card, config.json or config.yaml touched
    assert _provenance_train(run_dir)["lr"] == 0.002


@pytest.mark.slow
@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.policy=lstm", "train.policy: 'ncp' -> 'lstm'"),
        (
            "env.scenario={image_height: 40, image_width: 48, distractor_kind: none}",
            "env.scenario.image_height: 32 -> 40",
        ),
    ],
)
def test_a_changed_architecture_is_a_one_line_error(run_dir: Path, override: str, key: str) -> None:
    with pytest.raises(ValueError, match=re.escape(key)) as caught:
        main(_config(run_dir, override), command="test")
    assert "\n" not in str(caught.value)


@pytest.mark.slow
def test_retrain_from_a_stage_redoes_exactly_that_stage_and_the_later_ones(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _bytes(run_dir)
    main(_config(run_dir, "train.lr=0.01", "retrain_from=bc"), command="test")
    after = _bytes(run_dir)
    assert after["data/expert/index.json"] == before["data/expert/index.json"]  # kept
    for name in (
        "checkpoints/bc/model.safetensors",
        "data/dagger_1/index.json",  # the learner that drove it changed
        "checkpoints/dagger_1/model.safetensors",
        "policy/model.safetensors",
    ):
        assert after[name] != before[name], name
    assert _provenance_train(run_dir)["lr"] == 0.01
    assert after["policy/model.safetensors"] == after["checkpoints/dagger_1/model.safetensors"]
    capsys.readouterr()
    main(_config(run_dir, "train.lr=0.01"), command="test")  # the new recipe now resumes
    assert "[bc] already trained" in capsys.readouterr().out
    with pytest.raises(ValueError, match=re.escape("train.lr: 0.01 -> 0.002")):
        main(_config(run_dir), command="test")


def test_retrain_from_must_name_a_stage_of_the_recipe() -> None:
    with pytest.raises(ValueError, match=r"retrain_from 'dagger_2'.*expert, bc, dagger_1"):
        load_config(ILConfig, RECIPE, ["dagger.rounds=1", "retrain_from=dagger_2"])
    with pytest.raises(ValueError, match="data_from"):
        load_config(ILConfig, RECIPE, ["data_from=runs/x", "retrain_from=expert"])


@pytest.mark.slow
def test_replaced_weights_are_refused(run_dir: Path) -> None:
    other = build_policy("ncp", image_shape=(32, 48, 3), seed=7)
    save_checkpoint(other, run_dir / "checkpoints" / "bc", env_id="lnn_control/LaneKeeping-v0")
    with pytest.raises(ValueError, match=r"'bc'.*does not match.*retrain_from=bc"):
        main(_config(run_dir), command="test")


@pytest.mark.parametrize("key", ["train.lr", "train.weight_decay", "eval.distance_m"])
@pytest.mark.parametrize("value", [".inf", ".nan"])
def test_non_finite_numbers_are_config_errors(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"config key '{key}'.*finite"):
        load_config(ILConfig, RECIPE, [f"{key}={value}"])


@pytest.mark.slow
def test_a_diverging_stage_stops_and_is_not_marked_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lnn_control.training.bc as bc

    real = bc.masked_loss

    def diverging(action: torch.Tensor, label: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return real(action, label, weight) * float("nan")

    monkeypatch.setattr(bc, "masked_loss", diverging)
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=r"\[bc\] non-finite loss .* epoch 1") as caught:
        main(_config(run_dir, "dagger.rounds=0"), command="test")
    assert "\n" not in str(caught.value)
    stage = run_dir / "checkpoints" / "bc"
    assert not (stage / "done.json").exists()
    assert not (stage / "model.safetensors").exists()
    assert not (run_dir / "policy").exists()
