"""Frozen values passed around inside the camera package (the core's events are in the port)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kiosk.ports.camera import CodeScanned

# A frame as OpenCV delivers it: height × width × 3 BGR, or height × width gray, uint8.
Image = np.ndarray[Any, np.dtype[np.uint8]]

# Four corners (top-left, top-right, bottom-right, bottom-left) in frame pixels.
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class DecodedCode:
    """One code found in an image. `raw` is set only when the payload is not UTF-8 text.

    `format` uses zxing-cpp's names ("QRCode", "EAN13", "Code128", ...) whichever decoder read it,
    so callers compare one vocabulary.
    """

    format: str
    text: str
    raw: bytes | None = None

    def as_event(self) -> CodeScanned:
        return CodeScanned(format=self.format, text=self.text, raw=self.raw)

    def key(self) -> tuple[str, str, bytes | None]:
        """What makes two sightings the same code (for duplicate suppression)."""
        return (self.format, self.text, self.raw)


def text_and_raw(payload: bytes, fallback_text: str | None = None) -> tuple[str, bytes | None]:
    """UTF-8 payloads become plain text; anything else keeps its bytes next to a readable guess.

    The guess is the decoder's own transcoding when it has one (zxing-cpp knows ECI and GB2312),
    else the bytes with undecodable ones replaced, so a log line or a screen never fails on it.
    """
    try:
        return payload.decode("utf-8"), None
    except UnicodeDecodeError:
        guess = fallback_text if fallback_text is not None else payload.decode("utf-8", "replace")
        return guess, payload
