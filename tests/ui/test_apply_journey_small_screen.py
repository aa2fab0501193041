"""The whole apply journey on a 768×1024 screen: every row the fingers need is reachable.

At this size the department list, the form rows and the review scroll; the journey runner scrolls
a row into view before touching it, as a person would (the scroll is not a touch). Device ports are
left to the demo, which moves them to free ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.demo_config import write_demo_config
from tests.support.ui_process import run_demo_journey

PROCESS_TIMEOUT_S = 300

pytestmark = pytest.mark.ui


def test_the_apply_journey_passes_on_a_768_by_1024_screen(tmp_path: Path) -> None:
    config = write_demo_config(tmp_path, width=768, height=1024)
    out = tmp_path / "out"
    report = run_demo_journey("apply", config, out, timeout_s=PROCESS_TIMEOUT_S).report
    touched = [t for step in report["steps"] for t in step["touches"]]
    assert touched, "the journey touched nothing"
    assert all(0 <= t["x"] < 768 and 0 <= t["y"] < 1024 for t in touched)
    assert (out / "99-receipt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
