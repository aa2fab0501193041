"""The camera's small exception tree; every message is a sentence a technician can act on."""

from __future__ import annotations

from kiosk.ports.camera import CameraError


class SourceUnavailable(CameraError):
    """The configured source (device, file, folder or stream) cannot be opened or read."""


class ImageUnreadable(CameraError):
    """An image file is missing, not an image, or damaged."""


class DocumentError(CameraError):
    """Pages cannot be stored or joined into a PDF (disk full, folder not writable, no pages)."""


__all__ = ["CameraError", "DocumentError", "ImageUnreadable", "SourceUnavailable"]
