"""Hardware-in-the-loop without hardware: LaneKeeping-v0 plays the robot.

The bridge thread runs the simulator: it pushes each camera frame into a `QueueCamera` (the
runtime's camera), then waits for a steering command that the runtime sends with its ordinary
`UdpActuator` to the bridge's UDP socket on 127.0.0.1, and applies it with `env.step`. The
runtime is unchanged: camera -> model -> safety -> UDP. The bridge never reads the policy; the
robot side sees only pixels, the policy side only datagrams.

    bridge = SimBridge(steps=100, seed=0, image_shape=(64, 160, 3))
    with bridge:                                   # starts the env thread, binds 127.0.0.1
        with UdpActuator(bridge.address) as actuator:
            run(bridge.camera, model, SafetyFilter(), actuator, rate_hz=20.0)
    bridge.result                                  # BridgeResult: frames, commands, departures

Everything stops by itself: after `steps` env steps, at termination, or when no command arrives
for `command_timeout_s`; then the camera stream ends and `run` returns.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import gymnasium as gym
import numpy as np

import lnn_control  # noqa: F401  (registers the envs)
from lnn_control.deploy.actuators import UDP_PACKET_BYTES, decode_udp_packet
from lnn_control.deploy.cameras import QueueCamera

LOCALHOST = "127.0.0.1"
ENV_ID = "lnn_control/LaneKeeping-v0"
DEFAULT_COMMAND_TIMEOUT_S = 1.0
SOCKET_POLL_S = 0.05
JOIN_TIMEOUT_S = 10.0


@dataclass
class BridgeResult:
    """What the simulated robot saw and did.

    Attributes:
        frame_times_s: monotonic time (s) each frame was pushed, in order.
        commands: (seq, sender time s, steering, throttle) of each command applied.
        applied_steering: steering given to `env.step`, one per env step.
        lane_departures: env steps with info["lane_departure"].
        terminated: whether the episode ended (departure without intervention, end of road).
        stop_reason: "steps", "terminated", "command_timeout" or "stopped".
    """

    frame_times_s: list[float] = field(default_factory=list)
    commands: list[tuple[int, float, float, float]] = field(default_factory=list)
    applied_steering: list[float] = field(default_factory=list)
    lane_departures: int = 0
    terminated: bool = False
    stop_reason: str = ""


class SimBridge:
    """LaneKeeping-v0 behind a `QueueCamera` and a UDP command socket on 127.0.0.1.

    Args:
        steps: env steps to run at most.
        seed: the episode's seed.
        image_shape: (H, W, 3) rendered and streamed (the model's shape).
        command_timeout_s: stop when no command arrives for this long (s).
        env_kwargs: extra keyword arguments of `gym.make` (e.g. {"scenario": {...}}).
    """

    def __init__(
        self,
        steps: int = 100,
        seed: int = 0,
        image_shape: tuple[int, int, int] = (64, 160, 3),
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        env_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.steps = int(steps)
        self.seed = int(seed)
        self.image_shape = image_shape
        self.command_timeout_s = float(command_timeout_s)
        kwargs = dict(env_kwargs or {})
        scenario = dict(kwargs.pop("scenario", {}))
        scenario.update(image_height=image_shape[0], image_width=image_shape[1])
        self._env_kwargs = {"scenario": scenario, **kwargs}
        self.camera = QueueCamera(image_shape, read_timeout_s=command_timeout_s)
        self.result = BridgeResult()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOCALHOST, 0))
        self._sock.settimeout(SOCKET_POLL_S)
        self.address: tuple[str, int] = self._sock.getsockname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-bridge", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        """Start the simulator thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop, wait for it, close the socket."""
        self._stop.set()
        self._thread.join(JOIN_TIMEOUT_S)
        self._sock.close()

    def __enter__(self) -> SimBridge:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_command(self, after_s: float) -> tuple[int, float, float, float] | None:
        """The newest command sent at or after `after_s` (sender's monotonic clock), or None."""
        deadline = time.monotonic() + self.command_timeout_s
        newest: tuple[int, float, float, float] | None = None
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                data = self._sock.recv(UDP_PACKET_BYTES * 2)
            except TimeoutError:
                if newest is not None:
                    return newest
                continue
            command = decode_udp_packet(data)
            if command[1] >= after_s:
                newest = command
                self._sock.settimeout(0.0)
                try:  # drain anything already queued, keep the newest
                    while True:
                        newest = decode_udp_packet(self._sock.recv(UDP_PACKET_BYTES * 2))
                except (BlockingIOError, TimeoutError):
                    pass
                finally:
                    self._sock.settimeout(SOCKET_POLL_S)
                return newest
        return newest

    def _serve(self) -> None:
        result = self.result
        try:
            env = gym.make(ENV_ID, **self._env_kwargs)
            try:
                obs, _ = env.reset(seed=self.seed)
                result.stop_reason = "steps"
                for _ in range(self.steps):
                    if self._stop.is_set():
                        result.stop_reason = "stopped"
                        break
                    pushed = time.monotonic()
                    self.camera.put(np.asarray(obs, dtype=np.uint8), pushed)
                    result.frame_times_s.append(pushed)
                    command = self._wait_command(pushed)
                    if command is None:
                        result.stop_reason = "command_timeout"
                        break
                    result.commands.append(command)
                    steering = float(np.clip(command[2], -1.0, 1.0))
                    result.applied_steering.append(steering)
                    obs, _, terminated, truncated, info = env.step(
                        np.array([steering], dtype=np.float32)
                    )
                    result.lane_departures += int(bool(info.get("lane_departure", False)))
                    if terminated or truncated:
                        result.terminated = bool(terminated)
                        result.stop_reason = "terminated"
                        break
            finally:
                env.close()
        except BaseException as err:  # reported to the caller via `error`
            self.error = err
        finally:
            self.camera.end()
