"""Where frames come from: a camera by index, a video file, a folder of images, or a stream URL.

The configuration names the source in one string (`devices.camera.source`), like a serial port
URL: "0" is the first camera, "rtsp://…" or "http://…/stream.mjpg" a network camera, a folder
cycles its images, a video file loops. Files and folders are paced to a frame rate so a demo
behaves like a camera instead of spinning a core.

`read()` blocks until the next frame; a source that stops delivering raises `SourceUnavailable`
and the driver reopens it with backoff.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .errors import ImageUnreadable, SourceUnavailable
from .messages import Image

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".mjpg", ".mjpeg", ".webm"})
STREAM_TIMEOUT_MS = 4000


class FrameSource(Protocol):
    @property
    def description(self) -> str: ...

    def open(self) -> None:
        """Raises SourceUnavailable with a sentence saying what to check."""

    def read(self) -> Image:
        """The next frame (blocking); raises SourceUnavailable when frames stop."""

    def interrupt(self) -> None:
        """Wake a read that waits for pacing (called from another thread when stopping)."""

    def close(self) -> None:
        """Release the device; only the thread that reads calls it."""


class _Pacer:
    """Holds a file-backed source to a frame rate; `interrupt` releases a waiting reader."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps if fps > 0 else 0.0
        self._next = time.monotonic()
        self._wake = threading.Event()

    def wait(self) -> None:
        if self.interval <= 0:
            return
        delay = self._next - time.monotonic()
        if delay > 0:
            self._wake.wait(delay)
        self._next = max(self._next + self.interval, time.monotonic())

    def interrupt(self) -> None:
        self._wake.set()


