"""MAVLink velocity setpoints for PX4 / ArduPilot vehicles (pymavlink, optional extra
`deploy-mavlink`; imported only when a `MavlinkActuator` connects).

Each command becomes one SET_POSITION_TARGET_LOCAL_NED message in MAV_FRAME_BODY_OFFSET_NED
(body-frame velocities: x forward, y right, z down) with position, acceleration and yaw ignored
(`VELOCITY_YAW_RATE_MASK`), so the autopilot's own controllers track velocity and yaw rate. The
vehicle must be in an offboard / guided mode and receive setpoints at more than 2 Hz (PX4
triggers its offboard-loss fail-safe after `COM_OF_LOSS_T`, default 1 s, without one); a
heartbeat is sent on connect and once per second. The runtime's final fail-safe is sent
`failsafe_repeats` = 3 times (MAVLink usually runs over UDP or a lossy radio).

Commands (normalised, [-1, 1], after the safety filter):

    kind "drone": (vx, vy, vz, yaw_rate)  +vx forward, +vy left, +vz up, +yaw_rate left (CCW)
    kind "rover": (steering, throttle)     +steering left -> yaw rate, throttle -> forward speed

scaled by `MavlinkLimits` (m/s, rad/s) and converted to MAVLink's body NED signs. `send` returns
the setpoint as packed into the message, float32 (vx_mps, vy_mps, vz_mps, yaw_rate_rad_s) in
MAVLink's frame. The fail-safe command of the runtime (all zeros) is a hover / stop.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from lnn_control.deploy.runtime.actuators import Actuator

# type_mask bits of SET_POSITION_TARGET_LOCAL_NED: 1 = ignore that field.
IGNORE_POSITION = 0b0000_0000_0111
IGNORE_ACCELERATION = 0b0001_1100_0000
IGNORE_YAW = 0b0100_0000_0000
VELOCITY_YAW_RATE_MASK = IGNORE_POSITION | IGNORE_ACCELERATION | IGNORE_YAW
MAV_FRAME_BODY_OFFSET_NED = 9
HEARTBEAT_PERIOD_S = 1.0
MAV_TYPE_ONBOARD_CONTROLLER = 18
MAV_AUTOPILOT_INVALID = 8
Kind = Literal["drone", "rover"]
COMMAND_SIZES = {"drone": 4, "rover": 2}


@dataclass(frozen=True)
class MavlinkLimits:
    """Full-scale values of a normalised command."""

    max_speed_mps: float = 1.0  # forward / sideways
    max_climb_mps: float = 0.5  # vertical
    max_yaw_rate_rad_s: float = 1.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"MavlinkLimits.{name} must be a finite number > 0, got {value}")


def setpoint(
    command: np.ndarray | tuple[float, ...], kind: Kind, limits: MavlinkLimits
) -> np.ndarray:
    """(vx, vy, vz, yaw_rate) in MAVLink body NED (m/s, rad/s) for a normalised command."""
    if kind not in COMMAND_SIZES:
        raise ValueError(f"kind must be 'drone' or 'rover', got {kind!r}")
    values = np.asarray(command, dtype=np.float64).reshape(-1)
    if values.shape != (COMMAND_SIZES[kind],) or not np.all(np.isfinite(values)):
        raise ValueError(
            f"a {kind} command must be {COMMAND_SIZES[kind]} finite numbers, got {values.tolist()}"
        )
    values = np.clip(values, -1.0, 1.0)
    if kind == "rover":
        steering, throttle = values
        values = np.array([throttle, 0.0, 0.0, steering])
    vx, vy, vz, yaw_rate = values
    return np.array(
        [
            vx * limits.max_speed_mps,
            -vy * limits.max_speed_mps,  # +left -> NED +y is right
            -vz * limits.max_climb_mps,  # +up -> NED +z is down
            -yaw_rate * limits.max_yaw_rate_rad_s,  # +left (CCW) -> NED yaw rate is CW
        ],
        dtype=np.float32,
    )


class MavlinkActuator(Actuator):
    """Velocity / yaw-rate setpoints over MAVLink (pymavlink connection string, e.g.
    "udpout:127.0.0.1:14540", "tcp:127.0.0.1:5760" or "/dev/ttyAMA0,921600")."""

    failsafe_repeats = 3

    def __init__(
        self,
        url: str,
        kind: Kind = "rover",
        limits: MavlinkLimits | None = None,
        target_system: int = 1,
        target_component: int = 1,
        source_system: int = 255,
    ) -> None:
        if kind not in COMMAND_SIZES:
            raise ValueError(f"kind must be 'drone' or 'rover', got {kind!r}")
        self.url, self.kind = url, kind
        self.limits = limits or MavlinkLimits()
        self.target = (int(target_system), int(target_component))
        self.source_system = int(source_system)
        self._link: Any = None
        self._started = 0.0
        self._last_heartbeat = -math.inf

    def connect(self) -> None:
        """Open the link and send a first heartbeat; ImportError naming the extra."""
        try:
            from pymavlink import mavutil
        except ImportError as err:
            raise ImportError(
                "MavlinkActuator needs pymavlink: pip install 'lnn-control[deploy-mavlink]'"
            ) from err
        self._link = mavutil.mavlink_connection(self.url, source_system=self.source_system)
        self._started = time.monotonic()
        self._heartbeat(force=True)

    def _heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_heartbeat >= HEARTBEAT_PERIOD_S:
            self._link.mav.heartbeat_send(
                MAV_TYPE_ONBOARD_CONTROLLER, MAV_AUTOPILOT_INVALID, 0, 0, 0
            )
            self._last_heartbeat = now

    def send(self, command: np.ndarray | tuple[float, ...]) -> np.ndarray:
        """One SET_POSITION_TARGET_LOCAL_NED; returns the float32 setpoint packed into it."""
        if self._link is None:
            raise RuntimeError("MavlinkActuator: send() before connect()")
        vx, vy, vz, yaw_rate = (float(v) for v in setpoint(command, self.kind, self.limits))
        self._heartbeat()
        boot_ms = int((time.monotonic() - self._started) * 1000) % 2**32
        self._link.mav.set_position_target_local_ned_send(
            boot_ms, *self.target, MAV_FRAME_BODY_OFFSET_NED, VELOCITY_YAW_RATE_MASK,
            0.0, 0.0, 0.0, vx, vy, vz, 0.0, 0.0, 0.0, 0.0, yaw_rate,
        )  # fmt: skip
        return np.array([vx, vy, vz, yaw_rate], dtype=np.float32)

    def disconnect(self) -> None:
        """Close the link (idempotent)."""
        if self._link is not None:
            self._link.close()
            self._link = None
