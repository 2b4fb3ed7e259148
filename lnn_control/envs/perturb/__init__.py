"""Perturbation wrappers for stress tests: each one perturbation, severity 1-5, validated.

from lnn_control.envs.perturb import make_wrapper
env = make_wrapper("gaussian_noise", severity=2)(env)

Image perturbations are gymnasium observation wrappers (`PERTURBATIONS`); distribution shifts
change the world instead and live in `lnn_control.envs.lane.shifts` (`SCENARIO_SHIFTS`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lnn_control.envs.perturb.base import ImagePerturbation, check_severity
from lnn_control.envs.perturb.blur import DefocusBlur, MotionBlur
from lnn_control.envs.perturb.light import Brightness, Contrast, Glare, Shadows
from lnn_control.envs.perturb.mix import PerturbedEpisodes
from lnn_control.envs.perturb.sensor import GaussianNoise, Jpeg, Pixelate, SaltPepper, ShotNoise
from lnn_control.envs.perturb.temporal import FrameDrop, ObsLatency
from lnn_control.envs.perturb.weather import Fog, LowLight, Rain, Snow

PERTURBATIONS: dict[str, type[ImagePerturbation]] = {
    cls.name: cls
    for cls in (
        GaussianNoise,
        ShotNoise,
        SaltPepper,
        MotionBlur,
        DefocusBlur,
        Jpeg,
        Pixelate,
        FrameDrop,
        ObsLatency,
        LowLight,
        Fog,
        Rain,
        Snow,
        Glare,
        Shadows,
        Brightness,
        Contrast,
    )
}


def make_wrapper(name: str, severity: int, **kwargs: Any) -> Callable[[Any], Any]:
    """A picklable callable env -> perturbed env."""
    if name not in PERTURBATIONS:
        raise ValueError(
            f"unknown perturbation {name!r}; available: {', '.join(sorted(PERTURBATIONS))}"
        )
    check_severity(severity)
    return functools.partial(PERTURBATIONS[name], severity=severity, **kwargs)


__all__ = [
    "PERTURBATIONS",
    "Brightness",
    "Contrast",
    "DefocusBlur",
    "Fog",
    "FrameDrop",
    "GaussianNoise",
    "Glare",
    "ImagePerturbation",
    "Jpeg",
    "LowLight",
    "MotionBlur",
    "ObsLatency",
    "PerturbedEpisodes",
    "Pixelate",
    "Rain",
    "SaltPepper",
    "Shadows",
    "ShotNoise",
    "Snow",
    "make_wrapper",
]
