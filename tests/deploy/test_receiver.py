"""The robot side of the UDP format: malformed and replayed datagrams, sequence wrap-around and
the receiver's own timeout, against `CommandReceiver` and a real `SimBridge` on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from lnn_control.deploy.runtime.actuators import SEQ_MODULO, UdpActuator, encode_udp_packet
from lnn_control.deploy.runtime.cameras import QueueCamera
from lnn_control.deploy.runtime.loop import run
from lnn_control.deploy.runtime.receiver import CommandReceiver, parse_packet, seq_newer
from lnn_control.deploy.runtime.safety import SafetyConfig, SafetyFilter
from lnn_control.deploy.sim_bridge import DEFAULT_COMMAND_TIMEOUT_S, SimBridge
from tests.deploy.fakes import ScriptedModel

SHAPE = (48, 64, 3)
FRAME_WAIT_S = 10.0
TIMEOUT_SLACK_S = 0.1
MALFORMED = [
    b"garbage",
    b"",
    b"XXXX" + encode_udp_packet(1, 1.0, 0.1, 0.2)[4:],  # wrong magic
    encode_udp_packet(1, 1.0, 0.1, 0.2) + b"\0",  # too long
    encode_udp_packet(1, 1.0, float("nan"), 0.2),
    encode_udp_packet(1, float("inf"), 0.1, 0.2),
    encode_udp_packet(1, 1.0, 0.1, 7.0),  # out of [-1, 1]
]


def test_seq_newer_wraps_around() -> None:
    top = SEQ_MODULO - 1
    for seq, last in [(1, 0), (0, top), (5, top - 5)]:
        assert seq_newer(seq, last), (seq, last)
    for seq, last in [(0, 0), (top, 0), (0, 1)]:
        assert not seq_newer(seq, last), (seq, last)
    assert not seq_newer(SEQ_MODULO // 2, 0)  # half the space away: ambiguous, not newer


def test_receiver_drops_malformed_and_stale_and_times_out() -> None:
    receiver = CommandReceiver(timeout_s=0.5)
    now = 1000.0
    receiver.restart_timer(now)
    for data in MALFORMED:
        assert parse_packet(data) is None
        assert receiver.accept(data, now) is None
    assert receiver.malformed == len(MALFORMED)
    top = SEQ_MODULO - 1
    for i, seq in enumerate([top - 1, top, 0, 1]):  # across the wrap
        assert receiver.accept(encode_udp_packet(seq, 1.0, 0.1 * i, 0.2), now + 0.01 * i)
    assert receiver.accept(encode_udp_packet(top, 99.0, 0.9, 0.9), now + 0.05) is None  # replay
    assert receiver.accept(encode_udp_packet(1, 99.0, 0.9, 0.9), now + 0.05) is None  # duplicate
    assert (receiver.stale, receiver.accepted) == (2, 4)
    assert receiver.command(now + 0.1) == pytest.approx((0.3, 0.2))
    assert receiver.command(now + 0.03 + 0.5 + 0.01) == (0.0, 0.0)  # timed out: stop
    # after a timeout a restarted sender (counting from 0 again) takes over
    assert receiver.accept(encode_udp_packet(0, 0.0, -0.2, 0.1), now + 2.0) is not None
    assert receiver.command(now + 2.0) == pytest.approx((-0.2, 0.1))


def next_frame(camera: QueueCamera) -> None:
    """Wait for the bridge's next frame (the robot's camera)."""
    deadline = time.monotonic() + FRAME_WAIT_S
    while camera.read() is None:
        assert time.monotonic() < deadline, "no frame from the bridge"


@pytest.fixture
def sender() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield sock
    sock.close()


def test_bridge_survives_malformed_datagrams(sender: socket.socket) -> None:
    """Garbage sprayed at the bridge while the real runtime drives it: dropped and counted."""
    # a generous command timeout: a cold first env build must not end this run (that path has
    # its own test below)
    bridge = SimBridge(
        steps=15, seed=0, image_shape=SHAPE, env_kwargs={"intervention": True},
        command_timeout_s=5.0,
    )  # fmt: skip
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=1.0, max_steering_rate_per_s=100.0))
    stop = threading.Event()

    def spray() -> None:
        while not stop.is_set():
            for data in MALFORMED:
                sender.sendto(data, bridge.address)
            time.sleep(0.01)

    sprayer = threading.Thread(target=spray, daemon=True)
    with bridge, UdpActuator(bridge.address) as actuator:
        sprayer.start()
        try:
            run(bridge.camera, ScriptedModel([[0.3]]), safety, actuator, 50.0, max_steps=500)
        finally:
            stop.set()
            sprayer.join(2.0)
    result = bridge.result
    assert bridge.error is None
    assert result.stop_reason == "steps"
    assert len(result.applied_steering) == 15
    assert result.applied_steering == pytest.approx([0.3] * 15, abs=1e-6)
    assert result.malformed >= len(MALFORMED)


def test_bridge_ignores_replayed_sequence_numbers(sender: socket.socket) -> None:
    """A replayed old packet with a future timestamp is never applied again."""
    bridge = SimBridge(steps=4, seed=0, image_shape=SHAPE, env_kwargs={"intervention": True})
    with bridge:
        for seq in range(3):
            next_frame(bridge.camera)
            sender.sendto(
                encode_udp_packet(seq, time.monotonic(), 0.1 * (seq + 1), 0.2), bridge.address
            )
        next_frame(bridge.camera)
        future_s = time.monotonic() + 100.0
        sender.sendto(encode_udp_packet(0, future_s, 0.9, 0.2), bridge.address)  # replay
        time.sleep(0.1)
        sender.sendto(encode_udp_packet(3, time.monotonic(), -0.4, 0.2), bridge.address)
        deadline = time.monotonic() + FRAME_WAIT_S
        while len(bridge.result.applied_steering) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert bridge.error is None
    assert [c[0] for c in bridge.result.commands] == [0, 1, 2, 3]
    assert bridge.result.applied_steering == pytest.approx([0.1, 0.2, 0.3, -0.4], abs=1e-6)
    assert bridge.result.stale == 1


def test_bridge_stops_the_vehicle_on_its_own_timeout(sender: socket.socket) -> None:
    """The sender goes silent (SIGKILL, power loss): the bridge stops within its timeout."""
    assert DEFAULT_COMMAND_TIMEOUT_S == 0.5  # as ros2_control's cmd_vel_timeout
    bridge = SimBridge(steps=50, seed=0, image_shape=SHAPE, env_kwargs={"intervention": True})
    with bridge:
        for seq in range(2):
            next_frame(bridge.camera)
            sender.sendto(encode_udp_packet(seq, time.monotonic(), 0.1, 0.2), bridge.address)
        silent_from_s = time.monotonic()
        while not bridge.camera.exhausted and time.monotonic() < silent_from_s + FRAME_WAIT_S:
            bridge.camera.read()
        stopped_after_s = time.monotonic() - silent_from_s
    result = bridge.result
    assert bridge.error is None
    assert result.stop_reason == "command_timeout"
    assert len(result.applied_steering) == 2  # nothing applied after the silence
    assert result.silence_at_stop_s >= DEFAULT_COMMAND_TIMEOUT_S
    assert result.silence_at_stop_s <= DEFAULT_COMMAND_TIMEOUT_S + TIMEOUT_SLACK_S
    assert stopped_after_s <= DEFAULT_COMMAND_TIMEOUT_S + 2 * TIMEOUT_SLACK_S
    assert np.isfinite(result.silence_at_stop_s)
