"""The real Kivy window in a child process, off-screen (Kivy allows one window per process).

UI tests start a probe script or `kiosk demo` this way; a probe prints its findings as one JSON
line (the last line starting with "{"), which `UiProcess.report` returns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def headless_env() -> dict[str, str]:
    """This environment without a display (Kivy then renders off-screen), the project importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    return env


class UiProcess:
    """`python ARGS…` started now, so several windows can be drawn side by side."""

    def __init__(self, *args: object, cwd: Path, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.stderr = ""
        self.process = subprocess.Popen(
            [sys.executable, *(str(arg) for arg in args)],
            cwd=cwd,
            env=headless_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def report(self) -> dict[str, Any]:
        """Wait for the process (killed after the timeout); its last JSON line. Fails the test
        with the end of its stderr when it did not exit 0 or printed no JSON."""
        try:
            stdout, self.stderr = self.process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, self.stderr = self.process.communicate()
        assert self.process.returncode == 0, self.stderr[-3000:]
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        assert lines, self.stderr[-3000:]
        result: dict[str, Any] = json.loads(lines[-1])
        return result


@dataclass(frozen=True)
class JourneyRun:
    report: dict[str, Any]  # journey.json
    stdout: str


def run_demo_journey(journey: str, config: Path, out: Path, *, timeout_s: float) -> JourneyRun:
    """`kiosk demo --headless --journey JOURNEY` as a user runs it. Fails the test, naming the
    first step that did not pass, unless the journey passed and the demo exited 0."""
    done = subprocess.run(
        [
            sys.executable, "-m", "bootstrap", "demo", "--headless", "--journey", journey,
            "--config", str(config), "--out", str(out),
        ],
        cwd=ROOT, env=headless_env(), capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    report_path = out / "journey.json"
    assert report_path.exists(), done.stdout[-2000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    failed = next((s for s in report["steps"] if s["outcome"] != "passed"), None)
    assert done.returncode == 0, (failed, done.stderr[-3000:])
    assert report["outcome"] == "passed"
    return JourneyRun(report, done.stdout)
