"""The shipped checkpoints load through the public contract and carry their model card."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lnn_control
from lnn_control.policies import pretrained_names
from lnn_control.policies.checkpoint import PRETRAINED_DIR

SHIPPED = pretrained_names()
KINDS = {"lane_keeping_ncp": "ncp", "lane_keeping_lstm": "lstm", "lane_keeping_cnn": "cnn"}


def test_lane_keeping_ncp_is_shipped() -> None:
    assert "lane_keeping_ncp" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_policy_steps(name: str) -> None:
    policy = lnn_control.load_policy(f"pretrained:{name}")
    assert policy.kind == KINDS.get(name, policy.kind)
    assert policy.image_shape == (64, 160, 3)
    state = policy.initial_state(1)
    frame = np.random.default_rng(0).integers(0, 256, (64, 160, 3), dtype=np.uint8)
    action, state = policy.step(frame, state, dt=0.05)
    assert action.shape == (1,)
    assert -1.0 <= float(action[0]) <= 1.0
    if name == "lane_keeping_ncp":
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
    for words in ("Command:", "Training data:", "Training time:", "autonomy", "Augmentation"):
        assert words in card
    assert sum(p.stat().st_size for p in directory.iterdir()) < 2_000_000


def test_baselines_learned_from_the_ncps_frames() -> None:
    baselines = [n for n in SHIPPED if n in ("lane_keeping_lstm", "lane_keeping_cnn")]
    ncp = json.loads((PRETRAINED_DIR / "lane_keeping_ncp" / "config.json").read_text())
    for name in baselines:
        config = json.loads((PRETRAINED_DIR / name / "config.json").read_text())
        assert config["provenance"]["training_seeds"] == ncp["provenance"]["training_seeds"]
        assert config["provenance"]["data_frames"] == ncp["provenance"]["data_frames"]
