"""RecurrentPPO with liquid policies: the adapter, state resets, and a tiny run through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml

from lnn_control.cli import main
from lnn_control.policies import build_policy, load_policy

sb3_contrib = pytest.importorskip("sb3_contrib")

SCENARIO = {"image_height": 32, "image_width": 48, "distractor_kind": "none", "time_limit_s": 1.0}


@pytest.fixture(scope="module")
def model() -> Any:
    from stable_baselines3.common.vec_env import DummyVecEnv

    import lnn_control  # noqa: F401
    from lnn_control.training.rl_policy import (
        LiquidRecurrentPolicy,
        liquid_policy_kwargs,
        load_weights,
    )

    torch.manual_seed(0)
    venv = DummyVecEnv([lambda: gym.make("lnn_control/LaneKeeping-v0", scenario=SCENARIO)])
    policy = build_policy("ncp", image_shape=(32, 48, 3), seed=0)
    ppo = sb3_contrib.RecurrentPPO(
        LiquidRecurrentPolicy,
        venv,
        n_steps=16,
        batch_size=16,
        n_epochs=1,
        policy_kwargs=liquid_policy_kwargs(policy, freeze_head=True),
        seed=0,
    )
    load_weights(ppo.policy, policy)
    ppo.imitation = policy  # the policy it started from, for comparisons
    return ppo


def _frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 48, 3), dtype=np.uint8)


def test_ppo_starts_from_the_imitation_action(model: Any) -> None:
    frames = _frames(5)
    sb3_state, ours = None, model.imitation.initial_state(1)
    for t, frame in enumerate(frames):
        start = np.array([t == 0])
        action, sb3_state = model.predict(frame[None], sb3_state, start, deterministic=True)
        expected, ours = model.imitation.step(frame, ours)
        np.testing.assert_allclose(action[0], expected, atol=1e-5)


def test_state_resets_at_episode_starts_in_sequences(model: Any) -> None:
    policy = model.policy
    features = policy.extract_features(torch.as_tensor(_frames(6, seed=1)).float() / 255)
    hidden = (torch.randn(1, 1, 19), torch.zeros(1, 1, 19))
    starts = torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    with torch.no_grad():
        joined, _ = policy._process_sequence(features, hidden, starts, policy.lstm_actor)
        zero = (torch.zeros(1, 1, 19), torch.zeros(1, 1, 19))
        fresh, _ = policy._process_sequence(features[3:], zero, torch.zeros(3), policy.lstm_actor)
        carried, _ = policy._process_sequence(
            features[3:], hidden, torch.zeros(3), policy.lstm_actor
        )
    torch.testing.assert_close(joined[3:], fresh)
    assert not torch.allclose(joined[3:], carried)  # without the reset it would differ


def test_predict_resets_the_state_on_episode_start(model: Any) -> None:
    frame = _frames(1, seed=2)
    _, state = model.predict(_frames(1, seed=3), None, np.array([True]), deterministic=True)
    reset, _ = model.predict(frame, state, np.array([True]), deterministic=True)
    fresh, _ = model.predict(frame, None, np.array([True]), deterministic=True)
    carried, _ = model.predict(frame, state, np.array([False]), deterministic=True)
    np.testing.assert_allclose(reset, fresh)
    assert not np.allclose(carried, fresh)


def test_sb3_save_and_load_round_trip(model: Any, tmp_path: Path) -> None:
    model.learn(16)
    path = tmp_path / "model.zip"
    model.save(path)
    loaded = sb3_contrib.RecurrentPPO.load(path)
    frame = _frames(1, seed=4)
    a, _ = model.predict(frame, None, np.array([True]), deterministic=True)
    b, _ = loaded.predict(frame, None, np.array([True]), deterministic=True)
    np.testing.assert_allclose(a, b, atol=1e-6)
    frozen = list(loaded.policy.features_extractor.parameters())
    assert frozen
    assert not any(p.requires_grad for p in frozen)


def _config(tmp_path: Path, total_steps: int) -> Path:
    config = {
        "algorithm": "ppo",
        "run_dir": str(tmp_path / "run"),
        "env": {"scenario": SCENARIO},
        "init": None,
        "policy": "ncp",
        "ppo": {"total_steps": total_steps, "n_envs": 2, "n_steps": 32, "batch_size": 32},
        "eval": {"seeds": 1, "distance_m": 3, "every_steps": 128, "workers": 1},
        "perturbation": {"name": "gaussian_noise", "params": {"variance": 0.2}, "probability": 0.5},
    }
    path = tmp_path / "ppo.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_new_policy_is_built_for_the_configs_world() -> None:
    from lnn_control.training.ppo import PPOConfig, initial_policy

    config = PPOConfig.model_validate({"env": {"env_id": "lnn_control/DroneNav-v0"}, "init": None})
    policy = initial_policy(config)
    assert policy.action_dim == 4
    assert tuple(policy.image_shape) == config.env.image_shape()


def test_a_training_perturbation_must_exist() -> None:
    from lnn_control.training.ppo import TrainPerturbation

    with pytest.raises(ValueError, match="unknown perturbation 'gausian_noise'; available: "):
        TrainPerturbation(name="gausian_noise")
    with pytest.raises(ValueError, match="probability"):
        TrainPerturbation(name="fog", probability=0.0)


def _train_seconds(run: Path) -> float:
    config = json.loads((run / "policy" / "config.json").read_text())
    return float(config["provenance"]["train_seconds"])


@pytest.mark.slow
def test_tiny_ppo_run_through_the_cli_resumes_and_reloads(tmp_path: Path) -> None:
    assert main(["train", "--config", str(_config(tmp_path, 128))]) == 0
    run = tmp_path / "run"
    policy = load_policy(run / "policy")
    assert policy.kind == "ncp"
    card = (run / "policy" / "MODEL_CARD.md").read_text()
    assert "RecurrentPPO" in card
    assert card.startswith("# Model card: ncp policy for LaneKeeping-v0")
    assert "- Policy: `ncp`, seed 0;" in card
    with (run / "eval.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [128]
    assert 0.0 <= float(rows[0]["perturbed_autonomy"]) <= 1.0  # also evaluated under the noise
    assert '"rl_perturbations"' in card
    first_s = _train_seconds(run)
    assert main(["train", "--config", str(_config(tmp_path, 256))]) == 0  # resumes at 128
    with (run / "eval.csv").open() as handle:
        assert [int(r["step"]) for r in csv.DictReader(handle)] == [128, 256]
    assert _train_seconds(run) > first_s  # the clock carries over the resume
    resumed = sb3_contrib.RecurrentPPO.load(run / "sb3_model.zip")
    assert resumed.num_timesteps == 256


@pytest.mark.slow
def test_a_ppo_run_under_a_changed_recipe_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, 64)
    assert main(["train", "--config", str(path), "--set", "eval.every_steps=1000"]) == 0
    card = (tmp_path / "run" / "policy" / "MODEL_CARD.md").read_bytes()
    capsys.readouterr()
    assert main(["train", "--config", str(path), "--set", "ppo.lr=0.001"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "ppo.lr: 0.0001 -> 0.001" in err
    assert "retrain_from=ppo" in err
    assert (tmp_path / "run" / "policy" / "MODEL_CARD.md").read_bytes() == card
