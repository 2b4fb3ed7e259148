"""Devices and the safety filter from a deploy config (`lnn_control.deploy.config`).

camera = make_camera(cfg.camera, model.image_shape)
actuator = make_actuator(cfg.actuator, model.action_dim)
safety = make_filter(model.action_dim, car, drone)
"""

from __future__ import annotations

from lnn_control.deploy.config import ActuatorSection, CameraSection
from lnn_control.deploy.runtime.actuators import Actuator, LogActuator, SerialActuator, UdpActuator
from lnn_control.deploy.runtime.cameras import (
    Camera,
    DeviceCamera,
    GStreamerCamera,
    ImageFolderCamera,
    VideoFileCamera,
)
from lnn_control.deploy.runtime.drone_safety import (
    DRONE_COMMAND_SIZE,
    DroneSafetyConfig,
    DroneSafetyFilter,
)
from lnn_control.deploy.runtime.safety import CommandFilter, SafetyConfig, SafetyFilter


def make_camera(section: CameraSection, image_shape: tuple[int, int, int]) -> Camera:
    """The camera the config names (ValueError if its path/pipeline is missing)."""
    if section.source == "device":
        return DeviceCamera(section.device, image_shape)
    if section.source == "gstreamer":
        if not section.pipeline:
            raise ValueError("camera.source 'gstreamer' needs camera.pipeline")
        return GStreamerCamera(section.pipeline, image_shape)
    if not section.path:
        raise ValueError(f"camera.source {section.source!r} needs camera.path")
    if section.source == "video":
        return VideoFileCamera(section.path, image_shape)
    return ImageFolderCamera(section.path, image_shape)


def make_actuator(section: ActuatorSection, action_dim: int = 1) -> Actuator:
    """The actuator backend the config names; a 4-action (drone) policy needs MAVLink or log."""
    if action_dim == DRONE_COMMAND_SIZE and section.backend not in ("mavlink", "log"):
        raise ValueError(
            f"actuator.backend {section.backend!r} sends (steering, throttle); a 4-action drone "
            "policy needs backend mavlink or log"
        )
    if section.backend == "udp":
        return UdpActuator((section.host, section.port))
    if section.backend == "serial":
        return SerialActuator(section.serial_port, section.baudrate)
    if section.backend == "mavlink":
        from lnn_control.deploy.runtime.mavlink import MavlinkActuator, MavlinkLimits

        limits = MavlinkLimits(
            max_speed_mps=section.max_speed_mps,
            max_climb_mps=section.max_climb_mps,
            max_yaw_rate_rad_s=section.max_yaw_rate_rad_s,
        )
        if action_dim == DRONE_COMMAND_SIZE:
            return MavlinkActuator(section.mavlink_url, kind="drone", limits=limits)
        return MavlinkActuator(section.mavlink_url, kind="rover", limits=limits)
    if section.backend == "ros2":
        from lnn_control.deploy.runtime.ros2 import Ros2Actuator

        return Ros2Actuator(
            section.ros2_topic,
            style=section.ros2_style,
            max_speed_mps=section.max_speed_mps,
            max_yaw_rate_rad_s=section.max_yaw_rate_rad_s,
            max_steering_rad=section.max_steering_rad,
            same_host_only=section.same_host_only,
        )
    return LogActuator()


def make_filter(action_dim: int, car: SafetyConfig, drone: DroneSafetyConfig) -> CommandFilter:
    """The drone preset for a 4-action policy, the car preset otherwise."""
    return DroneSafetyFilter(drone) if action_dim == DRONE_COMMAND_SIZE else SafetyFilter(car)
