"""The fixed-rate control loop: camera -> model -> safety filter -> actuator (no torch).

    summary = run(camera, model, safety, actuator, rate_hz=20.0, max_steps=None, telemetry=None)

Each period: read a frame; if it is new, step the model with dt = the interval between this
frame's and the previous frame's camera timestamps (the nominal period for the first frame);
let the safety filter decide (frame age, NaN/Inf, overruns, limits, rate limit); send; log;
sleep until the next tick (no catch-up bursts after a late period). A period whose work took
longer than 1/rate_hz counts as an overrun.

When the model returns NaN/Inf its state is reset to `initial_state()` (the state is likely
poisoned too). When the frame is not new, the model does not run and the last action is reused
(the frame-age watchdog bounds how long). The fail-safe is sent at the end of a run, on
KeyboardInterrupt and on any exception, which is then re-raised.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from lnn_control.deploy.actuators import Actuator
from lnn_control.deploy.cameras import Camera, Frame
from lnn_control.deploy.safety import SafetyDecision
from lnn_control.deploy.telemetry import TelemetryRow, TelemetryWriter

_log = logging.getLogger(__name__)


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


class CommandFilter(Protocol):
    """What `run` needs of a safety filter (`SafetyFilter` for a car, `DroneSafetyFilter`)."""

    def failsafe(self, reason: str, now_s: float | None = None) -> SafetyDecision:
        """The fail-safe command."""
        ...

    def decide(
        self,
        action: np.ndarray | None,
        now_s: float,
        frame_age_s: float | None,
        consecutive_overruns: int = 0,
    ) -> SafetyDecision:
        """The command for this period."""
        ...


@dataclass
class RunSummary:
    """What happened: periods run, model steps, fail-safe periods by reason, overruns, why it
    stopped ("max_steps", "camera_exhausted")."""

    steps: int = 0
    model_steps: int = 0
    failsafe_counts: dict[str, int] = field(default_factory=dict)
    overruns: int = 0
    stop_reason: str = ""


def run(
    camera: Camera,
    model: StepModel,
    safety: CommandFilter,
    actuator: Actuator,
    rate_hz: float,
    max_steps: int | None = None,
    telemetry: TelemetryWriter | None = None,
) -> RunSummary:
    """Run the loop until `max_steps` periods, or the camera is exhausted.

    Args:
        camera, actuator: opened (connected) by the caller.
        model: e.g. `OnnxPolicy`.
        safety: the filter (its state carries over between calls).
        rate_hz: control rate (Hz); the period is 1 / rate_hz seconds.
        max_steps: periods to run; None for no limit.
        telemetry: an opened `TelemetryWriter`, or None.

    Returns:
        A `RunSummary`. Exceptions (KeyboardInterrupt included) propagate after the fail-safe.
    """
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz must be finite and > 0, got {rate_hz}")
    period_s = 1.0 / rate_hz
    summary = RunSummary()
    state = model.initial_state()
    last_frame: Frame | None = None
    action: np.ndarray | None = None
    overruns_in_row = 0
    next_tick = time.monotonic()

    def emergency(reason: str, quiet: bool) -> None:
        decision = safety.failsafe(reason, time.monotonic())
        try:
            sent = actuator.send(decision.command)
        except Exception:
            if not quiet:
                raise
            # The original exception matters more; the firmware watchdog stops the car.
            _log.exception("could not send the fail-safe (%s)", reason)
            return
        if telemetry is not None:
            telemetry.write(
                TelemetryRow(
                    summary.steps, time.monotonic(), sent=sent, failsafe=True, event=reason
                )
            )

    try:
        while max_steps is None or summary.steps < max_steps:
            start = time.monotonic()
            row = TelemetryRow(summary.steps, start)
            frame = camera.read()
            if frame is None and camera.exhausted:
                summary.stop_reason = "camera_exhausted"
                break
            if frame is not None and (last_frame is None or frame.index != last_frame.index):
                dt_s = (
                    model.nominal_dt_s
                    if last_frame is None
                    else frame.timestamp_s - last_frame.timestamp_s
                )
                if not (math.isfinite(dt_s) and dt_s > 0):
                    dt_s = model.nominal_dt_s
                t0 = time.perf_counter()
                action, state = model.step(frame.image, state, dt_s)
                row.model_latency_s = time.perf_counter() - t0
                row.dt_s, row.raw_action = dt_s, action
                summary.model_steps += 1
                last_frame = frame
                if not bool(np.all(np.isfinite(action))):
                    state = model.initial_state()
            now = time.monotonic()
            age = None if last_frame is None else now - last_frame.timestamp_s
            decision: SafetyDecision = safety.decide(action, now, age, overruns_in_row)
            sent = actuator.send(decision.command)
            if decision.failsafe:
                counts = summary.failsafe_counts
                counts[decision.reason] = counts.get(decision.reason, 0) + 1
                if decision.reason == "non_finite":
                    action = None  # do not reuse a NaN action on the next (non-new) frame
            loop_time = time.monotonic() - start
            overruns_in_row = overruns_in_row + 1 if loop_time > period_s else 0
            summary.overruns += int(loop_time > period_s)
            if telemetry is not None:
                if last_frame is not None:
                    row.frame_index, row.frame_time_s = last_frame.index, last_frame.timestamp_s
                row.frame_age_s = math.nan if age is None else age
                row.loop_time_s, row.sent = loop_time, sent
                row.failsafe, row.event = decision.failsafe, decision.reason
                telemetry.write(row)
            summary.steps += 1
            next_tick += period_s
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_tick = time.monotonic()  # late: no catch-up burst
        else:
            summary.stop_reason = "max_steps"
    except KeyboardInterrupt:
        emergency("interrupt", quiet=True)
        raise
    except BaseException:
        emergency("exception", quiet=True)
        raise
    emergency("end", quiet=False)
    return summary
