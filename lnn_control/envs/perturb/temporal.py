"""Temporal perturbations: dropped frames and observation latency. Both keep state across steps,
cleared on every reset (`start_episode`)."""

from __future__ import annotations

import collections
from typing import Any

import gymnasium as gym

from lnn_control.envs.perturb.base import Image, ImagePerturbation, check_int, check_range

#: Probability that a step's frame is dropped (the previous observation repeats), by severity.
FRAME_DROP_PROBABILITY = {1: 0.05, 2: 0.1, 3: 0.2, 4: 0.35, 5: 0.5}
#: Observation latency in control steps by severity (x 50 ms at the 20 Hz control rate).
LATENCY_STEPS = {1: 1, 2: 2, 3: 3, 4: 5, 5: 8}
#: Largest allowed latency (control steps).
MAX_LATENCY_STEPS = 50


class FrameDrop(ImagePerturbation):
    """A camera that misses frames: on each `step`, with probability `probability`, the
    observation repeats the previous observation (a stale frame); the reset frame is never
    dropped. Drops are independent across steps.

    Args:
        severity: 1-5 (see FRAME_DROP_PROBABILITY); ignored when `probability` is given.
        probability: drop probability per step, in [0, 0.95].
    """

    name = "frame_drop"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, probability: float | None = None
    ) -> None:
        super().__init__(env, severity)
        self.probability = (
            FRAME_DROP_PROBABILITY[self.severity]
            if probability is None
            else check_range("probability", probability, 0.0, 0.95)
        )
        self._last: Image | None = None

    def start_episode(self) -> None:
        """Forget the last frame: the reset frame always comes through."""
        self._last = None

    def perturb(self, image: Image) -> Image:
        dropped = self.rng.random() < self.probability  # drawn every step: a fixed stream
        if self._last is None or not dropped:
            self._last = image.copy()
        return self._last.copy()


class ObsLatency(ImagePerturbation):
    """Observation latency: the observation at step t is the frame rendered at step t - k
    (a FIFO of k + 1 frames); the first k steps of an episode repeat the reset frame.

    Args:
        severity: 1-5 (see LATENCY_STEPS); ignored when `steps` is given.
        steps: the delay k in control steps, an integer in [0, MAX_LATENCY_STEPS].
    """

    name = "obs_latency"

    def __init__(
        self, env: gym.Env[Image, Any], severity: int = 1, steps: int | None = None
    ) -> None:
        super().__init__(env, severity)
        self.steps = (
            LATENCY_STEPS[self.severity]
            if steps is None
            else check_int("steps", steps, 0, MAX_LATENCY_STEPS)
        )
        self._queue: collections.deque[Image] = collections.deque(maxlen=self.steps + 1)

    def start_episode(self) -> None:
        """Empty the queue: the next (reset) frame fills it."""
        self._queue.clear()

    def perturb(self, image: Image) -> Image:
        if not self._queue:
            self._queue.extend(image.copy() for _ in range(self.steps))
        self._queue.append(image.copy())
        return self._queue[0].copy()
