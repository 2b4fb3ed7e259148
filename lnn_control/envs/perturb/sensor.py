"""Sensor noise and compression perturbations: Gaussian, shot (Poisson), salt and pepper, JPEG,
pixelation. All act on uint8 (H, W, 3) frames; noise levels are on [0, 1] images."""

from __future__ import annotations

import math
from typing import Any

import cv2
import gymnasium as gym
import numpy as np

from lnn_control.envs.perturb.base import (
    Image,
    ImagePerturbation,
    check_int,
    check_range,
    to_uint8,
    to_unit,
)

#: Gaussian noise std on [0, 1] images by severity. 4 and 5 are the NCP paper's variances 0.1
#: and 0.2 (std 0.316 and 0.447); its variance 0.3 is `GaussianNoise(env, variance=0.3)`.
GAUSSIAN_STD = {1: 0.05, 2: 0.1, 3: 0.2, 4: math.sqrt(0.1), 5: math.sqrt(0.2)}
#: Shot noise: photons collected at full scale (intensity 1) by severity; fewer is noisier
#: (relative std at full scale = 1 / sqrt(photons)).
SHOT_PHOTONS = {1: 60.0, 2: 25.0, 3: 12.0, 4: 5.0, 5: 3.0}
#: Salt and pepper: fraction of pixels set to black or white (half each) by severity.
SALT_PEPPER_AMOUNT = {1: 0.01, 2: 0.03, 3: 0.06, 4: 0.1, 5: 0.2}
#: JPEG quality (cv2.IMWRITE_JPEG_QUALITY, 1..100) by severity.
JPEG_QUALITY = {1: 40, 2: 25, 3: 15, 4: 10, 5: 5}
#: Pixelation: linear downscale factor before nearest-neighbour upscaling, by severity.
PIXELATE_SCALE = {1: 0.7, 2: 0.5, 3: 0.35, 4: 0.25, 5: 0.15}


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


class ShotNoise(ImagePerturbation):
    """Photon (Poisson) noise: each channel value I on [0, 1] becomes Poisson(I x photons) /
    photons, so the noise grows with brightness (std sqrt(I / photons)).

    Args:
        severity: 1-5 (see SHOT_PHOTONS); ignored when `photons` is given.
        photons: photons at full scale, in [1, 10000].
    """

    name = "shot_noise"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, photons: float | None = None
    ) -> None:
        super().__init__(env, severity)
        self.photons = (
            SHOT_PHOTONS[self.severity]
            if photons is None
            else check_range("photons", photons, 1.0, 10_000.0)
        )

    def perturb(self, image: Image) -> Image:
        counts = self.rng.poisson(to_unit(image) * self.photons).astype(np.float32)
        return to_uint8(counts * (1.0 / self.photons))


class SaltPepper(ImagePerturbation):
    """Impulse noise: a fraction `amount` of pixels (all three channels) set to 0 or 255, half
    each.

    Args:
        severity: 1-5 (see SALT_PEPPER_AMOUNT); ignored when `amount` is given.
        amount: fraction of pixels hit, in (0, 1].
    """

    name = "salt_pepper"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, amount: float | None = None
    ) -> None:
        super().__init__(env, severity)
        self.amount = (
            SALT_PEPPER_AMOUNT[self.severity]
            if amount is None
            else check_range("amount", amount, 0.0, 1.0, open_low=True)
        )

    def perturb(self, image: Image) -> Image:
        u = self.rng.random(image.shape[:2], dtype=np.float32)
        out = image.copy()
        out[u < 0.5 * self.amount] = 0
        out[(u >= 0.5 * self.amount) & (u < self.amount)] = 255
        return out


class Jpeg(ImagePerturbation):
    """JPEG compression artefacts (blocking, ringing, chroma bleeding) via cv2.imencode.

    Args:
        severity: 1-5 (see JPEG_QUALITY); ignored when `quality` is given.
        quality: JPEG quality, an integer in [1, 100].
    """

    name = "jpeg"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, quality: int | None = None
    ) -> None:
        super().__init__(env, severity)
        self.quality = (
            JPEG_QUALITY[self.severity]
            if quality is None
            else check_int("quality", quality, 1, 100)
        )

    def perturb(self, image: Image) -> Image:
        bgr = np.ascontiguousarray(image[..., ::-1])  # OpenCV's codec expects BGR
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:  # pragma: no cover - cv2 encodes any uint8 3-channel image
            raise RuntimeError("cv2.imencode failed")
        decoded = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)
        return np.ascontiguousarray(decoded[..., ::-1])


class Pixelate(ImagePerturbation):
    """Low resolution: area-downscale by `scale`, then nearest-neighbour upscale (blocky).

    Args:
        severity: 1-5 (see PIXELATE_SCALE); ignored when `scale` is given.
        scale: linear downscale factor, in (0, 1].
    """

    name = "pixelate"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, scale: float | None = None
    ) -> None:
        super().__init__(env, severity)
        self.scale = (
            PIXELATE_SCALE[self.severity]
            if scale is None
            else check_range("scale", scale, 0.0, 1.0, open_low=True)
        )

    def perturb(self, image: Image) -> Image:
        h, w = image.shape[:2]
        small_size = (max(1, round(w * self.scale)), max(1, round(h * self.scale)))
        small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST))
