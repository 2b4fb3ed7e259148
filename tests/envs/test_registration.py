"""Registration is idempotent and importing the envs package does not import pybullet."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym

from lnn_control.envs.registration import LANE_KEEPING_ID, register_envs


def test_register_envs_is_idempotent_with_a_string_entry_point() -> None:
    register_envs()
    register_envs()
    spec = gym.spec(LANE_KEEPING_ID)
    assert spec.entry_point == "lnn_control.envs.lane_keeping:LaneKeepingEnv"
    assert spec.max_episode_steps is None  # the env truncates at its own time limit


def test_importing_lnn_control_and_envs_does_not_import_pybullet() -> None:
    code = (
        "import sys, lnn_control, lnn_control.envs;"
        "from lnn_control.envs import LaneScenario;"
        "assert 'lnn_control/LaneKeeping-v0' in __import__('gymnasium').registry;"
        "assert 'pybullet' not in sys.modules, 'pybullet imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
