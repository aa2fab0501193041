"""ID-card reader: time of one full read (find → select → read 1.3 KB) against the SAM stub.

Prints p50/p99 over socket:// and over a pty. A pty and a socket move bytes at memory speed; on a
real 115200-baud line the 1295-byte read reply alone takes about 112 ms on the wire, printed too.
Run: .venv/bin/python bench/bench_idcard.py [--reads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from devices.idcard.driver import SamReader
from firmware_stubs.idcard import SamModuleFirmware
from firmware_stubs.serial_stub import SerialStubServer


def measure(use_pty: bool, reads: int) -> list[float]:
    firmware = SamModuleFirmware()
    firmware.control("put_card", {})
    with tempfile.TemporaryDirectory() as folder:
        link = str(Path(folder) / "ttyBENCH") if use_pty else None
        with SerialStubServer(firmware, use_pty=use_pty, pty_link=link) as server:
            reader = SamReader(server.url)
            reader.start()
            try:
                if not reader.wait_open(5):
                    raise SystemExit(f"could not open {server.url}")
                times = []
                for _ in range(reads):
                    started = time.perf_counter()
                    reader.read_card()
                    times.append((time.perf_counter() - started) * 1000)
                return times
            finally:
                reader.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    for label, use_pty in (("socket://", False), ("pty", True)):
        times = sorted(measure(use_pty, args.reads))
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"full card read over {label:9}: p50 {statistics.median(times):6.2f} ms, "
            f"p99 {p99:6.2f} ms ({args.reads} reads)"
        )
    wire_bytes = 3 * 10 + 15 + 19 + 1295  # three requests; find, select and read replies
    print(f"wire time at 115200 baud 8N1 for one read: {wire_bytes * 10 / 115200 * 1000:.0f} ms")


if __name__ == "__main__":
    main()
