"""Keeping captured pages: one JPEG per page as it is taken, one PDF per document at the end.

A JPEG is written the moment a page is captured, so a crash or a power cut loses at most the PDF
(rebuilt from the JPEGs), never the citizen's pages. Files are written to a temporary name and
renamed, so a half-written page is never picked up for upload.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
from PIL import Image as PILImage

from kiosk.ports.camera import DocumentCaptured, PageCaptured

from .errors import DocumentError
from .messages import Image

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
JPEG_QUALITY = 88
PDF_RESOLUTION_DPI = 150.0


class DocumentFolder:
    """The pages of the document being captured, under `<root>/<document_id>/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.document_id: str | None = None
        self._pages: list[PageCaptured] = []

    def begin(self, document_id: str) -> None:
        if not _SAFE_ID.match(document_id):
            raise DocumentError(
                f"document id {document_id!r} cannot name a folder: "
                "use letters, digits, '.', '_' or '-'."
            )
        try:
            (self.root / document_id).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DocumentError(
                f"cannot create the page folder {self.root / document_id} ({err.strerror}); "
                "check the disk."
            ) from err
        self.document_id = document_id
        self._pages = []

    @property
    def pages(self) -> tuple[PageCaptured, ...]:
        return tuple(self._pages)

    def add_page(self, page: Image) -> PageCaptured:
        document_id = self._current()
        number = len(self._pages) + 1
        path = self.root / document_id / f"page-{number:03d}.jpg"
        ok, encoded = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise DocumentError(f"page {number} of {document_id} could not be encoded as JPEG.")
        _write_atomically(path, encoded.tobytes())
        captured = PageCaptured(
            document_id, number, str(path), int(page.shape[1]), int(page.shape[0])
        )
        self._pages.append(captured)
        return captured

    def finish(self) -> DocumentCaptured:
        """Join the pages into `<document_id>.pdf`; the JPEGs stay for the upload."""
        document_id = self._current()
        if not self._pages:
            raise DocumentError(f"document {document_id} has no pages yet; capture a page first.")
        pdf_path = self.root / document_id / f"{document_id}.pdf"
        temporary = pdf_path.with_suffix(".pdf.part")
        try:
            images = [PILImage.open(page.jpeg_path).convert("RGB") for page in self._pages]
            first, rest = images[0], images[1:]
            first.save(
                temporary, "PDF", resolution=PDF_RESOLUTION_DPI, save_all=True, append_images=rest
            )
            os.replace(temporary, pdf_path)
        except OSError as err:
            raise DocumentError(
                f"cannot write the PDF of {document_id} to {pdf_path} ({err}); check the disk."
            ) from err
        return DocumentCaptured(
            document_id, str(pdf_path), tuple(page.jpeg_path for page in self._pages)
        )

    def _current(self) -> str:
        if self.document_id is None:
            raise DocumentError("no document was begun; call begin_document first.")
        return self.document_id


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as err:
        raise DocumentError(f"cannot write {path} ({err.strerror}); check the disk.") from err
