"""A citizen collects a result in the real app, off-screen, by touches only: by QR and by code.

Each run is `kiosk demo --headless --journey collect[-code]` as CI runs it: the firmware stubs,
a private hall, the composed app. Before the first touch a staff member approves a submission in
the hall and a courier loads the envelope through the terminal's own courier desk (a real door
on the locker stub, a real 8-digit code, its hash stored, the QR signed with the terminal's key).
The journey checks what each screen shows as it goes; here we also read the terminal's own
database afterwards: the door was opened for the citizen, audited, and the parcel is picked up.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo_config import write_demo_config
from tests.support.ui_process import headless_env

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 240
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class DemoRun:
    def __init__(self, folder: Path, journey: str) -> None:
        self.folder = folder
        self.journey = journey
        self.out = folder / "out"
        env = headless_env()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "bootstrap", "demo", "--headless", "--journey", journey,
                "--config", str(write_demo_config(folder)), "--out", str(self.out),
            ],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.stdout = self.stderr = ""

    def finish(self) -> DemoRun:
        try:
            self.stdout, self.stderr = self.process.communicate(timeout=PROCESS_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.stdout, self.stderr = self.process.communicate()
        return self

    @property
    def report(self) -> dict[str, Any]:
        path = self.out / "journey.json"
        assert path.exists(), self.stdout[-2000:] + self.stderr[-3000:]
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return report

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """The terminal's own database after the run (read-only)."""
        uri = f"file:{self.folder / 'data' / 'terminal.sqlite3'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as database:
            return list(database.execute(query))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DemoRun]]:
    """Both ways at once: two processes, each with its own window, stubs and hall."""
    started = {
        name: DemoRun(tmp_path_factory.mktemp(name), journey)
        for name, journey in (("qr", "collect"), ("code", "collect-code"))
    }
    return {name: run.finish() for name, run in started.items()}


@pytest.mark.parametrize("way", ["qr", "code"])
def test_the_journey_passes_with_a_picture_of_every_step(
    runs: dict[str, DemoRun], way: str
) -> None:
    run = runs[way]
    report = run.report
    failed = next((s for s in report["steps"] if s["outcome"] != "passed"), None)
    assert run.process.returncode == 0, (failed, run.stderr[-3000:])
    assert report["outcome"] == "passed"
    for step in report["steps"]:
        shot = run.out / step["screenshot"]
        assert shot.read_bytes()[:8] == PNG_SIGNATURE, shot
        assert shot.stat().st_size > 10_000, shot
    assert report["steps"][-1]["name"] == "the hall knows"  # the hall lists it as picked up


@pytest.mark.parametrize("way", ["qr", "code"])
def test_the_courier_loaded_the_result_on_the_stub_before_the_first_touch(
    runs: dict[str, DemoRun], way: str
) -> None:
    stage = [(a["stub"], a["cmd"]) for a in runs[way].report["stage"]]
    assert stage == [("lockers", "put_item"), ("lockers", "close_door")]
    loads = runs[way].rows(
        "SELECT actor_kind, outcome FROM audit_events WHERE action = 'door.open'"
        " AND reason = 'courier loads a result'"
    )
    assert ("courier", "opened") in loads


def test_with_the_qr_one_touch_and_one_scan_open_the_door(runs: dict[str, DemoRun]) -> None:
    steps = runs["qr"].report["steps"]
    upto_door = steps[: next(i for i, s in enumerate(steps) if "door" in s["screenshot"]) + 1]
    assert sum(len(s["touches"]) for s in upto_door) == 1  # Collect
    acted = [(a["stub"], a["cmd"], a["args"]) for s in upto_door for a in s["world"]]
    assert len(acted) == 1
    assert acted[0][:2] == ("scanner", "scan")
    assert acted[0][2]["code"].startswith("GZPK1.")


def test_the_code_is_typed_one_key_per_digit(runs: dict[str, DemoRun]) -> None:
    steps = {s["name"]: s for s in runs["code"].report["steps"]}
    typed = steps["type the code"]["touches"]
    assert len(typed) == 8
    assert all(t["widget"].startswith("pickup_code/key[") for t in typed)
    assert steps["check the code"]["touches"][0]["widget"] == "pickup_code/submit_button"
    assert not any(s["world"] for s in runs["code"].report["steps"][:4])  # no scanner involved


@pytest.mark.parametrize(("way", "method"), [("qr", "qr"), ("code", "code")])
def test_the_door_opened_for_the_citizen_and_the_parcel_is_picked_up(
    runs: dict[str, DemoRun], way: str, method: str
) -> None:
    run = runs[way]
    opened = run.rows(
        "SELECT actor_id, outcome, intent_id FROM audit_events"
        f" WHERE action = 'door.open' AND reason = 'citizen pickup ({method})'"
    )
    assert [(actor, outcome) for actor, outcome, _ in opened] == [
        (f"pickup:{method}", "pending"),
        (f"pickup:{method}", "opened"),
    ]
    assert opened[1][2] is not None  # the outcome names its intent
    parcels = run.rows("SELECT kind, status, pickup_code_hash FROM parcels")
    assert len(parcels) == 1
    kind, status, code_hash = parcels[0]
    assert (kind, status) == ("result", "picked_up")
    assert code_hash.startswith("scrypt$")  # only the hash of the code is kept
    compartments = run.rows(
        "SELECT state, door, item_present FROM compartments WHERE state != 'free'"
    )
    assert compartments == []  # the compartment is free again, door closed, empty
    pending = run.rows("SELECT kind FROM outbox WHERE payload LIKE '%picked_up%'")
    assert pending == []  # the hall acknowledged the picked_up event
