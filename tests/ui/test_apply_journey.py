"""The `apply` demo journey end to end: the real app off-screen, the stubs, a private hall."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.demo_config import write_demo_config
from tests.support.ui_process import headless_env, run_demo_journey

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 240
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_apply_journey_runs_from_card_to_receipt_and_reaches_the_hall(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = write_demo_config(tmp_path, voice=True)
    run = run_demo_journey("apply", config, out, timeout_s=PROCESS_TIMEOUT_S)
    report = run.report
    assert "touches" in run.stdout
    assert report["touch_count"] == sum(len(step["touches"]) for step in report["steps"])
    for step in report["steps"]:
        shot = out / step["screenshot"]
        assert shot.read_bytes()[:8] == PNG_SIGNATURE, shot
        assert shot.stat().st_size > 10_000, shot
    receipt = out / "99-receipt.png"
    assert receipt.read_bytes()[:8] == PNG_SIGNATURE
    assert list((out / "receipts").glob("*.png"))
    acted = [(a["stub"], a["cmd"]) for step in report["steps"] for a in step["world"]]
    assert ("idcard", "put_card") in acted
    assert acted.count(("camera", "place_page")) == 2
    assert ("lockers", "close_door") in acted
    assert report["steps"][-1]["name"] == "the hall has it"


def test_the_plain_headless_demo_walks_every_shell_screen(tmp_path: Path) -> None:
    """What `make demo` runs on a machine without a display: the overview journey, exit 0."""
    out = tmp_path / "out"
    env = headless_env()
    done = subprocess.run(
        [
            sys.executable, "-m", "bootstrap", "demo",
            "--config", str(write_demo_config(tmp_path, voice=True)), "--out", str(out),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads((out / "journey.json").read_text(encoding="utf-8"))
    assert report["journey"] == "overview"
    assert report["outcome"] == "passed"
    shots = {step["screenshot"] for step in report["steps"]}
    assert {"10-identify-zh.png", "11-identify-en.png", "13-service-collect.png"} <= shots
    for shot in shots:
        assert (out / shot).read_bytes().startswith(PNG_SIGNATURE)
