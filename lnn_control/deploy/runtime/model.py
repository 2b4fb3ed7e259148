"""`OnnxPolicy`: run an exported policy step with onnxruntime (numpy only, no torch).

    model = OnnxPolicy("model.onnx")          # reads and checks model.json (SHA-256)
    state = model.initial_state()             # (1, S) float32 zeros
    action, state = model.step(image, state, dt_s=0.05)   # image uint8 (H, W, 3); action (A,)

A reset is `state = model.initial_state()`.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

INPUT_NAMES = ("image", "hidden", "dt")
OUTPUT_NAMES = ("action", "hidden_next")
SIDECAR_FORMAT_VERSION = 1
INTRA_OP_THREADS = 1
"""One thread: a robot's CPU also runs the camera, the safety loop and the actuators."""
_HASH_CHUNK_BYTES = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path_for(onnx_path: str | Path) -> Path:
    """`model.onnx` -> `model.json` (same folder)."""
    return Path(onnx_path).with_suffix(".json")


def read_sidecar(onnx_path: str | Path, verify_hash: bool = True) -> dict[str, Any]:
    """The sidecar of `onnx_path`; ValueError (one line) if missing fields or the hash differs."""
    onnx_path = Path(onnx_path)
    path = sidecar_path_for(onnx_path)
    if not onnx_path.is_file():
        raise FileNotFoundError(f"model not found: {onnx_path}")
    if not path.is_file():
        raise FileNotFoundError(f"sidecar not found: {path} (export writes it next to the .onnx)")
    sidecar = json.loads(path.read_text())
    if not isinstance(sidecar, dict) or sidecar.get("format_version") != SIDECAR_FORMAT_VERSION:
        raise ValueError(f"{path}: not a version-{SIDECAR_FORMAT_VERSION} deploy sidecar")
    if verify_hash:
        actual = file_sha256(onnx_path)
        if actual != sidecar.get("onnx_sha256"):
            raise ValueError(
                f"{onnx_path}: SHA-256 {actual[:12]}... does not match the sidecar's "
                f"{str(sidecar.get('onnx_sha256'))[:12]}...; re-export the model"
            )
    return sidecar


class OnnxPolicy:
    """An exported policy step under onnxruntime (one intra-op thread, CPU).

    Args:
        onnx_path: the .onnx written by `lnn_control.deploy.export.export_policy`.
        verify_hash: check the file against the sidecar's SHA-256 (default True).

    Attributes:
        image_shape: (H, W, 3) the model expects.
        state_size: S. action_dim: A. nominal_dt_s: the control period (s) of one core step.
        action_low, action_high: (A,) float32 limits from the sidecar.
        last_latency_s: wall time (s) of the last `step`'s session run.
    """

    def __init__(self, onnx_path: str | Path, verify_hash: bool = True) -> None:
        import onnxruntime as ort  # imported here: the module stays importable for docs/tests

        self.path = Path(onnx_path)
        self.sidecar = read_sidecar(self.path, verify_hash)
        options = ort.SessionOptions()
        options.intra_op_num_threads = INTRA_OP_THREADS
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        names = tuple(node.name for node in self.session.get_inputs())
        if names != INPUT_NAMES:
            raise ValueError(f"{self.path}: graph inputs {names}, expected {INPUT_NAMES}")
        shape = self.sidecar["image_shape"]
        self.image_shape: tuple[int, int, int] = (int(shape[0]), int(shape[1]), int(shape[2]))
        self.state_size = int(self.sidecar["state_size"])
        self.action_dim = int(self.sidecar["action"]["dim"])
        self.nominal_dt_s = float(self.sidecar["nominal_dt_s"])
        limits = self.sidecar["action"]["limits"]
        self.action_low = np.asarray(limits["low"], dtype=np.float32)
        self.action_high = np.asarray(limits["high"], dtype=np.float32)
        self.last_latency_s = 0.0

    def initial_state(self) -> np.ndarray:
        """(1, S) float32 zeros (a reset)."""
        return np.zeros((1, self.state_size), dtype=np.float32)

    def step(
        self, image: np.ndarray, state: np.ndarray, dt_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One control step.

        Args:
            image: uint8 (H, W, 3) RGB (or (1, H, W, 3)) at `image_shape`.
            state: (1, S) float32 from `initial_state` or the previous step.
            dt_s: seconds since the previous frame (> 0).

        Returns:
            action (A,) float32 in [-1, 1] (NaN passes through: the safety filter handles it)
            and the next state (1, S) float32.
        """
        batch = image[None] if image.ndim == len(self.image_shape) else image
        if batch.shape[1:] != self.image_shape or batch.dtype != np.uint8:
            raise ValueError(
                f"image must be uint8 {self.image_shape}, got {batch.dtype} {batch.shape[1:]}"
            )
        feeds = {
            INPUT_NAMES[0]: np.ascontiguousarray(batch),
            INPUT_NAMES[1]: np.asarray(state, dtype=np.float32).reshape(1, self.state_size),
            INPUT_NAMES[2]: np.asarray([dt_s], dtype=np.float32),
        }
        start = time.perf_counter()
        action, hidden = self.session.run(list(OUTPUT_NAMES), feeds)
        self.last_latency_s = time.perf_counter() - start
        return np.asarray(action, dtype=np.float32)[0], np.asarray(hidden, dtype=np.float32)
