"""Light perturbations: sun glare, hard shadows across the road, brightness and contrast.

The policy normalises each image per channel (mean/std), so a global brightness or contrast
change mostly matters through clipping (saturated highlights, crushed shadows) and quantisation;
these wrappers model that faithfully."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.perturb.base import (
    LEVELS,
    Image,
    ImagePerturbation,
    apply_lut,
    check_range,
    to_uint8,
    to_unit,
)

#: Glare bloom radius (Gaussian 1/e radius) as a fraction of the image width, by severity.
GLARE_RADIUS = {1: 0.15, 2: 0.2, 3: 0.25, 4: 0.32, 5: 0.4}
#: Glare bloom peak added on [0, 1], by severity (saturates near the sun).
GLARE_STRENGTH = {1: 0.5, 2: 0.7, 3: 0.9, 4: 1.1, 5: 1.3}
#: Veiling glare: blend weight toward white over the whole frame (washed-out contrast).
GLARE_VEIL = {1: 0.08, 2: 0.15, 3: 0.22, 4: 0.3, 5: 0.4}
#: Warm sunlight tint of the bloom (R, G, B gains).
SUN_TINT = np.array([1.0, 0.95, 0.8], dtype=np.float32)
#: Sun position per episode: x in this fraction range of the width, y of the height (near top).
SUN_X_RANGE = (0.15, 0.85)
SUN_Y_RANGE = (0.0, 0.25)

#: Shadows: (crossing bands, tree-crown polygons) per episode, by severity.
SHADOW_COUNTS = {1: (1, 0), 2: (1, 1), 3: (2, 1), 4: (2, 2), 5: (3, 3)}
#: Light remaining in shadow (only skylight), by severity; shadows are slightly blue.
SHADOW_LIGHT = {1: 0.7, 2: 0.6, 3: 0.5, 4: 0.42, 5: 0.35}
SKYLIGHT_TINT = np.array([0.9, 0.95, 1.1], dtype=np.float32)
#: Shadows lie on the ground: below this fraction of the image height.
SHADOW_TOP = 0.25

#: Brightness offset added on [0, 1], by severity.
BRIGHTNESS_DELTA = {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4, 5: 0.5}
#: Contrast factor about the frame's mean level, by severity (1 is unchanged).
CONTRAST_FACTOR = {1: 0.75, 2: 0.55, 3: 0.4, 4: 0.28, 5: 0.18}


class Glare(ImagePerturbation):
    """Sun glare: a bright warm radial bloom around a sun position drawn once per episode (upper
    part of the frame) plus veiling glare that blends the whole frame toward white.

    Args:
        severity: 1-5 (see GLARE_RADIUS, GLARE_STRENGTH, GLARE_VEIL).
    """

    name = "glare"

    def __init__(self, env: gym.Env[Image, Any], severity: int = 1) -> None:
        super().__init__(env, severity)
        self._sun = (0.5, 0.1)
        self._bloom: NDArray[np.float32] | None = None

    def start_episode(self) -> None:
        """Draw this episode's sun position (fractions of width and height)."""
        self._sun = (float(self.rng.uniform(*SUN_X_RANGE)), float(self.rng.uniform(*SUN_Y_RANGE)))
        self._bloom = None

    def _bloom_map(self, h: int, w: int) -> NDArray[np.float32]:
        if self._bloom is None or self._bloom.shape[:2] != (h, w):
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
            r2 = (xs - self._sun[0] * w) ** 2 + (ys - self._sun[1] * h) ** 2
            radius = GLARE_RADIUS[self.severity] * w
            bloom = GLARE_STRENGTH[self.severity] * np.exp(-r2 / radius**2)
            self._bloom = (bloom[..., None] * SUN_TINT).astype(np.float32)
        return self._bloom

    def perturb(self, image: Image) -> Image:
        veil = GLARE_VEIL[self.severity]
        out = to_unit(image) * (1.0 - veil) + veil + self._bloom_map(*image.shape[:2])
        return to_uint8(out)


