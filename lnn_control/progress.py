"""Progress for long work: a bar with an ETA on a terminal, plain periodic lines in a log.

    with Progress(total=40, desc="evaluate", unit="episode") as bar:
        for ...:
            bar.update()

On a terminal (stderr is a TTY) this is a tqdm bar. Otherwise (e.g. `make demo > log`) it
prints one plain line every `LOG_INTERVAL_S` seconds and one at the end, never carriage
returns: "[evaluate] 12/40 episode (30%), 41 s elapsed, ETA 96 s".
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

#: Seconds between two progress lines in a log (non-interactive output).
LOG_INTERVAL_S = 10.0


class Progress:
    """Counts finished items of `total` (see the module docstring); `enabled=False` is silent."""

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "item",
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval_s: float = LOG_INTERVAL_S,
    ) -> None:
        self.total, self.desc, self.unit = int(total), desc, unit
        self.count = 0
        self._stream = stream or sys.stderr
        self._interval_s = interval_s
        self._start = self._last = time.monotonic()
        self._enabled = enabled
        self._bar: Any = None
        if enabled and self._stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self._stream)

    def update(self, n: int = 1) -> None:
        """`n` more items finished."""
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if self._enabled and (now - self._last >= self._interval_s or self.count >= self.total):
            self._last = now
            self.write(self.line(now))

    def line(self, now_s: float | None = None) -> str:
        """The plain progress line (count, share, elapsed, ETA)."""
        elapsed = (time.monotonic() if now_s is None else now_s) - self._start
        share = self.count / self.total if self.total else 1.0
        eta = elapsed / self.count * (self.total - self.count) if self.count else float("nan")
        eta_text = "?" if eta != eta else f"{eta:.0f} s"
        return (
            f"[{self.desc}] {self.count}/{self.total} {self.unit} ({share:.0%}), "
            f"{elapsed:.0f} s elapsed, ETA {eta_text}"
        )

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.write(message, file=self._stream)
        else:
            print(message, file=self._stream, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
