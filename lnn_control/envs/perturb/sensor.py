"""Sensor noise perturbations."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from lnn_control.envs.perturb.base import Image, ImagePerturbation, to_uint8, to_unit

#: Gaussian noise std on [0, 1] images by severity. 4 and 5 are the NCP paper's variances 0.1
#: and 0.2 (std 0.316 and 0.447); its variance 0.3 is `GaussianNoise(env, variance=0.3)`.
GAUSSIAN_STD = {1: 0.05, 2: 0.1, 3: 0.2, 4: math.sqrt(0.1), 5: math.sqrt(0.2)}


class GaussianNoise(ImagePerturbation):
    """Additive Gaussian pixel noise, i.i.d. per pixel and channel, on [0, 1] images.

    Args:
        severity: 1-5 (see GAUSSIAN_STD); ignored when `std` or `variance` is given.
        std, variance: the noise level on [0, 1] images directly, in (0, 1].
    """

    name = "gaussian_noise"

    def __init__(
        self,
        env: gym.Env[Image, Any],
        severity: int = 1,
        std: float | None = None,
        variance: float | None = None,
    ) -> None:
        super().__init__(env, severity)
        if std is not None and variance is not None:
            raise ValueError("give std or variance, not both")
        if variance is not None:
            std = math.sqrt(variance) if variance > 0 else -1.0
        if std is not None and not 0.0 < std <= 1.0:
            raise ValueError(f"std must be in (0, 1] on [0, 1] images, got {std!r}")
        self.std = float(std) if std is not None else GAUSSIAN_STD[self.severity]

    def perturb(self, image: Image) -> Image:
        noise = self.rng.normal(0.0, self.std, size=image.shape).astype(np.float32)
        return to_uint8(to_unit(image) + noise)
