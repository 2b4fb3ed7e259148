"""The robot side of the UDP command format: the reference receiver (numpy-free, torch-free).

    with CommandReceiver(port=9000, timeout_s=0.5) as receiver:
        while True:
            receiver.poll(0.01)                    # read what arrived, keep the newest valid
            steering, throttle = receiver.command(time.monotonic())   # (0, 0) after a timeout

What every receiver of `UdpActuator` packets must do (the microcontroller version is in
docs/safety.md):

- drop malformed datagrams (wrong size or magic, NaN/Inf, values outside [-1, 1]) and count them;
- ignore a sequence number that is not newer than the last one applied, with serial-number
  arithmetic (RFC 1982) so that the wrap at 2**32 is handled: `seq` is newer than `last` when
  (seq - last) mod 2**32 is in [1, 2**31). A replayed or reordered packet is never applied
  again, whatever its timestamp says;
- stop the vehicle (apply `stop_command`) when no valid packet arrived for `timeout_s`, measured
  on the receiver's own monotonic clock (the sender's clock is never trusted). After a timeout
  the next valid packet is accepted whatever its sequence number, so a restarted sender (which
  counts from 0 again) takes over.

Default timeout 0.5 s, as ros2_control's `cmd_vel_timeout`; PX4's offboard-loss timeout
`COM_OF_LOSS_T` is 1 s.
"""

from __future__ import annotations

import math
import socket
import struct
import time
from dataclasses import dataclass

from lnn_control.deploy.runtime.actuators import (
    SEQ_MODULO,
    UDP_FORMAT,
    UDP_MAGIC,
    UDP_PACKET_BYTES,
)
from lnn_control.deploy.runtime.resource import Resource

DEFAULT_TIMEOUT_S = 0.5
LOCALHOST = "127.0.0.1"
RECV_BYTES = 2048
"""Larger than any valid packet, so an oversized datagram is seen whole and dropped."""
SEQ_HALF = SEQ_MODULO // 2


def seq_newer(seq: int, last: int) -> bool:
    """Whether `seq` comes after `last` in 32-bit serial-number arithmetic (wrap-around)."""
    return 0 < (seq - last) % SEQ_MODULO < SEQ_HALF


@dataclass(frozen=True)
class ReceivedCommand:
    """A valid command: sequence number, sender's time (s, its own clock: informative only),
    steering, throttle, and the receiver's monotonic time (s) of arrival."""

    seq: int
    sent_s: float
    steering: float
    throttle: float
    received_s: float


def parse_packet(data: bytes) -> tuple[int, float, float, float] | None:
    """(seq, sent_s, steering, throttle) of a well-formed packet, or None."""
    if len(data) != UDP_PACKET_BYTES:
        return None
    magic, seq, sent_s, steering, throttle = struct.unpack(UDP_FORMAT, data)
    if magic != UDP_MAGIC or not math.isfinite(sent_s):
        return None
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (steering, throttle)):
        return None
    return int(seq), float(sent_s), float(steering), float(throttle)


class CommandReceiver(Resource):
    """A UDP socket that validates, orders and times out commands (see the module docstring).

    Args:
        host, port: where to listen (port 0: any free port; see `address`).
        timeout_s: stop the vehicle when no valid packet came for this long (s).
        stop_command: (steering, throttle) applied after a timeout and before the first packet.

    Attributes:
        malformed, stale, accepted: packets dropped as malformed, ignored as not newer, applied.
        last: the newest applied command, or None.
    """

    def __init__(
        self,
        host: str = LOCALHOST,
        port: int = 0,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        stop_command: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a finite number > 0, got {timeout_s}")
        self.host, self.port = host, int(port)
        self.timeout_s = float(timeout_s)
        self.stop_command = (float(stop_command[0]), float(stop_command[1]))
        self.malformed = self.stale = self.accepted = 0
        self.last: ReceivedCommand | None = None
        self._last_valid_s = time.monotonic()
        self._sock: socket.socket | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) bound (after `open`)."""
        if self._sock is None:
            raise RuntimeError("CommandReceiver: address before open()")
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def open(self) -> None:
        """Bind the socket and start the timeout clock."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.host, self.port))
        self.restart_timer()

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def restart_timer(self, now_s: float | None = None) -> None:
        """Count the timeout from `now_s` (default: now), e.g. when the vehicle is armed."""
        self._last_valid_s = time.monotonic() if now_s is None else now_s

    def timed_out(self, now_s: float) -> bool:
        """No valid packet for longer than `timeout_s` (or none yet within it)."""
        return now_s - self._last_valid_s > self.timeout_s

    def silence_s(self, now_s: float) -> float:
        """Seconds since the last valid packet (or the timer's start)."""
        return now_s - self._last_valid_s

    def accept(self, data: bytes, now_s: float) -> ReceivedCommand | None:
        """Judge one datagram received at `now_s`; returns the command if it is applied."""
        parsed = parse_packet(data)
        if parsed is None:
            self.malformed += 1
            return None
        seq = parsed[0]
        if (
            self.last is not None
            and not self.timed_out(now_s)
            and not seq_newer(seq, self.last.seq)
        ):
            self.stale += 1
            return None
        self.last = ReceivedCommand(*parsed, received_s=now_s)
        self._last_valid_s = now_s
        self.accepted += 1
        return self.last

    def receive(self, wait_s: float) -> list[ReceivedCommand]:
        """Wait at most `wait_s` for a datagram, then read all that are queued; returns the
        commands applied among them, oldest first (each stamped on arrival)."""
        if self._sock is None:
            raise RuntimeError("CommandReceiver: receive() before open()")
        applied: list[ReceivedCommand] = []
        self._sock.settimeout(max(wait_s, 0.0))
        try:
            while True:
                command = self.accept(self._sock.recv(RECV_BYTES), time.monotonic())
                if command is not None:
                    applied.append(command)
                self._sock.settimeout(0.0)
        except (BlockingIOError, TimeoutError):
            pass
        return applied

    def poll(self, wait_s: float) -> ReceivedCommand | None:
        """Like `receive`, but only the newest command applied, or None."""
        applied = self.receive(wait_s)
        return applied[-1] if applied else None

    def command(self, now_s: float) -> tuple[float, float]:
        """(steering, throttle) to apply now: the newest command, or `stop_command` when timed
        out or before the first packet."""
        if self.last is None or self.timed_out(now_s):
            return self.stop_command
        return self.last.steering, self.last.throttle
