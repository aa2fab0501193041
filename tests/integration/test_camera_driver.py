"""The camera driver against the camera stub's MJPEG stream and against real frame sources.

The stub plays the citizen: it holds codes up, lays pages down and pulls the cable. Every wait
is on a condition with a deadline; nothing is timed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from devices.camera import CameraDriver, CameraOptions, FolderSource, MemorySource, source_from_spec
from firmware_stubs.camera import CameraStub, code_image, render_code_scene, structured_append_qr
from kiosk.ports.camera import Camera, CameraMode, CodeScanned, PageCaptured
from kiosk.ports.health import DeviceHealthChanged, HealthState

DEADLINE_S = 20.0


class Recorder:
    """The event sink: records everything, lets a test wait for a condition."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._changed = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of(self, kind: type) -> list[object]:
        with self._changed:
            return [event for event in self.events if isinstance(event, kind)]

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout=DEADLINE_S):
                raise AssertionError(f"timed out waiting for {what}; events: {self.events[-8:]}")

    def health_states(self) -> list[HealthState]:
        return [event.health.state for event in self.of(DeviceHealthChanged)]  # type: ignore[attr-defined]


def as_bgr(gray: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint8]]:
    return np.asarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """For conditions that no event announces (frame counters): poll on a short wait."""
    done = threading.Event()
    for _ in range(int(DEADLINE_S / 0.02)):
        if condition():
            return
        done.wait(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stub() -> Iterator[CameraStub]:
    camera = CameraStub(fps=12)
    camera.serve()
    yield camera
    camera.stop()


@pytest.fixture
def fast_retry() -> CameraOptions:
    return CameraOptions(first_backoff_s=0.05, max_backoff_s=0.3, steady_frames=3)


def start(driver: CameraDriver, sink: Recorder) -> CameraDriver:
    driver.start(sink)
    return driver


def test_a_code_held_up_to_the_stub_is_reported_once_while_held(
    stub: CameraStub, tmp_path: Path, fast_retry: CameraOptions
) -> None:
    events = Recorder()
    driver = CameraDriver(source_from_spec(stub.url), tmp_path, options=fast_retry)
    camera: Camera = driver  # the driver satisfies the core's port
    camera.set_mode(CameraMode.CODES)
    start(driver, events)
    try:
        events.wait_for(lambda: HealthState.OK in events.health_states(), "the camera to be ok")
        stub.control("show_code", {"text": "PICKUP-88120731", "seed": 3, "severity": 0.5})
        events.wait_for(lambda: bool(events.of(CodeScanned)), "the code to be scanned")
        seen_at = driver.stats().frames_processed
        wait_until(lambda: driver.stats().frames_processed >= seen_at + 10, "ten more frames")

        assert events.of(CodeScanned) == [CodeScanned("QRCode", "PICKUP-88120731", None)]
        preview = camera.latest_preview()
        assert preview is not None
        # The preview is shrunk on the camera's thread so the UI thread uploads it as it is.
        assert preview.pixels.shape == (540, 960, 3)
        assert preview.pixels.flags.c_contiguous  # type: ignore[attr-defined]
    finally:
        driver.stop()


def test_codes_are_only_decoded_in_codes_mode(stub: CameraStub, tmp_path: Path) -> None:
    events = Recorder()
    stub.control("show_code", {"text": "PICKUP-1"})
    driver = start(CameraDriver(source_from_spec(stub.url), tmp_path), events)
    try:
        wait_until(lambda: driver.stats().frames_processed >= 5, "five frames in idle mode")
        assert events.of(CodeScanned) == []
        driver.set_mode(CameraMode.CODES)
        events.wait_for(lambda: bool(events.of(CodeScanned)), "the code in codes mode")
    finally:
        driver.stop()


def test_unplugging_the_camera_goes_offline_and_replugging_recovers_by_itself(
    stub: CameraStub, tmp_path: Path, fast_retry: CameraOptions
) -> None:
    events = Recorder()
    driver = start(CameraDriver(source_from_spec(stub.url), tmp_path, options=fast_retry), events)
    try:
        events.wait_for(lambda: driver.health().state is HealthState.OK, "ok")
        stub.control("unplug", {})
        events.wait_for(lambda: driver.health().state is HealthState.OFFLINE, "offline")
        assert "stream" in driver.health().reason
        stub.control("replug", {})
        events.wait_for(lambda: driver.health().state is HealthState.OK, "ok again")

        states = events.health_states()
        assert states[states.index(HealthState.OK) :][-1] is HealthState.OK
        assert HealthState.OFFLINE in states[states.index(HealthState.OK) :]
    finally:
        driver.stop()


def test_a_page_laid_still_is_captured_and_a_moving_one_is_not(
    stub: CameraStub, tmp_path: Path, fast_retry: CameraOptions
) -> None:
    events = Recorder()
    driver = start(CameraDriver(source_from_spec(stub.url), tmp_path, options=fast_retry), events)
    try:
        driver.begin_document("SUB-0001-household")
        stub.control("move_page", {"title": "Household register"})
        wait_until(lambda: driver.stats().frames_processed >= 12, "frames of a moving page")
        assert events.of(PageCaptured) == []

        stub.control("place_page", {"title": "Household register", "seed": 2})
        events.wait_for(lambda: len(events.of(PageCaptured)) == 1, "the still page")
        stub.control("clear", {})
        cleared_at = driver.stats().frames_processed
        wait_until(lambda: driver.stats().frames_processed >= cleared_at + 6, "an empty desk")
        stub.control("place_page", {"title": "Second page", "seed": 5})
        events.wait_for(lambda: len(events.of(PageCaptured)) == 2, "the second page")
        document = driver.finish_document()

        pages = [page for page in events.of(PageCaptured) if isinstance(page, PageCaptured)]
        assert [page.page_number for page in pages] == [1, 2]
        first = cv2.imread(pages[0].jpeg_path, cv2.IMREAD_GRAYSCALE)
        assert first is not None
        assert first.shape[0] / first.shape[1] == pytest.approx(297 / 210, rel=0.08)
        assert Path(document.pdf_path).read_bytes().count(b"/Type /Page\n") == 2
        assert tuple(driver.pages()) == tuple(pages)
    finally:
        driver.stop()


def test_the_preview_carries_the_page_outline_in_its_own_pixels_while_looking_for_pages(
    stub: CameraStub, tmp_path: Path
) -> None:
    options = CameraOptions(
        first_backoff_s=0.05, max_backoff_s=0.3, steady_frames=1000, preview_width=480
    )
    driver = start(CameraDriver(source_from_spec(stub.url), tmp_path, options=options), Recorder())
    try:
        stub.control("place_page", {"title": "Household register", "seed": 2})
        wait_until(lambda: driver.stats().frames_processed >= 3, "frames in idle mode")
        idle_preview = driver.latest_preview()
        assert idle_preview is not None
        assert idle_preview.outline is None  # nothing is looked for outside document mode

        driver.begin_document("SUB-0002-outline")

        def outlined() -> bool:
            preview = driver.latest_preview()
            return preview is not None and preview.outline is not None

        wait_until(outlined, "a preview frame with the page outline")
        preview = driver.latest_preview()
        assert preview is not None
        assert preview.outline is not None
        height, width = preview.pixels.shape[0], preview.pixels.shape[1]
        assert width == 480
        assert len(preview.outline) == 4
        xs = [x for x, _ in preview.outline]
        ys = [y for _, y in preview.outline]
        assert all(0 <= x <= width for x in xs)
        assert all(0 <= y <= height for y in ys)
        assert (max(xs) - min(xs)) * (
            max(ys) - min(ys)
        ) > 0.08 * width * height  # a page, not a dot

        stub.control("clear", {})
        wait_until(lambda: not outlined(), "the outline gone with the page")
    finally:
        driver.stop()


def test_capture_now_takes_a_page_without_waiting_for_stillness(tmp_path: Path) -> None:
    events = Recorder()
    # Seed 1 is a scene where no page outline is found (in others the code's square is taken for
    # one), so whichever frame the forced capture lands on, the page is the whole frame.
    frames = [np.ascontiguousarray(render_code_scene("x", seed=1))]
    driver = start(CameraDriver(MemorySource(frames, fps=30), tmp_path), events)
    try:
        driver.begin_document("quick")
        driver.capture_page_now()
        events.wait_for(lambda: len(events.of(PageCaptured)) == 1, "the forced page")
        page = events.of(PageCaptured)[0]
        assert isinstance(page, PageCaptured)
        assert (page.width, page.height) == (1920, 1080)  # no outline: the whole frame
    finally:
        driver.stop()


def test_a_folder_that_is_empty_at_start_is_retried_until_images_arrive(
    tmp_path: Path, fast_retry: CameraOptions
) -> None:
    events = Recorder()
    folder = tmp_path / "frames"
    folder.mkdir()
    driver = start(CameraDriver(FolderSource(folder, fps=30), tmp_path, options=fast_retry), events)
    try:
        wait_until(lambda: driver.stats().open_attempts >= 3, "three attempts to open")
        assert driver.health().state is HealthState.OFFLINE
        assert "holds no images" in driver.health().reason
        cv2.imwrite(str(folder / "frame.png"), render_code_scene("PICKUP-5", seed=1))
        events.wait_for(lambda: driver.health().state is HealthState.OK, "ok after images arrive")
    finally:
        driver.stop()


def test_a_blank_picture_is_a_fault_and_garbage_codes_never_stop_the_loop(tmp_path: Path) -> None:
    events = Recorder()
    rng = np.random.default_rng(0)
    garbage: list[np.ndarray[Any, np.dtype[np.uint8]]] = [
        rng.integers(0, 256, size=(1080, 1920, 3), dtype=np.uint8),
        as_bgr(cv2.resize(structured_append_qr(b"PART"), (600, 600))),
        as_bgr(code_image(b"\xff\xfe\x00 not text")),
    ]
    driver = CameraDriver(
        MemorySource(garbage, fps=60), tmp_path, options=CameraOptions(blank_frames_for_fault=5)
    )
    driver.set_mode(CameraMode.CODES)
    start(driver, events)
    try:
        events.wait_for(
            lambda: any(isinstance(e, CodeScanned) and e.raw is not None for e in events.events),
            "the binary payload",
        )
        assert driver.health().state is not HealthState.FAULT
    finally:
        driver.stop()

    blank = Recorder()
    covered = CameraDriver(
        MemorySource([np.zeros((720, 1280, 3), np.uint8)], fps=60),
        tmp_path,
        options=CameraOptions(blank_frames_for_fault=5),
    )
    start(covered, blank)
    try:
        blank.wait_for(lambda: covered.health().state is HealthState.FAULT, "a fault")
        assert "nothing covers the lens" in covered.health().reason
    finally:
        covered.stop()
