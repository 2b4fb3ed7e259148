"""Perturb a random share of episodes: training under a perturbation without forgetting the
clean world (RL fine-tuning, `lnn_control.training.ppo`).

env = PerturbedEpisodes(env, make_wrapper("gaussian_noise", 1, variance=0.2), probability=0.75)
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from lnn_control.envs.perturb.base import check_range


class PerturbedEpisodes(gym.Wrapper[Any, Any, Any, Any]):
    """At every reset, with probability `probability`, the episode runs through `wrap(env)`;
    otherwise through `env` itself. The draw is seeded from `reset(seed=...)` (deterministic),
    and continues its stream on unseeded resets."""

    def __init__(
        self, env: gym.Env[Any, Any], wrap: Callable[[Any], Any], probability: float
    ) -> None:
        super().__init__(env)
        self.probability = check_range("probability", probability, 0.0, 1.0)
        self.perturbed = wrap(env)
        self.active = False
        self._rng = np.random.default_rng(0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Draw whether this episode is perturbed, then reset through the chosen path; info
        gets `perturbed` (bool)."""
        if seed is not None:
            self._rng = np.random.default_rng([seed, zlib.crc32(b"perturbed_episodes")])
        self.active = bool(self._rng.random() < self.probability)
        obs, info = (self.perturbed if self.active else self.env).reset(seed=seed, options=options)
        return obs, {**info, "perturbed": self.active}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One step through the path drawn at reset."""
        obs, reward, terminated, truncated, info = (
            self.perturbed if self.active else self.env
        ).step(action)
        return obs, float(reward), terminated, truncated, info
