"""The MAVLink backend against a local pymavlink listener on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from lnn_control.deploy.runtime.mavlink import (
    MAV_FRAME_BODY_OFFSET_NED,
    VELOCITY_YAW_RATE_MASK,
    MavlinkActuator,
    MavlinkLimits,
    setpoint,
)

mavutil = pytest.importorskip("pymavlink.mavutil")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def listener() -> Iterator[tuple[Any, int]]:
    port = _free_udp_port()
    link = mavutil.mavlink_connection(f"udpin:127.0.0.1:{port}")
    yield link, port
    link.close()


def _next(link: Any, kind: str) -> Any:
    message = link.recv_match(type=kind, blocking=True, timeout=5)
    assert message is not None, f"no {kind} within 5 s"
    return message


def test_drone_command_arrives_as_a_body_velocity_setpoint(listener: tuple[Any, int]) -> None:
    link, port = listener
    limits = MavlinkLimits(max_speed_mps=2.0, max_climb_mps=0.5, max_yaw_rate_rad_s=1.5)
    actuator = MavlinkActuator(f"udpout:127.0.0.1:{port}", kind="drone", limits=limits)
    with actuator:
        assert _next(link, "HEARTBEAT").get_srcSystem() == 255
        sent = actuator.send((0.5, 0.25, 1.0, -0.5))
        message = _next(link, "SET_POSITION_TARGET_LOCAL_NED")
    assert message.coordinate_frame == MAV_FRAME_BODY_OFFSET_NED
    assert message.type_mask == VELOCITY_YAW_RATE_MASK
    # forward 1 m/s, left 0.5 m/s (NED y right: -0.5), up 0.5 m/s (NED z down), yaw right 0.75
    expected = [1.0, -0.5, -0.5, 0.75]
    got = [message.vx, message.vy, message.vz, message.yaw_rate]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(sent, expected, atol=1e-6)
    assert (message.target_system, message.target_component) == (1, 1)


def test_rover_failsafe_is_a_stop(listener: tuple[Any, int]) -> None:
    link, port = listener
    actuator = MavlinkActuator(f"udpout:127.0.0.1:{port}", kind="rover")
    with actuator:
        actuator.send((1.0, 0.5))
        turning = _next(link, "SET_POSITION_TARGET_LOCAL_NED")
        actuator.send((0.0, 0.0))  # the runtime's fail-safe command
        stopped = _next(link, "SET_POSITION_TARGET_LOCAL_NED")
    assert turning.vx == pytest.approx(0.5)
    assert turning.yaw_rate == pytest.approx(-1.0)  # full left = CCW = negative in NED
    assert [stopped.vx, stopped.vy, stopped.vz, stopped.yaw_rate] == [0.0, 0.0, 0.0, 0.0]


def test_bad_commands_and_limits_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="a drone command must be 4 finite numbers"):
        setpoint((0.0, 0.0), "drone", MavlinkLimits())
    with pytest.raises(ValueError, match="finite numbers"):
        setpoint((float("nan"), 0.0), "rover", MavlinkLimits())
    with pytest.raises(ValueError, match="max_speed_mps must be a finite number > 0"):
        MavlinkLimits(max_speed_mps=0.0)
    with pytest.raises(ValueError, match="kind must be"):
        MavlinkActuator("udpout:127.0.0.1:1", kind="boat")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="before connect"):
        MavlinkActuator("udpout:127.0.0.1:1").send((0.0, 0.0))
    np.testing.assert_allclose(setpoint((3.0, -3.0), "rover", MavlinkLimits())[[0, 3]], [-1, -1])


def test_deploy_config_builds_a_rover_backend_with_its_limits() -> None:
    from lnn_control.deploy.config import ActuatorSection
    from lnn_control.deploy.factory import make_actuator

    section = ActuatorSection(
        backend="mavlink", mavlink_url="udpout:127.0.0.1:14550", max_speed_mps=2.5
    )
    actuator = make_actuator(section)
    assert isinstance(actuator, MavlinkActuator)
    assert (actuator.kind, actuator.url) == ("rover", "udpout:127.0.0.1:14550")
    assert actuator.limits.max_speed_mps == 2.5
