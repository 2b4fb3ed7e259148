"""Per-step telemetry of the runtime as CSV: one row per command put on the wire.

Columns: step, time_s (monotonic), frame_index, frame_time_s (the camera's timestamp),
frame_received_s (monotonic time the runtime got the frame), frame_age_s (what the watchdog
judged), dt_s (fed to the model), model_latency_s, loop_time_s, raw_0..raw_{A-1} (model action,
blank if the model did not run), sent_<name> for each value the actuator reported sending
(steering, throttle for a car; vx, vy, vz, yaw_rate for the drone's MAVLink setpoint), failsafe
(0/1), event (watchdog or stop reason, "" if none).

One file per run: an earlier log is never truncated or appended to. When `path` exists, the
writer uses the first free `<stem>-<n><suffix>` (n = 1, 2, ...) and `path` then names the file
actually written. Each row is flushed as it is written, so a run that stops (signal, exception)
leaves every row it sent on disk.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from lnn_control.deploy.runtime.resource import Resource

MAX_RUN_FILES = 100_000
BASE_COLUMNS = (
    "step", "time_s", "frame_index", "frame_time_s", "frame_received_s", "frame_age_s", "dt_s",
    "model_latency_s", "loop_time_s",
)  # fmt: skip
CAR_SENT = ("steering", "throttle")
DRONE_SENT = ("vx", "vy", "vz", "yaw_rate")


@dataclass
class TelemetryRow:
    """One control period (times in seconds; NaN where not applicable)."""

    step: int
    time_s: float
    frame_index: int = -1
    frame_time_s: float = math.nan
    frame_received_s: float = math.nan
    frame_age_s: float = math.nan
    dt_s: float = math.nan
    model_latency_s: float = math.nan
    loop_time_s: float = math.nan
    raw_action: np.ndarray | None = None
    sent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    failsafe: bool = False
    event: str = ""


def new_run_path(path: Path) -> Path:
    """`path` if it does not exist, else the first free `<stem>-<n><suffix>`."""
    if not path.exists():
        return path
    for n in range(1, MAX_RUN_FILES):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"{path}: {MAX_RUN_FILES} telemetry files exist; clean the folder")


def _open_new(path: Path) -> IO[str]:
    """A new file at `path`, or at the next free run name if another process just took it."""
    while True:
        try:
            return open(path, "x", newline="")
        except FileExistsError:  # taken meanwhile by another process: the next name
            path = new_run_path(path)


class TelemetryWriter(Resource):
    """CSV writer for `TelemetryRow`s; `action_dim` fixes the raw_* columns, `sent_names` the
    sent_* columns (missing sent values are written as nan). One new file per run (see the
    module docstring); `path` is the file written once opened."""

    def __init__(
        self, path: str | Path, action_dim: int, sent_names: tuple[str, ...] = CAR_SENT
    ) -> None:
        self.path = Path(path)
        self.action_dim = int(action_dim)
        self.sent_names = tuple(sent_names)
        self._file: IO[str] | None = None
        self._writer: csv.writer | None = None  # type: ignore[valid-type]
        self.rows = 0

    @property
    def columns(self) -> list[str]:
        """The header."""
        raw = [f"raw_{i}" for i in range(self.action_dim)]
        sent = [f"sent_{name}" for name in self.sent_names]
        return [*BASE_COLUMNS, *raw, *sent, "failsafe", "event"]

    def open(self) -> None:
        """Create a new file (never an existing one) and write the header."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = _open_new(new_run_path(self.path))
        self.path = Path(self._file.name)
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.columns)
        self._file.flush()

    def write(self, row: TelemetryRow) -> None:
        """Append one row."""
        if self._writer is None or self._file is None:
            raise RuntimeError("TelemetryWriter: write() before open()")
        raw = (
            [""] * self.action_dim
            if row.raw_action is None
            else [f"{float(v):.6g}" for v in np.asarray(row.raw_action).reshape(-1)]
        )
        times = [
            row.frame_time_s, row.frame_received_s, row.frame_age_s, row.dt_s, row.model_latency_s
        ]  # fmt: skip
        values = np.full(len(self.sent_names), math.nan)
        given = np.asarray(row.sent, dtype=np.float64).reshape(-1)[: len(self.sent_names)]
        values[: given.size] = given
        sent = [f"{float(v):.6g}" for v in values]
        self._writer.writerow(
            [row.step, f"{row.time_s:.6f}", row.frame_index]
            + [f"{t:.6f}" for t in [*times, row.loop_time_s]]
            + [*raw, *sent, int(row.failsafe), row.event]
        )
        self.rows += 1
        self._file.flush()

    def close(self) -> None:
        """Flush and close."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None
