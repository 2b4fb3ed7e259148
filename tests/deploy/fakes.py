"""Test doubles for the runtime: scripted cameras and models, a recording actuator."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from lnn_control.deploy.actuators import LogActuator
from lnn_control.deploy.cameras import Camera, Frame

SHAPE = (48, 64, 3)


class ScriptedCamera(Camera):
    """New frames for `fresh` reads, then the last frame again (a stalled camera), or calls
    `on_read(i)` first (which may raise)."""

    def __init__(self, fresh: int, on_read: Callable[[int], None] | None = None) -> None:
        super().__init__(SHAPE)
        self.fresh = fresh
        self.on_read = on_read
        self.reads = 0
        self.last: Frame | None = None

    def open(self) -> None:
        """Nothing to open."""

    def read(self) -> Frame | None:
        """A new frame or the stale one."""
        if self.on_read is not None:
            self.on_read(self.reads)
        self.reads += 1
        if self.reads <= self.fresh or self.last is None:
            image = np.full(SHAPE, self.reads % 255, np.uint8)
            self.last = Frame(image, time.monotonic(), self.reads)
        return self.last

    def close(self) -> None:
        """Nothing to close."""


class ScriptedModel:
    """Returns `actions[i]` on the i-th step (the last one repeated); can sleep per step."""

    nominal_dt_s = 0.05

    def __init__(self, actions: list[list[float]], sleep_s: float = 0.0) -> None:
        self.actions = actions
        self.sleep_s = sleep_s
        self.calls: list[float] = []
        self.resets = 0

    def initial_state(self) -> np.ndarray:
        """(1, 1) zeros; counts resets."""
        self.resets += 1
        return np.zeros((1, 1), np.float32)

    def step(
        self, image: np.ndarray, state: np.ndarray, dt_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The scripted action."""
        self.calls.append(dt_s)
        if self.sleep_s:
            time.sleep(self.sleep_s)
        index = min(len(self.calls) - 1, len(self.actions) - 1)
        return np.asarray(self.actions[index], np.float32), state + 1


class TimedActuator(LogActuator):
    """A log actuator that also records the monotonic send time of each command."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def send(self, command: np.ndarray | tuple[float, ...]) -> np.ndarray:
        """Record and return the command."""
        self.times.append(time.monotonic())
        return super().send(command)
