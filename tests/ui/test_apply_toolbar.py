"""The header toolbar of an apply step (help, language, large text), touched like a person would.

The whole app runs off-screen in a subprocess (apply_toolbar_probe.py: one window per process)
against a seeded service hall on loopback; fingers walk from the attract screen to a service
guide without a card, then touch the guide header's three buttons and the help's close button.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.ui_process import UiProcess

pytestmark = pytest.mark.ui

PROBE = Path(__file__).resolve().parent / "apply_toolbar_probe.py"
PROCESS_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def touched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("apply_toolbar")
    config = folder / "kiosk.toml"
    config.write_text(
        "[display]\nwidth = 1080\nheight = 1920\n"
        f'[storage]\ndata_dir = "{folder / "data"}"\n'
        "[voice]\nenabled = false\n",
        encoding="utf-8",
    )
    run = UiProcess(PROBE, config, folder, cwd=folder, timeout_s=PROCESS_TIMEOUT_S)
    result = run.report()
    assert not result["error"], (result["error"], result["touched"], run.stderr[-3000:])
    result["folder"] = folder
    return result


@pytest.mark.timeout(PROCESS_TIMEOUT_S + 10)
def test_the_fingers_reached_the_guide_and_its_toolbar(touched: dict[str, Any]) -> None:
    assert touched["window"] == [1080, 1920]
    widgets = [touch["widget"] for touch in touched["touched"]]
    assert widgets[:2] == ["attract/apply_button", "identify/browse_button"]
    assert widgets[2].startswith("choose/rows/item[")
    assert widgets[3:] == [
        "guide/header/toolbar/language_button",
        "guide/header/toolbar/large_text_button",
        "guide/header/toolbar/help_button",
        "help/close_button",
        "guide/header/toolbar/large_text_button",
    ]


@pytest.mark.timeout(PROCESS_TIMEOUT_S + 10)
def test_the_language_button_switches_every_header_label(touched: dict[str, Any]) -> None:
    start, after = touched["start"], touched["after_language"]
    assert (start["title"], after["title"]) == ("办事指南", "Service guide")
    assert (start["language"], after["language"]) == ("English", "中文")
    assert (start["help"], after["help"]) == ("帮助", "Help")
    assert (start["large_text"], after["large_text"]) == ("大字模式", "Large text")
    assert (start["back"], after["back"]) == ("← 上一步", "← Back")


@pytest.mark.timeout(PROCESS_TIMEOUT_S + 10)
def test_large_text_makes_the_text_bigger_and_back_again(touched: dict[str, Any]) -> None:
    normal, large = touched["after_language"], touched["after_large_text"]
    assert large["title_font_size"] == pytest.approx(normal["title_font_size"] * 1.35)
    assert large["title_drawn_height"] > normal["title_drawn_height"] * 1.2
    assert large["large_text"] == "Normal text"  # the button says what a touch will do
    assert touched["after_normal_text"]["title_font_size"] == normal["title_font_size"]


@pytest.mark.timeout(PROCESS_TIMEOUT_S + 10)
def test_help_opens_over_the_step_and_closes_back_to_it(touched: dict[str, Any]) -> None:
    assert touched["help_opened"] is True
    assert touched["help_text"] == "12345"  # the hotline, from the terminal's settings
    assert touched["help_closed"] is True
    assert touched["screen_after_help"] == "guide"
    for name in touched["shots"]:
        assert (touched["folder"] / name).stat().st_size > 10_000, name
