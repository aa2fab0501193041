"""Shared building blocks of every screen (styled in widgets.kv)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ColorProperty, ObjectProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from . import palette
from .text_wrap import MeasureWidth, fit_lines, has_cjk, wrap_lines
from .view_models import ToolbarView

KV_FILE = "widgets.kv"


# Kivy's own layout may round a line a pixel wider than the sum of its pieces; keep clear of that.
_WRAP_SLACK_PX = 2.0


class _KinsokuWrapping(Label):  # type: ignore[misc]
    """Breaks Chinese lines by the 禁则 rules: no closing punctuation at a line's start, no
    opening bracket at its end, Latin words and numbers kept whole (screens.text_wrap).

    `text` stays exactly what the view gave, so tests and the screen reader see the sentence;
    only the text handed to the renderer gets the line breaks.
    """

    def texture_update(self, *args: Any) -> None:
        core = self._label
        width = self.text_size[0]
        if width and not self.markup and not self.shorten and self._wraps_itself():
            core.resolve_font_name()
            max_width = width - self.padding[0] - self.padding[2] - _WRAP_SLACK_PX
            widths: dict[str, float] = {}

            def measure(piece: str) -> float:
                if piece not in widths:
                    widths[piece] = float(core.get_extents(piece)[0])
                return widths[piece]

            lines = self._fit(wrap_lines(self.text, max_width, measure), max_width, measure)
            core.text = "\n".join(lines)
        else:
            core.text = self.text
        super().texture_update(*args)

    def _wraps_itself(self) -> bool:
        """Kivy wraps Latin text well at its spaces; only Chinese needs our breaks."""
        return has_cjk(self.text)

    def _fit(self, lines: list[str], max_width: float, measure: MeasureWidth) -> list[str]:
        return lines


class FlowLabel(_KinsokuWrapping):
    """A paragraph as tall as its wrapped text (styled in widgets.kv), so large text pushes the
    layout instead of overlapping."""


class BoxedParagraph(_KinsokuWrapping):
    """A paragraph that fills the box the layout gives it (set `text_size: self.size`); a text
    longer than the box is cut at a whole line that ends in "…", in any language."""

    cut = BooleanProperty(False)  # some of the text did not fit

    def _wraps_itself(self) -> bool:
        return True  # the lines must be known to cut them and to place the "…"

    def _fit(self, lines: list[str], max_width: float, measure: MeasureWidth) -> list[str]:
        room = self.height - self.padding[1] - self.padding[3]
        line_px = self._label.get_extents("国Ag")[1] * self.line_height
        if room <= 0 or line_px <= 0:
            return lines  # not laid out yet
        max_lines = int(room // line_px)  # 0: not one whole line fits; better none than half
        self.cut = len(lines) > max_lines
        # the CJK font sets "…" at mid-height, as Chinese wants; English text gets three dots
        ellipsis = "…" if has_cjk(self.text) else "..."
        return fit_lines(lines, max_lines, max_width, measure, ellipsis)


class KioskButton(ButtonBehavior, Label):  # type: ignore[misc]
    """A flat, rounded touch target; the fill darkens while a finger is on it."""

    fill = ColorProperty(palette.SECONDARY)
    fill_pressed = ColorProperty(palette.SECONDARY_PRESSED)
    border = ColorProperty(palette.SECONDARY_BORDER)


class Toolbar(BoxLayout):  # type: ignore[misc]
    """Help, language and large text: the same three buttons, same place, on every screen."""

    view = ObjectProperty(ToolbarView(), rebind=True)
    intents = ObjectProperty(None)
