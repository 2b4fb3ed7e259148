"""Safety filter and watchdog: limits, rate limit, fail-safe on stale frames, NaN, overruns,
exceptions and Ctrl-C."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import numpy as np
import pytest

from lnn_control.cli import deploy as deploy_cli
from lnn_control.deploy.runtime.drone_safety import DroneSafetyConfig, DroneSafetyFilter
from lnn_control.deploy.runtime.loop import run
from lnn_control.deploy.runtime.safety import CommandFilter, SafetyConfig, SafetyFilter
from tests.deploy.fakes import ScriptedCamera, ScriptedModel, TimedActuator

RATE_HZ = 50.0
PERIOD_S = 1.0 / RATE_HZ
FAILSAFE = np.zeros(2, np.float32)


def test_clamp_and_rate_limit() -> None:
    safety = SafetyFilter(SafetyConfig(steering_max=0.5, throttle_max=0.3, cruise_throttle=0.3,
                                       max_steering_rate_per_s=2.0))  # fmt: skip
    first = safety.decide(np.array([0.9]), now_s=0.0, frame_age_s=0.0)
    assert np.allclose(first.command, [0.5, 0.3])  # clamped; cruise throttle for A = 1
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


CONFIG_DIR = Path(__file__).resolve().parents[2] / "lnn_control" / "configs" / "deploy"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("safety.failsafe_throttle=.nan", r"safety\.failsafe_throttle.*finite"),
        ("safety.failsafe_throttle=5", r"safety\.failsafe_throttle must be in "
         r"\[throttle_min, throttle_max\] = \[0, 0\.3\], got 5"),
        ("safety.max_frame_age_s=.inf", r"safety\.max_frame_age_s.*finite"),
        ("safety.max_frame_age_s=2", r"safety\.max_frame_age_s.*less than or equal to 1"),
        ("safety.cruise_throttle=9",
         r"safety\.cruise_throttle must be in \[throttle_min, throttle_max\] = \[0, 0\.3\], got 9"),
        ("safety.max_steering_rate_per_s=0", r"safety\.max_steering_rate_per_s.*greater than 0"),
        ("safety.steering_min=-2", r"safety\.steering_min must be in \[-1, 1\], got -2"),
        ("safety.failsafe_steering=-1.5", r"safety\.failsafe_steering must be in"),
        ("safety.max_bad_frames=0", r"safety\.max_bad_frames.*greater than or equal to 1"),
        ("drone_safety.max_change_per_s=.inf", r"drone_safety\.max_change_per_s.*finite"),
        ("drone_safety.max_horizontal=1.5", r"drone_safety\.max_horizontal"),
        ("actuator.max_speed_mps=.inf", r"actuator\.max_speed_mps.*finite"),
    ],
)  # fmt: skip
def test_bad_safety_config_is_refused_before_any_device_opens(
    override: str, message: str, exported: dict[str, Path]
) -> None:
    """One line naming the key and the allowed range, before the camera (a device that does not
    exist: opening it would raise RuntimeError) or the actuator (UDP to a local socket that must
    stay silent) is touched."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    parser = argparse.ArgumentParser()
    deploy_cli.add_arguments(parser)
    argv = ["--config", str(CONFIG_DIR / "racecar_udp.yaml")]
    for item in [f"model={exported['ncp']}", "camera.source=device", "camera.device=99",
                 "actuator.backend=udp", f"actuator.port={receiver.getsockname()[1]}",
                 "telemetry_csv=null", override]:  # fmt: skip
        argv += ["--set", item]
    try:
        with pytest.raises(ValueError, match=message) as info:
            deploy_cli.run(parser.parse_args(argv))
        with pytest.raises(BlockingIOError):
            receiver.recv(64)  # nothing was sent
    finally:
        receiver.close()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"failsafe_throttle": float("nan")}, "failsafe_throttle must be a finite number"),
        ({"throttle_max": 0.3, "failsafe_throttle": 5.0}, r"failsafe_throttle must be in"),
        ({"max_frame_age_s": float("inf")}, "max_frame_age_s must be a finite number"),
        ({"max_frame_age_s": 0.0}, r"max_frame_age_s must be in \(0, 1\]"),
        ({"throttle_max": 0.3, "cruise_throttle": 9.0}, r"cruise_throttle must be in"),
        ({"steering_min": 0.5, "steering_max": 0.2}, r"steering_max must be in \[steering_min"),
        ({"max_steering_rate_per_s": float("inf")}, "max_steering_rate_per_s must be a finite"),
        ({"max_overruns": 0}, "max_overruns must be an integer >= 1"),
    ],
)
def test_safety_config_checks(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SafetyConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_change_per_s": float("nan")}, "max_change_per_s must be a finite number"),
        ({"max_change_per_s": 0.0}, "max_change_per_s must be > 0"),
        ({"max_frame_age_s": float("inf")}, "max_frame_age_s must be a finite number"),
        ({"max_yaw_rate": float("nan")}, "max_yaw_rate must be a finite number"),
        ({"max_bad_frames": 0}, "max_bad_frames must be an integer >= 1"),
    ],
)
def test_drone_safety_config_checks(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DroneSafetyConfig(**kwargs)  # type: ignore[arg-type]


def test_one_command_filter_with_car_and_drone_presets() -> None:
    car, drone = SafetyFilter(), DroneSafetyFilter()
    assert isinstance(car, CommandFilter)
    assert isinstance(drone, CommandFilter)
    generic = CommandFilter(lower=[-0.5], upper=[0.5], max_rate_per_s=[1.0], failsafe=[0.1])
    assert np.allclose(generic.decide(np.array([0.9]), 0.0, 0.0).command, [0.5])
    assert np.allclose(generic.decide(np.array([-0.9]), 0.1, 0.0).command, [0.4])  # 1 /s
    assert np.allclose(generic.failsafe("x").command, [0.1])
    with pytest.raises(ValueError, match=r"axis 0 fail-safe must be in the limits"):
        CommandFilter(lower=[0.0], upper=[0.3], max_rate_per_s=[1.0], failsafe=[0.5])
    with pytest.raises(ValueError, match="upper must have 1 values"):
        CommandFilter(lower=[0.0], upper=[0.3, 0.2], max_rate_per_s=[1.0], failsafe=[0.0])
