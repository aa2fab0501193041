"""Frames per second of the camera's decode loop on 1080p frames, pinned to one core.

A memory source delivers pre-rendered 1920×1080 frames at 60 or 30 frames/s (a camera's read
blocks between frames, so the capture thread costs almost nothing); the driver runs its real
capture and decode threads. Reported: frames processed per second
(the decode rate), frames the capture thread produced, frames dropped (latest frame wins), and
the same for frames with and without a code in view, and for DOCUMENT mode.

    .venv/bin/python bench/bench_camera_loop.py [--seconds 5] [--all-cores]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from devices.camera import CameraDriver, CameraOptions, MemorySource
from devices.camera.decoder import QR_ONLY, CodeDecoder, FramePipeline
from devices.camera.messages import Image
from firmware_stubs.camera import (
    empty_scene,
    random_degradation,
    render_code_scene,
    render_page_scene,
)
from kiosk.ports.camera import CameraMode


def measure(
    label: str,
    frames: list[Image],
    mode: CameraMode,
    seconds: float,
    source_fps: float,
    decoder: CodeDecoder | None = None,
) -> None:
    events: list[object] = []

    def record(event: object) -> None:
        events.append(event)

    with tempfile.TemporaryDirectory() as pages:
        driver = CameraDriver(
            MemorySource(frames, fps=source_fps),
            Path(pages),
            options=CameraOptions(duplicate_window_s=3600),
            decoder=decoder,
        )
        driver.set_mode(mode)
        if mode is CameraMode.DOCUMENT:
            driver.begin_document("bench")
        driver.start(record)
        threading.Event().wait(0.5)  # warm-up (a benchmark script, not a test)
        before = driver.stats()
        started = time.perf_counter()
        threading.Event().wait(seconds)
        after = driver.stats()
        elapsed = time.perf_counter() - started
        driver.stop()
    processed = (after.frames_processed - before.frames_processed) / elapsed
    captured = (after.frames_captured - before.frames_captured) / elapsed
    dropped = after.frames_dropped - before.frames_dropped
    print(f"{label:52} {processed:8.1f} {captured:9.1f} {dropped:8d} {after.decode_ms_last:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores used: {cores}; frames 1920x1080 BGR; {args.seconds:.0f} s per line")

    rng = np.random.default_rng(7)
    with_codes = [
        render_code_scene(f"PICKUP-{i:08d}", seed=i, degradation=random_degradation(rng))
        for i in range(12)
    ]
    without = [empty_scene(seed) for seed in range(12)]
    pages = [render_page_scene("Form", seed=seed) for seed in range(4)]

    header = "loop (camera delivering 60 fps unless noted)"
    print(f"{header:52} {'decoded/s':>8} {'captured/s':>9} {'dropped':>8} {'last ms':>8}")
    codes, document, idle = CameraMode.CODES, CameraMode.DOCUMENT, CameraMode.IDLE
    t = args.seconds
    measure("codes mode, code in view (QR+Code128+EAN13)", with_codes, codes, t, 60)
    measure("codes mode, nothing in view (QR+Code128+EAN13)", without, codes, t, 60)
    measure("codes mode, code in view, QR only", with_codes, codes, t, 60, FramePipeline(QR_ONLY))
    measure("codes mode, nothing in view, QR only", without, codes, t, 60, FramePipeline(QR_ONLY))
    measure("codes mode, 30 fps camera, code in view", with_codes, codes, t, 30)
    measure("codes mode, 30 fps camera, nothing in view", without, codes, t, 30)
    measure("document mode, page in view", pages, document, t, 60)
    measure("idle mode (preview only)", without, idle, t, 60)


if __name__ == "__main__":
    main()
