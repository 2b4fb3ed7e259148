"""Camera reads off the control loop: a reader thread, frames stamped at receipt.

    reader = FrameReader(camera)           # camera already opened
    reader.start()
    received = reader.take(wait_s=0.025)   # Received(frame, received_s) or None, at most 25 ms
    reader.stop()

A camera whose `read` blocks (an unplugged USB camera, a stalled pipeline) blocks only the reader
thread: `take` returns None after at most `wait_s`, so the loop keeps its period and its
frame-age watchdog sends the fail-safe on time. Every frame is stamped with `time.monotonic()`
when the reader gets it (`received_s`), whatever clock the camera's own timestamp uses.

Two modes, chosen by `camera.live`:
- on demand (files, queues): one `read` per `take`, started by `take` when none is running, so
  a video is played one frame per control period, none skipped;
- continuous (devices): the thread reads as fast as frames come and keeps only the newest.

An exception raised by `read` is re-raised by the next `take` (the runtime then stops on the
fail-safe). A read that never returns leaves a daemon thread behind; `stop` does not wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lnn_control.deploy.runtime.cameras import Camera, Frame

IDLE_POLL_S = 0.001
"""Continuous mode: pause after a read that returned nothing (not exhausted)."""
STOP_POLL_S = 0.005
"""`take` checks `should_stop` at least this often while it waits."""
JOIN_TIMEOUT_S = 0.2


@dataclass(frozen=True)
class Received:
    """A frame and the runtime's monotonic time (s) when the reader got it."""

    frame: Frame
    received_s: float


class FrameReader:
    """Runs `camera.read()` in a daemon thread (see the module docstring)."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.continuous = bool(camera.live)
        self._cond = threading.Condition()
        self._wanted = False
        self._in_flight = False
        self._latest: Received | None = None
        self._error: BaseException | None = None
        self._exhausted = False
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="camera-reader", daemon=True)

    @property
    def exhausted(self) -> bool:
        """The camera said its stream has ended and no frame is left to take."""
        with self._cond:
            return self._exhausted and self._latest is None

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; waits briefly (a read blocked in the camera stays behind)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(JOIN_TIMEOUT_S)

    def take(self, wait_s: float, should_stop: Callable[[], bool] | None = None) -> Received | None:
        """The newest frame not taken yet, or None.

        On demand, a call with no read under way starts one and waits for it at most `wait_s`
        (or until `should_stop()`); a read still under way from an earlier call (a late camera)
        is not waited for. Continuous: never waits. Raises what the camera's `read` raised.
        """
        with self._cond:
            started = not self.continuous and not (self._in_flight or self._done())
            if started:
                self._wanted = self._in_flight = True
                self._cond.notify_all()
            deadline = time.monotonic() + (max(wait_s, 0.0) if started else 0.0)
            while not self._ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (should_stop is not None and should_stop()):
                    break
                self._cond.wait(min(remaining, STOP_POLL_S))
            if self._error is not None:
                raise self._error
            received, self._latest = self._latest, None
            return received

    def _done(self) -> bool:
        return self._latest is not None or self._error is not None or self._exhausted

    def _ready(self) -> bool:
        """Something to hand over, or (on demand) the requested read finished with nothing."""
        return self._done() or (not self.continuous and not self._in_flight)

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not (self._closed or self.continuous or self._wanted):
                    self._cond.wait()
                if self._closed:
                    return
                self._wanted = False
            if not self._read_once():
                return

    def _read_once(self) -> bool:
        """One `read`; False when the thread must end (error, end of stream)."""
        try:
            frame = self.camera.read()
        except BaseException as err:  # handed to the loop by `take`
            with self._cond:
                self._error, self._in_flight = err, False
                self._cond.notify_all()
            return False
        received_s = time.monotonic()
        with self._cond:
            self._in_flight = False
            if frame is not None:
                self._latest = Received(frame, received_s)
            elif self.camera.exhausted:
                self._exhausted = True
            self._cond.notify_all()
            keep_going = not self._exhausted
        if frame is None and self.continuous and keep_going:
            time.sleep(IDLE_POLL_S)
        return keep_going
