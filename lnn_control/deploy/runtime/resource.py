"""One lifecycle for everything the runtime opens: cameras, actuators, telemetry, the sim bridge.

    with camera, actuator, telemetry:      # open() on entry, close() on exit, in reverse order
        run(camera, model, safety, actuator, rate_hz=20.0, telemetry=telemetry)

`close` must be idempotent: it runs on every exit path (normal end, exception, signal).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Resource(ABC):
    """open / close, usable as a context manager."""

    @abstractmethod
    def open(self) -> None:
        """Acquire the device, file or socket; raises if it cannot."""

    @abstractmethod
    def close(self) -> None:
        """Release it (idempotent)."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
