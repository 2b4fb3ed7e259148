"""The ROS 2 backend publishing to a subscriber in another process (shared memory only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lnn_control.deploy.runtime.ros2 import PROFILE_ENV, SAME_HOST_PROFILE, Ros2Actuator

pytest.importorskip("rclpy")
pytest.importorskip("geometry_msgs.msg")

SUBSCRIBER = """
import json, sys, time
import rclpy
from geometry_msgs.msg import Twist
rclpy.init()
node = rclpy.create_node("lnn_control_test_listener")
seen = []
node.create_subscription(Twist, sys.argv[1], lambda m: seen.append((m.linear.x, m.angular.z)), 10)
print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline and len(seen) < 3:
    rclpy.spin_once(node, timeout_sec=0.05)
print(json.dumps(seen), flush=True)
node.destroy_node()
rclpy.shutdown()
"""


@pytest.mark.slow
@pytest.mark.parametrize(("style", "angular"), [("twist", 0.5 * 2.0), ("ackermann", 0.5 * 0.3)])
def test_twist_reaches_a_local_subscriber(tmp_path: Path, style: str, angular: float) -> None:
    topic = f"lnn_test_{style}_{os.getpid()}"
    script = tmp_path / "listener.py"
    script.write_text(SUBSCRIBER)
    env = {**os.environ, PROFILE_ENV: str(SAME_HOST_PROFILE)}
    listener = subprocess.Popen(
        [sys.executable, str(script), topic, "30"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert listener.stdout is not None
    assert listener.stdout.readline().strip() == "ready"
    actuator = Ros2Actuator(
        topic,
        style=style,  # type: ignore[arg-type]
        max_speed_mps=1.5,
        max_yaw_rate_rad_s=2.0,
        max_steering_rad=0.3,
        same_host_only=True,
    )
    try:
        with actuator:
            deadline = time.monotonic() + 30
            while listener.poll() is None and time.monotonic() < deadline:
                sent = actuator.send((0.5, 0.4))
                time.sleep(0.05)
        output = listener.communicate(timeout=30)[0].strip().splitlines()[-1]
    finally:
        listener.kill()
    received = json.loads(output)
    assert len(received) >= 3, "the subscriber saw fewer than 3 commands in 30 s"
    np.testing.assert_allclose(received[0], [0.4 * 1.5, angular], rtol=1e-6)
    np.testing.assert_allclose(sent, received[-1], rtol=1e-6)


def test_bad_arguments_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="style must be 'twist' or 'ackermann'"):
        Ros2Actuator(style="tank")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_speed_mps must be a finite number > 0"):
        Ros2Actuator(max_speed_mps=-1.0)
    with pytest.raises(RuntimeError, match="before connect"):
        Ros2Actuator().send((0.0, 0.0))


def test_deploy_config_builds_the_ros2_backend() -> None:
    from lnn_control.deploy.config import ActuatorSection
    from lnn_control.deploy.factory import make_actuator

    section = ActuatorSection(
        backend="ros2", ros2_topic="/car/cmd", ros2_style="ackermann", max_steering_rad=0.4
    )
    actuator = make_actuator(section)
    assert isinstance(actuator, Ros2Actuator)
    assert (actuator.topic, actuator.style, actuator.angular_scale) == (
        "/car/cmd",
        "ackermann",
        0.4,
    )
