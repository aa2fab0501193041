"""Bytes of the standard submission receipt (target ≤ 2 KB) and how long rendering takes.

Run: .venv/bin/python bench/bench_receipt_bytes.py
Prints figures only; it asserts nothing (speed and size are tracked, not tested).
"""

from __future__ import annotations

import statistics
import time

from devices.printer.receipt import render_submission_receipt, sample_submission_receipt
from devices.printer.template import PAPER_58MM, PAPER_80MM

TARGET_BYTES = 2048


def main() -> None:
    receipt = sample_submission_receipt()
    for paper in (PAPER_80MM, PAPER_58MM):
        job = render_submission_receipt(receipt, paper)
        timings = []
        for _ in range(200):
            start = time.perf_counter()
            render_submission_receipt(receipt, paper)
            timings.append((time.perf_counter() - start) * 1000)
        qr_start = job.index(b"\x1d(k")
        qr_bytes = job.rindex(b"\x1d(k") + 8 - qr_start
        verdict = "within" if len(job) <= TARGET_BYTES else "OVER"
        print(
            f"{paper.mm} mm receipt: {len(job)} bytes ({verdict} the {TARGET_BYTES}-byte target), "
            f"native QR {qr_bytes} bytes, render median {statistics.median(timings):.2f} ms"
        )


if __name__ == "__main__":
    main()
