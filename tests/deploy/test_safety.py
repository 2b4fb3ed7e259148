"""Safety filter and watchdog: limits, rate limit, fail-safe on stale frames, NaN, overruns,
exceptions and Ctrl-C."""

from __future__ import annotations

import numpy as np
import pytest

from lnn_control.deploy.runtime import run
from lnn_control.deploy.safety import SafetyConfig, SafetyFilter
from tests.deploy.fakes import ScriptedCamera, ScriptedModel, TimedActuator

RATE_HZ = 50.0
PERIOD_S = 1.0 / RATE_HZ
FAILSAFE = np.zeros(2, np.float32)


def test_clamp_and_rate_limit() -> None:
    safety = SafetyFilter(SafetyConfig(steering_max=0.5, throttle_max=0.3, cruise_throttle=0.9,
                                       max_steering_rate_per_s=2.0))  # fmt: skip
    first = safety.decide(np.array([0.9]), now_s=0.0, frame_age_s=0.0)
    assert np.allclose(first.command, [0.5, 0.3])  # clamped; cruise throttle clamped too
    second = safety.decide(np.array([-1.0]), now_s=0.1, frame_age_s=0.0)
    assert np.allclose(second.command, [0.5 - 2.0 * 0.1, 0.3])  # at most 0.2 per 0.1 s
    assert not second.failsafe


def test_failsafe_reasons() -> None:
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=0.1, max_overruns=2))
    assert safety.decide(np.array([0.1]), 0.0, None).reason == "no_frame"
    assert safety.decide(np.array([0.1]), 0.0, 0.2).reason == "stale_frame"
    assert safety.decide(np.array([np.nan]), 0.0, 0.0).reason == "non_finite"
    assert safety.decide(np.array([np.inf]), 0.0, 0.0).reason == "non_finite"
    assert safety.decide(np.array([0.1]), 0.0, 0.0, consecutive_overruns=2).reason == "overrun"
    assert np.array_equal(safety.failsafe("x").command, FAILSAFE)


def test_stalled_camera_failsafe_within_one_period() -> None:
    max_age = 0.1
    camera = ScriptedCamera(fresh=5)
    actuator = TimedActuator()
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=max_age, max_steering_rate_per_s=100.0))
    summary = run(camera, ScriptedModel([[0.4]]), safety, actuator, RATE_HZ, max_steps=25)
    assert camera.last is not None
    stall_at = camera.last.timestamp_s + max_age  # the frame is too old from here on
    first_failsafe = next(
        t for t, c in zip(actuator.times, actuator.sent, strict=True)
        if t > stall_at and np.array_equal(c, FAILSAFE)
    )  # fmt: skip
    assert first_failsafe - stall_at <= PERIOD_S + 0.01  # the next period's command
    late = [c for t, c in zip(actuator.times, actuator.sent, strict=True) if t > first_failsafe]
    assert all(np.array_equal(c, FAILSAFE) for c in late)  # stays safe while stalled
    assert summary.failsafe_counts.get("stale_frame", 0) >= 1
    assert np.allclose(actuator.sent[2], [0.4, 0.2])  # normal commands before the stall


def test_nan_output_sends_failsafe_and_resets_state() -> None:
    model = ScriptedModel([[0.3], [0.3], [np.nan], [0.3]])
    actuator = TimedActuator()
    summary = run(ScriptedCamera(fresh=10), model, SafetyFilter(), actuator, RATE_HZ, 6)
    assert np.array_equal(actuator.sent[2], FAILSAFE)  # the period of the NaN
    assert not np.array_equal(actuator.sent[3], FAILSAFE)  # recovers on the next finite output
    assert summary.failsafe_counts["non_finite"] == 1
    assert model.resets == 2  # initial + reset after the NaN


def test_overruns_trigger_failsafe() -> None:
    model = ScriptedModel([[0.3]], sleep_s=1.5 * PERIOD_S)
    actuator = TimedActuator()
    safety = SafetyFilter(SafetyConfig(max_overruns=2))
    summary = run(ScriptedCamera(fresh=10), model, safety, actuator, RATE_HZ, 5)
    assert summary.failsafe_counts.get("overrun", 0) >= 1
    assert np.array_equal(actuator.sent[2], FAILSAFE)  # after 2 overruns in a row


@pytest.mark.parametrize("error", [RuntimeError("camera unplugged"), KeyboardInterrupt()])
def test_exception_sends_failsafe_then_propagates(error: BaseException) -> None:
    def on_read(i: int) -> None:
        if i == 4:
            raise error

    actuator = TimedActuator()
    with pytest.raises(type(error)):
        run(ScriptedCamera(10, on_read), ScriptedModel([[0.7]]), SafetyFilter(), actuator,
            RATE_HZ)  # fmt: skip
    assert len(actuator.sent) == 5  # 4 periods, then the fail-safe
    assert not np.array_equal(actuator.sent[3], FAILSAFE)
    assert np.array_equal(actuator.sent[-1], FAILSAFE)


def test_failsafe_at_normal_end() -> None:
    actuator = TimedActuator()
    summary = run(ScriptedCamera(10), ScriptedModel([[0.2]]), SafetyFilter(), actuator,
                  RATE_HZ, 3)  # fmt: skip
    assert summary.stop_reason == "max_steps"
    assert len(actuator.sent) == 4
    assert np.array_equal(actuator.sent[-1], FAILSAFE)


class BrokenActuator(TimedActuator):
    """Fails from the 3rd send on (e.g. the USB serial adapter was unplugged)."""

    def send(self, command: np.ndarray | tuple[float, ...]) -> np.ndarray:
        """Raise OSError after two commands."""
        if len(self.sent) >= 2:
            raise OSError("device gone")
        return super().send(command)


def test_failing_actuator_keeps_original_exception() -> None:
    with pytest.raises(OSError, match="device gone"):
        run(ScriptedCamera(10), ScriptedModel([[0.2]]), SafetyFilter(), BrokenActuator(), RATE_HZ)
