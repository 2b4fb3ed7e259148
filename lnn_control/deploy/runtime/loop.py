"""The fixed-rate control loop: camera -> model -> safety filter -> actuator (no torch).

    summary = run(camera, model, safety, actuator, rate_hz=20.0, max_steps=None, telemetry=None,
                  stop=None)

Each period runs five named steps (`ControlLoop`):

1. read: take the newest frame from the reader thread (`reader.py`). The loop
   waits for a read it starts at most half a period; a camera that blocks never blocks the loop.
   Frames are stamped at receipt on `time.monotonic()`.
2. infer: a new frame is checked (uint8, the model's (H, W, 3)); a bad frame is counted and
   answered with the fail-safe for this period, and `max_bad_frames` in a row stop the run. A
   good frame steps the model with dt = the interval between the camera's timestamps when it
   is sane (finite, in (0, 1] s), else the model's nominal period. NaN/Inf output resets the
   model's state (it is likely poisoned too).
3. decide: the safety filter (`CommandFilter`) turns the action into the command: fail-safe
   when the newest good frame is older than `max_frame_age_s` (judged from its receipt, or from
   its timestamp converted with the camera's declared `clock_offset_s` when that is earlier),
   when there is none, on NaN/Inf, after `max_overruns`; else limits and rate limits. When no
   new frame came, the last action is reused, bounded by the frame-age watchdog.
4. send: the command goes to the actuator.
5. log: one telemetry row per command sent.

Then the loop sleeps until the next tick (no catch-up bursts after a late period). A period whose
work took longer than 1/rate_hz counts as an overrun. When the newest frame's age deadline
(capture time + `max_frame_age_s`) falls before the next tick while a normal command is out, the
loop wakes at the deadline and runs an extra period there: a stalled camera gets the fail-safe
on the wire within milliseconds of the deadline, not up to a period later.

Every way out ends with the fail-safe as the last word on the wire, sent
`actuator.failsafe_repeats` times (3 for UDP) and logged: a normal end ("end": camera exhausted,
`max_steps`), a stop request (`stop`, a `StopFlag` that the CLI's signal handlers set: "sigint",
"sigterm", "sighup"; checked every few milliseconds while the loop waits), too many bad frames
("bad_frames"), KeyboardInterrupt ("interrupt") and any exception ("exception"), which is then
re-raised.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from lnn_control.deploy.runtime.actuators import Actuator
from lnn_control.deploy.runtime.cameras import Camera
from lnn_control.deploy.runtime.reader import FrameReader, Received
from lnn_control.deploy.runtime.safety import CommandFilter, SafetyDecision
from lnn_control.deploy.runtime.stopping import StopFlag
from lnn_control.deploy.runtime.telemetry import TelemetryRow, TelemetryWriter

__all__ = ["CommandFilter", "ControlLoop", "RunSummary", "StepModel", "capture_time_s", "run"]

_log = logging.getLogger(__name__)

READ_WAIT_FRACTION = 0.5
"""The loop waits for a frame read it starts at most this fraction of a period."""
MAX_SANE_DT_S = 1.0
"""A camera interval above this (or <= 0, NaN) is not fed to the model: nominal dt instead."""
FAILSAFE_REPEAT_GAP_S = 0.005
"""Pause between the repeated fail-safe commands at the end of a run."""
STOP_POLL_S = 0.005
"""How often the loop checks its stop flag while it sleeps."""
DEADLINE_MARGIN_S = 0.0005
"""The extra watchdog period runs this long after the age deadline (the frame is then stale)."""
NORMAL_ENDS = frozenset({"max_steps", "camera_exhausted"})


class StepModel(Protocol):
    """What `run` needs of a model (`OnnxPolicy` has it)."""

    nominal_dt_s: float

    def initial_state(self) -> np.ndarray:
        """(1, S) reset state."""
        ...

    def step(
        self, image: np.ndarray, state: np.ndarray, dt_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """image uint8 (H, W, 3), state (1, S), dt seconds -> action (A,), state (1, S)."""
        ...


@dataclass
class RunSummary:
    """What happened: periods run, model steps, fail-safe periods by reason, overruns, bad
    frames, and why it stopped ("max_steps", "camera_exhausted", "bad_frames", "sigint",
    "sigterm", "sighup")."""

    steps: int = 0
    model_steps: int = 0
    failsafe_counts: dict[str, int] = field(default_factory=dict)
    overruns: int = 0
    bad_frames: int = 0
    stop_reason: str = ""


def capture_time_s(received: Received, clock_offset_s: float | None) -> float:
    """When a frame was taken, on the runtime's monotonic clock (s): its receipt time, or its
    timestamp plus the camera's declared offset when that is finite and earlier. A timestamp is
    never trusted to make a frame younger than its receipt."""
    if clock_offset_s is None:
        return received.received_s
    stamped = received.frame.timestamp_s + clock_offset_s
    return min(received.received_s, stamped) if math.isfinite(stamped) else received.received_s


def frame_problem(image: object, shape: tuple[int, ...]) -> str:
    """What is wrong with a camera image for a model taking uint8 `shape`, or ""."""
    if not isinstance(image, np.ndarray):
        return f"image is a {type(image).__name__}, not a numpy array"
    if image.dtype != np.uint8:
        return f"image dtype {image.dtype}, expected uint8"
    if image.shape != shape:
        return f"image shape {image.shape}, expected {shape}"
    return ""


class ControlLoop:
    """The loop's state and its steps (read, infer, decide, send, log); `run` drives it."""

    def __init__(
        self,
        camera: Camera,
        model: StepModel,
        safety: CommandFilter,
        actuator: Actuator,
        period_s: float,
        telemetry: TelemetryWriter | None = None,
        stop: StopFlag | None = None,
    ) -> None:
        self.camera, self.model, self.safety, self.actuator = camera, model, safety, actuator
        self.period_s, self.telemetry, self.stop = period_s, telemetry, stop
        self.reader = FrameReader(camera)
        self.image_shape = tuple(getattr(model, "image_shape", camera.image_shape))
        self.state = model.initial_state()
        self.last: Received | None = None  # the newest good frame
        self.action: np.ndarray | None = None
        self.overruns_in_row = 0
        self.bad_in_row = 0
        self.failsafe_out = True  # the last command sent was a fail-safe (or none was sent)
        self.summary = RunSummary()

    def stop_reason(self) -> str:
        """The stop flag's reason, or "" when no stop was requested."""
        return self.stop.reason if self.stop is not None else ""

    def stop_requested(self) -> bool:
        """Whether the stop flag is set."""
        return bool(self.stop_reason())

    def loop(self, max_steps: int | None) -> str:
        """Periods until a stop; returns the stop reason."""
        tick_s = time.monotonic()
        while max_steps is None or self.summary.steps < max_steps:
            if self.stop_requested():
                return self.stop_reason()
            reason = self.period(time.monotonic())
            if not reason and (max_steps is None or self.summary.steps < max_steps):
                reason = self.deadline_period(tick_s + self.period_s)
            if reason:
                return reason
            tick_s = self.wait_tick(tick_s + self.period_s)
        return "max_steps"

    def deadline_period(self, next_tick_s: float) -> str:
        """When the newest frame's age deadline comes before the next tick, wait for it and run
        a period there: a stalled camera's fail-safe goes out at the deadline, not a period
        later. Returns a stop reason, or ""."""
        deadline_s = self.watchdog_deadline_s()
        if deadline_s is None or deadline_s >= next_tick_s - STOP_POLL_S:
            return ""
        self.wait_tick(deadline_s)
        if self.stop_requested():
            return ""  # the loop returns the stop reason next
        return self.period(time.monotonic(), read_wait_s=0.0)

    def watchdog_deadline_s(self) -> float | None:
        """When the newest frame becomes too old while a normal command is out, else None."""
        if self.failsafe_out or self.last is None:
            return None
        captured_s = capture_time_s(self.last, self.camera.clock_offset_s)
        return captured_s + self.safety.watchdog.max_frame_age_s + DEADLINE_MARGIN_S

    def period(self, start_s: float, read_wait_s: float | None = None) -> str:
        """One control period; returns a stop reason, or "" to go on. `read_wait_s`: how long
        to wait for a frame read this period starts (default: half a period)."""
        row = TelemetryRow(self.summary.steps, start_s)
        received = self.read(start_s, read_wait_s)
        if received is None and self.reader.exhausted:
            return "camera_exhausted"
        if self.stop_requested():
            return self.stop_reason()
        problem = "" if received is None else self.infer(received, row)
        decision = self.decide(bad_frame=bool(problem))
        sent = self.send(decision)
        self.log(row, decision, sent, start_s)
        return "bad_frames" if self.bad_in_row >= self.safety.max_bad_frames else ""

    def read(self, start_s: float, wait_s: float | None = None) -> Received | None:
        """A frame not seen before (by index), or None."""
        if wait_s is None:
            wait_s = start_s + READ_WAIT_FRACTION * self.period_s - time.monotonic()
        received = self.reader.take(wait_s, self.stop_requested)
        if received is None or (
            self.last is not None and received.frame.index == self.last.frame.index
        ):
            return None
        return received

    def infer(self, received: Received, row: TelemetryRow) -> str:
        """Step the model on a new frame; returns what is wrong with the frame, or ""."""
        problem = frame_problem(received.frame.image, self.image_shape)
        if problem:
            self.bad_in_row += 1
            self.summary.bad_frames += 1
            _log.warning("bad frame %d (%s): fail-safe", received.frame.index, problem)
            return problem
        self.bad_in_row = 0
        dt_s = self.dt_s(received)
        start = time.perf_counter()
        action, self.state = self.model.step(received.frame.image, self.state, dt_s)
        row.model_latency_s = time.perf_counter() - start
        row.dt_s, row.raw_action = dt_s, action
        self.summary.model_steps += 1
        self.last, self.action = received, action
        if not bool(np.all(np.isfinite(action))):
            self.state = self.model.initial_state()
        return ""

    def dt_s(self, received: Received) -> float:
        """The camera's frame interval when sane, else the model's nominal period (s)."""
        if self.last is None:
            return self.model.nominal_dt_s
        dt_s = received.frame.timestamp_s - self.last.frame.timestamp_s
        return (
            dt_s if math.isfinite(dt_s) and 0 < dt_s <= MAX_SANE_DT_S else self.model.nominal_dt_s
        )

    def frame_age_s(self, now_s: float) -> float | None:
        """Age (s) of the newest good frame, or None."""
        if self.last is None:
            return None
        return now_s - capture_time_s(self.last, self.camera.clock_offset_s)

    def decide(self, bad_frame: bool) -> SafetyDecision:
        """The command for this period."""
        now_s = time.monotonic()
        if bad_frame:
            return self.safety.failsafe("bad_frame", now_s)
        age_s = self.frame_age_s(now_s)
        return self.safety.decide(self.action, now_s, age_s, self.overruns_in_row)

    def send(self, decision: SafetyDecision) -> np.ndarray:
        """Put the command on the wire; returns what was sent."""
        sent = self.actuator.send(decision.command)
        self.failsafe_out = decision.failsafe
        if decision.failsafe:
            counts = self.summary.failsafe_counts
            counts[decision.reason] = counts.get(decision.reason, 0) + 1
            if decision.reason == "non_finite":
                self.action = None  # do not reuse a NaN action on the next (non-new) frame
        return sent

    def log(
        self, row: TelemetryRow, decision: SafetyDecision, sent: np.ndarray, start_s: float
    ) -> None:
        """Overrun bookkeeping and the period's telemetry row."""
        now_s = time.monotonic()
        loop_time_s = now_s - start_s
        late = loop_time_s > self.period_s
        self.overruns_in_row = self.overruns_in_row + 1 if late else 0
        self.summary.overruns += int(late)
        self.summary.steps += 1
        if self.telemetry is None:
            return
        if self.last is not None:
            row.frame_index, row.frame_time_s = self.last.frame.index, self.last.frame.timestamp_s
            row.frame_received_s = self.last.received_s
        age_s = self.frame_age_s(now_s)
        row.frame_age_s = math.nan if age_s is None else age_s
        row.loop_time_s, row.sent = loop_time_s, sent
        row.failsafe, row.event = decision.failsafe, decision.reason
        self.telemetry.write(row)

    def wait_tick(self, tick_s: float) -> float:
        """Sleep until `tick_s`, checking the stop flag; returns the tick (now, when late)."""
        now_s = time.monotonic()
        if tick_s <= now_s:
            return now_s  # late: no catch-up burst
        if self.stop is None:
            time.sleep(tick_s - now_s)
            return tick_s
        while now_s < tick_s and not self.stop_requested():
            time.sleep(min(tick_s - now_s, STOP_POLL_S))
            now_s = time.monotonic()
        return tick_s

    def finish(self, reason: str, quiet: bool) -> None:
        """The last word: the fail-safe, `actuator.failsafe_repeats` times, then one telemetry
        row per copy sent. `quiet` (on an exception): a failure is logged, not raised (the
        original error matters more; the receiver's timeout stops the vehicle)."""
        repeats = max(1, int(getattr(self.actuator, "failsafe_repeats", 1)))
        sent_at: list[tuple[float, np.ndarray]] = []
        for i in range(repeats):
            if i:
                time.sleep(FAILSAFE_REPEAT_GAP_S)
            try:
                sent = self.actuator.send(self.safety.failsafe(reason, time.monotonic()).command)
            except Exception:
                if not quiet:
                    raise
                _log.exception("could not send the fail-safe (%s)", reason)
                break
            sent_at.append((time.monotonic(), sent))
        telemetry = self.telemetry
        if telemetry is None:
            return
        try:
            for time_s, sent in sent_at:
                row = TelemetryRow(self.summary.steps, time_s, sent=sent, failsafe=True)
                row.event = reason
                telemetry.write(row)
        except Exception:
            if not quiet:
                raise
            _log.exception("could not log the fail-safe (%s)", reason)


