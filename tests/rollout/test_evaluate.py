"""Closed-loop evaluation through the public `lnn_control.evaluate` contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import lnn_control
from lnn_control.envs.lane.metrics import LANE_SUMMARY_KEYS
from lnn_control.envs.perturb import make_wrapper
from lnn_control.policies import build_policy

SMALL = {"image_height": 32, "image_width": 48, "distractor_kind": "none"}


@pytest.mark.slow
def test_evaluate_reports_the_summary_keys_and_saves(tmp_path: Path) -> None:
    policy = build_policy("ncp", image_shape=(32, 48, 3), seed=0)
    result = lnn_control.evaluate(
        policy,
        "lnn_control/LaneKeeping-v0",
        seeds=[1_000_000, 1_000_001],
        episode_steps=40,
        env_kwargs={"scenario": SMALL},
        progress=False,
    )
    assert set(result.summary) == set(LANE_SUMMARY_KEYS)
    assert result.seed_range == (1_000_000, 1_000_001)
    assert [e["steps"] for e in result.episodes] == [40.0, 40.0]
    assert 0.0 <= result.summary["autonomy"] <= 1.0
    assert result.summary["distance_km"] > 0.0
    result.save(tmp_path)
    rows = list(csv.DictReader((tmp_path / "episodes.csv").open()))
    assert [int(float(r["seed"])) for r in rows] == [1_000_000, 1_000_001]
    assert json.loads((tmp_path / "summary.json").read_text())["seed_range"] == [
        1_000_000,
        1_000_001,
    ]


@pytest.mark.slow
def test_wrappers_are_applied_and_change_the_drive() -> None:
    policy = build_policy("ncp", image_shape=(32, 48, 3), seed=1)
    kwargs = {"env_kwargs": {"scenario": SMALL}, "episode_steps": 30, "progress": False}
    clean = lnn_control.evaluate(policy, seeds=[1_000_003], **kwargs)
    noisy = lnn_control.evaluate(
        policy, seeds=[1_000_003], wrappers=[make_wrapper("gaussian_noise", 5)], **kwargs
    )
    assert not np.array_equal(clean.traces[0].steer, noisy.traces[0].steer)


def test_bad_arguments() -> None:
    policy = build_policy("cnn", image_shape=(32, 48, 3))
    with pytest.raises(ValueError, match="at least one seed"):
        lnn_control.evaluate(policy, seeds=[])
    with pytest.raises(
        ValueError, match="unknown world 'CartPole-v1'; known: lnn_control/LaneKeeping-v0"
    ):
        lnn_control.evaluate(policy, "CartPole-v1", seeds=[1])
