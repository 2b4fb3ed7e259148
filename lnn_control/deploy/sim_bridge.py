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

The bridge receives like a robot must (`lnn_control.deploy.runtime.receiver.CommandReceiver`):
malformed datagrams are dropped and counted, sequence numbers that are not newer are ignored (a
replayed packet is never applied again, whatever its timestamp), and when no valid packet arrives
for `command_timeout_s` (default 0.5 s, as ros2_control's `cmd_vel_timeout`) the vehicle is
stopped: no further env step is applied and the episode ends with stop_reason "command_timeout".
Lockstep: a frame is answered by the newest valid command sent after the frame was pushed (the
sender's monotonic timestamp; bridge and runtime share the host's clock).

Everything stops by itself: after `steps` env steps, at termination, or on the command timeout;
then the camera stream ends and `run` returns.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

import lnn_control  # noqa: F401  (registers the envs)
from lnn_control.deploy.runtime.cameras import QueueCamera
from lnn_control.deploy.runtime.receiver import (
    DEFAULT_TIMEOUT_S,
    LOCALHOST,
    CommandReceiver,
    ReceivedCommand,
)
from lnn_control.deploy.runtime.resource import Resource

ENV_ID = "lnn_control/LaneKeeping-v0"
DEFAULT_COMMAND_TIMEOUT_S = DEFAULT_TIMEOUT_S
SOCKET_POLL_S = 0.01
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
        malformed, stale: datagrams dropped as malformed, ignored as not newer.
        silence_at_stop_s: on "command_timeout", seconds from the last valid packet to the stop.
    """

    frame_times_s: list[float] = field(default_factory=list)
    commands: list[tuple[int, float, float, float]] = field(default_factory=list)
    applied_steering: list[float] = field(default_factory=list)
    lane_departures: int = 0
    terminated: bool = False
    stop_reason: str = ""
    malformed: int = 0
    stale: int = 0
    silence_at_stop_s: float = float("nan")


class SimBridge(Resource):
    """LaneKeeping-v0 behind a `QueueCamera` and a UDP command socket on 127.0.0.1.

    Args:
        steps: env steps to run at most.
        seed: the episode's seed.
        image_shape: (H, W, 3) rendered and streamed (the model's shape).
        command_timeout_s: stop the vehicle when no valid command arrives for this long (s).
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
        self.receiver = CommandReceiver(LOCALHOST, 0, timeout_s=self.command_timeout_s)
        self.receiver.open()
        self.address: tuple[str, int] = self.receiver.address
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-bridge", daemon=True)
        self.error: BaseException | None = None

    def open(self) -> None:
        """Start the simulator thread (the socket is bound at construction)."""
        self._thread.start()

    def close(self) -> None:
        """Ask the thread to stop, wait for it, close the socket."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(JOIN_TIMEOUT_S)
        self.receiver.close()

    start = open
    stop = close

    def _wait_command(self, after_s: float) -> ReceivedCommand | None:
        """The newest valid command sent at or after `after_s` (sender's monotonic clock), or
        None when the receiver times out (no valid packet for `command_timeout_s`)."""
        receiver = self.receiver
        while not self._stop.is_set():
            command = receiver.poll(SOCKET_POLL_S)
            if command is not None and command.sent_s >= after_s:
                return command
            now_s = time.monotonic()
            if receiver.timed_out(now_s):
                self.result.silence_at_stop_s = receiver.silence_s(now_s)
                return None
        return None

    def _serve(self) -> None:
        result = self.result
        try:
            env = gym.make(ENV_ID, **self._env_kwargs)
            try:
                obs, _ = env.reset(seed=self.seed)
                result.stop_reason = "steps"
                self.receiver.restart_timer()  # the timeout counts from the first frame
                for _ in range(self.steps):
                    if self._stop.is_set():
                        result.stop_reason = "stopped"
                        break
                    pushed = time.monotonic()
                    self.camera.put(np.asarray(obs, dtype=np.uint8), pushed)
                    result.frame_times_s.append(pushed)
                    command = self._wait_command(pushed)
                    if command is None:  # stop the vehicle: no further step
                        result.stop_reason = "stopped" if self._stop.is_set() else "command_timeout"
                        break
                    result.commands.append(
                        (command.seq, command.sent_s, command.steering, command.throttle)
                    )
                    steering = float(np.clip(command.steering, -1.0, 1.0))
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
            result.malformed, result.stale = self.receiver.malformed, self.receiver.stale
            self.camera.end()