def run(
    camera: Camera,
    model: StepModel,
    safety: CommandFilter,
    actuator: Actuator,
    rate_hz: float,
    max_steps: int | None = None,
    telemetry: TelemetryWriter | None = None,
    stop: StopFlag | None = None,
) -> RunSummary:
    """Run the loop until `max_steps` periods, the camera is exhausted, too many bad frames in a
    row, or `stop` is requested.

    Args:
        camera, actuator: opened (connected) by the caller.
        model: e.g. `OnnxPolicy`.
        safety: the filter (its state carries over between calls).
        rate_hz: control rate (Hz); the period is 1 / rate_hz seconds.
        max_steps: periods to run; None for no limit.
        telemetry: an opened `TelemetryWriter`, or None.
        stop: a `StopFlag` (set by signal handlers) polled every few milliseconds.

    Returns:
        A `RunSummary`. Exceptions (KeyboardInterrupt included) propagate after the fail-safe.
    """
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz must be finite and > 0, got {rate_hz}")
    loop = ControlLoop(camera, model, safety, actuator, 1.0 / rate_hz, telemetry, stop)
    loop.reader.start()
    try:
        reason = loop.loop(max_steps)
    except KeyboardInterrupt:
        loop.finish("interrupt", quiet=True)
        raise
    except BaseException:
        loop.finish("exception", quiet=True)
        raise
    else:
        loop.finish("end" if reason in NORMAL_ENDS else reason, quiet=False)
    finally:
        loop.reader.stop()  # after the last word: a blocked camera must not delay it
    loop.summary.stop_reason = reason
    return loop.summary
