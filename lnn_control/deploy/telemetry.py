"""Per-step telemetry of the runtime as CSV (one row per control period, flushed regularly).

Columns: step, time_s (monotonic), frame_index, frame_time_s, frame_age_s, dt_s (fed to the
model), model_latency_s, loop_time_s, raw_0..raw_{A-1} (model action, blank if the model did not
run), sent_<name> for each value the actuator reported sending (steering, throttle for a car;
vx, vy, vz, yaw_rate for the drone's MAVLink setpoint), failsafe (0/1), event (watchdog reason,
"" if none).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np

FLUSH_EVERY_ROWS = 20
BASE_COLUMNS = (
    "step", "time_s", "frame_index", "frame_time_s", "frame_age_s", "dt_s",
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
    frame_age_s: float = math.nan
    dt_s: float = math.nan
    model_latency_s: float = math.nan
    loop_time_s: float = math.nan
    raw_action: np.ndarray | None = None
    sent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    failsafe: bool = False
    event: str = ""


class TelemetryWriter:
    """CSV writer for `TelemetryRow`s; `action_dim` fixes the raw_* columns, `sent_names` the
    sent_* columns (missing sent values are written as nan)."""

    def __init__(
        self, path: str | Path, action_dim: int, sent_names: tuple[str, ...] = CAR_SENT
    ) -> None:
        self.path = Path(path)
        self.action_dim = int(action_dim)
        self.sent_names = tuple(sent_names)
        self._file: IO[str] | None = None
        self._writer: csv.writer | None = None  # type: ignore[valid-type]
        self._rows = 0

    @property
    def columns(self) -> list[str]:
        """The header."""
        raw = [f"raw_{i}" for i in range(self.action_dim)]
        sent = [f"sent_{name}" for name in self.sent_names]
        return [*BASE_COLUMNS, *raw, *sent, "failsafe", "event"]

    def open(self) -> None:
        """Create the file and write the header."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", newline="")  # noqa: SIM115 (closed in close())
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.columns)

    def write(self, row: TelemetryRow) -> None:
        """Append one row."""
        if self._writer is None or self._file is None:
            raise RuntimeError("TelemetryWriter: write() before open()")
        raw = (
            [""] * self.action_dim
            if row.raw_action is None
            else [f"{float(v):.6g}" for v in np.asarray(row.raw_action).reshape(-1)]
        )
        times = [row.frame_time_s, row.frame_age_s, row.dt_s, row.model_latency_s]
        values = np.full(len(self.sent_names), math.nan)
        given = np.asarray(row.sent, dtype=np.float64).reshape(-1)[: len(self.sent_names)]
        values[: given.size] = given
        sent = [f"{float(v):.6g}" for v in values]
        self._writer.writerow(
            [row.step, f"{row.time_s:.6f}", row.frame_index]
            + [f"{t:.6f}" for t in [*times, row.loop_time_s]]
            + [*raw, *sent, int(row.failsafe), row.event]
        )
        self._rows += 1
        if self._rows % FLUSH_EVERY_ROWS == 0:
            self._file.flush()

    def close(self) -> None:
        """Flush and close."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None

    def __enter__(self) -> TelemetryWriter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
