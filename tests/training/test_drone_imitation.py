"""The imitation recipe on DroneNav-v0: 4 actions, the drone wiring, drone summary keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lnn_control.cli import main
from lnn_control.config_io import load_config
from lnn_control.envs.drone.metrics import DRONE_SUMMARY_KEYS
from lnn_control.policies import load_policy
from lnn_control.policies.liquid_policy import LiquidPolicy
from lnn_control.training.config import ILConfig
from tests.recipes import DRONE_SCENARIO, tiny_recipe

TINY = tiny_recipe(steps=20, eval_distance_m=None, scenario=DRONE_SCENARIO)


def test_drone_config_needs_the_drone_expert() -> None:
    with pytest.raises(ValueError, match="not drive lnn_control/DroneNav-v0; use one of drone"):
        load_config(ILConfig, "drone_nav_il", ["collect.expert=stanley"])
    config = load_config(ILConfig, "drone_nav_il")
    assert config.env.action_dim == 4
    assert config.env.image_shape() == (64, 96, 3)


@pytest.mark.slow
def test_tiny_drone_run_through_the_cli(tmp_path: Path) -> None:
    args = ["train", "--config", "drone_nav_il", "--set", f"run_dir={tmp_path}"]
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    policy = load_policy(tmp_path / "policy")
    assert policy.action_dim == 4
    assert isinstance(policy, LiquidPolicy)
    assert policy.wiring.n_motor == 4
    assert policy.wiring.n_neurons == 19
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())["summary"]
    assert set(summary) == set(DRONE_SUMMARY_KEYS)
    index = json.loads((tmp_path / "data" / "expert" / "index.json").read_text())
    assert index["frames"] > 0
