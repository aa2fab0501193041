"""Hand-in, receipt and finish screens in a real off-screen window (one window per subprocess).

tests/ui/handin_probe.py renders hand-made views in both languages and in large text, leaves a
screenshot of each, and presses buttons with real touch events; these tests read its JSON report.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from tests.support.ui_process import UiProcess

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "ui" / "handin_probe.py"
PROCESS_TIMEOUT_S = 240


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _start_probe(out: Path, width: int, height: int, plan: str) -> UiProcess:
    return UiProcess(PROBE, out, width, height, plan, cwd=ROOT, timeout_s=PROCESS_TIMEOUT_S)


@pytest.fixture(scope="module")
def probes(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Both window sizes at once: each probe is a separate process with its own window."""
    portrait_out = tmp_path_factory.mktemp("handin-1080x1920")
    small_out = tmp_path_factory.mktemp("handin-768x1024")
    running = {
        "portrait": (portrait_out, _start_probe(portrait_out, 1080, 1920, "full")),
        "small": (small_out, _start_probe(small_out, 768, 1024, "small")),
    }
    return {name: (out, probe.report()) for name, (out, probe) in running.items()}


@pytest.fixture(scope="module")
def portrait(probes: dict[str, tuple[Path, dict[str, Any]]]) -> tuple[Path, dict[str, Any]]:
    return probes["portrait"]


@pytest.fixture(scope="module")
def small(probes: dict[str, tuple[Path, dict[str, Any]]]) -> tuple[Path, dict[str, Any]]:
    return probes["small"]


def test_every_screenshot_is_drawn_at_window_size(portrait: tuple[Path, dict[str, Any]]) -> None:
    out, result = portrait
    assert result["window"] == [1080, 1920]
    assert len(result["shots"]) == 24
    for name, shot in result["shots"].items():
        path = out / shot["file"]
        assert _png_size(path) == (1080, 1920), name
        assert path.stat().st_size > 20_000, f"{name} looks empty"


def test_the_open_door_is_pointed_out_on_the_column(portrait: tuple[Path, dict[str, Any]]) -> None:
    _out, result = portrait
    for lang in ("zh", "en"):
        shot = result["shots"][f"hand_in-door_open-{lang}"]
        assert shot["compartment_label"]["text"] == "A03"
        assert shot["compartment_label"]["visible"]
        assert shot["picture"] == "open"
        assert shot["target_rect"] is not None
        assert shot["materials"]["visible"]
        assert not shot["reminder"]["visible"]
    assert result["shots"]["hand_in-door_open-zh"]["position"]["text"] == "A 列 · 第 2 排 · 左"
    assert result["shots"]["hand_in-door_open-en"]["position"]["text"] == "Column A · row 2 · left"


def test_the_phases_change_the_picture(portrait: tuple[Path, dict[str, Any]]) -> None:
    _out, result = portrait
    shots = result["shots"]
    assert shots["hand_in-deposited-en"]["picture"] == "done"
    assert shots["hand_in-no_item_seen-en"]["picture"] == "closed"
    for phase in ("reserving", "no_compartment"):
        shot = shots[f"hand_in-{phase}-zh"]
        assert shot["target_rect"] is None
        assert not shot["compartment_label"]["visible"], "no number before a door is reserved"
    assert shots["hand_in-no_compartment-zh"]["picture"] == "unavailable"


def test_the_door_reminder_is_shown_large_in_both_languages(
    portrait: tuple[Path, dict[str, Any]],
) -> None:
    _out, result = portrait
    normal = result["shots"]["hand_in-no_item_seen-en"]["reminder"]
    large = result["shots"]["hand_in-no_item_seen-en-large"]["reminder"]
    assert normal["visible"]
    assert large["visible"]
    assert normal["text"].startswith("The door is still open")
    assert large["height"] > normal["height"], "large text grows the reminder"
    assert result["shots"]["hand_in-no_item_seen-zh"]["reminder"]["text"].startswith("柜门还开着")


def test_touches_send_the_intents_of_the_buttons_on_screen(
    portrait: tuple[Path, dict[str, Any]],
) -> None:
    _out, result = portrait
    touches = result["touches"]
    expected = {
        "no_item_seen/confirm_button": ["ConfirmHandIn"],
        "no_item_seen/reopen_button": ["ReopenDoor"],
        "no_item_seen/cancel_button": ["CancelHandIn"],
        "no_compartment/continue_button": ["Continue"],
        "receipt/print_again_button": ["PrintReceipt"],
        "receipt/done_button": ["Finish"],
        "finish/done_button": ["Finish"],
        "finish/extend_button": ["ExtendTime"],
    }
    for name, intents in expected.items():
        assert touches[name]["shown"], name
        assert touches[name]["sent"] == intents, name
        width, height = touches[name]["size"]
        assert min(width, height) >= 100, f"{name} is smaller than a fingertip target"


def test_buttons_not_offered_are_not_on_screen(portrait: tuple[Path, dict[str, Any]]) -> None:
    _out, result = portrait
    for name in (
        "checking/cancel_button",  # the flow does not offer cancel while checking
        "not_accepted/confirm_button",  # the view's `accepts` leaves ConfirmHandIn out
        "receipt_printed/print_again_button",  # printed fine: nothing to print again
    ):
        assert not result["touches"][name]["shown"], name
        assert result["touches"][name]["sent"] == [], name


def test_receipt_shows_tracking_number_status_and_sms(
    portrait: tuple[Path, dict[str, Any]],
) -> None:
    _out, result = portrait
    failed = result["shots"]["receipt-print_failed-en"]
    assert failed["tracking_number"]["text"] == "GZ-20250307-000123"
    assert failed["status_text"]["text"].startswith("The printer is out of paper")
    assert failed["sms_text"]["visible"]
    assert not result["shots"]["receipt-printed-en"]["sms_text"]["visible"]


def test_clear_down_leaves_nothing_of_the_receipt(portrait: tuple[Path, dict[str, Any]]) -> None:
    _out, result = portrait
    assert result["cleared_receipt"] == {"tracking_number": "", "lines": 0, "qr_modules": 0}


def test_the_finish_screen_reminds_to_take_the_card(portrait: tuple[Path, dict[str, Any]]) -> None:
    _out, result = portrait
    assert result["shots"]["finish-zh"]["card_reminder"]["visible"]
    assert result["shots"]["finish-en"]["thank_you"]["text"] == "All done. Thank you!"


def test_a_small_window_lays_out_too(small: tuple[Path, dict[str, Any]]) -> None:
    out, result = small
    assert result["window"] == [768, 1024]
    for name, shot in result["shots"].items():
        assert _png_size(out / shot["file"]) == (768, 1024), name
    door = result["shots"]["hand_in-door_open-zh-large"]
    assert door["compartment_label"]["visible"]
    assert door["target_rect"] is not None
    for name, touch in result["touches"].items():
        if touch["shown"]:
            assert min(touch["size"]) >= 80, f"{name} too small on a small screen"
