"""The robot runtime: numpy, opencv and onnxruntime only (no torch, pybullet, gymnasium,
pydantic or yaml), and nothing else of lnn_control.

    model -> `OnnxPolicy` (model.py); cameras.py, actuators.py, mavlink.py, ros2.py: devices;
    safety.py / drone_safety.py: the `CommandFilter` and its car and drone presets;
    reader.py: camera reads off the control thread; loop.py: the fixed-rate loop (`run`);
    stopping.py: signals and exit codes; telemetry.py; receiver.py: the reference receiver;
    resource.py: the open/close base of every device.
"""
