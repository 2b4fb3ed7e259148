"""The shipped checkpoints load through the public contract and carry their model card."""

from __future__ import annotations

import json

import numpy as np

import lnn_control
from lnn_control.policies import pretrained_names
from lnn_control.policies.checkpoint import PRETRAINED_DIR


def test_lane_keeping_ncp_is_shipped_and_steps() -> None:
    assert "lane_keeping_ncp" in pretrained_names()
    policy = lnn_control.load_policy("pretrained:lane_keeping_ncp")
    assert policy.kind == "ncp"
    assert policy.image_shape == (64, 160, 3)
    state = policy.initial_state(1)
    frame = np.random.default_rng(0).integers(0, 256, (64, 160, 3), dtype=np.uint8)
    action, state = policy.step(frame, state, dt=0.05)
    assert action.shape == (1,)
    assert -1.0 <= float(action[0]) <= 1.0
    assert state.shape == (1, 19)


def test_model_card_states_how_it_was_made() -> None:
    directory = PRETRAINED_DIR / "lane_keeping_ncp"
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
