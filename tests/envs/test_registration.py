"""Registration is idempotent and importing the envs package does not import pybullet."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym

from lnn_control.envs.registration import register_envs
from lnn_control.envs.world import world

LANE_KEEPING_ID = "lnn_control/LaneKeeping-v0"


def test_register_envs_is_idempotent_with_a_string_entry_point() -> None:
    register_envs()
    register_envs()
    spec = gym.spec(LANE_KEEPING_ID)
    assert spec.entry_point == world(LANE_KEEPING_ID).entry_point
    assert spec.max_episode_steps is None  # the env truncates at its own time limit


def test_importing_lnn_control_and_envs_does_not_import_pybullet() -> None:
    code = (
        "import sys, lnn_control, lnn_control.envs;"
        "from lnn_control.envs import LaneScenario, world;"
        "[world(i).name for i in lnn_control.envs.env_ids()];"
        "assert 'lnn_control/LaneKeeping-v0' in __import__('gymnasium').registry;"
        "assert 'pybullet' not in sys.modules, 'pybullet imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
