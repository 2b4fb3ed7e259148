"""Perturbation wrappers: they change the image as specified, are seeded, reject bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from lnn_control.envs.perturb import GaussianNoise, LowLight, make_wrapper
from lnn_control.envs.perturb.sensor import GAUSSIAN_STD


class _Flat(gym.Env[np.ndarray, np.ndarray]):
    """A stand-in camera: a flat grey frame (no simulator needed)."""

    observation_space = gym.spaces.Box(0, 255, (32, 40, 3), np.uint8)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.full((32, 40, 3), 128, np.uint8), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.full((32, 40, 3), 128, np.uint8), 0.0, False, False, {}


def test_gaussian_noise_has_the_stated_std_and_is_seeded() -> None:
    env = GaussianNoise(_Flat(), severity=2)
    a, _ = env.reset(seed=5)
    b, _ = GaussianNoise(_Flat(), severity=2).reset(seed=5)
    c, _ = env.reset(seed=6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.std(a / 255.0) == pytest.approx(GAUSSIAN_STD[2], rel=0.1)
    paper, _ = GaussianNoise(_Flat(), variance=0.1).reset(seed=1)
    assert np.std(paper / 255.0) > 0.2  # clipped at [0, 1], still far noisier


def test_low_light_darkens_with_severity() -> None:
    means = [LowLight(_Flat(), severity=s).reset(seed=0)[0].mean() for s in (1, 3, 5)]
    assert means[0] > means[1] > means[2]
    assert means[2] < 20


@pytest.mark.parametrize("bad", [0, 6, 2.5, True, "3"])
def test_bad_severity_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match=r"severity must be an integer in 1..5"):
        GaussianNoise(_Flat(), severity=bad)  # type: ignore[arg-type]


def test_make_wrapper() -> None:
    wrapped = make_wrapper("low_light", 4)(_Flat())
    assert isinstance(wrapped, LowLight)
    assert wrapped.severity == 4
    with pytest.raises(ValueError, match="unknown perturbation 'fog'; available: gaussian_noise"):
        make_wrapper("fog", 1)
    with pytest.raises(ValueError, match="std must be in"):
        GaussianNoise(_Flat(), std=2.0)
