"""The courier screens in a real off-screen window, fed by the real CourierFlow and touched.

courier_screens_probe.py runs in a subprocess (one Kivy window per process); it photographs
every step in both languages and with large text, and reports which widgets were on screen,
which overlapped, and which intents each finger press sent. The pictures stay in the test's
folder for a person to look at when the layout changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.ui_process import UiProcess

pytestmark = pytest.mark.ui

PROBE = Path(__file__).resolve().parent / "courier_screens_probe.py"
PROCESS_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("courier_screens")
    run = UiProcess(PROBE, out, 1080, 1920, cwd=out, timeout_s=PROCESS_TIMEOUT_S)
    result = run.report()
    assert not result["error"], (result["error"], run.stderr[-3000:])
    result["out"] = out
    return result


@pytest.mark.timeout(PROCESS_TIMEOUT_S + 10)
def test_every_step_was_photographed(probe: dict[str, Any]) -> None:
    assert probe["window"] == [1080, 1920]
    assert len(probe["shots"]) == 23
    for shot in probe["shots"].values():
        assert (probe["out"] / shot["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nothing_overlaps_in_either_language_or_in_large_text(probe: dict[str, Any]) -> None:
    overlapping = {
        name: shot["overlaps"] for name, shot in probe["shots"].items() if shot["overlaps"]
    }
    assert overlapping == {}


def test_the_pin_keypad_sends_one_key_per_touch_and_shows_only_dots(probe: dict[str, Any]) -> None:
    touches = probe["touches"]
    assert [touches[f"pin_key_{d}"] for d in "2468"] == [["PressKey"]] * 4
    assert touches["pin_submit"] == ["SubmitPin"]
    first = probe["shots"]["01-pin-zh"]["widgets"]
    assert first["pin_boxes"]["text"] == "●●●"
    assert first["submit_button"]["disabled"]  # three digits are not a PIN yet
    wrong = probe["shots"]["02-pin-wrong-en"]["widgets"]
    assert wrong["notice"]["text"] == "Wrong PIN. 2 attempt(s) left."
    assert wrong["notice"]["on_screen"]


def test_the_menu_counts_the_work_and_offers_apply_to_agents_only(probe: dict[str, Any]) -> None:
    menu = probe["shots"]["05-menu-zh"]["widgets"]
    assert menu["collect_button"]["text"] == "取走材料  (3)"
    assert menu["load_button"]["text"] == "放入结果  (2)"
    assert menu["returns_button"]["disabled"]  # nothing overdue: greyed, still readable
    assert menu["returns_button"]["on_screen"]
    english = probe["shots"]["06-menu-en-large"]["widgets"]
    assert english["collect_button"]["text"] == "Collect materials  (3)"
    agent = probe["shots"]["23-menu-agent-zh"]["widgets"]
    assert agent["apply_button"]["on_screen"]
    assert agent["apply_button"]["text"] == "为群众代办申请"


def test_the_open_door_is_named_with_its_shelf_and_the_seal_is_shown(probe: dict[str, Any]) -> None:
    opened = probe["shots"]["08-collect-open-zh"]["widgets"]
    assert opened["door_card"]["on_screen"]
    assert "A03" in opened["instruction"]["text"]
    assert opened["check_door_button"]["on_screen"]
    sealed = probe["shots"]["09-collect-sealed-en"]["widgets"]
    assert sealed["progress"]["text"] == "0 done, 3 left"
    asked = probe["shots"]["11-collect-ask-zh"]["widgets"]
    assert asked["instruction"]["text"] == "A06 号格口现在是空的吗？"
    assert asked["yes_button"]["on_screen"]
    assert asked["no_button"]["on_screen"]
    done = probe["shots"]["12-collect-finished-en"]["widgets"]
    assert done["progress"]["text"] == "3 done, 0 left"
    touches = probe["touches"]
    assert touches["collect_open_all"] == ["OpenAll"]
    assert touches["collect_check_door"] == ["CheckDoor"]
    assert touches["collect_answer_yes"] == ["AnswerYes"]


def test_loading_shows_sizes_then_the_door_then_the_way_out(probe: dict[str, Any]) -> None:
    scan = probe["shots"]["13-load-scan-zh"]["widgets"]
    assert not scan["size_M"]["on_screen"]  # no size before an envelope matches
    refused = probe["shots"]["14-load-no-task-en"]["widgets"]
    assert "do not load it here" in refused["notice"]["text"]
    sizes = probe["shots"]["16-load-size-en-large"]["widgets"]
    assert [sizes[f"size_{s}"]["text"] for s in "SML"] == ["Small", "Medium", "Large"]
    assert probe["touches"]["load_size_M"] == ["ChooseSize"]
    door = probe["shots"]["17-load-door-open-zh"]["widgets"]
    assert door["door_card"]["on_screen"]
    assert door["check_door_button"]["on_screen"]
    no_item = probe["shots"]["18-load-no-item-en"]["widgets"]
    assert no_item["reopen_button"]["on_screen"]
    assert no_item["cancel_load_button"]["on_screen"]
    loaded = probe["shots"]["19-load-loaded-zh"]["widgets"]
    assert "A09" in loaded["notice"]["text"]


def test_idle_warns_on_screen_and_sign_out_and_refusals_end_the_session(
    probe: dict[str, Any],
) -> None:
    idle = probe["shots"]["20-idle-warning-zh"]["widgets"]
    assert idle["still_here"]["on_screen"]
    assert probe["touches"]["menu_sign_out"] == ["SignOut"]
    refused = probe["shots"]["21-refused-zh"]["widgets"]
    assert "不在本机的投递员名单" in refused["instruction"]["text"]
    assert probe["touches"]["refused_dismiss"] == ["Dismiss"]
    assert probe["active_after_dismiss"] is False
    header = probe["header"]
    assert header["applicant"] == "王师傅 (C-0001)"
    assert header["back"] == "← 返回菜单"
    assert header["toolbar_language"] == "English"
