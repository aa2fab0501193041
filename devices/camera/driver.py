"""The camera driver: a capture thread, a decode thread, health, and reopening by itself.

The capture thread only reads frames and keeps the newest one; the work thread takes whatever is
newest when it is free. A slow decode therefore drops frames instead of building a queue, the
preview never waits for the decoder, and a code held up is seen within one decode of the frame
that shows it. Neither thread touches the UI: events go to the sink the core provides.

The preview the screen polls is a copy shrunk to `preview_width`, made on the capture thread
(OpenCV lets go of the GIL while it resizes): the UI thread then uploads a ready, contiguous
picture of about the size it shows, instead of striding and copying a 1080p frame itself between
two frames of the interface. The decoder keeps working on the full frame.

Health: OFFLINE when the source cannot be opened or stops delivering (the capture thread retries
with a doubling backoff and reports OK again by itself), FAULT when frames arrive but show nothing
(a covered lens or a dead sensor), DEGRADED when frames arrive too slowly to scan comfortably.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.ports.camera import (
    CameraMode,
    DocumentCaptured,
    PageCaptured,
    PreviewFrame,
)
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, EventSink, HealthState

from .decoder import DEFAULT_FORMATS, CodeDecoder, FramePipeline
from .document import (
    SteadyPageDetector,
    enhance_page,
    find_page_outline,
    motion_between,
    motion_thumbnail,
    straighten_page,
)
from .errors import CameraError, SourceUnavailable
from .messages import DecodedCode, Image
from .pages import DocumentFolder
from .sources import FrameSource

Clock = Callable[[], float]


@dataclass
class DuplicateFilter:
    """One event per code per `window_s` while it is held in view. Pure: the caller gives `now`."""

    window_s: float = 3.0

    def __post_init__(self) -> None:
        self._last: dict[tuple[str, str, bytes | None], float] = {}

    def admit(self, code: DecodedCode, now: float) -> bool:
        key = code.key()
        last = self._last.get(key)
        if last is not None and now - last < self.window_s:
            return False
        self._last[key] = now
        if len(self._last) > 256:  # forget codes not seen for a while
            self._last = {k: t for k, t in self._last.items() if now - t < self.window_s}
        return True

    def forget(self) -> None:
        self._last.clear()


@dataclass(frozen=True)
class CameraStats:
    frames_captured: int
    frames_processed: int
    frames_dropped: int
    decode_ms_last: float
    fps: float  # frames captured per second, over the last few seconds
    open_attempts: int


@dataclass(frozen=True)
class CameraOptions:
    formats: Sequence[str] = DEFAULT_FORMATS
    duplicate_window_s: float = 3.0
    first_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    frame_timeout_s: float = 5.0  # no frame for this long while open → offline
    blank_frames_for_fault: int = 30  # this many featureless frames in a row → fault
    slow_fps: float = 5.0  # below this the camera is degraded
    steady_frames: int = 8
    preview_width: int = 960  # about what a portrait screen's preview shows; 0 keeps full frames


class CameraDriver:
    """Implements kiosk.ports.camera.Camera over any FrameSource."""

    def __init__(
        self,
        source: FrameSource,
        pages_root: Path,
        *,
        name: str = "camera",
        options: CameraOptions | None = None,
        decoder: CodeDecoder | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._source = source
        self._name = name
        self._options = options or CameraOptions()
        self._decoder: CodeDecoder = decoder or FramePipeline(self._options.formats)
        self._clock = clock
        self._duplicates = DuplicateFilter(self._options.duplicate_window_s)
        self._detector = SteadyPageDetector(steady_frames=self._options.steady_frames)
        self._folder = DocumentFolder(pages_root)
        self._sink: EventSink = _discard
        self._mode = CameraMode.IDLE
        self._capture_now = False

        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._latest: PreviewFrame | None = None
        self._latest_full: Image | None = None  # what the decoder works on
        self._processed_sequence = 0
        self._frames_processed = 0
        self._frames_dropped = 0
        self._decode_ms_last = 0.0
        self._arrivals: list[float] = []
        self._blank_run = 0
        self._open_attempts = 0
        self._previous_thumb: Image | None = None
        self._outline: tuple[tuple[float, float], ...] | None = None  # full-frame pixels
        self._health = DeviceHealth(
            name, HealthState.OFFLINE, "the camera has not been started.", clock()
        )

    # -- port -------------------------------------------------------------------------------
    def start(self, sink: EventSink) -> None:
        if self._threads:
            raise CameraError(f"{self._name} is already running.")
        self._sink = sink
        self._stop.clear()
        for target, label in ((self._capture_loop, "capture"), (self._work_loop, "decode")):
            thread = threading.Thread(target=target, name=f"{self._name}-{label}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._source.interrupt()  # the capture thread closes the source itself
        with self._lock:
            self._new_frame.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def set_mode(self, mode: CameraMode) -> None:
        with self._lock:
            if mode is not self._mode:
                self._duplicates.forget()
                self._detector.reset()
                self._outline = None
            self._mode = mode

    @property
    def mode(self) -> CameraMode:
        return self._mode

    def latest_preview(self) -> PreviewFrame | None:
        return self._latest

    def begin_document(self, document_id: str) -> None:
        with self._lock:
            self._folder.begin(document_id)
            self._detector.reset()
            self._mode = CameraMode.DOCUMENT

    def capture_page_now(self) -> None:
        with self._lock:
            self._capture_now = True

    def finish_document(self) -> DocumentCaptured:
        with self._lock:
            return self._folder.finish()

    def pages(self) -> Sequence[PageCaptured]:
        with self._lock:
            return self._folder.pages

    def health(self) -> DeviceHealth:
        return self._health

    def stats(self) -> CameraStats:
        with self._lock:
            captured = self._latest.sequence if self._latest else 0
            return CameraStats(
                captured,
                self._frames_processed,
                self._frames_dropped,
                self._decode_ms_last,
                self._fps(),
                self._open_attempts,
            )

    # -- capture thread ---------------------------------------------------------------------
    def _capture_loop(self) -> None:
        backoff = self._options.first_backoff_s
        while not self._stop.is_set():
            with self._lock:
                self._open_attempts += 1
            try:
                self._source.open()
            except SourceUnavailable as err:
                self._set_health(HealthState.OFFLINE, f"{err} Retrying by itself.")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._options.max_backoff_s)
                continue
            opened_at = self._clock()
            try:
                self._read_until_failure()
            except SourceUnavailable as err:
                if self._stop.is_set():
                    break
                self._set_health(HealthState.OFFLINE, f"{err} Reopening.")
            finally:
                self._source.close()
            if self._clock() - opened_at > self._options.max_backoff_s:
                backoff = self._options.first_backoff_s  # it ran for a while: start over quickly
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._options.max_backoff_s)

    def _read_until_failure(self) -> None:
        while not self._stop.is_set():
            frame = self._source.read()
            now = self._clock()
            preview = preview_copy(frame, self._options.preview_width)
            with self._lock:
                sequence = self._latest.sequence + 1 if self._latest else 1
                outline = scale_outline(self._outline, preview.shape[1] / frame.shape[1])
                self._latest = PreviewFrame(preview, sequence, now, outline)
                self._latest_full = frame
                self._arrivals.append(now)
                if len(self._arrivals) > 60:
                    del self._arrivals[:-60]
                self._new_frame.notify()

    def _fps(self) -> float:
        arrivals = self._arrivals
        if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
            return 0.0
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])

    # -- work thread ------------------------------------------------------------------------
    def _work_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._new_frame.wait_for(
                    lambda: (
                        self._stop.is_set()
                        or (
                            self._latest is not None
                            and self._latest.sequence != self._processed_sequence
                        )
                    ),
                    timeout=0.5,
                )
                latest = self._latest
                full = self._latest_full
                if latest is None or latest.sequence == self._processed_sequence:
                    mode = None
                else:
                    if self._processed_sequence:
                        self._frames_dropped += latest.sequence - self._processed_sequence - 1
                    self._processed_sequence = latest.sequence
                    mode = self._mode
                    capture_now, self._capture_now = self._capture_now, False
            self._check_frames_flowing(latest)
            if mode is None or latest is None or full is None:
                continue
            pixels = full
            self._judge_picture(pixels)
            started = time.perf_counter()
            if mode is CameraMode.CODES:
                self._scan_codes(pixels, latest.captured_at)
            elif mode is CameraMode.DOCUMENT:
                self._look_for_page(pixels, capture_now)
            with self._lock:
                self._decode_ms_last = (time.perf_counter() - started) * 1000
                self._frames_processed += 1

    def _scan_codes(self, frame: Image, seen_at: float) -> None:
        for code in self._decoder.decode(frame):
            if self._duplicates.admit(code, seen_at):
                self._sink(code.as_event())

    def _look_for_page(self, frame: Image, capture_now: bool) -> None:
        outline = find_page_outline(frame)
        thumb = motion_thumbnail(frame)
        motion = (
            motion_between(self._previous_thumb, thumb)
            if self._previous_thumb is not None
            else 255.0
        )
        self._previous_thumb = thumb
        with self._lock:
            self._outline = (
                None if outline is None else tuple((float(x), float(y)) for x, y in outline)
            )
            steady = self._detector.update(outline, motion)
        if not (steady or capture_now):
            return
        try:
            page = straighten_page(frame, outline) if outline is not None else frame
            with self._lock:
                captured = self._folder.add_page(enhance_page(page))
        except (CameraError, ValueError) as err:
            self._set_health(HealthState.DEGRADED, f"a page could not be kept: {err}")
            return
        self._sink(captured)

    def _judge_picture(self, frame: Image) -> None:
        """A picture with almost no variation for many frames is a covered lens or a dead sensor."""
        small = frame[::16, ::16]
        self._blank_run = self._blank_run + 1 if float(small.std()) < 2.0 else 0
        if self._blank_run >= self._options.blank_frames_for_fault:
            self._set_health(
                HealthState.FAULT,
                "the camera picture is blank: check that nothing covers the lens and that the "
                "light works.",
            )
            return
        with self._lock:
            fps = self._fps()
            enough = len(self._arrivals) >= 10
        if enough and fps < self._options.slow_fps:
            self._set_health(
                HealthState.DEGRADED,
                f"the camera delivers only {fps:.1f} frames/s; check the cable and the lighting.",
            )
        else:
            self._set_health(HealthState.OK, "")

    def _check_frames_flowing(self, latest: PreviewFrame | None) -> None:
        if latest is None or self._health.state is HealthState.OFFLINE:
            return
        silent_for = self._clock() - latest.captured_at
        if silent_for > self._options.frame_timeout_s:
            self._set_health(
                HealthState.OFFLINE,
                f"no frame from the {self._source.description} for {silent_for:.0f} s; "
                "check the camera cable and power.",
            )

    def _set_health(self, state: HealthState, reason: str) -> None:
        with self._lock:
            current = self._health
            if current.state is state and current.reason == reason:
                return
            self._health = DeviceHealth(self._name, state, reason, self._clock())
            health = self._health
        self._sink(DeviceHealthChanged(health))


def preview_copy(frame: Image, width: int) -> Image:
    """The frame shrunk to `width` pixels across (never enlarged), contiguous, ready to upload.

    INTER_AREA averages the pixels it drops, so text on a page stays legible in the preview where
    taking every n-th pixel would shimmer."""
    frame_width = int(frame.shape[1])
    if width <= 0 or frame_width <= width:
        return frame
    height = max(1, round(frame.shape[0] * width / frame_width))
    return np.asarray(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def scale_outline(
    outline: tuple[tuple[float, float], ...] | None, factor: float
) -> tuple[tuple[float, float], ...] | None:
    """Corners found on the full frame, in the coordinates of the (smaller) preview copy."""
    if outline is None:
        return None
    return tuple((x * factor, y * factor) for x, y in outline)


def _discard(event: object) -> None:
    """The sink before start(): events before anyone listens are dropped on purpose."""
