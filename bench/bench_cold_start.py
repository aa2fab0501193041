"""Cold start: from launching a fresh Python process to the attract screen's first drawn frame.

Target: ≤ 3 s on the kiosk PC. Each run is a new subprocess (Kivy, fonts and kv all load again),
rendered off-screen; the median of several runs is printed in seconds.

    .venv/bin/python bench/bench_cold_start.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

MARKER = "FIRST-FRAME"
TARGET_S = 3.0


def child(data_folder: str) -> None:
    from bootstrap.composition import build_app
    from kiosk.config import settings_from_mapping

    settings = settings_from_mapping({"storage": {"data_dir": data_folder}})

    def first_frame(app: object) -> None:
        print(MARKER, flush=True)
        app.stop()  # type: ignore[attr-defined]

    build_app(settings, headless=True, on_first_frame=first_frame).run()


def one_run(data_folder: str) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, __file__, "--child", data_folder],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == MARKER:
                elapsed = time.perf_counter() - started
                break
        else:
            raise SystemExit("the app exited without drawing a frame")
        process.wait(timeout=60)
    return elapsed


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        one_run(folder)  # warm the OS file cache and Kivy's first-run config, not counted
        times = [one_run(folder) for _ in range(runs)]
    median = statistics.median(times)
    print(f"cold start to first frame: median {median:.2f} s over {runs} runs")
    print(f"  runs: {', '.join(f'{t:.2f}' for t in times)} s; target ≤ {TARGET_S:.1f} s")
    print(f"  os.getloadavg(): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
