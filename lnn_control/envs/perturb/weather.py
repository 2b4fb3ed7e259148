"""Lighting and weather perturbations applied to the rendered image (TinyRenderer has none)."""

from __future__ import annotations

import numpy as np

from lnn_control.envs.perturb.base import Image, ImagePerturbation, to_uint8, to_unit

#: Remaining light fraction by severity (1: dusk ... 5: night).
LOW_LIGHT_GAIN = {1: 0.6, 2: 0.4, 3: 0.25, 4: 0.15, 5: 0.08}
#: Sensor read noise (std on [0, 1]) that dominates in the dark.
READ_NOISE_STD = 0.01
#: Night vision is also bluer: per-channel gains (R, G, B).
NIGHT_TINT = np.array([0.85, 0.95, 1.1], dtype=np.float32)


class LowLight(ImagePerturbation):
    """Dusk to night: less light, a blue tint, sensor read noise and 8-bit quantisation."""

    name = "low_light"

    def perturb(self, image: Image) -> Image:
        gain = LOW_LIGHT_GAIN[self.severity]
        dark = to_unit(image) * (gain * NIGHT_TINT)
        dark += self.rng.normal(0.0, READ_NOISE_STD, size=image.shape).astype(np.float32)
        return to_uint8(dark)
