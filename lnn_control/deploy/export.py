"""Export one control step of a policy to ONNX, with a JSON sidecar (needs torch).

The graph is what the robot runs every frame:

    image uint8 (1, H, W, 3), hidden float32 (1, S), dt float32 (1,) seconds
        -> action float32 (1, A) in [-1, 1], hidden_next float32 (1, S)

Inside the graph: uint8 -> float and per-image normalisation (`ConvHead`), the conv head, the
conversion of `dt` from seconds to nominal steps (divide by `policy.nominal_dt_s`), one step of
the recurrent core and the tanh squash. A reset is the caller feeding zeros as `hidden`.

Feedforward policies (kind "cnn", S = 0) keep the same signature: `hidden` is a (1, 0) input
that is passed through unchanged to `hidden_next`, so the runtime needs no special case.

The output must end in `.onnx` (anything else is refused in one line before anything is
written), so the sidecar `<model>.json` can never be the model's own path. The sidecar holds
the checkpoint metadata (architecture, env id, provenance, metrics), the action scaling and
limits, the image shape, `nominal_dt_s`, the state size, the input/output names and the SHA-256
of the .onnx file; `OnnxPolicy` checks it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lnn_control.deploy.runtime.model import (
    INPUT_NAMES,
    OUTPUT_NAMES,
    SIDECAR_FORMAT_VERSION,
    file_sha256,
    sidecar_path_for,
)
from lnn_control.io_utils import atomic_write_bytes
from lnn_control.policies import CfCPolicy, LiquidPolicy, Policy, load_checkpoint
from lnn_control.policies.checkpoint import resolve_checkpoint

OPSET = 17
"""ONNX opset of the TorchScript-based exporter (onnxruntime >= 1.12 runs it)."""
DEFAULT_ACTION_LIMITS = (-1.0, 1.0)
DT_FREE_KINDS = frozenset({"cnn", "lstm", "gru"})
"""Kinds whose core ignores dt (discrete time / feedforward)."""


class PolicyStep(nn.Module):
    """One control step with the exported signature (see the module docstring)."""

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy
        self.inv_nominal_dt = 1.0 / policy.nominal_dt_s

    def forward(
        self, image: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """image (1, H, W, 3) uint8, hidden (1, S), dt (1,) s -> action (1, A), hidden (1, S)."""
        features = self.policy.head(image)  # (1, F)
        dt_steps = dt * self.inv_nominal_dt  # (1,) nominal steps
        pre, hidden_next = core_step(self.policy, features, hidden, dt_steps)
        action = self.policy.squash(pre)
        if self.policy.kind in DT_FREE_KINDS:
            # Keep `dt` in the graph's signature (the exporter drops unused inputs); adds 0.
            action = action + (dt * 0.0)[:, None]
        if self.policy.state_size == 0:
            hidden_next = hidden  # (1, 0): pass through so the signature stays uniform
        return action, hidden_next


def core_step(
    policy: Policy, features: torch.Tensor, hidden: torch.Tensor, dt_steps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One core step: features (1, F), hidden (1, S), dt (1,) nominal steps -> pre (1, A), (1, S).

    The liquid kinds call their single-step cell (the sequence modules' shape checks do not trace);
    the others run `policy.core` on a one-step sequence. Both compute what `policy.step` does.
    """
    if isinstance(policy, LiquidPolicy):
        y, hidden_next = policy.rnn.cell(features, hidden, dt_steps)
        if policy.cell_kind == "cfc":
            y = torch.addcmul(policy.output_b, y, policy.output_w)
        return y, hidden_next
    if isinstance(policy, CfCPolicy):
        out, hidden_next = policy.rnn.cell(features, hidden, dt_steps)
        return policy.readout(out), hidden_next
    pre, hidden_next = policy.core(features[:, None], dt_steps[:, None], None, hidden)
    return pre[:, 0], hidden_next


