"""`OnnxStepPolicy`: the exported ONNX artefact behind the closed loop's `StepPolicy` contract.

    policy = lnn_control.load_policy("model.onnx")       # reads and checks model.json
    lnn_control.evaluate(policy, policy.env_id, seeds=range(1_000_000, 1_000_005))

So the file that goes on the robot is evaluated in the simulator it was trained in, by the same
loop as the torch policy. It runs `lnn_control.deploy.runtime.model.OnnxPolicy` (onnxruntime, one
thread) once per sample; states are numpy (B, S) float32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lnn_control.deploy.runtime.model import OnnxPolicy


class OnnxStepPolicy:
    """An exported policy with `initial_state(batch_size)` and `step(obs, state, dt_s)`.

    Attributes:
        source_path: the .onnx file (worker processes load it again from there).
        env_id: the world it was exported for (from the sidecar; None if unknown).
        image_shape: (H, W, 3). state_size: S. action_dim: A. nominal_dt_s: seconds.
    """

    def __init__(self, onnx_path: str | Path) -> None:
        self.model = OnnxPolicy(onnx_path)
        self.source_path = Path(onnx_path)
        self.env_id: str | None = (self.model.sidecar.get("checkpoint") or {}).get("env_id")
        self.image_shape = self.model.image_shape
        self.state_size = self.model.state_size
        self.action_dim = self.model.action_dim
        self.nominal_dt_s = self.model.nominal_dt_s

    def initial_state(self, batch_size: int = 1) -> np.ndarray:
        """(B, S) float32 zeros."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        return np.zeros((batch_size, self.state_size), dtype=np.float32)

    def step(
        self, obs: np.ndarray, state: Any, dt_s: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """obs uint8 (H, W, 3) or (B, H, W, 3); state (B, S); dt_s seconds (None: nominal).

        Returns (A,) actions for one image or (B, A) for a batch, and the (B, S) state.
        """
        images = np.asarray(obs)
        single = images.ndim == 3
        batch = images[None] if single else images
        states = np.asarray(state, dtype=np.float32).reshape(len(batch), self.state_size)
        seconds = self.nominal_dt_s if dt_s is None else float(dt_s)
        actions, next_states = [], []
        for image, row in zip(batch, states, strict=True):
            action, hidden = self.model.step(image, row[None], seconds)
            actions.append(action)
            next_states.append(hidden[0])
        stacked = np.stack(actions)
        return (stacked[0] if single else stacked), np.stack(next_states)
