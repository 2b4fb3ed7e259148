"""Fault injection on the camera side: a blocked camera, a camera on another clock, bad frames.

Each test asserts the safe outcome on the wire (the actuator's record): the loop keeps its
period, the fail-safe comes within one period of the frame-age deadline, bad frames are answered
with the fail-safe and too many in a row stop the run on it.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from lnn_control.deploy.runtime.cameras import Frame
from lnn_control.deploy.runtime.loop import MAX_SANE_DT_S, run
from lnn_control.deploy.runtime.reader import FrameReader
from lnn_control.deploy.runtime.safety import SafetyConfig, SafetyFilter
from tests.deploy.fakes import (
    SHAPE,
    BlockingCamera,
    ListCamera,
    ScriptedCamera,
    ScriptedModel,
    TimedActuator,
)

FAILSAFE = np.zeros(2, np.float32)
SCHEDULING_SLACK_S = 0.03
"""Thread wake-up and sleep jitter allowed on a shared 2-core machine."""


def first_failsafe_after(actuator: TimedActuator, after_s: float) -> float:
    """Monotonic time of the first fail-safe command sent after `after_s`."""
    return next(
        t for t, c in zip(actuator.times, actuator.sent, strict=True)
        if t > after_s and np.array_equal(c, FAILSAFE)
    )  # fmt: skip


def test_blocked_camera_read_does_not_block_the_loop() -> None:
    """A read() that hangs: commands keep their period and the fail-safe comes within one
    period of the frame-age deadline (the old loop sent nothing until the read returned)."""
    rate_hz, max_age_s = 20.0, 0.2
    period_s = 1.0 / rate_hz
    camera = BlockingCamera(fresh=3)
    actuator = TimedActuator()
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=max_age_s, max_steering_rate_per_s=100.0))
    try:
        summary = run(camera, ScriptedModel([[0.4]]), safety, actuator, rate_hz, max_steps=14)
    finally:
        camera.close()
    gaps_s = np.diff(actuator.times)
    assert gaps_s.max() <= period_s + SCHEDULING_SLACK_S, f"loop stalled {gaps_s.max():.3f} s"
    deadline_s = camera.last_fresh_s + max_age_s
    reaction_s = first_failsafe_after(actuator, deadline_s) - deadline_s
    assert reaction_s <= period_s + SCHEDULING_SLACK_S
    assert summary.failsafe_counts.get("stale_frame", 0) >= 1
    assert summary.model_steps == 3
    assert np.allclose(actuator.sent[2], [0.4, 0.2])  # driving before the stall


@pytest.mark.parametrize(
    "declared_offset_s", [None, 0.0], ids=["offset-unknown", "offset-wrongly-declared-0"]
)
def test_foreign_clock_camera_still_trips_the_watchdog(declared_offset_s: float | None) -> None:
    """Frames stamped with time.time() (another clock, far ahead of time.monotonic()): the
    watchdog judges age from the receipt, so a stalled camera still gives the fail-safe."""
    rate_hz, max_age_s = 50.0, 0.1
    period_s = 1.0 / rate_hz
    camera = ScriptedCamera(fresh=5, clock=time.time, clock_offset_s=declared_offset_s)
    actuator = TimedActuator()
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=max_age_s, max_steering_rate_per_s=100.0))
    summary = run(camera, ScriptedModel([[0.4]]), safety, actuator, rate_hz, max_steps=25)
    assert summary.failsafe_counts.get("stale_frame", 0) >= 1
    deadline_s = camera.last_fresh_s + max_age_s
    reaction_s = first_failsafe_after(actuator, deadline_s) - deadline_s
    assert reaction_s <= period_s + SCHEDULING_SLACK_S
    late = [
        c for t, c in zip(actuator.times, actuator.sent, strict=True) if t > deadline_s + period_s
    ]
    assert all(np.array_equal(c, FAILSAFE) for c in late)  # stays safe while stalled


def test_model_dt_from_camera_stamps_only_when_sane() -> None:
    """Camera intervals feed the model's dt while sane; absurd ones (ms units, a clock jumping
    back) give the nominal period instead."""
    good = [np.zeros(SHAPE, np.uint8)] * 5
    stamps_s = [100.0, 100.04, 140.0, 139.0, 139.05]  # +0.04, +39.96 (absurd), -1 (back), +0.05
    model = ScriptedModel([[0.1]])
    run(ListCamera(good, stamps_s), model, SafetyFilter(), TimedActuator(), rate_hz=100.0)
    nominal = ScriptedModel.nominal_dt_s
    assert model.calls == pytest.approx([nominal, 0.04, nominal, nominal, 0.05])
    assert MAX_SANE_DT_S == 1.0


def bad_images() -> dict[str, object]:
    nan_image = np.zeros(SHAPE, np.float64)
    nan_image[0, 0, 0] = np.nan
    return {
        "wrong_shape": np.zeros((10, 10, 3), np.uint8),
        "float": np.zeros(SHAPE, np.float32),
        "nan": nan_image,
        "not_an_array": [[0, 0, 0]],
    }


def test_bad_frames_get_the_failsafe_and_the_run_goes_on() -> None:
    good = np.full(SHAPE, 50, np.uint8)
    bad = bad_images()
    images = [good, good, bad["wrong_shape"], good, bad["float"], good, bad["nan"], good,
              bad["not_an_array"], good]  # fmt: skip
    model = ScriptedModel([[0.3]])
    actuator = TimedActuator()
    safety = SafetyFilter(SafetyConfig(max_steering_rate_per_s=100.0))
    summary = run(ListCamera(images), model, safety, actuator, rate_hz=50.0)
    assert summary.stop_reason == "camera_exhausted"  # the run went on to the end
    assert summary.bad_frames == 4
    assert summary.failsafe_counts.get("bad_frame") == 4
    assert len(model.images) == 6  # only the good frames reached the model
    assert all(image.shape == SHAPE and image.dtype == np.uint8 for image in model.images)
    driving = actuator.sent[:-1]  # before the end-of-run fail-safe
    assert sum(np.array_equal(c, FAILSAFE) for c in driving) == 4
    assert np.array_equal(actuator.sent[-1], FAILSAFE)


def test_consecutive_bad_frames_stop_the_run_on_the_failsafe() -> None:
    good = np.full(SHAPE, 50, np.uint8)
    images = [good, good] + [np.zeros((10, 10, 3), np.uint8)] * 20
    camera = ListCamera(images)
    actuator = TimedActuator()
    safety = SafetyFilter(SafetyConfig(max_bad_frames=3))
    summary = run(camera, ScriptedModel([[0.3]]), safety, actuator, rate_hz=50.0)
    assert summary.stop_reason == "bad_frames"
    assert summary.bad_frames == 3
    assert camera.reads < len(images)  # stopped before the stream ended
    assert np.array_equal(actuator.sent[-1], FAILSAFE)
    assert summary.model_steps == 2


def test_max_bad_frames_is_validated() -> None:
    with pytest.raises(ValueError, match="max_bad_frames must be an integer >= 1"):
        SafetyConfig(max_bad_frames=0)


class _LiveCamera(ScriptedCamera):
    """A device-like camera: frames come on their own every 2 ms."""

    live = True

    def read(self) -> Frame | None:
        """A new frame after 2 ms."""
        time.sleep(0.002)
        self.fresh += 1
        return super().read()


def test_live_camera_is_read_continuously_and_the_newest_frame_kept() -> None:
    camera = _LiveCamera(fresh=0)
    reader = FrameReader(camera)
    reader.start()
    try:
        time.sleep(0.1)
        first = reader.take(0.0)
        time.sleep(0.05)
        second = reader.take(0.0)
    finally:
        reader.stop()
    assert first is not None
    assert second is not None
    assert second.frame.index - first.frame.index >= 5  # older frames were dropped, not queued
    assert camera.reads - second.frame.index <= 3  # the newest one was handed over
    assert second.received_s >= first.received_s + 0.04
