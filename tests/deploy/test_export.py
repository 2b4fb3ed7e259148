"""Export parity: onnxruntime vs `policy.step` over closed loops with irregular dt."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from lnn_control.deploy.export import export_policy
from lnn_control.deploy.runtime.model import OnnxPolicy, file_sha256
from lnn_control.policies import Policy, build_policy, save_checkpoint
from tests.deploy.conftest import SMALL_IMAGE, drive_image

PARITY_STEPS, TOL = 500, 1e-4
DT_RANGE_S = (0.03, 0.09)


def closed_loop_error(policy: Policy, model: OnnxPolicy, steps: int, seed: int = 0) -> float:
    """Largest |onnx - torch| over actions and states along a closed-loop drive."""
    rng = np.random.default_rng(seed)
    state_t = policy.initial_state(1)
    state_o = model.initial_state()
    steering, worst = 0.0, 0.0
    for step in range(steps):
        image = drive_image(steering, step, rng)
        dt_s = float(rng.uniform(*DT_RANGE_S))
        action_t, state_t = policy.step(image, state_t, dt_s)
        action_o, state_o = model.step(image, state_o, dt_s)
        worst = max(worst, float(np.abs(action_o - action_t).max()))
        if state_o.size:
            worst = max(worst, float(np.abs(state_o - state_t.numpy()).max()))
        steering = float(action_t[0])  # the torch policy drives; both see the same frames
    return worst


@pytest.mark.parametrize("kind", ["ncp", "lstm"])
def test_parity_500_steps(
    kind: str, small_policies: dict[str, Policy], exported: dict[str, Path]
) -> None:
    error = closed_loop_error(small_policies[kind], OnnxPolicy(exported[kind]), PARITY_STEPS)
    assert error <= TOL, f"{kind}: max |onnx - torch| = {error:.2e}"


@pytest.mark.parametrize("kind", ["ncp_cfc", "cnn", "gru", "ctrnn", "cfc"])
def test_other_kinds_export(kind: str, tmp_path: Path) -> None:
    policy = build_policy(kind, image_shape=SMALL_IMAGE, seed=1)
    onnx_path, _ = export_policy(policy, tmp_path / f"{kind}.onnx")
    model = OnnxPolicy(onnx_path)
    assert model.state_size == policy.state_size
    assert closed_loop_error(policy, model, steps=40) <= TOL


def test_dt_changes_liquid_output(exported: dict[str, Path]) -> None:
    """dt is a real input of the LTC graph (a longer interval integrates further)."""
    model = OnnxPolicy(exported["ncp"])
    image = drive_image(0.0, 0, np.random.default_rng(0))
    _, short = model.step(image, model.initial_state(), 0.01)
    _, long = model.step(image, model.initial_state(), 0.5)
    assert np.abs(short - long).max() > 1e-4


def test_sidecar_contents(exported: dict[str, Path]) -> None:
    sidecar = json.loads(exported["ncp"].with_suffix(".json").read_text())
    assert sidecar["onnx_sha256"] == file_sha256(exported["ncp"])
    assert sidecar["image_shape"] == list(SMALL_IMAGE)
    assert sidecar["state_size"] == 19
    assert sidecar["nominal_dt_s"] == pytest.approx(0.05)
    assert sidecar["action"]["limits"] == {"low": [-1.0], "high": [1.0]}
    assert sidecar["checkpoint"]["env_id"] == "lnn_control/LaneKeeping-v0"
    assert [sidecar["inputs"][k]["name"] for k in ("image", "hidden", "dt")] == [
        "image",
        "hidden",
        "dt",
    ]


def test_hash_mismatch_is_refused(exported: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "m.onnx"
    copy.write_bytes(exported["ncp"].read_bytes() + b"\0")
    copy.with_suffix(".json").write_text(exported["ncp"].with_suffix(".json").read_text())
    with pytest.raises(ValueError, match="SHA-256"):
        OnnxPolicy(copy)


def test_export_from_checkpoint_keeps_metadata(tmp_path: Path) -> None:
    policy = build_policy("ncp", image_shape=SMALL_IMAGE, seed=2)
    save_checkpoint(
        policy, tmp_path / "ckpt", env_id="lnn_control/LaneKeeping-v0",
        provenance={"run": "test"}, metrics={"departures": 0.0},
    )  # fmt: skip
    _, sidecar_path = export_policy(tmp_path / "ckpt", tmp_path / "out" / "m.onnx")
    sidecar = json.loads(sidecar_path.read_text())
    assert sidecar["checkpoint"]["provenance"] == {"run": "test"}
    assert sidecar["checkpoint"]["metrics"] == {"departures": 0.0}
    assert sidecar["checkpoint"]["architecture"]["kind"] == "ncp"
    torch_action, _ = policy.step(np.zeros(SMALL_IMAGE, np.uint8) + 7, None, 0.05)
    model = OnnxPolicy(tmp_path / "out" / "m.onnx")
    onnx_action, _ = model.step(np.zeros(SMALL_IMAGE, np.uint8) + 7, model.initial_state(), 0.05)
    assert np.allclose(torch_action, onnx_action, atol=TOL)


@pytest.mark.slow
def test_drone_ncp_parity_500_steps_flying_drone_nav(tmp_path: Path) -> None:
    """The drone NCP (4 motor neurons) exported and flown in DroneNav-v0 by the torch policy,
    the ONNX model fed the same frames and irregular dt; episodes restart both states."""
    from lnn_control.envs.drone.env import DroneNavEnv

    policy = build_policy("ncp", image_shape=(48, 64, 3), action_dim=4, seed=2)
    model = OnnxPolicy(export_policy(policy, tmp_path / "drone.onnx")[0])
    env = DroneNavEnv({"image_height": 48, "image_width": 64})
    rng = np.random.default_rng(0)
    worst, episodes, seed = 0.0, 0, 1_000_000
    try:
        obs, _ = env.reset(seed=seed)
        state_t, state_o = policy.initial_state(1), model.initial_state()
        for _ in range(PARITY_STEPS):
            dt_s = float(rng.uniform(*DT_RANGE_S))
            action_t, state_t = policy.step(obs, state_t, dt_s)
            action_o, state_o = model.step(obs, state_o, dt_s)
            worst = max(worst, float(np.abs(action_o - action_t).max()))
            worst = max(worst, float(np.abs(state_o - state_t.numpy()).max()))
            obs, _, terminated, truncated, _ = env.step(action_t)
            if terminated or truncated:
                seed, episodes = seed + 1, episodes + 1
                obs, _ = env.reset(seed=seed)
                state_t, state_o = policy.initial_state(1), model.initial_state()
    finally:
        env.close()
    assert action_t.shape == (4,)
    assert worst <= TOL, f"drone NCP: max |onnx - torch| = {worst:.2e} over {episodes + 1} flights"


@pytest.mark.parametrize("name", ["m.json", "x.pt", "model", "m.onnx.json"])
def test_export_refuses_an_output_that_is_not_onnx(
    name: str, small_policies: dict[str, Policy], tmp_path: Path
) -> None:
    """`--out m.json` used to write the model and then overwrite it with the sidecar; `x.pt`
    got ONNX under a .pt name. Now: one line, nothing written."""
    from lnn_control.cli import export as export_cli

    out = tmp_path / name
    args = argparse.Namespace(policy="unused: refused before loading", out=out)
    with pytest.raises(ValueError, match=r"--out must end in \.onnx") as info:
        export_cli.run(args)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"must be a \.onnx file"):
        export_policy(small_policies["ncp"], out)
    assert list(tmp_path.iterdir()) == []
