"""The runtime on a real video file with the UDP backend to a local receiver, plus telemetry."""

from __future__ import annotations

import csv
import itertools
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

from lnn_control.deploy.runtime.actuators import (
    UDP_PACKET_BYTES,
    UdpActuator,
    decode_udp_packet,
    encode_udp_packet,
)
from lnn_control.deploy.runtime.cameras import ImageFolderCamera, VideoFileCamera, fit_to_shape
from lnn_control.deploy.runtime.loop import run
from lnn_control.deploy.runtime.model import OnnxPolicy
from lnn_control.deploy.runtime.safety import SafetyConfig, SafetyFilter
from lnn_control.deploy.runtime.telemetry import TelemetryRow, TelemetryWriter
from tests.deploy.conftest import drive_image

VIDEO_FRAMES = 30
VIDEO_SIZE = (96, 160)  # (H, W): wider than the model's 48x64, so the crop is exercised
RATE_HZ = 100.0


def write_video(path: Path, frames: int = VIDEO_FRAMES) -> Path:
    """An MJPG .avi of `frames` synthetic road frames at VIDEO_SIZE."""
    height, width = VIDEO_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 20.0, (width, height))
    rng = np.random.default_rng(0)
    for step in range(frames):
        small = drive_image(0.0, step, rng)
        writer.write(cv2.resize(small[..., ::-1], (width, height)))
    writer.release()
    return path


class RecordingUdp(UdpActuator):
    """Keeps what `send` returned."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address)
        self.returned: list[np.ndarray] = []

    def send(self, command: np.ndarray | tuple[float, float]) -> np.ndarray:
        """Send and record."""
        sent = super().send(command)
        self.returned.append(sent)
        return sent


def test_udp_packet_round_trip() -> None:
    packet = encode_udp_packet(7, 12.5, -0.25, 0.5)
    assert len(packet) == UDP_PACKET_BYTES == 24
    assert decode_udp_packet(packet) == (7, 12.5, -0.25, 0.5)
    with pytest.raises(ValueError, match="magic"):
        decode_udp_packet(b"XXXX" + packet[4:])


def test_fit_to_shape_crops_centre() -> None:
    image = np.zeros((100, 400, 3), np.uint8)
    image[:, 150:250] = (255, 0, 0)  # blue in BGR, centred
    out = fit_to_shape(image, (48, 64, 3))
    assert out.shape == (48, 64, 3)
    assert out[24, 32, 2] == 255
    assert out[24, 32, 0] == 0
    assert out[24, 0, 2] == 0  # the sides were cropped, not squeezed in


def test_video_to_udp_receiver(exported: dict[str, Path], tmp_path: Path) -> None:
    video = write_video(tmp_path / "drive.avi")
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(1.0)
    model = OnnxPolicy(exported["ncp"])
    camera = VideoFileCamera(video, model.image_shape)
    actuator = RecordingUdp(receiver.getsockname())
    safety = SafetyFilter(SafetyConfig(max_frame_age_s=1.0, throttle_max=0.3))
    telemetry_path = tmp_path / "telemetry.csv"
    try:
        with camera, actuator, TelemetryWriter(telemetry_path, model.action_dim) as telemetry:
            summary = run(camera, model, safety, actuator, RATE_HZ, telemetry=telemetry)
        packets = [decode_udp_packet(receiver.recv(64)) for _ in actuator.returned]
    finally:
        receiver.close()
    assert summary.stop_reason == "camera_exhausted"
    assert summary.model_steps == VIDEO_FRAMES
    assert [p[0] for p in packets] == list(range(len(actuator.returned)))  # in order, no loss
    assert all(b[1] > a[1] for a, b in itertools.pairwise(packets))
    for (_, _, steering, throttle), sent in zip(packets, actuator.returned, strict=True):
        assert (steering, throttle) == (float(sent[0]), float(sent[1]))
    repeats = UdpActuator.failsafe_repeats  # the last word, sent 3 times over UDP
    assert all(np.array_equal(r, [0.0, 0.0]) for r in actuator.returned[-repeats:])
    with open(telemetry_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(actuator.returned)  # one row per datagram
    drive = [r for r in rows if r["event"] in ("", "no_frame")]
    frames = [r for r in drive if r["raw_0"]]  # periods that stepped the model
    assert len(frames) == VIDEO_FRAMES
    assert [float(r["sent_throttle"]) for r in frames] == pytest.approx([0.2] * VIDEO_FRAMES)
    assert [r["event"] for r in rows[-repeats:]] == ["end"] * repeats
    assert {r["failsafe"] for r in rows[-repeats:]} == {"1"}
    frame_times = [float(r["frame_time_s"]) for r in frames]
    assert all(b > a for a, b in itertools.pairwise(frame_times))
    dts = [float(r["dt_s"]) for r in frames[1:]]
    assert dts == pytest.approx(np.diff(frame_times).tolist(), abs=2e-6)  # dt = frame interval


def test_image_folder_camera(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((60, 80, 3), 40 * i, np.uint8))
    with ImageFolderCamera(tmp_path, (48, 64, 3)) as camera:
        frames = [camera.read() for _ in range(4)]
    assert [f.index for f in frames[:3] if f is not None] == [0, 1, 2]
    assert frames[3] is None
    assert camera.exhausted


def test_telemetry_never_truncates_an_earlier_log(tmp_path: Path) -> None:
    """One file per run: the second run with the same path writes t-1.csv, t.csv is kept."""
    path = tmp_path / "t.csv"
    with TelemetryWriter(path, action_dim=1) as first:
        first.write(TelemetryRow(0, 1.0, sent=np.array([0.1, 0.2], np.float32)))
    before = path.read_text()
    with TelemetryWriter(path, action_dim=1) as second:
        second.write(TelemetryRow(0, 2.0, sent=np.array([0.0, 0.0], np.float32)))
    assert path.read_text() == before
    assert second.path == tmp_path / "t-1.csv"
    with open(second.path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["time_s"] for r in rows] == ["2.000000"]
    with TelemetryWriter(path, action_dim=1) as third:
        pass
    assert third.path == tmp_path / "t-2.csv"


def test_telemetry_rows_are_on_disk_as_written(tmp_path: Path) -> None:
    """Each row is flushed: a process killed mid-run leaves every row it sent."""
    writer = TelemetryWriter(tmp_path / "t.csv", action_dim=1)
    writer.open()
    try:
        for step in range(3):
            writer.write(TelemetryRow(step, float(step)))
        assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 3
    finally:
        writer.close()


class _InterruptAfterSend:
    """A socket stand-in whose first sendto delivers, then raises KeyboardInterrupt (Ctrl-C
    landing between the send and the bookkeeping)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.interrupted = False

    def sendto(self, data: bytes, address: tuple[str, int]) -> int:
        sent = self.sock.sendto(data, address)
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return sent

    def close(self) -> None:
        self.sock.close()


def test_an_interrupted_send_never_reuses_a_sequence_number() -> None:
    """The fail-safe after an interrupted send must not repeat the interrupted packet's number
    (a receiver drops a repeated number: the fail-safe would be ignored)."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(1.0)
    actuator = UdpActuator(receiver.getsockname())
    try:
        actuator.connect()
        assert actuator._sock is not None
        actuator._sock = _InterruptAfterSend(actuator._sock)  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt):
            actuator.send((0.5, 0.2))
        actuator.send((0.0, 0.0))  # the fail-safe
        seqs = [decode_udp_packet(receiver.recv(64))[0] for _ in range(2)]
    finally:
        actuator.disconnect()
        receiver.close()
    assert seqs[1] != seqs[0]
