"""Actuator backends: connect / send / disconnect, usable as a context manager.

A command is (steering, throttle), both float in [-1, 1] after the safety filter; `send`
returns what was actually put on the wire (after packing / rounding), as float32 (2,).
`failsafe_repeats` is how many times the runtime sends its last word, the fail-safe, when it
stops: 3 for UDP (a datagram can be lost), 1 for links that deliver or fail loudly.

UDP packet (little-endian, 24 bytes, `struct` format `UDP_FORMAT` = "<4sIdff"):

    magic  4 bytes  b"LNNC"
    seq    uint32   sequence number, +1 per packet from 0 (wraps at 2**32)
    time   float64  sender's monotonic clock, seconds
    steer  float32  [-1, 1], +1 = full left
    thrtl  float32  [-1, 1], +1 = full forward, 0 = stop

A receiver drops malformed packets, ignores sequence numbers that are not newer than the last
one it applied (serial-number arithmetic, so the wrap at 2**32 is handled), and stops the
vehicle when no valid packet arrives within its timeout: `receiver.py` in this package is the
reference implementation, docs/safety.md has a microcontroller version.

Serial line (ASCII, 115200 baud 8N1 by default, one line per command):

    "S<steer:+.3f> T<throttle:+.3f>\n"       e.g. "S+0.125 T+0.200\n"

pyserial is an optional dependency (extra `deploy-serial` = ["pyserial>=3.5"]); it is imported
only when a `SerialActuator` connects.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from abc import abstractmethod
from typing import Any

import numpy as np

from lnn_control.deploy.runtime.resource import Resource

UDP_MAGIC = b"LNNC"
UDP_FORMAT = "<4sIdff"
UDP_PACKET_BYTES = struct.calcsize(UDP_FORMAT)
SEQ_MODULO = 2**32
SERIAL_BAUD = 115_200
SERIAL_DECIMALS = 3
SERIAL_WRITE_TIMEOUT_S = 0.02
COMMAND_SIZE = 2
"""(steering, throttle)."""

_log = logging.getLogger(__name__)


def encode_udp_packet(seq: int, timestamp_s: float, steering: float, throttle: float) -> bytes:
    """Pack one command (see the module docstring)."""
    return struct.pack(UDP_FORMAT, UDP_MAGIC, seq % SEQ_MODULO, timestamp_s, steering, throttle)


def decode_udp_packet(data: bytes) -> tuple[int, float, float, float]:
    """(seq, timestamp_s, steering, throttle); ValueError on a wrong size or magic."""
    if len(data) != UDP_PACKET_BYTES:
        raise ValueError(f"UDP command packet must be {UDP_PACKET_BYTES} bytes, got {len(data)}")
    magic, seq, stamp, steering, throttle = struct.unpack(UDP_FORMAT, data)
    if magic != UDP_MAGIC:
        raise ValueError(f"bad UDP command magic {magic!r}, expected {UDP_MAGIC!r}")
    return int(seq), float(stamp), float(steering), float(throttle)


def format_serial_line(steering: float, throttle: float) -> str:
    """The ASCII command line, e.g. "S+0.125 T+0.200\\n"."""
    return f"S{steering:+.{SERIAL_DECIMALS}f} T{throttle:+.{SERIAL_DECIMALS}f}\n"


def parse_serial_line(line: str) -> tuple[float, float]:
    """(steering, throttle) from a line written by `format_serial_line` (for tests / firmware)."""
    steer, throttle = line.strip().split(" ")
    if not (steer.startswith("S") and throttle.startswith("T")):
        raise ValueError(f"bad serial command line {line!r}")
    return float(steer[1:]), float(throttle[1:])


def _command(command: np.ndarray | tuple[float, float]) -> tuple[float, float]:
    values = np.asarray(command, dtype=np.float64).reshape(-1)
    if values.shape != (COMMAND_SIZE,):
        raise ValueError(f"command must be (steering, throttle), got shape {values.shape}")
    return float(values[0]), float(values[1])


class Actuator(Resource):
    """connect / send / disconnect (`open` / `close` as a `Resource`); `send` returns what was
    actually sent, float32 (2,)."""

    failsafe_repeats: int = 1
    """Times the runtime sends the fail-safe when it stops."""

    def open(self) -> None:
        """`connect`."""
        self.connect()

    def close(self) -> None:
        """`disconnect`."""
        self.disconnect()

    @abstractmethod
    def connect(self) -> None:
        """Open the link."""

    @abstractmethod
    def send(self, command: np.ndarray | tuple[float, float]) -> np.ndarray:
        """Send (steering, throttle); returns the values on the wire, float32 (2,)."""

    @abstractmethod
    def disconnect(self) -> None:
        """Close the link (idempotent)."""


class UdpActuator(Actuator):
    """Commands as UDP datagrams to `address` (host, port)."""

    failsafe_repeats = 3

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = (str(address[0]), int(address[1]))
        self.seq = 0
        self._sock: socket.socket | None = None

    def connect(self) -> None:
        """Create the socket."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, command: np.ndarray | tuple[float, float]) -> np.ndarray:
        """One datagram; returns the float32 values packed into it."""
        if self._sock is None:
            raise RuntimeError("UdpActuator: send() before connect()")
        steering, throttle = _command(command)
        seq, self.seq = self.seq, (self.seq + 1) % SEQ_MODULO  # never reuse a number
        packet = encode_udp_packet(seq, time.monotonic(), steering, throttle)
        self._sock.sendto(packet, self.address)
        _, _, sent_steer, sent_throttle = decode_udp_packet(packet)
        return np.array([sent_steer, sent_throttle], dtype=np.float32)

    def disconnect(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class SerialActuator(Actuator):
    """ASCII command lines over a serial port (pyserial, optional extra `deploy-serial`)."""

    def __init__(self, port: str, baudrate: int = SERIAL_BAUD) -> None:
        self.port = port
        self.baudrate = int(baudrate)
        self._serial: Any = None

    def connect(self) -> None:
        """Open the port; ImportError naming the extra if pyserial is missing."""
        try:
            import serial  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError as err:
            raise ImportError(
                "SerialActuator needs pyserial: pip install 'lnn-control[deploy-serial]' "
                "(or pip install pyserial)"
            ) from err
        self._serial = serial.Serial(
            self.port, self.baudrate, timeout=0, write_timeout=SERIAL_WRITE_TIMEOUT_S
        )

    def send(self, command: np.ndarray | tuple[float, float]) -> np.ndarray:
        """One line; returns the rounded values written."""
        if self._serial is None:
            raise RuntimeError("SerialActuator: send() before connect()")
        line = format_serial_line(*_command(command))
        self._serial.write(line.encode("ascii"))
        return np.array(parse_serial_line(line), dtype=np.float32)

    def disconnect(self) -> None:
        """Close the port."""
        if self._serial is not None:
            self._serial.close()
            self._serial = None


class LogActuator(Actuator):
    """Sends nowhere: keeps every command in `sent` and logs it at DEBUG level (dry runs).
    Takes a car's (steering, throttle) or a drone's (vx, vy, vz, yaw_rate)."""

    def __init__(self) -> None:
        self.sent: list[np.ndarray] = []

    def connect(self) -> None:
        """Nothing to open."""

    def send(self, command: np.ndarray | tuple[float, ...]) -> np.ndarray:
        """Record the command; returns it as float32 (2,) or (4,)."""
        value = np.asarray(command, dtype=np.float32).reshape(-1)
        if value.size not in (COMMAND_SIZE, 4):
            raise ValueError(f"command must have 2 or 4 values, got shape {value.shape}")
        self.sent.append(value.copy())
        _log.debug("command %s", np.array2string(value, precision=3))
        return value

    def disconnect(self) -> None:
        """Nothing to close."""
