"""Test doubles for the runtime: scripted, blocking and foreign-clock cameras, scripted
models, a recording actuator."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from lnn_control.deploy.runtime.actuators import LogActuator
from lnn_control.deploy.runtime.cameras import Camera, Frame

SHAPE = (48, 64, 3)


class ScriptedCamera(Camera):
    """New frames for `fresh` reads, then the last frame again (a stalled camera), or calls
    `on_read(i)` first (which may raise). Frames are stamped with `clock` (time.time: a camera
    on another clock); `last_fresh_s` is the monotonic time the last new frame was made."""

    def __init__(
        self,
        fresh: int,
        on_read: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        clock_offset_s: float | None = None,
    ) -> None:
        super().__init__(SHAPE)
        self.fresh = fresh
        self.on_read = on_read
        self.clock = clock
        self.clock_offset_s = clock_offset_s
        self.reads = 0
        self.last: Frame | None = None
        self.last_fresh_s = math.nan

    def open(self) -> None:
        """Nothing to open."""

    def read(self) -> Frame | None:
        """A new frame or the stale one."""
        if self.on_read is not None:
            self.on_read(self.reads)
        self.reads += 1
        if self.reads <= self.fresh or self.last is None:
            image = np.full(SHAPE, self.reads % 255, np.uint8)
            self.last = Frame(image, self.clock(), self.reads)
            self.last_fresh_s = time.monotonic()
        return self.last

    def close(self) -> None:
        """Nothing to close."""


class BlockingCamera(Camera):
    """`fresh` frames, then every `read` blocks (an unplugged USB camera) until `close` or
    `block_limit_s`. `last_fresh_s`: monotonic time the last frame was returned."""

    def __init__(self, fresh: int, block_limit_s: float = 3.0) -> None:
        super().__init__(SHAPE)
        self.fresh = fresh
        self.block_limit_s = block_limit_s
        self.reads = 0
        self.last_fresh_s = math.nan
        self._release = threading.Event()

    def open(self) -> None:
        """Nothing to open."""

    def read(self) -> Frame | None:
        """A frame, or block."""
        if self.reads >= self.fresh:
            self._release.wait(self.block_limit_s)
            return None
        self.reads += 1
        frame = Frame(np.full(SHAPE, self.reads, np.uint8), time.monotonic(), self.reads)
        self.last_fresh_s = time.monotonic()
        return frame

    def close(self) -> None:
        """Release a blocked read."""
        self._release.set()


class ListCamera(Camera):
    """Plays `images` (any shape or dtype: bad frames included), one per `read`, stamped with
    `time.monotonic()` or with `stamps`; then the stream ends."""

    def __init__(self, images: Sequence[object], stamps: Sequence[float] | None = None) -> None:
        super().__init__(SHAPE)
        self.images = list(images)
        self.stamps = list(stamps) if stamps is not None else None
        self.reads = 0

    def open(self) -> None:
        """Nothing to open."""

    def read(self) -> Frame | None:
        """The next image, or None and `exhausted` after the last."""
        if self.reads >= len(self.images):
            self.exhausted = True
            return None
        stamp = self.stamps[self.reads] if self.stamps is not None else time.monotonic()
        frame = Frame(self.images[self.reads], stamp, self.reads)  # type: ignore[arg-type]
        self.reads += 1
        return frame

    def close(self) -> None:
        """Nothing to close."""


class ScriptedModel:
    """Returns `actions[i]` on the i-th step (the last one repeated); can sleep per step."""

    nominal_dt_s = 0.05

    def __init__(self, actions: list[list[float]], sleep_s: float = 0.0) -> None:
        self.actions = actions
        self.sleep_s = sleep_s
        self.calls: list[float] = []
        self.images: list[np.ndarray] = []
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
        self.images.append(image)
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
