"""The camera preview in a real off-screen window (a subprocess: one Kivy window per process).

The preview uploads each new picture into the next of a few textures in turn, so a software
renderer never makes the UI thread wait for a frame still being drawn (see materials_screen.py).
What must hold whatever the ring does: the screen shows the newest picture, never a stale one from
an earlier turn; a frame already shown is not uploaded again; forgetting leaves no picture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.ui_process import UiProcess

pytestmark = pytest.mark.ui

PROBE = Path(__file__).resolve().parent / "materials_preview_probe.py"
PROCESS_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("materials_preview")
    return UiProcess(PROBE, out, cwd=out, timeout_s=PROCESS_TIMEOUT_S).report()


def test_every_new_picture_is_the_one_on_screen(probe: dict[str, Any]) -> None:
    shown = probe["shown"]
    assert len(shown) == 8
    for frame in shown:
        assert frame["seen_rgb"] == frame["expected_rgb"], frame["label"]


def test_pictures_go_into_textures_in_turn_and_repeats_are_not_uploaded(
    probe: dict[str, Any],
) -> None:
    shown = probe["shown"]
    assert [frame["frames_shown"] for frame in shown] == list(range(1, 9))
    same_format = [frame["texture"] for frame in shown[:5]]  # five BGR preview copies
    assert len(set(same_format[:3])) == 3  # three different textures in a row
    assert same_format[3] == same_format[0]
    assert same_format[4] == same_format[1]


def test_a_full_frame_is_shrunk_to_the_widget(probe: dict[str, Any]) -> None:
    full = [frame for frame in probe["shown"] if "full frame" in frame["label"]]
    width, height = full[0]["texture_size"]
    assert width <= 600  # the probe's window is 600x400
    assert height <= 400


def test_forgetting_leaves_no_picture(probe: dict[str, Any]) -> None:
    colours = [frame["expected_rgb"] for frame in probe["shown"]]
    assert probe["forgotten_rgb"] not in colours
