"""Serial backend against a pseudo-terminal pair (needs pyserial: extra `deploy-serial`)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from lnn_control.deploy.runtime.actuators import (
    SerialActuator,
    format_serial_line,
    parse_serial_line,
)


def test_line_format() -> None:
    assert format_serial_line(0.125, 0.2) == "S+0.125 T+0.200\n"
    assert format_serial_line(-1.0, 0.0) == "S-1.000 T+0.000\n"
    assert parse_serial_line("S-0.500 T+0.100\n") == (-0.5, 0.1)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_serial_over_pty() -> None:
    pytest.importorskip("serial", reason="pyserial not installed (extra deploy-serial)")
    controller, device = os.openpty()
    try:
        with SerialActuator(os.ttyname(device)) as actuator:
            sent = actuator.send(np.array([0.12345, -0.5]))
        data = os.read(controller, 64).decode("ascii")
    finally:
        os.close(controller)
        os.close(device)
    assert data == "S+0.123 T-0.500\n"
    assert np.allclose(sent, [0.123, -0.5])


def test_serial_missing_pyserial_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "serial", None)  # import serial -> ImportError
    with pytest.raises(ImportError, match="deploy-serial"):
        SerialActuator("/dev/null").connect()
