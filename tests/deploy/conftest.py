"""Shared fixtures: small exported policies (48x64 images keep the tests fast on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lnn_control.deploy.export import export_policy
from lnn_control.policies import Policy, build_policy

SMALL_IMAGE = (48, 64, 3)


def drive_image(previous_steering: float, step: int, rng: np.random.Generator) -> np.ndarray:
    """A fake camera frame (48, 64, 3) uint8 that depends on the previous action (closed loop).

    A bright lane stripe on a gradient background; its column moves with the steering command
    and a slow curve, plus pixel noise.
    """
    height, width, _ = SMALL_IMAGE
    cols = np.arange(width)[None, :]
    rows = np.arange(height)[:, None]
    centre = width / 2 + 12 * np.sin(step / 25.0) - 20 * previous_steering
    stripe = np.exp(-(((cols - centre - 0.2 * rows) / 3.0) ** 2))
    base = 40 + 80 * rows / height + 120 * stripe
    image = np.repeat(base[..., None], 3, axis=2) * np.array([1.0, 0.9, 0.8])
    image += rng.normal(0, 4, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def small_policies() -> dict[str, Policy]:
    """ncp and lstm policies at 48x64 (random weights)."""
    return {kind: build_policy(kind, image_shape=SMALL_IMAGE, seed=3) for kind in ("ncp", "lstm")}


@pytest.fixture(scope="session")
def exported(
    small_policies: dict[str, Policy], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """kind -> exported .onnx path (sidecar next to it)."""
    folder = tmp_path_factory.mktemp("exported")
    return {
        kind: export_policy(policy, folder / f"{kind}.onnx", env_id="lnn_control/LaneKeeping-v0")[0]
        for kind, policy in small_policies.items()
    }