def read_image(path: Path) -> Image:
    """A still image from disk as BGR; the error says whether it is missing or not an image."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError as err:
        raise ImageUnreadable(f"{path}: no such file.") from err
    except IsADirectoryError as err:
        raise ImageUnreadable(f"{path}: is a folder, not an image file.") from err
    except OSError as err:
        raise ImageUnreadable(f"{path}: cannot be read ({err.strerror}).") from err
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as err:
        raise ImageUnreadable(f"{path}: the image is damaged or too large to decode.") from err
    if image is None:
        raise ImageUnreadable(
            f"{path}: not an image OpenCV can read (empty, damaged or another format)."
        )
    return np.asarray(image, dtype=np.uint8)


@dataclass
class FolderSource:
    """Cycles the images of a folder in name order; the listing is refreshed on every lap, so
    images dropped in while running are picked up."""

    folder: Path
    fps: float = 15.0
    _files: list[Path] = field(default_factory=list)
    _index: int = 0
    _cache: dict[tuple[Path, float], Image] = field(default_factory=dict)
    _pacer: _Pacer | None = None

    @property
    def description(self) -> str:
        return f"image folder {self.folder}"

    def open(self) -> None:
        self._pacer = _Pacer(self.fps)
        self._files = self._list()
        self._index = 0

    def _list(self) -> list[Path]:
        try:
            files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError as err:
            raise SourceUnavailable(
                f"the image folder {self.folder} cannot be listed ({err.strerror})."
            ) from err
        if not files:
            raise SourceUnavailable(
                f"the image folder {self.folder} holds no images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))})."
            )
        return files

    def read(self) -> Image:
        if self._pacer is None:
            raise SourceUnavailable(f"the {self.description} was not opened.")
        self._pacer.wait()
        if self._index >= len(self._files):
            self._files = self._list()
            self._index = 0
        path = self._files[self._index]
        self._index += 1
        try:
            key = (path, path.stat().st_mtime)
        except OSError as err:
            raise SourceUnavailable(f"{path} disappeared from the image folder.") from err
        image = self._cache.get(key)
        if image is None:
            try:
                image = read_image(path)
            except ImageUnreadable as err:
                raise SourceUnavailable(str(err)) from err
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = image
        return image

    def interrupt(self) -> None:
        if self._pacer is not None:
            self._pacer.interrupt()

    def close(self) -> None:
        self._pacer = None


@dataclass
class CaptureSource:
    """cv2.VideoCapture over a device index, a video file (looped) or a stream URL."""

    target: int | str
    fps: float = 15.0  # pacing for files; devices and streams deliver at their own rate
    width: int = 1920
    height: int = 1080
    _capture: cv2.VideoCapture | None = None
    _pacer: _Pacer | None = None

    @property
    def is_file(self) -> bool:
        return isinstance(self.target, str) and "://" not in self.target

    @property
    def description(self) -> str:
        if isinstance(self.target, int):
            return f"camera {self.target}"
        return f"video file {self.target}" if self.is_file else f"stream {self.target}"

    def open(self) -> None:
        self.close()
        try:
            if isinstance(self.target, int):
                capture = cv2.VideoCapture(self.target)
                # USB 2 carries 1080p at 30 fps only compressed; raw YUYV manages about 5 fps.
                capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # latest frame, not a queue of old ones
            elif self.is_file:
                capture = cv2.VideoCapture(self.target)
            else:
                timeouts = [
                    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                    STREAM_TIMEOUT_MS,
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                    STREAM_TIMEOUT_MS,
                ]
                capture = cv2.VideoCapture(self.target, cv2.CAP_FFMPEG, timeouts)
        except cv2.error as err:
            raise SourceUnavailable(f"the {self.description} cannot be opened: {err}.") from err
        if not capture.isOpened():
            capture.release()
            hint = {
                True: "check that the file exists and is a video (MJPG or mp4v).",
                False: "check the camera's cable and power, the address, and that nothing else "
                "uses it.",
            }[self.is_file]
            raise SourceUnavailable(f"the {self.description} cannot be opened; {hint}")
        self._capture = capture
        self._pacer = _Pacer(self.fps if self.is_file else 0.0)

    def read(self) -> Image:
        capture = self._capture
        if capture is None:
            raise SourceUnavailable(f"the {self.description} is not open.")
        if self._pacer is not None:
            self._pacer.wait()
        try:
            ok, frame = capture.read()
            if not ok and self.is_file:  # end of the video: loop, as a demo would
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = capture.read()
        except cv2.error as err:
            raise SourceUnavailable(f"the {self.description} failed while reading: {err}.") from err
        if not ok or frame is None:
            raise SourceUnavailable(f"the {self.description} stopped delivering frames.")
        return np.asarray(frame, dtype=np.uint8)

    def interrupt(self) -> None:
        if self._pacer is not None:
            self._pacer.interrupt()

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def source_from_spec(spec: str, fps: float = 15.0) -> FrameSource:
    """Turn the configured string into a source; a wrong string fails at start-up, not later."""
    text = spec.strip()
    if not text:
        raise SourceUnavailable("no camera source is configured (devices.camera.source is empty).")
    if text.isdigit():
        return CaptureSource(int(text), fps=fps)
    if "://" in text:
        return CaptureSource(text, fps=fps)
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path, fps=fps)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise SourceUnavailable(
            f"{path} is a single image; put it in a folder and configure the folder."
        )
    if path.is_file() or path.suffix.lower() in VIDEO_SUFFIXES:
        return CaptureSource(str(path), fps=fps)
    raise SourceUnavailable(
        f"the camera source {text!r} is not a camera index, an existing folder or video file, "
        "or a URL."
    )


def describe_sources(specs: Sequence[str]) -> list[str]:
    """One line per configured source (for `kiosk doctor`)."""
    lines = []
    for spec in specs:
        try:
            lines.append(source_from_spec(spec).description)
        except SourceUnavailable as err:
            lines.append(str(err))
    return lines


@dataclass
class MemorySource:
    """Frames already in memory, cycled (benchmarks, tests, a still shown on a demo screen).
    `fps=0` delivers as fast as the reader asks, to measure the decode loop alone."""

    frames: Sequence[Image]
    fps: float = 0.0
    _index: int = 0
    _pacer: _Pacer | None = None

    @property
    def description(self) -> str:
        return f"{len(self.frames)} frames in memory"

    def open(self) -> None:
        if not self.frames:
            raise SourceUnavailable("the in-memory source has no frames.")
        self._pacer = _Pacer(self.fps)

    def read(self) -> Image:
        if self._pacer is None:
            raise SourceUnavailable(f"the source of {self.description} was not opened.")
        self._pacer.wait()
        frame = self.frames[self._index % len(self.frames)]
        self._index += 1
        return frame

    def interrupt(self) -> None:
        if self._pacer is not None:
            self._pacer.interrupt()

    def close(self) -> None:
        self._pacer = None
