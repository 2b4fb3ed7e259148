"""Optical blur perturbations: motion blur (a line kernel at an angle) and defocus (a disk).

Kernel sizes are fractions of the image width, so a perturbation means the same at any
resolution (the numbers in the comments are pixels at the default 160-pixel width)."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.perturb.base import Image, ImagePerturbation, check_range

#: Motion blur length as a fraction of the image width by severity (3, 5, 8, 12, 16 px at 160).
MOTION_BLUR_LENGTH = {1: 0.02, 2: 0.03, 3: 0.05, 4: 0.075, 5: 0.1}
#: Defocus disk radius as a fraction of the image width (1, 1.5, 2.5, 3.5, 5 px at 160).
DEFOCUS_RADIUS = {1: 0.00625, 2: 0.0094, 3: 0.0156, 4: 0.0219, 5: 0.03125}
#: Smallest blur extent in pixels, so that every severity blurs at any resolution.
MIN_RADIUS_PX = 1.0
MIN_LENGTH_PX = 2.0


def motion_kernel(length_px: float, angle_rad: float) -> NDArray[np.float32]:
    """A normalised (k, k) line kernel of `length_px` pixels at `angle_rad` (0: horizontal,
    positive: counter-clockwise in the image), k odd."""
    size = max(3, int(np.ceil(length_px)) | 1)
    kernel = np.zeros((size, size), np.float32)
    centre = (size - 1) / 2.0
    half = (length_px - 1) / 2.0
    dx, dy = half * np.cos(angle_rad), -half * np.sin(angle_rad)
    shift = 4  # sub-pixel line end points (fixed point, 1/16 px)
    scale = 1 << shift
    p0 = (round((centre - dx) * scale), round((centre - dy) * scale))
    p1 = (round((centre + dx) * scale), round((centre + dy) * scale))
    cv2.line(kernel, p0, p1, 1.0, 1, cv2.LINE_AA, shift)
    return kernel / kernel.sum()


def disk_kernel(radius_px: float) -> NDArray[np.float32]:
    """A normalised disk kernel of `radius_px` pixels, antialiased by 4x4 supersampling."""
    half = int(np.ceil(radius_px))
    sub = (np.arange((2 * half + 1) * 4, dtype=np.float32) + 0.5) / 4.0 - half - 0.5
    yy, xx = np.meshgrid(sub, sub, indexing="ij")
    inside = (xx**2 + yy**2 <= radius_px**2).astype(np.float32)
    kernel = inside.reshape(2 * half + 1, 4, 2 * half + 1, 4).mean(axis=(1, 3))
    return kernel / kernel.sum()


class MotionBlur(ImagePerturbation):
    """Camera shake / fast motion: convolution with a line kernel (horizontal by default).

    Args:
        severity: 1-5 (see MOTION_BLUR_LENGTH); ignored when `length` is given.
        length: blur length as a fraction of the image width, in (0, 0.5].
        angle_deg: kernel direction in degrees, in [-180, 180] (0: horizontal).
    """

    name = "motion_blur"

    def __init__(
        self,
        env: gym.Env[Image, Any],
        severity: int = 1,
        length: float | None = None,
        angle_deg: float = 0.0,
    ) -> None:
        super().__init__(env, severity)
        self.length = (
            MOTION_BLUR_LENGTH[self.severity]
            if length is None
            else check_range("length", length, 0.0, 0.5, open_low=True)
        )
        self.angle_deg = check_range("angle_deg", angle_deg, -180.0, 180.0)
        self._kernels: dict[int, NDArray[np.float32]] = {}

    def perturb(self, image: Image) -> Image:
        width = image.shape[1]
        if width not in self._kernels:
            self._kernels[width] = motion_kernel(
                max(MIN_LENGTH_PX, self.length * width), np.deg2rad(self.angle_deg)
            )
        return np.asarray(
            cv2.filter2D(image, -1, self._kernels[width], borderType=cv2.BORDER_REFLECT)
        )


class DefocusBlur(ImagePerturbation):
    """Out-of-focus lens: convolution with a disk (the lens aperture's image).

    Args:
        severity: 1-5 (see DEFOCUS_RADIUS); ignored when `radius` is given.
        radius: disk radius as a fraction of the image width, in (0, 0.2].
    """

    name = "defocus_blur"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, radius: float | None = None
    ) -> None:
        super().__init__(env, severity)
        self.radius = (
            DEFOCUS_RADIUS[self.severity]
            if radius is None
            else check_range("radius", radius, 0.0, 0.2, open_low=True)
        )
        self._kernels: dict[int, NDArray[np.float32]] = {}

    def perturb(self, image: Image) -> Image:
        width = image.shape[1]
        if width not in self._kernels:
            self._kernels[width] = disk_kernel(max(MIN_RADIUS_PX, self.radius * width))
        return np.asarray(
            cv2.filter2D(image, -1, self._kernels[width], borderType=cv2.BORDER_REFLECT)
        )
