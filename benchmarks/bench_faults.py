"""Fault matrix of the deploy runtime: each fault, the reaction, and the time from the fault to
the fail-safe on the wire (median and max over repeats), measured with real processes and a UDP
receiver on 127.0.0.1.

    .venv/bin/python benchmarks/bench_faults.py [--repeats 5] [--rate-hz 20]

- SIGTERM, SIGHUP, SIGINT: a real `lnn-control deploy` (folder camera, UDP actuator, telemetry)
  is signalled once it drives; the fault time is taken just before `os.kill`.
- exception, blocked camera, foreign-clock camera, bad frames: a child process (this script with
  --child) runs `lnn_control.deploy.run` with a camera that injects the fault and prints the
  fault's `time.monotonic()` (CLOCK_MONOTONIC is one clock for every process of a Linux host).
  For a camera that stops delivering (blocked, stale frames on another clock) the fault time is
  its last good frame, so the expected reaction is max_frame_age_s + at most one period.
- malformed and replayed packets: sprayed at the receiver while a child drives it; they must be
  dropped (counted) and never applied.
- receiver timeout: the sending child is SIGKILLed (nothing in a process survives that); the
  receiver's own timeout (0.5 s, `CommandReceiver`) must stop the vehicle.

The receiver is `lnn_control.deploy.runtime.receiver.CommandReceiver` (the reference robot
side), polled in a thread that stamps each datagram with `time.monotonic()` on arrival.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
IMAGE = (48, 64, 3)
MAX_FRAME_AGE_S = 0.2
MAX_BAD_FRAMES = 10
RECEIVER_TIMEOUT_S = 0.5
FAULT_AT_FRAME = 10
DRIVE_PACKETS_BEFORE_FAULT = 10
SPRAY_PACKETS = 50
POLL_S = 0.002
PROCESS_TIMEOUT_S = 120.0
FAILSAFE = (0.0, 0.0)
CHILD_FAULTS = ("exception", "blocked", "foreign_clock", "bad_frames", "drive")


# --- the child: the runtime with a fault-injecting camera ---------------------------------------


def child(fault: str, port: int, model_path: str, rate_hz: float) -> int:
    """Run the loop to 127.0.0.1:`port` with a camera injecting `fault`; returns the exit code."""
    from lnn_control.deploy import (
        Camera,
        Frame,
        OnnxPolicy,
        SafetyConfig,
        SafetyFilter,
        UdpActuator,
        exit_code,
        run,
    )

    class FaultCamera(Camera):
        """Fresh noise frames; from frame FAULT_AT_FRAME on, the fault."""

        def __init__(self) -> None:
            super().__init__(IMAGE)
            self.rng = np.random.default_rng(0)
            self.clock = time.time if fault == "foreign_clock" else time.monotonic
            self.last: Frame | None = None
            self.last_s = float("nan")  # monotonic time of the last good frame
            self.reads = 0
            self.release = threading.Event()

        def open(self) -> None:
            """Nothing to open."""

        def close(self) -> None:
            """Release a blocked read."""
            self.release.set()

        def read(self) -> Frame | None:
            """A frame, or the fault."""
            self.reads += 1
            if self.reads > FAULT_AT_FRAME and fault != "drive":
                return self.fault()
            image = self.rng.integers(0, 256, IMAGE, dtype=np.uint8)
            self.last = Frame(image, self.clock(), self.reads)
            self.last_s = time.monotonic()
            return self.last

        def fault(self) -> Frame | None:
            if self.reads == FAULT_AT_FRAME + 1:
                at_s = self.last_s if fault in ("blocked", "foreign_clock") else time.monotonic()
                print(f"FAULT {at_s!r}", flush=True)
            if fault == "exception":
                raise RuntimeError("injected camera failure")
            if fault == "blocked":
                self.release.wait(PROCESS_TIMEOUT_S)
                return None
            if fault == "foreign_clock":
                return self.last  # the same frame again: the camera stalled
            return Frame(np.zeros((10, 10, 3), np.uint8), self.clock(), self.reads)  # bad frame

    model = OnnxPolicy(model_path)
    config = SafetyConfig(throttle_min=0.0, throttle_max=0.3, max_frame_age_s=MAX_FRAME_AGE_S,
                          max_bad_frames=MAX_BAD_FRAMES)  # fmt: skip
    steps = None if fault == "drive" else FAULT_AT_FRAME + int(rate_hz)  # one second after
    with FaultCamera() as camera, UdpActuator(("127.0.0.1", port)) as actuator:
        try:
            summary = run(camera, model, SafetyFilter(config), actuator, rate_hz, steps)
        except RuntimeError:
            return exit_code("exception")
    return exit_code(summary.stop_reason)


# --- the parent: receiver, processes, measurements ------------------------------------------------


@dataclass
class Trial:
    """One run of one fault: exit code, seconds from the fault to the fail-safe (or to the
    receiver's stop) on the wire, and what else was checked."""

    rc: int | None = None
    latency_s: float | None = None
    last_word: int | None = None
    telemetry_complete: bool | None = None
    dropped: int = 0
    applied: int = 0


@dataclass
class Listener:
    """A `CommandReceiver` read in a thread: every applied command with its arrival time, and
    the first time the receiver timed out after it had commands."""

    commands: list[tuple[float, float, float]] = field(default_factory=list)
    timed_out_s: float | None = None

    def __post_init__(self) -> None:
        from lnn_control.deploy.runtime.receiver import CommandReceiver

        self.receiver = CommandReceiver(timeout_s=RECEIVER_TIMEOUT_S)
        self.receiver.open()
        self.port = self.receiver.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            for command in self.receiver.receive(POLL_S):
                self.commands.append((command.received_s, command.steering, command.throttle))
            now_s = time.monotonic()
            if self.commands and self.timed_out_s is None and self.receiver.timed_out(now_s):
                self.timed_out_s = now_s

    def close(self) -> None:
        """Stop the thread, close the socket."""
        self._stop.set()
        self._thread.join(2.0)
        self.receiver.close()

    def first_failsafe_after(self, t_s: float) -> float | None:
        """Arrival time of the first fail-safe command at or after `t_s`."""
        return next((r for r, *c in self.commands if r >= t_s and tuple(c) == FAILSAFE), None)

    def trailing_failsafes(self) -> int:
        """How many fail-safe commands end the stream."""
        count = 0
        for _, *command in reversed(self.commands):
            if tuple(command) != FAILSAFE:
                break
            count += 1
        return count


def wait_for(predicate: Callable[[], bool], timeout_s: float = PROCESS_TIMEOUT_S) -> None:
    """Poll `predicate` until true; TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("bench_faults: condition not met in time")
        time.sleep(0.005)


def deploy_argv(port: int, model: Path, frames: Path, telemetry: Path, rate_hz: float) -> list[str]:
    """`lnn-control deploy` with a folder camera and the UDP actuator to 127.0.0.1:`port`."""
    script = Path(sys.executable).with_name("lnn-control")
    argv = [str(script)] if script.is_file() else [sys.executable, "-m", "lnn_control.cli"]
    argv += [
        "deploy",
        "--config",
        str(REPO / "lnn_control" / "configs" / "deploy" / "racecar_udp.yaml"),
    ]
    for item in [f"model={model}", "camera.source=folder", f"camera.path={frames}",
                 "actuator.backend=udp", f"actuator.port={port}", f"loop.rate_hz={rate_hz}",
                 f"telemetry_csv={telemetry}"]:  # fmt: skip
        argv += ["--set", item]
    return argv


def signal_trial(sig: signal.Signals, model: Path, frames: Path, rate_hz: float) -> Trial:
    """One `lnn-control deploy` run stopped by `sig` once it drives."""
    listener = Listener()
    with tempfile.TemporaryDirectory() as folder:
        telemetry = Path(folder) / "telemetry.csv"
        argv = deploy_argv(listener.port, model, frames, telemetry, rate_hz)
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(listener.commands) >= DRIVE_PACKETS_BEFORE_FAULT)
            fault_s = time.monotonic()
            os.kill(process.pid, sig)
            rc = process.wait(PROCESS_TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
        time.sleep(0.05)
        rows = len(telemetry.read_text().splitlines()) - 1
    listener.close()
    wire_s = listener.first_failsafe_after(fault_s)
    return Trial(rc, None if wire_s is None else wire_s - fault_s,
                 listener.trailing_failsafes(), rows == len(listener.commands))  # fmt: skip


def child_process(fault: str, port: int, model: Path, rate_hz: float) -> subprocess.Popen[str]:
    """This script in --child mode."""
    argv = [sys.executable, __file__, "--child", fault, "--port", str(port),
            "--model", str(model), "--rate-hz", str(rate_hz)]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def camera_trial(fault: str, model: Path, rate_hz: float) -> Trial:
    """One child run with a camera fault; the fault time comes from the child."""
    listener = Listener()
    process = child_process(fault, listener.port, model, rate_hz)
    try:
        out, _ = process.communicate(timeout=PROCESS_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    time.sleep(0.05)
    listener.close()
    fault_s = float(next(line.split()[1] for line in out.splitlines() if line.startswith("FAULT")))
    wire_s = listener.first_failsafe_after(fault_s)
    latency_s = None if wire_s is None else wire_s - fault_s
    return Trial(process.returncode, latency_s, listener.trailing_failsafes())


def spray(fault: str, listener: Listener) -> Trial:
    """SPRAY_PACKETS malformed, or replayed (older seq, future stamp, steering 0.9) datagrams."""
    from lnn_control.deploy.runtime.actuators import encode_udp_packet

    last = listener.receiver.last
    newest_seq = last.seq if last is not None else 0
    applied_before, dropped_before = len(listener.commands), listener.receiver.malformed
    stale_before = listener.receiver.stale
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for i in range(SPRAY_PACKETS):
            if fault == "malformed":
                data = b"garbage" + bytes([i % 256])
            else:
                data = encode_udp_packet(newest_seq - i, time.monotonic() + 100.0, 0.9, 0.9)
            sock.sendto(data, ("127.0.0.1", listener.port))
    time.sleep(0.2)
    applied = [c for c in listener.commands[applied_before:] if c[1:] == (0.9, 0.9)]
    counter = listener.receiver.malformed - dropped_before
    if fault != "malformed":
        counter = listener.receiver.stale - stale_before
    return Trial(dropped=counter, applied=len(applied))


def receiver_trial(fault: str, model: Path, rate_hz: float) -> Trial:
    """A driving child; malformed or replayed datagrams at the receiver, or the child SIGKILLed
    (then the latency is kill -> the receiver's stop)."""
    listener = Listener()
    process = child_process("drive", listener.port, model, rate_hz)
    try:
        wait_for(lambda: len(listener.commands) >= DRIVE_PACKETS_BEFORE_FAULT)
        if fault != "sigkill":
            return spray(fault, listener)
        fault_s = time.monotonic()
        process.kill()
        rc = process.wait(PROCESS_TIMEOUT_S)
        wait_for(lambda: listener.timed_out_s is not None, 5.0)
        assert listener.timed_out_s is not None
        return Trial(rc, listener.timed_out_s - fault_s)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(PROCESS_TIMEOUT_S)
        listener.close()


# --- the table ----------------------------------------------------------------------------------


def ms(values: list[float]) -> tuple[str, str]:
    """Median and max in milliseconds, as text."""
    if not values:
        return "-", "-"
    return f"{1000 * statistics.median(values):.1f}", f"{1000 * max(values):.1f}"


def row(label: str, trials: list[Trial], reaction: str, bound: str) -> str:
    """One markdown row: what was checked, exit codes, the bound, median / max latency."""
    latencies = [t.latency_s for t in trials if t.latency_s is not None]
    codes = ", ".join(sorted({str(t.rc) for t in trials}))
    checks = []
    if trials[0].last_word is not None:
        words = "/".join(
            str(w) for w in sorted({t.last_word for t in trials if t.last_word is not None})
        )
        checks.append(f"ends on {words} fail-safe commands")
    if trials[0].telemetry_complete is not None:
        complete = sum(bool(t.telemetry_complete) for t in trials)
        checks.append(f"telemetry complete {complete}/{len(trials)}")
    if len(latencies) < len(trials):
        checks.append(f"NO FAIL-SAFE in {len(trials) - len(latencies)}")
    median, worst = ms(latencies)
    detail = f" ({'; '.join(checks)})" if checks else ""
    return (
        f"| {label} | {reaction}{detail} | {codes} | {bound} | {median} | {worst} | {len(trials)} |"
    )


def write_frames(folder: Path, count: int) -> Path:
    """`count` small PNG frames for the folder camera."""
    import cv2

    folder.mkdir()
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:05d}.png"), np.full(IMAGE, 40 + i % 200, np.uint8))
    return folder


def matrix(repeats: int, rate_hz: float) -> str:
    """Run every fault `repeats` times; the markdown table."""
    from lnn_control.deploy.export import export_policy
    from lnn_control.policies import build_policy

    period = f"< 1 period ({1000.0 / rate_hz:.0f} ms)"
    stall = (f"age limit {1000 * MAX_FRAME_AGE_S:.0f} ms + < 1 period "
             f"(< {1000 * MAX_FRAME_AGE_S + 1000.0 / rate_hz:.0f} ms)")  # fmt: skip
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        model, _ = export_policy(build_policy("ncp", IMAGE, seed=0), tmp / "m.onnx")
        frames = write_frames(tmp / "frames", int(rate_hz * 30))
        for name, sig in (("SIGTERM", signal.SIGTERM), ("SIGHUP", signal.SIGHUP),
                          ("SIGINT", signal.SIGINT)):  # fmt: skip
            trials = [signal_trial(sig, model, frames, rate_hz) for _ in range(repeats)]
            reaction = f"fail-safe x3 as last word, telemetry flushed, exit {128 + sig.value}"
            rows.append(row(f"{name} to `lnn-control deploy`", trials, reaction, period))
        for fault, (label, reaction, bound) in CAMERA_FAULTS.items():
            trials = [camera_trial(fault, model, rate_hz) for _ in range(repeats)]
            rows.append(row(label, trials, reaction, bound.format(period=period, stall=stall)))
        for fault, label in PACKET_FAULTS.items():
            trials = [receiver_trial(fault, model, rate_hz) for _ in range(repeats)]
            dropped, applied = sum(t.dropped for t in trials), sum(t.applied for t in trials)
            sent = repeats * SPRAY_PACKETS
            reaction = f"receiver: {dropped}/{sent} dropped and counted, {applied} applied"
            rows.append(f"| {label} | {reaction} | - | never applied | - | - | {repeats} |")
        trials = [receiver_trial("sigkill", model, rate_hz) for _ in range(repeats)]
        rows.append(row("SIGKILL of the runtime", trials, "none possible in the runtime; the "
                        "receiver's timeout stops the vehicle",
                        f"timeout {1000 * RECEIVER_TIMEOUT_S:.0f} ms after the last packet "
                        f"(which came < 1 period before the kill)"))  # fmt: skip
    header = [
        f"{platform.machine()}, Python {platform.python_version()}, {rate_hz:g} Hz loop, "
        f"max_frame_age_s {MAX_FRAME_AGE_S}, max_bad_frames {MAX_BAD_FRAMES}, receiver timeout "
        f"{RECEIVER_TIMEOUT_S} s, {repeats} repeats per fault, UDP on 127.0.0.1",
        "",
        "| fault | reaction (checked) | exit code | expected | median (ms) | max (ms) | n |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    return "\n".join(header + rows)


CAMERA_FAULTS = {
    "exception": ("exception in the loop (the camera raises)",
                  "fail-safe x3 as last word, exception re-raised, exit 1", "{period}"),
    "blocked": ("camera read() blocks (fault time: its last frame)",
                "loop keeps its period; stale_frame fail-safe", "{stall}"),
    "foreign_clock": ("camera stamping time.time() stalls (fault time: its last frame)",
                      "age judged from receipt; stale_frame fail-safe", "{stall}"),
    "bad_frames": ("bad frames (wrong shape) from the camera",
                   f"bad_frame fail-safe each period; {MAX_BAD_FRAMES} in a row stop the run, "
                   "exit 3", "{period}"),
}  # fmt: skip
"""fault -> (label, reaction, expected bound)."""
PACKET_FAULTS = {
    "malformed": "malformed packets",
    "replayed": "replayed packets (older seq, future stamp)",
}


def main() -> None:
    """CLI: the matrix, or one faulty run (--child, used by the matrix)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per fault")
    parser.add_argument("--rate-hz", type=float, default=20.0, help="control rate")
    parser.add_argument("--child", choices=CHILD_FAULTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(child(args.child, args.port, args.model, args.rate_hz))
    print(matrix(args.repeats, args.rate_hz))


if __name__ == "__main__":
    main()
