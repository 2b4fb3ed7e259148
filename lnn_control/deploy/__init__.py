"""Deployment: ONNX export (needs torch) and a torch-free real-time runtime.

Runtime (numpy, opencv, onnxruntime only; no torch, pybullet, gymnasium or pydantic):

    from lnn_control.deploy import OnnxPolicy, VideoFileCamera, UdpActuator, SafetyFilter, run
    model = OnnxPolicy("model.onnx")
    camera = VideoFileCamera("drive.mp4", model.image_shape)
    with stop_on_signals(StopFlag()) as flag, camera, UdpActuator(("127.0.0.1", 9000)) as actuator:
        run(camera, model, SafetyFilter(SafetyConfig()), actuator, rate_hz=20.0, stop=flag)

The robot side of the UDP format: `CommandReceiver` (drops malformed and stale packets, stops
on its own timeout). Guarantees and limits: docs/safety.md.

Export: `from lnn_control.deploy.export import export_policy` (imports torch).
"""

from lnn_control.deploy.runtime.actuators import (
    Actuator,
    LogActuator,
    SerialActuator,
    UdpActuator,
    decode_udp_packet,
    encode_udp_packet,
    format_serial_line,
)
from lnn_control.deploy.runtime.cameras import (
    Camera,
    DeviceCamera,
    Frame,
    GStreamerCamera,
    ImageFolderCamera,
    QueueCamera,
    VideoFileCamera,
    fit_to_shape,
)
from lnn_control.deploy.runtime.loop import RunSummary, StepModel, run
from lnn_control.deploy.runtime.model import OnnxPolicy, read_sidecar
from lnn_control.deploy.runtime.receiver import CommandReceiver
from lnn_control.deploy.runtime.resource import Resource
from lnn_control.deploy.runtime.safety import (
    CommandFilter,
    SafetyConfig,
    SafetyFilter,
    WatchdogLimits,
)
from lnn_control.deploy.runtime.stopping import StopFlag, exit_code, stop_on_signals
from lnn_control.deploy.runtime.telemetry import TelemetryWriter

__all__ = [
    "Actuator",
    "Camera",
    "CommandFilter",
    "CommandReceiver",
    "DeviceCamera",
    "Frame",
    "GStreamerCamera",
    "ImageFolderCamera",
    "LogActuator",
    "OnnxPolicy",
    "QueueCamera",
    "Resource",
    "RunSummary",
    "SafetyConfig",
    "SafetyFilter",
    "SerialActuator",
    "StepModel",
    "StopFlag",
    "TelemetryWriter",
    "UdpActuator",
    "VideoFileCamera",
    "WatchdogLimits",
    "decode_udp_packet",
    "encode_udp_packet",
    "exit_code",
    "fit_to_shape",
    "format_serial_line",
    "read_sidecar",
    "run",
    "stop_on_signals",
]
