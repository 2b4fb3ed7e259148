"""The deploy config (pydantic; imported only by the CLI, never by the runtime core).

cfg = load_config(DeployConfig, "deploy/racecar_udp", ["actuator.port=9001"])
car, drone = cfg.safety.to_safety_config(), cfg.drone_safety.to_config()   # full checks

Every number must be finite (NaN and Inf are refused when the config loads). The safety
sections are checked in full (ranges and relations between keys: fail-safe and cruise inside
the limits, max_frame_age_s in (0, 1], rates > 0) by the runtime's dataclasses; their one-line
error names the key as `safety.<key>` / `drone_safety.<key>`. `lnn-control deploy` runs both
checks before it opens the model or any device.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from lnn_control.config_io import StrictModel
from lnn_control.deploy.runtime.drone_safety import DroneSafetyConfig
from lnn_control.deploy.runtime.safety import (
    DEFAULT_CRUISE_THROTTLE,
    DEFAULT_MAX_BAD_FRAMES,
    DEFAULT_MAX_FRAME_AGE_S,
    DEFAULT_MAX_OVERRUNS,
    DEFAULT_MAX_STEERING_RATE_PER_S,
    MAX_FRAME_AGE_LIMIT_S,
    SafetyConfig,
)

DEFAULT_UDP_PORT = 9000
DEFAULT_RATE_HZ = 20.0


class DeploySection(StrictModel):
    """A deploy config section: unknown keys and non-finite numbers are refused."""

    model_config = ConfigDict(allow_inf_nan=False)  # merged with StrictModel's settings


def _named(section: str, err: ValueError) -> ValueError:
    """The dataclass's one-line error with the config section in front of the key."""
    return ValueError(f"{section}.{err}")


class CameraSection(DeploySection):
    """source "device" (index `device`), "video" / "folder" (`path`), "gstreamer" (`pipeline`)."""

    source: Literal["device", "video", "folder", "gstreamer"] = "device"
    device: int = Field(0, ge=0)
    path: str | None = None
    pipeline: str | None = None


class ActuatorSection(DeploySection):
    """backend "udp" (host, port), "serial" (serial_port, baudrate), "mavlink" (mavlink_url;
    velocity / yaw-rate setpoints for a PX4 / ArduPilot rover), "ros2" (ros2_topic, ros2_style;
    geometry_msgs/Twist) or "log" (dry run). Speeds in m/s, rates in rad/s, angles in rad."""

    backend: Literal["udp", "serial", "mavlink", "ros2", "log"] = "log"
    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_UDP_PORT, ge=1, le=65535)
    serial_port: str = "/dev/ttyACM0"
    baudrate: int = Field(115_200, gt=0)
    mavlink_url: str = "udpout:127.0.0.1:14540"
    ros2_topic: str = "cmd_vel"
    ros2_style: Literal["twist", "ackermann"] = "twist"
    same_host_only: bool = Field(False, description="ROS 2 over shared memory only")
    max_speed_mps: float = Field(1.0, gt=0)
    max_climb_mps: float = Field(0.5, gt=0, description="MAVLink drone: full-scale climb rate")
    max_yaw_rate_rad_s: float = Field(1.0, gt=0)
    max_steering_rad: float = Field(0.35, gt=0)


class SafetySection(DeploySection):
    """See `lnn_control.deploy.runtime.safety.SafetyConfig` (same fields and units)."""

    steering_min: float = -1.0
    steering_max: float = 1.0
    throttle_min: float = -1.0
    throttle_max: float = 1.0
    cruise_throttle: float = DEFAULT_CRUISE_THROTTLE
    max_steering_rate_per_s: float = Field(DEFAULT_MAX_STEERING_RATE_PER_S, gt=0)
    max_frame_age_s: float = Field(DEFAULT_MAX_FRAME_AGE_S, gt=0, le=MAX_FRAME_AGE_LIMIT_S)
    max_overruns: int = Field(DEFAULT_MAX_OVERRUNS, ge=1)
    failsafe_steering: float = 0.0
    failsafe_throttle: float = 0.0
    max_bad_frames: int = Field(DEFAULT_MAX_BAD_FRAMES, ge=1)

    def to_safety_config(self) -> SafetyConfig:
        """The runtime's dataclass; ValueError "safety.<key> must be ..." if a check fails."""
        try:
            return SafetyConfig(**self.model_dump())
        except ValueError as err:
            raise _named("safety", err) from None


class DroneSafetySection(DeploySection):
    """See `lnn_control.deploy.runtime.drone_safety.DroneSafetyConfig` (4-action policies)."""

    max_horizontal: float = Field(1.0, gt=0, le=1)
    max_vertical: float = Field(1.0, gt=0, le=1)
    max_yaw_rate: float = Field(1.0, gt=0, le=1)
    max_change_per_s: float = Field(4.0, gt=0)
    max_frame_age_s: float = Field(DEFAULT_MAX_FRAME_AGE_S, gt=0, le=MAX_FRAME_AGE_LIMIT_S)
    max_overruns: int = Field(DEFAULT_MAX_OVERRUNS, ge=1)
    max_bad_frames: int = Field(DEFAULT_MAX_BAD_FRAMES, ge=1)

    def to_config(self) -> DroneSafetyConfig:
        """The runtime's dataclass; ValueError "drone_safety.<key> must be ..." on a bad value."""
        try:
            return DroneSafetyConfig(**self.model_dump())
        except ValueError as err:
            raise _named("drone_safety", err) from None


class LoopSection(DeploySection):
    """Control rate (Hz) and an optional step limit."""

    rate_hz: float = Field(DEFAULT_RATE_HZ, gt=0, le=1000)
    max_steps: int | None = Field(None, ge=1)


class DeployConfig(DeploySection):
    """`lnn-control deploy` config: the exported model, camera, actuator, safety, loop."""

    model: str = "model.onnx"
    camera: CameraSection = CameraSection()
    actuator: ActuatorSection = ActuatorSection()
    safety: SafetySection = SafetySection()
    drone_safety: DroneSafetySection = DroneSafetySection()
    loop: LoopSection = LoopSection()
    telemetry_csv: str | None = Field(
        None, description="one new CSV per run; an existing file is kept (name-<n>.csv instead)"
    )
