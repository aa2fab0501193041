"""Step 1 of the apply journey: lay the card on the reader (or look at guides without one).

Many citizens have never used a card reader, so the screen shows rather than tells: a picture of
the reader with a card sliding onto it, looping, and a different picture for each fault (a card the
reader could not read, a reader that is offline) so the message is clear even before it is read.
"""

from __future__ import annotations

import math
from typing import Any

from kivy.clock import Clock
from kivy.graphics import (
    Color,
    Ellipse,
    InstructionGroup,
    Line,
    PopMatrix,
    PushMatrix,
    Rectangle,
    Rotate,
    RoundedRectangle,
    Translate,
)
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.apply.view_models import ApplyView, BrowseWithoutCard, IdentifyView

from . import palette
from .apply_chrome import drop_intent

KV_FILE = "identify_screen.kv"
NAME = "identify"

LOOP_S = 3.4  # one slide of the card: approach, rest on the pad, fade, pause
SLIDE_S = 1.3
REST_UNTIL_S = 2.7
FADE_UNTIL_S = 3.1
FRAME_S = 1 / 30

CARD_FACE = (0.86, 0.92, 0.98, 1.0)
CARD_EDGE = palette.APPLY
READER_BODY = (0.23, 0.27, 0.33, 1.0)
READER_PAD = (0.36, 0.41, 0.48, 1.0)
WAVE = (0.36, 0.75, 0.98, 1.0)
OFFLINE_GREY = (0.62, 0.65, 0.70, 1.0)
ERROR = palette.STRIPE


def _ease_out(t: float) -> float:
    return 1 - (1 - t) ** 3