def _action_block(config: dict[str, Any], action_dim: int) -> dict[str, Any]:
    scaling = dict(config.get("action_scaling") or {"squash": "tanh", "low": -1.0, "high": 1.0})
    low = float(scaling.get("low", DEFAULT_ACTION_LIMITS[0]))
    high = float(scaling.get("high", DEFAULT_ACTION_LIMITS[1]))
    return {
        "dim": action_dim,
        "scaling": scaling,
        "limits": {"low": [low] * action_dim, "high": [high] * action_dim},
    }


def build_sidecar(policy: Policy, config: dict[str, Any], onnx_path: Path) -> dict[str, Any]:
    """The sidecar dict for `policy` exported at `onnx_path` (`config`: checkpoint config.json)."""
    height, width, channels = policy.image_shape
    return {
        "format_version": SIDECAR_FORMAT_VERSION,
        "onnx_file": onnx_path.name,
        "onnx_sha256": file_sha256(onnx_path),
        "opset": OPSET,
        "kind": policy.kind,
        "image_shape": [height, width, channels],
        "image_format": "RGB uint8 channels-last; normalised inside the graph",
        "nominal_dt_s": policy.nominal_dt_s,
        "dt_unit": "seconds (converted to nominal steps inside the graph)",
        "state_size": policy.state_size,
        "action": _action_block(config, policy.action_dim),
        "inputs": {
            "image": {
                "name": INPUT_NAMES[0],
                "shape": [1, height, width, channels],
                "dtype": "uint8",
            },
            "hidden": {"name": INPUT_NAMES[1], "shape": [1, policy.state_size], "dtype": "float32"},
            "dt": {"name": INPUT_NAMES[2], "shape": [1], "dtype": "float32"},
        },
        "outputs": {
            "action": {
                "name": OUTPUT_NAMES[0],
                "shape": [1, policy.action_dim],
                "dtype": "float32",
            },
            "hidden_next": {
                "name": OUTPUT_NAMES[1],
                "shape": [1, policy.state_size],
                "dtype": "float32",
            },
        },
        "checkpoint": {
            "architecture": config.get("architecture", policy.spec()),
            "env_id": config.get("env_id"),
            "provenance": config.get("provenance", {}),
            "metrics": config.get("metrics", {}),
            "package_version": config.get("package_version"),
        },
    }


def check_onnx_path(out_path: str | Path) -> Path:
    """`out_path` as a Path if it names a .onnx file; ValueError (one line) otherwise."""
    path = Path(out_path)
    if path.suffix.lower() != ".onnx" or not path.stem:
        raise ValueError(
            f"the output must be a .onnx file (its sidecar .json is written beside it), got "
            f"{str(out_path)!r}"
        )
    return path


def export_policy(
    policy_or_dir: Policy | str | Path,
    out_path: str | Path,
    *,
    env_id: str | None = None,
) -> tuple[Path, Path]:
    """Write `out_path` (.onnx) and its sidecar `.json`; returns both paths.

    Args:
        policy_or_dir: a `Policy`, a checkpoint directory or "pretrained:<name>".
        out_path: the .onnx file to write (parent folders are created); another suffix is a
            ValueError.
        env_id: recorded in the sidecar when a bare `Policy` is exported (a checkpoint's own
            env id wins otherwise).
    """
    onnx_path = check_onnx_path(out_path)
    if isinstance(policy_or_dir, Policy):
        policy, config = policy_or_dir, {"env_id": env_id, "architecture": policy_or_dir.spec()}
    else:
        policy, config = load_checkpoint(resolve_checkpoint(policy_or_dir))
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    height, width, channels = policy.image_shape
    image = torch.zeros(1, height, width, channels, dtype=torch.uint8)
    hidden = torch.zeros(1, policy.state_size)
    dt = torch.full((1,), policy.nominal_dt_s)
    was_training = policy.training
    policy.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
            torch.onnx.export(
                PolicyStep(policy),
                (image, hidden, dt),
                str(onnx_path),
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        policy.train(was_training)
    sidecar = build_sidecar(policy, config, onnx_path)
    sidecar_path = sidecar_path_for(onnx_path)
    atomic_write_bytes(sidecar_path, (json.dumps(sidecar, indent=2) + "\n").encode())
    return onnx_path, sidecar_path
