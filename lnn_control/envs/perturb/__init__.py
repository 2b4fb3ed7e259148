"""Perturbation wrappers for stress tests: each one perturbation, severity 1-5, validated.

from lnn_control.envs.perturb import make_wrapper
env = make_wrapper("gaussian_noise", severity=2)(env)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lnn_control.envs.perturb.base import ImagePerturbation, check_severity
from lnn_control.envs.perturb.sensor import GaussianNoise
from lnn_control.envs.perturb.weather import LowLight

PERTURBATIONS: dict[str, type[ImagePerturbation]] = {
    cls.name: cls for cls in (GaussianNoise, LowLight)
}


def make_wrapper(name: str, severity: int, **kwargs: Any) -> Callable[[Any], Any]:
    """A picklable callable env -> perturbed env."""
    if name not in PERTURBATIONS:
        raise ValueError(
            f"unknown perturbation {name!r}; available: {', '.join(sorted(PERTURBATIONS))}"
        )
    check_severity(severity)
    return functools.partial(PERTURBATIONS[name], severity=severity, **kwargs)


__all__ = ["PERTURBATIONS", "GaussianNoise", "ImagePerturbation", "LowLight", "make_wrapper"]
