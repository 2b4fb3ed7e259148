"""Deployment: ONNX export (needs torch) and a torch-free real-time runtime.

Runtime (numpy, opencv, onnxruntime only; no torch, pybullet, gymnasium or pydantic):

    from lnn_control.deploy import OnnxPolicy, VideoFileCamera, UdpActuator, SafetyFilter, run
    model = OnnxPolicy("model.onnx")
    camera = VideoFileCamera("drive.mp4", model.image_shape)
    with camera, UdpActuator(("127.0.0.1", 9000)) as actuator:
        run(camera, model, SafetyFilter(SafetyConfig()), actuator, rate_hz=20.0)

Export: `from lnn_control.deploy.export import export_policy` (imports torch).
"""

from lnn_control.deploy.actuators import (
    Actuator,
    LogActuator,
    SerialActuator,
    UdpActuator,
    decode_udp_packet,
    encode_udp_packet,
    format_serial_line,
)
from lnn_control.deploy.cameras import (
    Camera,
    DeviceCamera,
    Frame,
    GStreamerCamera,
    ImageFolderCamera,
    QueueCamera,
    VideoFileCamera,
    fit_to_shape,
)
from lnn_control.deploy.model import OnnxPolicy, read_sidecar
from lnn_control.deploy.runtime import StepModel, run
from lnn_control.deploy.safety import SafetyConfig, SafetyFilter
from lnn_control.deploy.telemetry import TelemetryWriter

__all__ = [
    "Actuator",
    "Camera",
    "DeviceCamera",
    "Frame",
    "GStreamerCamera",
    "ImageFolderCamera",
    "LogActuator",
    "OnnxPolicy",
    "QueueCamera",
    "SafetyConfig",
    "SafetyFilter",
    "SerialActuator",
    "StepModel",
    "TelemetryWriter",
    "UdpActuator",
    "VideoFileCamera",
    "decode_udp_packet",
    "encode_udp_packet",
    "fit_to_shape",
    "format_serial_line",
    "read_sidecar",
    "run",
]
