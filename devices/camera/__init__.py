"""The camera: QR / 1-D code scanning and document capture over any frame source.

Build one with `CameraDriver(source_from_spec(settings.devices.camera.source), pages_root)`; it
implements `kiosk.ports.camera.Camera`.
"""

from .decoder import (
    DEFAULT_FORMATS,
    QR_ONLY,
    FramePipeline,
    PyzbarDecoder,
    ZxingDecoder,
    decode_still,
)
from .driver import CameraDriver, CameraOptions, CameraStats, DuplicateFilter
from .errors import CameraError, DocumentError, ImageUnreadable, SourceUnavailable
from .messages import DecodedCode
from .sources import (
    CaptureSource,
    FolderSource,
    FrameSource,
    MemorySource,
    read_image,
    source_from_spec,
)

__all__ = [
    "DEFAULT_FORMATS",
    "QR_ONLY",
    "CameraDriver",
    "CameraError",
    "CameraOptions",
    "CameraStats",
    "CaptureSource",
    "DecodedCode",
    "DocumentError",
    "DuplicateFilter",
    "FolderSource",
    "FramePipeline",
    "FrameSource",
    "ImageUnreadable",
    "MemorySource",
    "PyzbarDecoder",
    "SourceUnavailable",
    "ZxingDecoder",
    "decode_still",
    "read_image",
    "source_from_spec",
]
