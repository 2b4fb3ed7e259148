"""Batch-invariant numpy policies: each row's output depends on that row alone, exactly."""

from __future__ import annotations

import numpy as np


class CountingPolicy:
    """Steers by the image's mean brightness and by how many steps its episode has run.

    State (B, 2): [steps since reset, last action]. Its action depends on the step count, so a
    state that is not reset at an episode start changes the actions.
    """

    def __init__(self, action_size: int = 1) -> None:
        self.action_size = action_size
        self.calls: list[int] = []  # batch size of every step call

    def initial_state(self, batch_size: int = 1) -> np.ndarray:
        return np.zeros((batch_size, 2), dtype=np.float64)

    def step(
        self, obs: np.ndarray, state: np.ndarray, dt_s: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        images = np.asarray(obs)
        single = images.ndim == 3
        batch = images[None] if single else images
        self.calls.append(len(batch))
        state = np.array(state, dtype=np.float64).reshape(len(batch), 2)
        brightness = batch.reshape(len(batch), -1).mean(axis=1) / 255.0
        count = state[:, 0] + 1.0
        value = np.clip(0.3 * np.sin(0.2 * count) + 0.2 * (brightness - 0.5), -1.0, 1.0)
        actions = np.repeat(value[:, None], self.action_size, axis=1).astype(np.float32)
        next_state = np.stack([count, value], axis=1)
        return (actions[0] if single else actions), next_state
