"""The base of every image perturbation: severity 1-5, validated, seeded from `reset(seed)`."""

from __future__ import annotations

import zlib
from abc import abstractmethod
from typing import Any, ClassVar

import cv2
import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.common import check_int as check_int
from lnn_control.envs.common import check_range as check_range

SEVERITIES = (1, 2, 3, 4, 5)
Image = NDArray[np.uint8]


def check_severity(severity: int) -> int:
    """`severity` as an int in 1..5, or ValueError naming the allowed range."""
    if (
        isinstance(severity, bool)
        or not isinstance(severity, int | np.integer)
        or severity not in SEVERITIES
    ):
        raise ValueError(f"severity must be an integer in 1..5, got {severity!r}")
    return int(severity)


class ImagePerturbation(gym.ObservationWrapper[Image, Any, Image]):
    """Perturbs the uint8 (H, W, 3) camera frame. Deterministic given the env seed: the random
    generator is re-created from (seed, perturbation name) on every `reset(seed=...)`, then
    `start_episode()` draws any per-episode state (sun position, shadows, frame buffers)."""

    name: ClassVar[str] = "perturbation"

    def __init__(self, env: gym.Env[Image, Any], severity: int) -> None:
        super().__init__(env)
        self.severity = check_severity(severity)
        self.rng = np.random.default_rng(0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Image, dict[str, Any]]:
        """Reseed from (seed, name), start a new episode, then reset the env and perturb its
        first frame."""
        if seed is not None:
            self.rng = np.random.default_rng([seed, zlib.crc32(self.name.encode())])
        self.start_episode()
        return super().reset(seed=seed, options=options)

    def start_episode(self) -> None:
        """Clear per-episode state; called on every reset before the first frame. No-op here."""

    def observation(self, observation: Image) -> Image:
        """The perturbed frame (uint8, same shape)."""
        return self.perturb(np.asarray(observation))

    @abstractmethod
    def perturb(self, image: Image) -> Image:
        """Apply the perturbation to one uint8 (H, W, 3) frame."""


def to_unit(image: Image) -> NDArray[np.float32]:
    """uint8 [0, 255] -> float32 [0, 1]."""
    return image.astype(np.float32) * (1.0 / 255.0)


def to_uint8(image: NDArray[np.float32]) -> Image:
    """float [0, 1] -> uint8 with rounding and clipping."""
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def apply_lut(image: Image, unit_curve: NDArray[np.float32]) -> Image:
    """Map every uint8 value v through `unit_curve[v]` (float, 256 entries, on [0, 1]) with
    clipping: a 256-entry lookup table, far cheaper than float maths per pixel."""
    return np.asarray(cv2.LUT(image, to_uint8(unit_curve)), dtype=np.uint8)


#: The 256 uint8 levels on [0, 1], for building lookup tables.
LEVELS = np.arange(256, dtype=np.float32) / 255.0
