"""`kiosk demo --headless --journey agent` as CI runs it: a village agent applies for a villager.

One process: the firmware stubs, a private hall, the composed app. The agent signs in with the
badge and PIN, chooses "apply for a citizen", the villager's card goes on the reader, and the
apply steps follow; the journey itself checks that the review and the receipt on screen name the
agent and, last, that the hall holds the submission with the agent's card and name. Here we
check what it left behind: every step with its picture, the touches, and the terminal's records
of the agent's session and of the papers handed in.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo_config import write_demo_config
from tests.support.ui_process import run_demo_journey

pytestmark = pytest.mark.ui

PROCESS_TIMEOUT_S = 240
WIDTH, HEIGHT = 720, 1280  # a second size for the same layout code, and half the drawing time


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("agent")
    config = write_demo_config(folder, width=WIDTH, height=HEIGHT)
    return folder, run_demo_journey(
        "agent", config, folder / "out", timeout_s=PROCESS_TIMEOUT_S
    ).report


def _rows(folder: Path, query: str) -> list[tuple[Any, ...]]:
    uri = f"file:{folder / 'data' / 'terminal.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as database:
        return list(database.execute(query))


def test_the_agent_signs_in_applies_and_the_hall_records_the_agent(
    agent_run: tuple[Path, dict[str, Any]],
) -> None:
    folder, report = agent_run
    assert report["journey"] == "agent"
    names = [step["name"] for step in report["steps"]]
    assert names[:6] == [
        "attract screen",
        "the terminal has the roster",
        "agent badge",
        "type the PIN",
        "sign in",
        "apply for a citizen",
    ]
    assert names[-1] == "the hall records the agent"
    steps = {step["name"]: step for step in report["steps"]}
    assert "names the agent" in steps["go on to the review"]["expect"]
    assert "the receipt names the agent" in steps["papers in, door closed"]["expect"]
    pin = [touch["widget"] for touch in steps["type the PIN"]["touches"]]
    assert pin == [f"courier_pin/key_{digit}" for digit in "1357"]
    assert [t["widget"] for t in steps["apply for a citizen"]["touches"]] == [
        "courier_menu/apply_button"
    ]
    shots = [step["screenshot"] for step in report["steps"]]
    assert len(shots) == len(set(shots))
    for shot in (*shots, "99-receipt.png"):
        assert (folder / "out" / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot


def test_the_terminal_kept_the_agents_session_and_the_papers(
    agent_run: tuple[Path, dict[str, Any]],
) -> None:
    folder, _report = agent_run
    sessions = _rows(folder, "SELECT card_id, via FROM courier_sessions")
    assert sessions == [("C-0002", "badge")]
    assert _rows(folder, "SELECT kind, status FROM parcels") == [("materials", "stored")]
    assert _rows(folder, "SELECT message_key FROM outbox") == []  # the hall acknowledged all
