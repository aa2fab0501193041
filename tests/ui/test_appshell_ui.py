"""The real Kivy window, off-screen, in subprocesses (one window per process)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ui_process import headless_env

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 150


def _config(tmp_path: Path, width: int, height: int) -> Path:
    path = tmp_path / "kiosk.toml"
    data = tmp_path / "data"
    text = f'[display]\nwidth = {width}\nheight = {height}\n[storage]\ndata_dir = "{data}"\n'
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = headless_env()
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_S,
    )


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_attract_journey_clears_the_session_after_idle(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = _config(tmp_path, 1080, 1920)
    done = _run(
        "-m", "bootstrap", "demo", "--headless", "--journey", "attract",
        "--config", str(config), "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    report = json.loads((out / "journey.json").read_text(encoding="utf-8"))
    assert done.returncode == 0, (report.get("failed_step"), done.stderr[-2000:])
    assert report["outcome"] == "passed"
    assert report["settings_overrides"] == {"idle.warn_after_s": 6.0, "idle.countdown_s": 4.0}
    names = [step["name"] for step in report["steps"]]
    assert names == [
        "attract screen in Chinese",
        "switch language to English",
        "turn on large text",
        "idle warning appears",
        "session times out and is cleared",
    ]
    touched = [step["touch"]["widget"] for step in report["steps"] if step["touch"]]
    assert touched == ["attract/toolbar/language_button", "attract/toolbar/large_text_button"]
    for step in report["steps"]:
        assert step["outcome"] == "passed"
        shot = out / step["screenshot"]
        assert shot.stat().st_size > 10_000, shot
        assert _png_size(shot) == (1080, 1920)


def test_touching_the_language_button_changes_the_labels(tmp_path: Path) -> None:
    config = _config(tmp_path, 1920, 1080)  # landscape: the button is found where it is drawn
    done = _run(str(ROOT / "tests" / "ui" / "language_probe.py"), str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["window"] == [1920, 1080]
    assert result["language"] == "en"
    before, after = result["before"], result["after"]
    assert before["attract/header"].startswith("慈利县")
    assert after["attract/header"].startswith("Lingyang Street")
    assert before["attract/welcome"] != after["attract/welcome"]
    assert (
        before["attract/toolbar/language_button"],
        after["attract/toolbar/language_button"],
    ) == (
        "English",
        "中文",
    )
    # the attract screen's notice breaks Chinese lines by the rules, like every paragraph
    lines = result["notice_lines"]
    assert len(lines) >= 3, lines
    assert not [line for line in lines if line[:1] in "，、。：；？！）》”’"], lines
    assert not [line for line in lines if line[-1:] in "（《“‘"], lines


def test_unknown_journey_exits_2_and_lists_the_known_ones(tmp_path: Path) -> None:
    done = _run("-m", "bootstrap", "demo", "--headless", "--journey", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "no journey called 'nope'" in done.stderr
    assert "attract" in done.stderr
    assert "overview" in done.stderr


def test_a_notice_cut_for_space_opens_in_full_at_a_touch(tmp_path: Path) -> None:
    config = _config(tmp_path, 1080, 1920)
    done = _run(str(ROOT / "tests" / "ui" / "notice_probe.py"), str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "timed_out_waiting_for" not in result, result
    # large text leaves the panel too little room: it says so and ends in an ellipsis
    assert result["panel_cut"] is True, result
    assert result["panel_hint"] == "轻触阅读全文"
    assert result["panel_lines"][-1].endswith("…")
    # one touch: the same notice, whole, over the screen; the close button takes it away
    assert result["overlay_open"] is True
    assert result["overlay_body"] == result["body_on_touch"]
    assert result["overlay_title"]
    assert result["overlay_open_after_close"] is False
    # a journey that starts while the notice is open (a QR at the scanner) takes it away
    assert result["screen_after_pickup_started"] != "attract"
    assert result["overlay_open_after_pickup_started"] is False