class CardAnimation(Widget):  # type: ignore[misc]
    """The reader seen from above; `picture` picks what is drawn on and around it.

    The reader is redrawn only when the widget moves or the picture changes; a running animation
    only moves one Translate and changes two colours per frame, so it costs next to nothing.
    """

    picture = StringProperty("place_card")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._elapsed = 0.0
        self._ticker: Any = None
        self._card_shift = Translate(0, 0)
        self._card_color = Color(*CARD_FACE)
        self._card_edge_color = Color(*CARD_EDGE)
        self._detail_color = Color(*palette.TEXT_MUTED)
        self._wave_colors: list[Color] = []
        self._arrow_colors: list[Color] = []
        self._rebuild = Clock.create_trigger(self._draw, 0)
        self.bind(pos=self._rebuild, size=self._rebuild, picture=self._on_picture)

    # -- lifecycle (the screen starts and stops the loop when it is shown and hidden) -------------
    def start(self) -> None:
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self._advance, FRAME_S)

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def seek(self, seconds: float) -> None:
        """Show the picture as it is `seconds` into its loop (for screenshots and the demo)."""
        self._elapsed = 0.0
        self._advance(seconds)

    @property
    def animating(self) -> bool:
        return self._ticker is not None

    def _on_picture(self, *_args: object) -> None:
        self._elapsed = 0.0
        self._rebuild()

    # -- geometry -----------------------------------------------------------------------------
    def _reader_rect(self) -> tuple[float, float, float, float]:
        """The reader in the middle, leaving room above for the card's approach and below for
        the arrows that point at the real reader under the screen."""
        width = min(self.width * 0.66, self.height * 0.62)
        height = width * 0.7
        return (self.center_x - width / 2, self.center_y - height * 0.42, width, height)

    def _card_size(self) -> tuple[float, float]:
        _x, _y, reader_w, _h = self._reader_rect()
        card_w = reader_w * 0.62
        return card_w, card_w / 1.585  # ID-1 card proportions

    def _card_rest(self) -> tuple[float, float]:
        x, y, w, h = self._reader_rect()
        card_w, card_h = self._card_size()
        return x + (w - card_w) / 2, y + (h - card_h) / 2

    # -- drawing ------------------------------------------------------------------------------
    def _draw(self, *_args: object) -> None:
        self.canvas.clear()
        self._wave_colors = []
        self._arrow_colors = []
        if self.width < 10 or self.height < 10:
            return
        offline = self.picture == "reader_offline"
        self._draw_reader(offline)
        if offline:
            self._draw_offline_marks()
        else:
            if self.picture == "place_card":
                self._draw_arrows()
            self._draw_waves()
            self._draw_card()
            if self.picture == "unreadable":
                self._draw_unreadable_marks()
        self._advance(0)

    def _draw_reader(self, offline: bool) -> None:
        x, y, w, h = self._reader_rect()
        radius = w * 0.06
        with self.canvas:
            Color(0, 0, 0, 0.12)  # a soft shadow so the reader reads as an object on a desk
            RoundedRectangle(pos=(x + w * 0.02, y - w * 0.03), size=(w, h), radius=[radius])
            Color(*(OFFLINE_GREY if offline else READER_BODY))
            RoundedRectangle(pos=(x, y), size=(w, h), radius=[radius])
            Color(*(palette.RULE if offline else READER_PAD))
            inset = w * 0.07
            RoundedRectangle(
                pos=(x + inset, y + inset),
                size=(w - 2 * inset, h - 2 * inset),
                radius=[radius * 0.7],
            )
            # the contactless mark printed on the pad: a dot and three arcs
            cx, cy = x + w / 2, y + h / 2
            Color(1, 1, 1, 0.35 if offline else 0.55)
            Ellipse(pos=(cx - w * 0.025, cy - w * 0.025), size=(w * 0.05, w * 0.05))
            for ring in (1, 2, 3):
                Line(
                    circle=(cx - w * 0.04, cy, w * 0.05 * ring + w * 0.02, 50, 130),
                    width=max(1.0, w * 0.012),
                )
            # the status light on the reader's edge: green when alive, dark when offline
            Color(*((0.35, 0.35, 0.35, 1) if offline else (0.3, 0.85, 0.45, 1)))
            Ellipse(pos=(x + w - w * 0.09, y + h * 0.06), size=(w * 0.045, w * 0.045))

    def _draw_waves(self) -> None:
        x, y, w, h = self._reader_rect()
        cx, cy = x + w / 2, y + h / 2
        for ring in (1, 2, 3):
            tint = Color(*WAVE[:3], 0)
            self._wave_colors.append(tint)
            self.canvas.add(tint)
            self.canvas.add(
                Line(
                    circle=(cx, cy, w * (0.36 + 0.09 * ring), -50, 50),
                    width=max(1.5, w * 0.014),
                )
            )

    def _draw_arrows(self) -> None:
        """Chevrons under the picture: the real reader is below the screen."""
        x, y, w, _h = self._reader_rect()
        size = w * 0.09
        self._arrow_colors = []
        for index in range(2):
            tint = Color(*palette.APPLY[:3], 0)
            self._arrow_colors.append(tint)
            self.canvas.add(tint)
            top = y - w * 0.08 - index * size * 0.9
            if top - size < self.y:
                continue
            self.canvas.add(
                Line(
                    points=[
                        x + w / 2 - size,
                        top,
                        x + w / 2,
                        top - size * 0.8,
                        x + w / 2 + size,
                        top,
                    ],
                    width=max(2.0, w * 0.018),
                    cap="round",
                    joint="round",
                )
            )

    def _draw_card(self) -> None:
        card_w, card_h = self._card_size()
        rest_x, rest_y = self._card_rest()
        radius = card_w * 0.06
        group = InstructionGroup()
        group.add(PushMatrix())
        group.add(self._card_shift)
        if self.picture == "unreadable":
            # a card laid askew: the commonest reason a reader fails
            group.add(Rotate(angle=-12, origin=(rest_x + card_w / 2, rest_y + card_h / 2)))
        group.add(Color(0, 0, 0, 0.18))
        group.add(
            RoundedRectangle(
                pos=(rest_x + card_w * 0.03, rest_y - card_w * 0.03),
                size=(card_w, card_h),
                radius=[radius],
            )
        )
        group.add(self._card_color)
        group.add(RoundedRectangle(pos=(rest_x, rest_y), size=(card_w, card_h), radius=[radius]))
        group.add(self._card_edge_color)
        group.add(
            Line(
                rounded_rectangle=(rest_x, rest_y, card_w, card_h, radius),
                width=max(1.5, card_w * 0.012),
            )
        )
        # the face of an ID card: a photo on the right, lines of text on the left, the emblem
        group.add(self._detail_color)
        photo_w = card_w * 0.26
        group.add(
            Rectangle(
                pos=(rest_x + card_w - photo_w - card_w * 0.07, rest_y + card_h * 0.2),
                size=(photo_w, card_h * 0.56),
            )
        )
        for line in range(4):
            length = card_w * (0.48 if line % 2 == 0 else 0.36)
            group.add(
                Rectangle(
                    pos=(rest_x + card_w * 0.08, rest_y + card_h * (0.68 - 0.14 * line)),
                    size=(length, card_h * 0.055),
                )
            )
        group.add(PopMatrix())
        self.canvas.add(group)

    def _draw_unreadable_marks(self) -> None:
        x, y, w, h = self._reader_rect()
        badge = w * 0.3
        bx, by = x + w - badge * 0.55, y + h - badge * 0.45
        with self.canvas:
            Color(1, 1, 1, 1)
            Ellipse(pos=(bx - badge * 0.56, by - badge * 0.56), size=(badge * 1.12, badge * 1.12))
            Color(*ERROR)
            Ellipse(pos=(bx - badge / 2, by - badge / 2), size=(badge, badge))
            Color(1, 1, 1, 1)
            arm = badge * 0.22
            thick = max(2.0, badge * 0.07)
            Line(points=[bx - arm, by - arm, bx + arm, by + arm], width=thick, cap="round")
            Line(points=[bx - arm, by + arm, bx + arm, by - arm], width=thick, cap="round")

    def _draw_offline_marks(self) -> None:
        """A cable pulled out of the reader, and a crossed-out signal badge."""
        x, y, w, h = self._reader_rect()
        thick = max(2.0, w * 0.025)
        plug_x = x + w * 0.5
        with self.canvas:
            Color(*OFFLINE_GREY)
            Line(points=[plug_x, y, plug_x, y - h * 0.08], width=thick)
            # the loose end of the cable, a gap below the socket
            gap_top = y - h * 0.16
            Line(
                bezier=[
                    plug_x,
                    gap_top,
                    plug_x,
                    gap_top - h * 0.1,
                    plug_x - w * 0.3,
                    y - h * 0.12,
                    plug_x - w * 0.42,
                    y - h * 0.2,
                ],
                width=thick,
            )
            Rectangle(pos=(plug_x - w * 0.04, gap_top - h * 0.02), size=(w * 0.08, h * 0.06))
            Color(*ERROR)
            spark = w * 0.035
            for dx in (-1, 1):
                Line(
                    points=[
                        plug_x + dx * spark,
                        y - h * 0.1,
                        plug_x + dx * spark * 2.4,
                        y - h * 0.13,
                    ],
                    width=max(1.5, thick * 0.6),
                    cap="round",
                )
            badge = w * 0.3
            bx, by = x + w - badge * 0.55, y + h - badge * 0.45
            Color(1, 1, 1, 1)
            Ellipse(pos=(bx - badge * 0.56, by - badge * 0.56), size=(badge * 1.12, badge * 1.12))
            Color(*palette.WARNING_ACCENT)
            Ellipse(pos=(bx - badge / 2, by - badge / 2), size=(badge, badge))
            Color(1, 1, 1, 1)
            for ring in (1, 2):
                Line(
                    circle=(bx, by - badge * 0.12, badge * 0.13 * ring, -45, 45), width=thick * 0.6
                )
            Ellipse(pos=(bx - badge * 0.04, by - badge * 0.16), size=(badge * 0.08, badge * 0.08))
            Line(
                points=[bx - badge * 0.3, by - badge * 0.3, bx + badge * 0.3, by + badge * 0.3],
                width=thick * 0.7,
                cap="round",
            )

    # -- the loop -----------------------------------------------------------------------------
    def _advance(self, dt: float) -> None:
        self._elapsed = (self._elapsed + dt) % LOOP_S
        t = self._elapsed
        card_w, card_h = self._card_size()
        if self.picture == "place_card":
            _x, reader_y, _w, reader_h = self._reader_rect()
            start_dx = card_w * 0.45
            start_dy = max(
                0.0, min(reader_h * 0.95, self.top - (reader_y + reader_h) - card_h * 0.1)
            )
            if t < SLIDE_S:
                k = _ease_out(t / SLIDE_S)
                dx, dy, alpha = start_dx * (1 - k), start_dy * (1 - k), min(1.0, t / 0.25)
            elif t < REST_UNTIL_S:
                dx, dy, alpha = 0.0, 0.0, 1.0
            elif t < FADE_UNTIL_S:
                dx, dy, alpha = 0.0, 0.0, 1 - (t - REST_UNTIL_S) / (FADE_UNTIL_S - REST_UNTIL_S)
            else:
                dx, dy, alpha = start_dx, start_dy, 0.0
            self._card_shift.xy = (dx, dy)
            self._set_card_alpha(alpha)
            resting = SLIDE_S <= t < REST_UNTIL_S
            self._set_waves((t - SLIDE_S) / 0.9 if resting else None)
            for index, arrow in enumerate(self._arrow_colors):
                arrow.a = 0.35 + 0.65 * max(
                    0.0, math.sin((t / LOOP_S * 2 - index * 0.25) * math.pi)
                )
        elif self.picture == "reading":
            self._card_shift.xy = (0, 0)
            self._set_card_alpha(1.0)
            self._set_waves((t % 1.2) / 1.2)
        else:
            self._card_shift.xy = (card_w * 0.1, card_h * 0.12)
            self._set_card_alpha(1.0)
            self._set_waves(None)

    def _set_card_alpha(self, alpha: float) -> None:
        self._card_color.a = alpha
        self._card_edge_color.a = alpha
        self._detail_color.a = alpha

    def _set_waves(self, phase: float | None) -> None:
        """Rings light up one after the other, outwards, as the reader picks up the card."""
        for index, tint in enumerate(self._wave_colors):
            if phase is None:
                tint.a = 0.0
                continue
            local = (phase * 3 - index) % 3
            tint.a = max(0.0, 1 - abs(local - 0.5) * 1.4) * 0.9 if local < 1.5 else 0.0


class IdentifyScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    instruction = StringProperty("")
    browse_label = StringProperty("")
    picture = StringProperty("place_card")
    can_browse = BooleanProperty(False)

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, IdentifyView), f"identify screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.instruction = body.instruction
        self.picture = body.animation
        self.browse_label = body.browse_label
        self.can_browse = body.can_browse and bool(body.browse_label)

    def on_enter(self, *_args: object) -> None:
        self.ids.animation.start()

    def on_leave(self, *_args: object) -> None:
        self.ids.animation.stop()

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    def press_browse(self) -> None:
        if self.can_browse:
            self.send(BrowseWithoutCard())
