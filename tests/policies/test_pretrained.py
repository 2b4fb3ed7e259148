"""The shipped checkpoints load through the public contract and carry their model card."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lnn_control
from lnn_control.policies import pretrained_names
from lnn_control.policies.checkpoint import PRETRAINED_DIR

SHIPPED = pretrained_names()
KINDS = {
    "lane_keeping_ncp": "ncp",
    "lane_keeping_lstm": "lstm",
    "lane_keeping_cnn": "cnn",
    "drone_nav_ncp": "ncp",
}
#: name -> (camera image shape, action size); lane keeping otherwise.
WORLDS = {"drone_nav_ncp": ((64, 96, 3), 4)}
LANE = ((64, 160, 3), 1)


def test_lane_keeping_ncp_is_shipped() -> None:
    assert "lane_keeping_ncp" in SHIPPED


def test_the_drone_ncp_clears_its_bar() -> None:
    config = json.loads((PRETRAINED_DIR / "drone_nav_ncp" / "config.json").read_text())
    assert config["env_id"] == "lnn_control/DroneNav-v0"
    assert config["metrics"]["eval_seed_range"] == [1_000_000, 1_000_049]  # 50 held-out seeds
    assert config["metrics"]["success_rate"] >= 0.9


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_policy_steps(name: str) -> None:
    policy = lnn_control.load_policy(f"pretrained:{name}")
    image_shape, action_dim = WORLDS.get(name, LANE)
    assert policy.kind == KINDS.get(name, policy.kind)
    assert policy.image_shape == image_shape
    state = policy.initial_state(1)
    frame = np.random.default_rng(0).integers(0, 256, image_shape, dtype=np.uint8)
    action, state = policy.step(frame, state, dt_s=0.05)
    assert action.shape == (action_dim,)
    assert np.all(np.abs(action) <= 1.0)
    if policy.kind == "ncp":
        assert state.shape == (1, 19)


@pytest.mark.parametrize("name", SHIPPED)
def test_model_card_states_how_it_was_made(name: str) -> None:
    directory = PRETRAINED_DIR / name
    config = json.loads((directory / "config.json").read_text())
    provenance, metrics = config["provenance"], config["metrics"]
    assert provenance["command"].startswith("lnn-control train --config configs/")
    assert provenance["data_frames"] > 0
    assert all(seed < 1_000_000 for pair in provenance["training_seeds"] for seed in pair)
    assert metrics["eval_seed_range"][0] >= 1_000_000
    card = (directory / "MODEL_CARD.md").read_text()
    metric = "success_rate" if name in WORLDS else "autonomy"
    for words in ("Command:", "Training data:", "Training time:", metric, "Augmentation"):
        assert words in card
    assert sum(p.stat().st_size for p in directory.iterdir()) < 2_000_000


def test_baselines_learned_from_the_ncps_frames() -> None:
    baselines = [n for n in SHIPPED if n in ("lane_keeping_lstm", "lane_keeping_cnn")]
    ncp = json.loads((PRETRAINED_DIR / "lane_keeping_ncp" / "config.json").read_text())
    for name in baselines:
        config = json.loads((PRETRAINED_DIR / name / "config.json").read_text())
        assert config["provenance"]["training_seeds"] == ncp["provenance"]["training_seeds"]
        assert config["provenance"]["data_frames"] == ncp["provenance"]["data_frames"]
