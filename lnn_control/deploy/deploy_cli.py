"""`lnn-control deploy --config configs/deploy/racecar_udp.yaml [--set key=value]`.

Runs the exported model on the robot: camera -> model -> safety filter -> actuator. Needs
pydantic and pyyaml for the config (the runtime itself does not). Ctrl-C sends the fail-safe
and exits with 130.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lnn_control.config_io import add_set_argument, load_config
from lnn_control.deploy.actuators import Actuator, LogActuator, SerialActuator, UdpActuator
from lnn_control.deploy.cameras import (
    Camera,
    DeviceCamera,
    GStreamerCamera,
    ImageFolderCamera,
    VideoFileCamera,
)
from lnn_control.deploy.config import ActuatorSection, CameraSection, DeployConfig
from lnn_control.deploy.drone_safety import DRONE_COMMAND_SIZE, DroneSafetyFilter
from lnn_control.deploy.model import OnnxPolicy
from lnn_control.deploy.runtime import CommandFilter
from lnn_control.deploy.runtime import run as run_loop
from lnn_control.deploy.safety import SafetyFilter
from lnn_control.deploy.telemetry import CAR_SENT, DRONE_SENT, TelemetryWriter

EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--config and --set."""
    parser.add_argument("--config", type=Path, default=None, help="deploy YAML config")
    add_set_argument(parser)


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
        from lnn_control.deploy.mavlink import MavlinkActuator, MavlinkLimits

        limits = MavlinkLimits(
            max_speed_mps=section.max_speed_mps,
            max_climb_mps=section.max_climb_mps,
            max_yaw_rate_rad_s=section.max_yaw_rate_rad_s,
        )
        if action_dim == DRONE_COMMAND_SIZE:
            return MavlinkActuator(section.mavlink_url, kind="drone", limits=limits)
        return MavlinkActuator(section.mavlink_url, kind="rover", limits=limits)
    if section.backend == "ros2":
        from lnn_control.deploy.ros2 import Ros2Actuator

        return Ros2Actuator(
            section.ros2_topic,
            style=section.ros2_style,
            max_speed_mps=section.max_speed_mps,
            max_yaw_rate_rad_s=section.max_yaw_rate_rad_s,
            max_steering_rad=section.max_steering_rad,
            same_host_only=section.same_host_only,
        )
    return LogActuator()


def run(args: argparse.Namespace) -> int:
    """Load the config, open everything, run the loop; returns the exit code."""
    cfg = load_config(DeployConfig, args.config, args.overrides)
    model = OnnxPolicy(cfg.model)
    camera = make_camera(cfg.camera, model.image_shape)
    drone = model.action_dim == DRONE_COMMAND_SIZE
    actuator = make_actuator(cfg.actuator, model.action_dim)
    safety: CommandFilter = (
        DroneSafetyFilter(cfg.drone_safety.to_config())
        if drone
        else SafetyFilter(cfg.safety.to_safety_config())
    )
    sent_names: tuple[str, ...] = DRONE_SENT if drone else CAR_SENT
    telemetry = (
        TelemetryWriter(cfg.telemetry_csv, model.action_dim, sent_names)
        if cfg.telemetry_csv
        else None
    )
    try:
        with camera, actuator:
            if telemetry is not None:
                telemetry.open()
            try:
                summary = run_loop(
                    camera, model, safety, actuator, cfg.loop.rate_hz, cfg.loop.max_steps,
                    telemetry,
                )  # fmt: skip
            finally:
                if telemetry is not None:
                    telemetry.close()
    except KeyboardInterrupt:
        print("deploy: interrupted; fail-safe sent", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(
        f"deploy: {summary.steps} periods, {summary.model_steps} model steps, "
        f"{summary.overruns} overruns, fail-safe {summary.failsafe_counts}, "
        f"stopped: {summary.stop_reason}"
    )
    return 0
