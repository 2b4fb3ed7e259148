"""Orderly stops: signals become a flag that the control loop polls, and exit codes say why.

    flag = StopFlag()
    with stop_on_signals(flag):            # SIGINT, SIGTERM, SIGHUP -> flag.request("sigterm")
        summary = run(..., stop=flag)      # ends its period, sends the fail-safe, returns
    sys.exit(exit_code(summary.stop_reason))

The handlers only set the flag (one attribute write): they never raise into whatever code the
signal interrupted, so no path can skip the fail-safe. The loop notices the flag within a few
milliseconds (it polls while it waits), puts the fail-safe on the wire and returns. SIGKILL and
power loss cannot be caught: the receiving side's own timeout covers them (docs/safety.md).

Exit codes of `lnn-control deploy` (`EXIT_CODES`):

    0    normal end (camera exhausted, loop.max_steps reached)
    1    an exception stopped the loop (the fail-safe was sent first)
    2    bad config or arguments (nothing was opened)
    3    too many consecutive bad frames (safety.max_bad_frames)
    129  SIGHUP     130  SIGINT (Ctrl-C)     143  SIGTERM     (128 + signal number)
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_log = logging.getLogger(__name__)

SIGNAL_REASONS: dict[str, str] = {"SIGINT": "sigint", "SIGTERM": "sigterm", "SIGHUP": "sighup"}
"""Signal name -> stop reason (SIGHUP does not exist on Windows and is skipped there)."""
EXIT_OK = 0
EXIT_EXCEPTION = 1
EXIT_BAD_CONFIG = 2
EXIT_BAD_FRAMES = 3
EXIT_CODES: dict[str, int] = {
    "end": EXIT_OK,
    "max_steps": EXIT_OK,
    "camera_exhausted": EXIT_OK,
    "exception": EXIT_EXCEPTION,
    "bad_frames": EXIT_BAD_FRAMES,
    "sighup": 128 + 1,
    "sigint": 128 + 2,
    "sigterm": 128 + 15,
}


def exit_code(stop_reason: str) -> int:
    """The process exit code for a run's stop reason (1 for an unknown reason)."""
    return EXIT_CODES.get(stop_reason, EXIT_EXCEPTION)


class StopFlag:
    """A stop request: `request(reason)` keeps the first reason; safe inside a signal handler."""

    def __init__(self) -> None:
        self.reason = ""

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return bool(self.reason)

    def request(self, reason: str) -> None:
        """Ask the loop to stop (later requests keep the first reason)."""
        if not self.reason:
            self.reason = reason


@contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[StopFlag]:
    """Turn SIGINT, SIGTERM and SIGHUP into `flag.request(...)` inside the block; the previous
    handlers come back on exit. Outside the main thread (where Python cannot install handlers)
    it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        _log.warning("stop_on_signals: not the main thread; signals keep their default action")
        yield flag
        return
    previous: dict[signal.Signals, object] = {}

    def handler(signum: int, _frame: FrameType | None) -> None:
        flag.request(SIGNAL_REASONS[signal.Signals(signum).name])

    for name in SIGNAL_REASONS:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, handler)
    try:
        yield flag
    finally:
        for number, old in previous.items():
            signal.signal(number, old)  # type: ignore[arg-type]
