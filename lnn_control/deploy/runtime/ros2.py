"""ROS 2 backend: commands published as `geometry_msgs/Twist` (rclpy from the ros-* wheels,
optional extra `deploy-ros2`; imported only when a `Ros2Actuator` connects).

A command (steering, throttle) in [-1, 1] after the safety filter becomes one Twist on `topic`:

    linear.x   = throttle x max_speed_mps                     (m/s, +forward)
    angular.z  = steering x max_yaw_rate_rad_s   style "twist"      (rad/s, +left, REP 103)
               = steering x max_steering_rad     style "ackermann"  (front-wheel angle, rad,
                                                 +left: the cmd_angle_instead_rotvel convention
                                                 of Ackermann base drivers)

`send` returns (linear.x, angular.z) as published, float32 (2,). The runtime's fail-safe
(0, 0) publishes a zero Twist: stop, wheels straight.

`same_host_only=True` loads `fastdds_same_host.xml` (shared-memory transport only) before ROS
starts, so that the node never opens a network socket: for a ROS graph that lives on the robot's
own computer, and for tests. Otherwise the usual ROS 2 discovery applies (ROS_DOMAIN_ID etc.).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lnn_control.deploy.runtime.actuators import Actuator, _command

Style = Literal["twist", "ackermann"]
SAME_HOST_PROFILE = Path(__file__).with_name("fastdds_same_host.xml")
PROFILE_ENV = "FASTDDS_DEFAULT_PROFILES_FILE"
QUEUE_DEPTH = 10


class Ros2Actuator(Actuator):
    """Publishes Twist commands from a node of its own (own rclpy context)."""

    def __init__(
        self,
        topic: str = "cmd_vel",
        style: Style = "twist",
        max_speed_mps: float = 1.0,
        max_yaw_rate_rad_s: float = 1.0,
        max_steering_rad: float = 0.35,
        node_name: str = "lnn_control",
        same_host_only: bool = False,
    ) -> None:
        if style not in ("twist", "ackermann"):
            raise ValueError(f"style must be 'twist' or 'ackermann', got {style!r}")
        for name, value in (
            ("max_speed_mps", max_speed_mps),
            ("max_yaw_rate_rad_s", max_yaw_rate_rad_s),
            ("max_steering_rad", max_steering_rad),
        ):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        self.topic, self.style, self.node_name = topic, style, node_name
        self.max_speed_mps = float(max_speed_mps)
        self.angular_scale = float(max_yaw_rate_rad_s if style == "twist" else max_steering_rad)
        self.same_host_only = same_host_only
        self._context: Any = None
        self._node: Any = None
        self._publisher: Any = None
        self._twist: Any = None

    def connect(self) -> None:
        """Start a context, a node and the publisher; ImportError naming the extra."""
        if self.same_host_only:
            os.environ[PROFILE_ENV] = str(SAME_HOST_PROFILE)
        try:
            import rclpy
            from geometry_msgs.msg import Twist
        except ImportError as err:
            raise ImportError(
                "Ros2Actuator needs rclpy and geometry_msgs: pip install "
                "'lnn-control[deploy-ros2]' (or use a ROS 2 installation's Python)"
            ) from err
        self._twist = Twist
        self._context = rclpy.Context()
        rclpy.init(context=self._context)
        self._node = rclpy.create_node(self.node_name, context=self._context)
        self._publisher = self._node.create_publisher(Twist, self.topic, QUEUE_DEPTH)

    def send(self, command: np.ndarray | tuple[float, float]) -> np.ndarray:
        """Publish one Twist; returns (linear.x, angular.z) as published, float32 (2,)."""
        if self._publisher is None:
            raise RuntimeError("Ros2Actuator: send() before connect()")
        raw = _command(command)
        if not all(math.isfinite(v) for v in raw):
            raise ValueError(f"command must be finite (steering, throttle), got {raw}")
        steering, throttle = (float(np.clip(v, -1.0, 1.0)) for v in raw)
        message = self._twist()
        message.linear.x = throttle * self.max_speed_mps
        message.angular.z = steering * self.angular_scale
        self._publisher.publish(message)
        return np.array([message.linear.x, message.angular.z], dtype=np.float32)

    def disconnect(self) -> None:
        """Destroy the node and shut the context down (idempotent)."""
        if self._node is not None:
            self._node.destroy_node()
            self._node = None
            self._publisher = None
        if self._context is not None:
            self._context.try_shutdown()
            self._context = None
