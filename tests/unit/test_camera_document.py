"""Document capture: page outline, straightening, the auto-capture rule, JPEG pages and the PDF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from devices.camera.document import (
    SteadyPageDetector,
    SteadyState,
    corner_shift,
    enhance_page,
    find_page_outline,
    motion_between,
    motion_thumbnail,
    order_corners,
    straighten_page,
)
from devices.camera.errors import DocumentError
from devices.camera.messages import Quad
from devices.camera.pages import DocumentFolder
from firmware_stubs.camera import empty_scene, render_code_scene, render_page_scene

A4_RATIO = 297 / 210


def shifted(quad: Quad, dx: float, dy: float = 0.0) -> Quad:
    tl, tr, br, bl = ((x + dx, y + dy) for x, y in quad)
    return (tl, tr, br, bl)


PAGE: Quad = ((600.0, 100.0), (1300.0, 120.0), (1280.0, 1000.0), (620.0, 980.0))


def test_corners_are_ordered_clockwise_from_top_left_whatever_the_contour_order() -> None:
    scrambled = np.array([[1280, 1000], [600, 100], [620, 980], [1300, 120]], dtype=np.float32)

    assert order_corners(scrambled) == PAGE


def test_a_page_on_the_desk_is_found_and_straightened_to_a4_proportions() -> None:
    frame = render_page_scene("Household register", seed=3)

    outline = find_page_outline(frame)

    assert outline is not None
    page = straighten_page(frame, outline)
    assert page.shape[0] / page.shape[1] == pytest.approx(A4_RATIO, rel=0.06)
    # The straightened page is the white paper, not the dark desk around it.
    assert float(page.mean()) > 200


@pytest.mark.parametrize("frame", [empty_scene(4), render_code_scene("PICKUP-1", seed=9)])
def test_no_page_is_reported_when_there_is_none(frame: np.ndarray) -> None:
    assert find_page_outline(frame) is None


def test_enhancing_gives_a_gray_page_of_the_same_size() -> None:
    page = np.full((300, 200, 3), 170, np.uint8)
    page[100:110, 20:180] = 60

    enhanced = enhance_page(page)

    assert enhanced.shape == (300, 200)
    assert enhanced[105, 100] < enhanced[50, 100]


def test_straightening_refuses_a_degenerate_outline() -> None:
    with pytest.raises(ValueError, match="too small"):
        straighten_page(np.zeros((100, 100, 3), np.uint8), ((1, 1), (2, 1), (2, 2), (1, 2)))


def test_motion_is_zero_for_the_same_picture_and_large_for_a_moved_page() -> None:
    still = motion_thumbnail(render_page_scene("P", seed=1, noise_sigma=0))
    moved = motion_thumbnail(render_page_scene("P", seed=1, offset=(200, 0), noise_sigma=0))

    assert motion_between(still, still) == 0.0
    assert motion_between(still, moved) > 5.0


def run(detector: SteadyPageDetector, steps: Sequence[tuple[Quad | None, float]]) -> list[int]:
    """Indices of the frames on which the detector says: capture now."""
    return [
        index for index, (outline, motion) in enumerate(steps) if detector.update(outline, motion)
    ]


def test_a_page_is_captured_once_after_lying_still_for_k_frames() -> None:
    detector = SteadyPageDetector(steady_frames=4)
    steps: list[tuple[Quad | None, float]] = [(None, 0.0)] * 2
    steps += [(shifted(PAGE, 40.0 * i), 20.0) for i in range(3)]  # being laid down
    steps += [(shifted(PAGE, 80 + (i % 2)), 0.5) for i in range(10)]  # still (1 px jitter)

    captured = run(detector, steps)

    # Index 5 is the first frame in the same place as the one before; its 4th still frame is 8.
    assert captured == [8]
    assert detector.state is SteadyState.TAKEN


def test_a_hand_moving_over_a_still_outline_delays_the_capture() -> None:
    detector = SteadyPageDetector(steady_frames=3)
    steps = [(PAGE, 0.5)] * 3 + [(PAGE, 9.0)] + [(PAGE, 0.5)] * 3

    assert run(detector, steps) == [6]


def test_after_a_capture_the_next_page_needs_the_old_one_removed_or_replaced() -> None:
    detector = SteadyPageDetector(steady_frames=2, gone_frames=2)
    still: list[tuple[Quad | None, float]] = [(PAGE, 0.0)] * 3
    brief_gap: list[tuple[Quad | None, float]] = [(None, 0.0)]  # a hand passing over: same page
    removed: list[tuple[Quad | None, float]] = [(None, 0.0)] * 2
    replaced: list[tuple[Quad | None, float]] = [(shifted(PAGE, 150), 0.0)] * 3

    steps = still + still + brief_gap + still + removed + still + replaced

    # 2: first page; 14: same page put back after removal; 17: a different page swapped in.
    assert run(detector, steps) == [2, 14, 17]


def test_a_page_that_never_settles_is_never_captured() -> None:
    detector = SteadyPageDetector(steady_frames=3, max_corner_shift_px=6)
    steps: list[tuple[Quad | None, float]] = [(shifted(PAGE, 10 * (i % 3)), 1.0) for i in range(30)]

    assert run(detector, steps) == []
    assert detector.state is SteadyState.SETTLING


def test_rendered_frames_through_the_whole_rule_capture_only_the_still_page() -> None:
    detector = SteadyPageDetector(steady_frames=3)
    frames = [empty_scene(1)]
    frames += [render_page_scene("Form", seed=1, offset=(120 - 40 * i, 0)) for i in range(3)]
    frames += [render_page_scene("Form", seed=1, offset=(0, 0)) for _ in range(5)]
    previous = None
    captured = []
    for index, frame in enumerate(frames):
        thumb = motion_thumbnail(frame)
        motion = motion_between(previous, thumb) if previous is not None else 255.0
        previous = thumb
        if detector.update(find_page_outline(frame), motion):
            captured.append(index)

    # Frames 4..8 lie still; the 3rd frame still after frame 4 is frame 7.
    assert captured == [7]
    assert corner_shift(PAGE, shifted(PAGE, 3, 4)) == pytest.approx(5.0)


def test_pages_are_kept_as_jpegs_and_joined_into_one_pdf(tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path)
    folder.begin("SUB-2024-0001.id-card")
    first = folder.add_page(np.full((400, 280), 230, np.uint8))
    second = folder.add_page(np.full((400, 280, 3), 200, np.uint8))

    document = folder.finish()

    assert (first.page_number, second.page_number) == (1, 2)
    assert Path(first.jpeg_path).read_bytes()[:2] == b"\xff\xd8"
    assert (first.width, first.height) == (280, 400)
    pdf = Path(document.pdf_path).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") == 2
    assert document.page_paths == (first.jpeg_path, second.jpeg_path)
    assert not list(tmp_path.rglob("*.part"))


def test_page_storage_refuses_unsafe_ids_and_empty_documents(tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path)
    with pytest.raises(DocumentError, match="cannot name a folder"):
        folder.begin("../escape")
    with pytest.raises(DocumentError, match="no document was begun"):
        folder.add_page(np.zeros((10, 10), np.uint8))
    folder.begin("empty")
    with pytest.raises(DocumentError, match="has no pages yet"):
        folder.finish()


def test_an_unwritable_folder_is_reported_with_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")

    with pytest.raises(DocumentError, match="cannot create the page folder"):
        DocumentFolder(blocker).begin("doc")
