"""A QR code drawn as crisp square modules, for phones held up to the glass.

Phones read a QR code from a screen badly when its modules are blurred or uneven, so the code is
drawn as a one-pixel-per-module texture magnified with nearest-neighbour filtering, at the largest
whole number of screen pixels per module that fits (every module the same size), centred, on white.
The quiet zone (four modules of white) is part of the texture, so the code reads on any background.
"""

from __future__ import annotations

import logging
from typing import Any

import qrcode
from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.widget import Widget
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

_log = logging.getLogger(__name__)

QUIET_ZONE_MODULES = 4
_DARK = b"\x00\x00\x00\xff"
_LIGHT = b"\xff\xff\xff\xff"


def qr_matrix(payload: str) -> list[list[bool]]:
    """The modules, top row first, quiet zone included; True is a dark module.

    Error correction M (15 %) survives glare and a scratched screen while keeping the code small
    enough that a tracking link stays at a low version with big modules.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE_MODULES)
    code.add_data(payload)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def matrix_to_rgba(matrix: list[list[bool]]) -> bytes:
    """Pixel rows bottom-up, as Kivy textures count rows from the bottom."""
    return b"".join(b"".join(_DARK if dark else _LIGHT for dark in row) for row in reversed(matrix))


class QrCode(Widget):  # type: ignore[misc]
    """Shows `payload` as a QR code filling the widget's largest centred square.

    An empty payload draws nothing (the screen shows its own "not available yet" text instead).
    A payload too long for any QR version is logged and draws nothing rather than crashing the
    session: the citizen still has the printed receipt or the SMS.
    """

    payload = StringProperty("")
    module_count = NumericProperty(0)  # modules per side incl. quiet zone; 0 when nothing drawn
    module_pixels = NumericProperty(0)  # screen pixels per module in the current layout

    def __init__(self, **kwargs: Any) -> None:
        self._texture: Texture | None = None
        super().__init__(**kwargs)
        self.bind(payload=self._rebuild_texture, pos=self._redraw, size=self._redraw)
        self._rebuild_texture()

    def _rebuild_texture(self, *_args: object) -> None:
        self._texture = None
        self.module_count = 0
        if self.payload:
            try:
                matrix = qr_matrix(self.payload)
            except DataOverflowError:
                _log.error("QR payload of %d characters is too long to draw", len(self.payload))
                matrix = []
            if matrix:
                side = len(matrix)
                texture = Texture.create(size=(side, side), colorfmt="rgba")
                texture.mag_filter = "nearest"
                texture.min_filter = "nearest"
                texture.blit_buffer(matrix_to_rgba(matrix), colorfmt="rgba", bufferfmt="ubyte")
                self._texture = texture
                self.module_count = side
        self._redraw()

    def _redraw(self, *_args: object) -> None:
        self.canvas.clear()
        texture = self._texture
        if texture is None:
            self.module_pixels = 0
            return
        side_modules = texture.width
        available = min(self.width, self.height)
        # A whole number of pixels per module keeps every module the same size; on a widget
        # smaller than one pixel per module we scale down anyway (still nearest, still square).
        per_module = int(available // side_modules)
        drawn = per_module * side_modules if per_module >= 1 else available
        self.module_pixels = per_module
        x = round(self.x + (self.width - drawn) / 2)
        y = round(self.y + (self.height - drawn) / 2)
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(texture=texture, pos=(x, y), size=(drawn, drawn))
