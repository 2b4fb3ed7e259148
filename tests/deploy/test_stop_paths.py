"""Every way `lnn-control deploy` stops puts the fail-safe on the wire last and keeps every
telemetry row: real subprocesses (folder camera, UDP to a receiver on 127.0.0.1) stopped by
SIGINT, SIGTERM, SIGHUP, an exception (an unreadable image) and a normal end.

The five runs start together (one module fixture) to share their start-up time.
"""

from __future__ import annotations

import csv
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from lnn_control.deploy.runtime.actuators import UdpActuator, decode_udp_packet
from tests.deploy.conftest import SMALL_IMAGE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "lnn_control" / "configs" / "deploy" / "racecar_udp.yaml"
RATE_HZ = 50.0
FRAMES = 600  # 12 s at 50 Hz: the signalled runs are still driving when the signal comes
SIGNAL_AFTER_PACKETS = 10
BROKEN_FRAME = 15  # the exception run's unreadable image
RUN_TIMEOUT_S = 240.0
REPEATS = UdpActuator.failsafe_repeats
# case -> (signal or None, extra --set overrides, expected exit code, expected last event)
CASES: dict[str, tuple[signal.Signals | None, list[str], int, str]] = {
    "end": (None, ["loop.max_steps=20"], 0, "end"),
    "sigint": (signal.SIGINT, [], 130, "sigint"),
    "sigterm": (signal.SIGTERM, [], 143, "sigterm"),
    "sighup": (signal.SIGHUP, [], 129, "sighup"),
    "exception": (None, [], 1, "exception"),
}


@dataclass
class DeployRun:
    """One `lnn-control deploy` subprocess and what its receiver got."""

    name: str
    process: subprocess.Popen[bytes]
    receiver: socket.socket
    telemetry: Path
    stderr: Path
    packets: list[tuple[int, float, float, float]] = field(default_factory=list)
    signalled: bool = False


def lnn_control_command() -> list[str]:
    """The installed `lnn-control` script next to this Python, else `python -m lnn_control.cli`."""
    script = Path(sys.executable).with_name("lnn-control")
    if script.is_file():
        return [str(script)]
    found = shutil.which("lnn-control")
    return [found] if found else [sys.executable, "-m", "lnn_control.cli"]


def write_frames(folder: Path, count: int, broken_at: int | None = None) -> Path:
    folder.mkdir(parents=True)
    height, width, _ = SMALL_IMAGE
    for i in range(count):
        path = folder / f"{i:04d}.png"
        if i == broken_at:
            path.write_bytes(b"not a png")
        else:
            cv2.imwrite(str(path), np.full((height, width, 3), 30 + i % 200, np.uint8))
    return folder


def start(name: str, model: Path, frames: Path, tmp: Path) -> DeployRun:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    telemetry = tmp / f"{name}.csv"
    overrides = [
        f"model={model}", "camera.source=folder", f"camera.path={frames}",
        "actuator.backend=udp", "actuator.host=127.0.0.1",
        f"actuator.port={receiver.getsockname()[1]}", f"loop.rate_hz={RATE_HZ}",
        f"telemetry_csv={telemetry}", "safety.max_frame_age_s=1.0", *CASES[name][1],
    ]  # fmt: skip
    argv = [*lnn_control_command(), "deploy", "--config", str(CONFIG)]
    for item in overrides:
        argv += ["--set", item]
    stderr = tmp / f"{name}.stderr"
    with stderr.open("wb") as err:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO)
    return DeployRun(name, process, receiver, telemetry, stderr)


def serve(runs: list[DeployRun]) -> None:
    """Receive every datagram; signal each run after SIGNAL_AFTER_PACKETS; until all exit."""
    selector = selectors.DefaultSelector()
    for run in runs:
        selector.register(run.receiver, selectors.EVENT_READ, run)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.05):
            run = key.data
            run.packets.append(decode_udp_packet(run.receiver.recv(64)))
            sig = CASES[run.name][0]
            if sig is not None and not run.signalled and len(run.packets) >= SIGNAL_AFTER_PACKETS:
                run.process.send_signal(sig)
                run.signalled = True
        if all(run.process.poll() is not None for run in runs):
            time.sleep(0.1)  # the last datagrams are already queued
            for run in runs:
                while True:
                    try:
                        run.packets.append(decode_udp_packet(run.receiver.recv(64)))
                    except BlockingIOError:
                        break
            return


@pytest.fixture(scope="module")
def stop_runs(
    exported: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, DeployRun]:
    tmp = tmp_path_factory.mktemp("stop_paths")
    frames = write_frames(tmp / "frames", FRAMES)
    broken = write_frames(tmp / "broken", 2 * BROKEN_FRAME, broken_at=BROKEN_FRAME)
    runs = [
        start(name, exported["ncp"], broken if name == "exception" else frames, tmp)
        for name in CASES
    ]
    try:
        serve(runs)
    finally:
        for run in runs:
            if run.process.poll() is None:
                run.process.kill()
            run.process.wait(10)
            run.receiver.close()
    return {run.name: run for run in runs}


@pytest.mark.parametrize("name", list(CASES))
def test_stop_path_ends_on_the_failsafe(name: str, stop_runs: dict[str, DeployRun]) -> None:
    run = stop_runs[name]
    expected_rc = CASES[name][2]
    log = run.stderr.read_text()[-2000:]
    assert run.process.returncode == expected_rc, log
    packets = run.packets
    assert len(packets) > REPEATS
    driving = [p for p in packets if (p[2], p[3]) != (0.0, 0.0)]
    assert driving, "the run never drove"
    assert [(p[2], p[3]) for p in packets[-REPEATS:]] == [(0.0, 0.0)] * REPEATS  # last word
    seqs = [p[0] for p in packets]
    assert seqs == list(range(len(packets)))  # none lost, none reused


@pytest.mark.parametrize("name", list(CASES))
def test_stop_path_keeps_every_telemetry_row(name: str, stop_runs: dict[str, DeployRun]) -> None:
    run = stop_runs[name]
    _, _, _, expected_event = CASES[name]
    files = sorted(run.telemetry.parent.glob(f"{run.telemetry.stem}*.csv"))
    assert files == [run.telemetry]
    with run.telemetry.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(run.packets)  # one row per datagram: no lost tail
    sent = [(float(r["sent_steering"]), float(r["sent_throttle"])) for r in rows]
    on_wire = [(p[2], p[3]) for p in run.packets]
    np.testing.assert_allclose(sent, on_wire, atol=1e-6)
    assert [r["event"] for r in rows[-REPEATS:]] == [expected_event] * REPEATS
    assert {r["failsafe"] for r in rows[-REPEATS:]} == {"1"}
