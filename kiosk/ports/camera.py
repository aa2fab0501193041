"""The camera port: codes held up to the camera, pages laid under it, and a live preview.

The core never sees pixels it has to understand: it receives `CodeScanned` (a pickup code, a
receipt QR) and `PageCaptured` / `DocumentCaptured` (e-copies of the citizen's materials), and it
tells the camera what it is looking for. The preview is handed through untouched for the screen
that shows the citizen what the camera sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from .health import DeviceHealth, EventSink


class CameraMode(StrEnum):
    IDLE = "idle"  # frames keep flowing for health and preview, nothing is decoded
    CODES = "codes"  # look for QR / 1-D codes (pickup codes, receipts, e-licence QR)
    DOCUMENT = "document"  # look for a page and capture it when it lies still


class ImagePixels(Protocol):
    """A height × width × 3 BGR uint8 image (a numpy array); the core only passes it on."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def tobytes(self) -> bytes: ...


@dataclass(frozen=True)
class PreviewFrame:
    """The newest frame; `sequence` grows by one per frame, so a view can skip redraws."""

    pixels: ImagePixels
    sequence: int
    captured_at: float  # monotonic seconds
    # The page the camera last found, as four corners in `pixels` coordinates (top-left first,
    # clockwise), while looking for documents; None when there is none. It may lag the picture
    # by a frame: detection runs on its own thread.
    outline: tuple[tuple[float, float], ...] | None = None


# Events (past tense).
@dataclass(frozen=True)
class CodeScanned:
    """One code seen by the camera. `raw` is set only when the payload is not UTF-8 text.

    `format` uses the zxing-cpp names: "QRCode", "EAN13", "Code128", "DataMatrix", ...
    """

    format: str
    text: str
    raw: bytes | None = None


@dataclass(frozen=True)
class PageCaptured:
    """A page was straightened, enhanced and kept as a JPEG (page numbers start at 1)."""

    document_id: str
    page_number: int
    jpeg_path: str
    width: int
    height: int


@dataclass(frozen=True)
class DocumentCaptured:
    """The pages of one document, joined into a PDF in page order."""

    document_id: str
    pdf_path: str
    page_paths: tuple[str, ...]


class CameraError(Exception):
    """A camera operation failed; the message says what a technician can check."""


class Camera(Protocol):
    """One camera. Calls return quickly; decoding and capture run on the adapter's threads."""

    def start(self, sink: EventSink) -> None:
        """Open the source (retrying in the background); events and health changes go to `sink`."""

    def stop(self) -> None: ...

    def set_mode(self, mode: CameraMode) -> None: ...

    def latest_preview(self) -> PreviewFrame | None:
        """The newest frame without waiting (None before the first frame)."""

    def begin_document(self, document_id: str) -> None:
        """Start collecting pages under this id; switches to DOCUMENT mode."""

    def capture_page_now(self) -> None:
        """Take the next frame as a page even if not steady (the citizen pressed the button)."""

    def finish_document(self) -> DocumentCaptured:
        """Write the PDF of the pages since `begin_document`; raises CameraError if none."""

    def pages(self) -> Sequence[PageCaptured]: ...

    def health(self) -> DeviceHealth: ...
