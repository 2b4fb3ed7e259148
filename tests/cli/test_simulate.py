"""`lnn-control simulate` on tiny untrained checkpoints: the drone and lane keeping."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from lnn_control.cli import main
from lnn_control.envs.drone.metrics import DRONE_SUMMARY_KEYS
from lnn_control.policies import build_policy, save_checkpoint

LANE_ENV_ID = "lnn_control/LaneKeeping-v0"
DRONE_ENV_ID = "lnn_control/DroneNav-v0"
IMAGE = (32, 48, 3)


def _simulate(policy_dir: Path, out: Path, *extra: str) -> int:
    args = ["simulate", "--policy", str(policy_dir), "--seeds", "1", "--out", str(out)]
    return main([*args, "--workers", "1", "--video", *extra])


def test_simulate_flies_a_drone_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = build_policy("ncp", image_shape=IMAGE, action_dim=4, seed=0)
    # the image size comes from the policy; the training scenario keeps the flight to 20 steps
    provenance = {"config": {"env": {"scenario": {"time_limit_s": 1.0}}}}
    save_checkpoint(policy, tmp_path / "ckpt", env_id=DRONE_ENV_ID, provenance=provenance)
    out = tmp_path / "sim"
    # --distance-m means nothing to the drone: ignored, even when invalid for lane keeping
    assert _simulate(tmp_path / "ckpt", out, "--distance-m", "-1") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["summary"]) == set(DRONE_SUMMARY_KEYS)
    assert summary["seed_range"] == [1_000_000, 1_000_000]
    assert (out / "episodes.csv").is_file()
    video = cv2.VideoCapture(str(out / "flight.mp4"))
    assert video.isOpened()
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    video.release()
    printed = capsys.readouterr().out
    assert '"success_rate"' in printed
    assert DRONE_ENV_ID in printed


def test_simulate_drives_a_lane_checkpoint(tmp_path: Path) -> None:
    policy = build_policy("ncp", image_shape=IMAGE, seed=0)
    scenario = {"image_height": IMAGE[0], "image_width": IMAGE[1], "distractor_kind": "none"}
    provenance = {"config": {"env": {"scenario": scenario}}}
    save_checkpoint(policy, tmp_path / "ckpt", env_id=LANE_ENV_ID, provenance=provenance)
    out = tmp_path / "sim"
    assert _simulate(tmp_path / "ckpt", out, "--distance-m", "3") == 0
    assert "autonomy" in json.loads((out / "summary.json").read_text())["summary"]
    assert (out / "drive.mp4").stat().st_size > 1000


def test_simulate_refuses_other_worlds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = build_policy("ncp", image_shape=IMAGE, seed=0)
    save_checkpoint(policy, tmp_path / "ckpt", env_id="CartPole-v1")
    assert _simulate(tmp_path / "ckpt", tmp_path / "sim") == 2
    err = capsys.readouterr().err.strip()
    assert "unknown world 'CartPole-v1'; known: lnn_control/LaneKeeping-v0" in err
    assert "\n" not in err
