"""The form, materials, review and payment screens in a real off-screen window (subprocesses).

Each window size runs in its own process (Kivy allows one window per process); both run at once.
The probe draws every screen from hand-made views in Chinese, English and large text, takes a
screenshot of each, then puts a finger on the buttons and keys and reports what the screens sent.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from tests.support.ui_process import UiProcess

pytestmark = pytest.mark.ui

PROBE = Path(__file__).resolve().parent / "form_screens_probe.py"
PROCESS_TIMEOUT_S = 170
SIZES = ((1080, 1920), (768, 1024))
SCREENS = ("form", "materials", "review", "payment")
VARIANTS = ("zh", "en", "zh-large", "en-large")


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, int], dict[str, Any]]:
    running = {}
    for width, height in SIZES:
        out = tmp_path_factory.mktemp(f"form_screens_{width}x{height}")
        probe = UiProcess(PROBE, out, width, height, cwd=out, timeout_s=PROCESS_TIMEOUT_S)
        running[(width, height)] = (probe, out)
    results = {}
    for size, (probe, out) in running.items():
        result = probe.report()
        result["out"] = out
        results[size] = result
    return results


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_draws_in_both_languages_and_large_text(
    probes: dict[tuple[int, int], dict[str, Any]], size: tuple[int, int]
) -> None:
    result = probes[size]
    assert result["window"] == list(size)
    tag = f"{size[0]}x{size[1]}"
    for screen in SCREENS:
        for variant in VARIANTS:
            shot = result["out"] / f"{screen}-{variant}-{tag}.png"
            assert shot.stat().st_size > 10_000, shot  # not a blank frame
            assert _png_size(shot) == size


def test_main_buttons_stay_on_screen_on_the_portrait_kiosk(
    probes: dict[tuple[int, int], dict[str, Any]],
) -> None:
    placed = probes[(1080, 1920)]["checks"]["main_button_inside"]
    outside = {case: ids for case, ids in placed.items() if not all(ids.values())}
    assert outside == {}


def test_main_buttons_stay_on_screen_on_a_small_tablet(
    probes: dict[tuple[int, int], dict[str, Any]],
) -> None:
    placed = probes[(768, 1024)]["checks"]["main_button_inside"]
    outside = {case: ids for case, ids in placed.items() if not all(ids.values())}
    assert outside == {}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_touches_send_the_intents_the_citizen_chose(
    probes: dict[tuple[int, int], dict[str, Any]], size: tuple[int, int]
) -> None:
    result = probes[size]
    assert all(result["checks"]["touched_inside_window"].values())
    assert result["intents"] == {
        "form": [
            "SetField(key='marriage.wedding_date', value='1989-05-20')",
            "SetField(key='marriage.wedding_date', value='1989-05-19')",
            "SetField(key='applicant.phone', value='13800138')",
            "SetField(key='applicant.phone', value='1380013')",
            "SetField(key='marriage.gender', value='female')",
            "Continue()",
            "Back()",
        ],
        "materials": [
            "CapturePage()",
            "RetakePage(material_code='marriage_cert', page_number=1)",
            "UseELicence(material_code='hukou')",
            "CaptureInstead(material_code='hukou')",
            # the disabled Next sent nothing
        ],
        "review": ["PayAtPickup()", "PayNow()", "Submit()"],
        "payment": ["PayAtPickup()", "ExtendTime()"],  # the hidden Next sent nothing
    }


def test_the_form_starts_at_the_field_with_an_error_and_docks_the_right_keypad(
    probes: dict[tuple[int, int], dict[str, Any]],
) -> None:
    result = probes[(1080, 1920)]
    assert result["form_first_active"] == "applicant.phone"
    assert result["form_date_dock"] == "DatePicker"
    assert result["form_phone_dock"] == "PhoneKeypad"
    assert result["form_gender_dock_shown"] is False  # a choice needs no keypad


def test_the_preview_shows_new_frames_and_skips_repeats(
    probes: dict[tuple[int, int], dict[str, Any]],
) -> None:
    result = probes[(1080, 1920)]
    assert result["preview_frames_shown"] >= 2
    # every poll got a new frame from the fake camera, and each one was shown once
    assert result["preview_frames_shown"] == result["preview_frames_made"]


def test_the_payment_code_is_drawn_with_big_whole_pixel_modules(
    probes: dict[tuple[int, int], dict[str, Any]],
) -> None:
    result = probes[(1080, 1920)]
    assert result["payment_qr_modules"] > 21
    assert result["payment_qr_module_pixels"] >= 8


def test_keypads_type_only_what_the_field_can_hold(
    probes: dict[tuple[int, int], dict[str, Any]],
) -> None:
    rules = probes[(1080, 1920)]["keypad_rules"]
    assert rules["id_number"] == "43012119620815123X"
    assert rules["id_early_x"] == "4"
    assert rules["phone"] == "13800138000"
    assert rules["decimal"] == "1.52"
    assert rules["pinyin_events"] == ["H", "HZ", "HZ ", "HZ B", "HZ ", ""]
    assert rules["pinyin_has_all_letters"] is True
    assert rules["dates"] == [
        "1960-01-31",
        "1960-02-29",
        "1950-02-28",
        "1950-02-01",
        "2030-02-01",
    ]
