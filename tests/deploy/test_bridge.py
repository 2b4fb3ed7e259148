"""Hardware-in-the-loop without hardware: LaneKeeping-v0 as the robot, commands over UDP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lnn_control
from lnn_control.deploy.runtime.actuators import UdpActuator
from lnn_control.deploy.runtime.loop import run
from lnn_control.deploy.runtime.model import OnnxPolicy
from lnn_control.deploy.runtime.safety import SafetyConfig, SafetyFilter
from lnn_control.deploy.sim_bridge import SimBridge
from tests.deploy.fakes import ScriptedModel

BRIDGE_STEPS = 30
RATE_HZ = 50.0
STEERING = 0.3
CHECKPOINT = Path(lnn_control.__file__).resolve().parent / "pretrained" / "lane_keeping_ncp"


def test_bridge_plumbing() -> None:
    """A stand-in model (constant steering; it sees only the frames) through the real runtime."""
    model = ScriptedModel([[STEERING]])
    # the runtime sends "no_frame" fail-safes while the env starts; a fast rate limit lets the
    # first command reach STEERING at once
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=1.0, max_steering_rate_per_s=100.0))
    bridge = SimBridge(
        steps=BRIDGE_STEPS, seed=0, image_shape=(48, 64, 3), env_kwargs={"intervention": True},
        command_timeout_s=5.0,  # a cold first env build must not end the run
    )  # fmt: skip
    with bridge, UdpActuator(bridge.address) as actuator:
        summary = run(bridge.camera, model, safety, actuator, RATE_HZ, max_steps=500)
    result = bridge.result
    assert bridge.error is None
    assert summary.stop_reason == "camera_exhausted"  # the bridge stopped by itself
    assert result.stop_reason == "steps"  # intervention: a departure does not end the run
    frames = len(result.frame_times_s)
    assert frames == BRIDGE_STEPS
    assert summary.model_steps == frames  # every frame reached the model, none twice
    assert np.all(np.diff(result.frame_times_s) > 0)  # monotonic timestamps
    assert len(result.applied_steering) == len(result.commands) == frames
    seqs = [c[0] for c in result.commands]
    assert seqs == sorted(set(seqs))  # in order, none applied twice
    assert result.applied_steering == pytest.approx([STEERING] * frames, abs=1e-6)
    assert all(dt > 0 for dt in model.calls)  # dt = measured frame interval


@pytest.mark.slow
@pytest.mark.skipif(not CHECKPOINT.is_dir(), reason=f"no trained checkpoint at {CHECKPOINT}")
def test_bridge_trained_policy_keeps_lane(tmp_path: Path) -> None:
    from lnn_control.deploy.export import export_policy

    onnx_path, _ = export_policy(CHECKPOINT, tmp_path / "lane.onnx")
    model = OnnxPolicy(onnx_path)
    bridge = SimBridge(steps=100, seed=1_000_000, image_shape=model.image_shape)
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=1.0))
    with bridge, UdpActuator(bridge.address) as actuator:
        run(bridge.camera, model, safety, actuator, rate_hz=20.0, max_steps=1000)
    assert bridge.error is None
    assert len(bridge.result.applied_steering) >= 50
    assert bridge.result.lane_departures == 0