class Shadows(ImagePerturbation):
    """Hard shadows across the road: bands (poles, buildings) spanning the width and irregular
    polygons (tree crowns), drawn once per episode; inside them only tinted skylight remains.
    With `drift` > 0 they slide down the frame (toward the car) each step, wrapping around.

    Args:
        severity: 1-5 (see SHADOW_COUNTS, SHADOW_LIGHT).
        drift: motion per step as a fraction of the image height, in [0, 0.2] (0: static).
    """

    name = "shadows"

    def __init__(self, env: gym.Env[Image, Any], severity: int = 1, drift: float = 0.0) -> None:
        super().__init__(env, severity)
        self.drift = check_range("drift", drift, 0.0, 0.2)
        self._polygons: list[NDArray[np.float32]] = []  # (n, 2) x, y as fractions
        self._offset = 0.0

    def start_episode(self) -> None:
        """Draw this episode's shadow polygons (fractions of width and height)."""
        bands, blobs = SHADOW_COUNTS[self.severity]
        self._polygons = []
        self._offset = 0.0
        for _ in range(bands):
            top_left, top_right = self.rng.uniform(SHADOW_TOP, 0.95, size=2)
            thick = self.rng.uniform(0.04, 0.15) * (1.0 + top_left)  # nearer is thicker
            band = [(-0.1, top_left), (1.1, top_right), (1.1, top_right + thick)]
            band.append((-0.1, top_left + thick))
            self._polygons.append(np.array(band, np.float32))
        for _ in range(blobs):
            centre = self.rng.uniform((0.0, SHADOW_TOP + 0.1), (1.0, 1.0))
            angles = np.sort(self.rng.uniform(0.0, 2.0 * np.pi, size=int(self.rng.integers(5, 9))))
            radii = self.rng.uniform(0.06, 0.16, size=angles.size)
            pts = centre + np.stack([radii * np.cos(angles), 2.0 * radii * np.sin(angles)], -1)
            self._polygons.append(pts.astype(np.float32))

    def perturb(self, image: Image) -> Image:
        h, w = image.shape[:2]
        mask = np.zeros((h, w), np.uint8)
        span = 1.0 - SHADOW_TOP + 0.3  # wrap range of the drift, including off-screen
        for poly in self._polygons:
            pts = poly.copy()
            pts[:, 1] = (pts[:, 1] - SHADOW_TOP + self._offset) % span + SHADOW_TOP
            pixels = np.round(pts * (w, h)).astype(np.int32)
            cv2.fillPoly(mask, [pixels], 1)
        self._offset += self.drift
        shade = np.where(mask[..., None] > 0, SHADOW_LIGHT[self.severity] * SKYLIGHT_TINT, 1.0)
        return to_uint8(to_unit(image) * shade.astype(np.float32))


class Brightness(ImagePerturbation):
    """Exposure change: I' = clip(I ** gamma + delta) on [0, 1] (a lookup table), so highlights
    saturate at 255 and, for negative delta, shadows crush at 0.

    Args:
        severity: 1-5 (see BRIGHTNESS_DELTA); ignored when `delta` is given.
        delta: offset on [0, 1] images, in [-1, 1].
        gamma: exponent applied before the offset, in [0.1, 10] (< 1 brightens mid-tones).
    """

    name = "brightness"

    def __init__(
        self,
        env: gym.Env[Image, Any],
        severity: int = 1,
        delta: float | None = None,
        gamma: float = 1.0,
    ) -> None:
        super().__init__(env, severity)
        self.delta = (
            BRIGHTNESS_DELTA[self.severity]
            if delta is None
            else check_range("delta", delta, -1.0, 1.0)
        )
        self.gamma = check_range("gamma", gamma, 0.1, 10.0)
        self._curve = LEVELS**self.gamma + self.delta

    def perturb(self, image: Image) -> Image:
        return apply_lut(image, self._curve)


class Contrast(ImagePerturbation):
    """Contrast change about the frame's mean level: I' = clip((I - m) c + m) on [0, 1].

    Args:
        severity: 1-5 (see CONTRAST_FACTOR); ignored when `factor` is given.
        factor: contrast factor c, in [0, 4] (< 1 flattens, > 1 stretches and clips).
    """

    name = "contrast"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, factor: float | None = None
    ) -> None:
        super().__init__(env, severity)
        self.factor = (
            CONTRAST_FACTOR[self.severity]
            if factor is None
            else check_range("factor", factor, 0.0, 4.0)
        )

    def perturb(self, image: Image) -> Image:
        mean = float(image.mean()) / 255.0
        return apply_lut(image, (LEVELS - mean) * self.factor + mean)
