"""Lighting and weather perturbations applied to the rendered image (TinyRenderer has none):
low light, fog (from the depth buffer), rain and snow. Sizes are fractions of the image height or
width, so a severity means the same at any resolution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.perturb.base import Image, ImagePerturbation, check_range, to_uint8, to_unit
from lnn_control.envs.perturb.blur import motion_kernel

#: Remaining light fraction by severity (1: dusk ... 5: night).
LOW_LIGHT_GAIN = {1: 0.6, 2: 0.4, 3: 0.25, 4: 0.15, 5: 0.08}
#: Sensor read noise (std on [0, 1]) that dominates in the dark.
READ_NOISE_STD = 0.01
#: Night vision is also bluer: per-channel gains (R, G, B).
NIGHT_TINT = np.array([0.85, 0.95, 1.1], dtype=np.float32)

#: Fog extinction coefficient beta (1/m) by severity; meteorological visibility is 3.912 / beta
#: (about 20, 10, 5.6, 3.6 and 2.4 m at this 1/10 scale). Half the default frame is road within
#: 0.65 m of the camera; the sky is at the 40 m far plane.
FOG_BETA_PER_M = {1: 0.2, 2: 0.4, 3: 0.7, 4: 1.1, 5: 1.6}
#: Fog (airlight) colour, RGB on [0, 1]: a light blue-grey.
FOG_RGB = (0.78, 0.8, 0.83)

#: Rain: fraction of pixels seeding a streak, by severity.
RAIN_DROP_DENSITY = {1: 0.004, 2: 0.007, 3: 0.011, 4: 0.016, 5: 0.024}
#: Rain streak length as a fraction of the image height, by severity.
RAIN_STREAK_LENGTH = {1: 0.08, 2: 0.1, 3: 0.13, 4: 0.16, 5: 0.2}
#: Remaining light under rain clouds, by severity.
RAIN_DARKEN = {1: 0.92, 2: 0.86, 3: 0.8, 4: 0.74, 5: 0.66}
#: Wet-road sheen: largest blend weight of the blurred reflection at the bottom row.
RAIN_SHEEN = {1: 0.1, 2: 0.15, 3: 0.2, 4: 0.25, 5: 0.3}
#: Streak direction (degrees from horizontal; 90 is vertical) and peak streak intensity.
RAIN_ANGLE_DEG = 100.0
RAIN_STREAK_INTENSITY = 0.55
#: The wet sheen covers the image below this fraction of its height (the road near the car).
WET_ROAD_TOP = 0.4

#: Snow: fraction of pixels holding a flake centre, by severity.
SNOW_FLAKE_DENSITY = {1: 0.003, 2: 0.006, 3: 0.01, 4: 0.015, 5: 0.022}
#: Flake radius (Gaussian sigma) as a fraction of the image width (about 0.8 .. 1.5 px at 160).
SNOW_FLAKE_SIGMA = {1: 0.005, 2: 0.006, 3: 0.007, 4: 0.008, 5: 0.009}
#: Snow cover: blend weight of the ground toward snow white, by severity.
SNOW_COVER = {1: 0.12, 2: 0.22, 3: 0.33, 4: 0.45, 5: 0.6}
#: Snow colour, RGB on [0, 1].
SNOW_RGB = (0.93, 0.95, 0.98)
#: Snow cover starts this fraction of the height down the image (ground, not sky).
SNOW_GROUND_TOP = 0.15


class LowLight(ImagePerturbation):
    """Dusk to night: less light, a blue tint, sensor read noise and 8-bit quantisation."""

    name = "low_light"

    def perturb(self, image: Image) -> Image:
        gain = LOW_LIGHT_GAIN[self.severity]
        dark = to_unit(image) * (gain * NIGHT_TINT)
        dark += self.rng.normal(0.0, READ_NOISE_STD, size=image.shape).astype(np.float32)
        return to_uint8(dark)


def _ramp(height: int, top: float, peak: float) -> NDArray[np.float32]:
    """(H, 1, 1) weights: 0 above `top` x H, rising linearly to `peak` at the bottom row."""
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)
    return (np.clip((rows - top) / (1.0 - top), 0.0, 1.0) * peak).reshape(height, 1, 1)


class Fog(ImagePerturbation):
    """Homogeneous fog from the depth buffer (Koschmieder's law): I' = I t + A (1 - t) with
    transmission t = exp(-beta depth), so far pixels move toward the fog colour A more than near.

    Depth (metres along the view axis, float32 (H, W)) is read from `env.unwrapped.depth_m()`
    after every reset and step: LaneKeeping-v0 keeps the depth of its last frame, so no
    `depth_in_info=True` is needed and `gym.make("lnn_control/LaneKeeping-v0")` works. Put Fog
    directly on the env (below frame drop or latency wrappers) so depth and frame match.

    Args:
        severity: 1-5 (see FOG_BETA_PER_M); ignored when `beta_per_m` is given.
        beta_per_m: extinction coefficient (1/m), in (0, 20].
        fog_rgb: fog colour, three numbers in [0, 1].
    """

    name = "fog"

    def __init__(
        self,
        env: gym.Env[Image, Any],
        severity: int = 1,
        beta_per_m: float | None = None,
        fog_rgb: tuple[float, float, float] = FOG_RGB,
    ) -> None:
        super().__init__(env, severity)
        depth_fn = getattr(env.unwrapped, "depth_m", None)
        if not callable(depth_fn):
            raise ValueError(
                f"fog needs an env with depth: {type(env.unwrapped).__name__} has no depth_m()"
            )
        self._depth_fn: Callable[[], NDArray[np.float32]] = depth_fn
        self.beta_per_m = (
            FOG_BETA_PER_M[self.severity]
            if beta_per_m is None
            else check_range("beta_per_m", beta_per_m, 0.0, 20.0, open_low=True)
        )
        if not isinstance(fog_rgb, tuple | list) or len(fog_rgb) != 3:
            raise ValueError(f"fog_rgb must be 3 numbers in [0, 1], got {fog_rgb!r}")
        self.fog_rgb = np.array(
            [check_range(f"fog_rgb[{i}]", v, 0.0, 1.0) for i, v in enumerate(fog_rgb)],
            dtype=np.float32,
        )

    def perturb(self, image: Image) -> Image:
        depth = np.asarray(self._depth_fn(), dtype=np.float32)
        if depth.shape != image.shape[:2]:
            raise ValueError(f"depth shape {depth.shape} does not match the frame {image.shape}")
        t = np.exp(-self.beta_per_m * depth)[..., None]
        return to_uint8(to_unit(image) * t + self.fog_rgb * (1.0 - t))


class Rain(ImagePerturbation):
    """Rain: darker light, a wet-road sheen (a blurred mirror image of the scene blended into the
    lower image, growing toward the bottom) and bright slanted streaks redrawn every frame."""

    name = "rain"

    def perturb(self, image: Image) -> Image:
        s = self.severity
        h, w = image.shape[:2]
        out = to_unit(image) * RAIN_DARKEN[s]
        reflection = cv2.GaussianBlur(out[::-1], (0, 0), sigmaX=max(1.0, 0.015 * w))
        weight = _ramp(h, WET_ROAD_TOP, RAIN_SHEEN[s])
        out = out * (1.0 - weight) + reflection * weight
        seeds = (self.rng.random((h, w), dtype=np.float32) < RAIN_DROP_DENSITY[s]).astype(
            np.float32
        )
        length_px = max(2.0, RAIN_STREAK_LENGTH[s] * h)
        kernel = motion_kernel(length_px, np.deg2rad(RAIN_ANGLE_DEG))
        streaks = cv2.filter2D(seeds, -1, kernel) * (RAIN_STREAK_INTENSITY * length_px)
        out = out + np.minimum(streaks, RAIN_STREAK_INTENSITY)[..., None]
        return to_uint8(out)


class Snow(ImagePerturbation):
    """Snow: the ground whitened toward snow colour (more toward the bottom, little at the
    horizon), a slight haze, and soft white flakes redrawn every frame."""

    name = "snow"

    def perturb(self, image: Image) -> Image:
        s = self.severity
        h, w = image.shape[:2]
        white = np.asarray(SNOW_RGB, dtype=np.float32)
        cover = _ramp(h, SNOW_GROUND_TOP, SNOW_COVER[s])
        out = to_unit(image) * (1.0 - cover) + white * cover
        centres = (self.rng.random((h, w), dtype=np.float32) < SNOW_FLAKE_DENSITY[s]).astype(
            np.float32
        )
        sigma = max(0.6, SNOW_FLAKE_SIGMA[s] * w)
        flakes = cv2.GaussianBlur(centres, (0, 0), sigmaX=sigma) * (2.0 * np.pi * sigma**2)
        alpha = np.minimum(flakes, 1.0)[..., None]
        return to_uint8(out * (1.0 - alpha) + white * alpha)
