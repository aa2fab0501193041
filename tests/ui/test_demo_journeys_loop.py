"""`kiosk demo --headless --journey full-loop` as CI runs it: hand-in to pickup, both roles.

One process: the firmware stubs, a private hall, the composed app. The journey applies with a
paper original, signs a courier in (badge + PIN), collects with a seal scan, has a staff member
approve and produce the result through the hall's staff pages, loads the envelope, reads the SMS
in the hall's outbox and collects with its code; its last step waits for the hall to list the
submission as picked up. Here we check what it left behind: every step passed with its picture,
the receipt, each touch in journey.json, and the terminal's own records of both parcels.
(`collect` and `collect-code` are run the same way by tests/ui/test_pickup_journey.py.)

The window is 720×1280 rather than the kiosk's 1080×1920: the same layout code at a second size,
and about half the drawing and picture-writing time on a loaded two-core box.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo_config import write_demo_config
from tests.support.ui_process import run_demo_journey

pytestmark = pytest.mark.ui

PROCESS_TIMEOUT_S = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 720, 1280


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("full-loop")
    config = write_demo_config(folder, width=WIDTH, height=HEIGHT)
    out = folder / "out"
    return folder, run_demo_journey("full-loop", config, out, timeout_s=PROCESS_TIMEOUT_S).report


def _rows(folder: Path, query: str) -> list[tuple[Any, ...]]:
    uri = f"file:{folder / 'data' / 'terminal.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as database:
        return list(database.execute(query))


def test_every_step_passed_and_left_its_picture(loop: tuple[Path, dict[str, Any]]) -> None:
    folder, report = loop
    assert report["journey"] == "full-loop"
    assert report["outcome"] == "passed"
    assert report["settings_overrides"]["hall.tasks_poll_s"] == 1.0
    shots = [step["screenshot"] for step in report["steps"]]
    assert len(shots) == len(set(shots))
    for shot in shots:
        assert _png_size(folder / "out" / shot) == (WIDTH, HEIGHT), shot
    assert _png_size(folder / "out" / "99-receipt.png")[0] > 0


def test_the_hall_lists_the_submission_as_picked_up(loop: tuple[Path, dict[str, Any]]) -> None:
    _folder, report = loop
    last = report["steps"][-1]
    assert (last["name"], last["outcome"]) == ("the hall knows", "passed")
    assert last["expect"] == "the hall lists the submission as picked up"


def test_journey_json_records_each_touch_and_each_hand(loop: tuple[Path, dict[str, Any]]) -> None:
    _folder, report = loop
    steps = {step["name"]: step for step in report["steps"]}
    assert report["touch_count"] == sum(len(s["touches"]) for s in report["steps"])
    pin = [t["widget"] for t in steps["type the PIN"]["touches"]]
    assert pin == [
        "courier_pin/key_2",
        "courier_pin/key_4",
        "courier_pin/key_6",
        "courier_pin/key_8",
    ]
    assert len(steps["type the code"]["touches"]) == 8
    scans = [
        a["args"]["code"]
        for s in report["steps"]
        for a in s["world"]
        if (a["stub"], a["cmd"]) == ("scanner", "scan")
    ]
    assert scans[0] == "GZCR1.C-0001"  # the badge
    assert scans[1].startswith("SEAL-")  # the bag's seal
    assert scans[2].isdigit()  # the envelope: the tracking number
    assert len(scans) == 3  # the citizen typed the code from the SMS
    for name in ("take the bag, close the door", "envelope in, door closed"):
        assert steps[name]["world"], name


def test_the_terminal_recorded_both_parcels_and_the_hall_acknowledged_everything(
    loop: tuple[Path, dict[str, Any]],
) -> None:
    folder, _report = loop
    parcels = dict(_rows(folder, "SELECT kind, status FROM parcels"))
    assert parcels == {"materials": "collected", "result": "picked_up"}
    seals = _rows(folder, "SELECT seal, courier_card_id FROM courier_seals")
    assert seals == [("SEAL-20260001", "C-0001")]
    sessions = _rows(folder, "SELECT card_id, via, end_reason FROM courier_sessions")
    assert sessions == [("C-0001", "badge", "signed out")]
    assert _rows(folder, "SELECT message_key FROM outbox") == []  # all acknowledged
