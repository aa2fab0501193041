"""Unlock latency: from the unlock call to the last byte of the unlock frame reaching the board.

Runs the real bus driver against the emulated boards over a pty configured for 9600 baud, both
protocols, in two situations: the bus otherwise idle, and the column's poller reading every board
at its fast rate (the unlock then waits for an in-flight poll). The board side timestamps the
moment it has the whole unlock frame, so the figure includes the status read the outcome needs
before the pulse. A pty moves bytes instantly; the wire time those bytes would take at 9600 baud
(10 bits a byte) is printed next to it so the two can be added for a real RS485 line.
Target: ≤ 30 ms p99. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_unlock_latency.py [--count 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from devices.lockers.column import SerialLockerColumn
from devices.lockers.protocols import protocol_by_name
from firmware_stubs.lockers import LockerBusFirmware
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.config import CompartmentSettings, LockerColumnSettings

BAUD = 9600


class TimedFirmware(LockerBusFirmware):
    """Notes when each unlock frame has fully arrived."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unlocked_at: list[float] = []
        self.arrived = threading.Event()

    def feed(self, data: bytes) -> bytes:
        before = sum(board.unlocks for board in self.boards.values())
        reply = super().feed(data)
        if sum(board.unlocks for board in self.boards.values()) > before:
            self.unlocked_at.append(time.monotonic())
            self.arrived.set()
        return reply


def wire_ms(byte_count: int) -> float:
    return byte_count * 10 / BAUD * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(protocol_name: str, polling: bool, count: int, folder: Path) -> list[float]:
    protocol = protocol_by_name(protocol_name, None if protocol_name == "kerong-cu16" else 16)
    firmware = TimedFirmware(protocol, {0: protocol.locks_per_board, 1: protocol.locks_per_board})
    link = str(folder / f"tty-{protocol_name}-{polling}")
    settings = LockerColumnSettings(
        name="A",
        port=link,
        protocol=protocol_name,  # type: ignore[arg-type]
        baud=BAUD,
        compartments=[
            CompartmentSettings(number=b * 16 + lk, board=b, lock=lk, size="M", row=lk)
            for b in (0, 1)
            for lk in range(1, 17)
        ],
    )
    latencies: list[float] = []
    with SerialStubServer(firmware, use_pty=True, pty_link=link):
        column = SerialLockerColumn.from_settings(
            settings, fast_poll_s=0.25 if polling else 3600.0, idle_poll_s=3600.0
        )
        column.start(lambda event: None)
        deadline = time.monotonic() + 5
        while column.readings()[1].door.value == "unknown" and time.monotonic() < deadline:
            time.sleep(0.01)
        if polling:
            column.expect_movement(1, 3600)
        for index in range(count):
            number = index % 32 + 1
            board, lock = divmod(number - 1, 16)
            firmware.control("close_door", {"board": board, "lock": lock + 1})
            firmware.arrived.clear()
            started = time.monotonic()
            column.unlock(number)
            firmware.arrived.wait(2)
            latencies.append((firmware.unlocked_at[-1] - started) * 1000)
        column.stop()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    status_reply = {"kerong-cu16": 9, "rs485-8a": 6}  # 8A: two status bytes for 16 channels
    print(f"unlock latency over a pty at {BAUD} baud, {args.count} unlocks each (ms)")
    print(f"{'protocol':<12} {'bus':<8} {'p50':>7} {'p99':>7} {'max':>7} {'+wire@9600':>11}")
    with tempfile.TemporaryDirectory() as folder:
        for protocol_name in ("kerong-cu16", "rs485-8a"):
            # status request 5 + status reply + unlock request 5 bytes on a real line
            wire = wire_ms(5 + status_reply[protocol_name] + 5)
            for polling in (False, True):
                values = run(protocol_name, polling, args.count, Path(folder))
                p50, p99 = statistics.median(values), percentile(values, 0.99)
                print(
                    f"{protocol_name:<12} {'polled' if polling else 'idle':<8} {p50:7.2f} "
                    f"{p99:7.2f} {max(values):7.2f} {wire:11.2f}"
                )
    print("target: p99 ≤ 30 ms including the wire time")


if __name__ == "__main__":
    main()
