"""Hand-in step: which door has opened, where it is on the locker column, and what to do now.

A citizen standing at a column of sixteen identical doors needs to find the right one at a glance,
so the screen draws the column as it stands — rows and cells in their real sizes — with the
compartment to use filled in colour and its door drawn swinging open, next to its number in very
large type. The door-left-open reminder is a solid amber band across the screen (it is also
spoken): the one message on this step that must not be missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Mesh, Rectangle, RoundedRectangle
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.apply.view_models import (
    ApplyView,
    CancelHandIn,
    ConfirmHandIn,
    Continue,
    HandInPhase,
    HandInView,
    Intent,
    ReopenDoor,
)
from kiosk.ports.lockers import CompartmentSpec

from . import palette
from .apply_chrome import drop_intent

KV_FILE = "hand_in_screen.kv"
NAME = "hand_in"

# Relative row heights by compartment size (a row is as tall as its tallest cell).
SIZE_WEIGHT = {"S": 1.0, "M": 1.6, "L": 2.4}
CABINET = (0.42, 0.47, 0.54, 1.0)  # the column's steel frame
DOOR = (0.89, 0.91, 0.94, 1.0)
DOOR_EDGE = (0.62, 0.67, 0.74, 1.0)
CAVITY = (0.17, 0.20, 0.25, 1.0)  # inside an open compartment
UNAVAILABLE = (0.80, 0.82, 0.85, 1.0)
DONE = palette.COLLECT
SPIN_FRAME_S = 1 / 30

# What the picture shows in each phase: the target door, and the badge next to the instruction.
DOOR_PICTURE: dict[str, str] = {
    "reserving": "none",
    "opening": "closed",
    "door_open": "open",
    "checking": "closed",
    "no_item_seen": "closed",  # closed, but the sensor saw nothing inside
    "taking_back": "open",
    "deposited": "done",
    "no_compartment": "unavailable",
    "unconfirmed": "closed",  # the papers may be inside; staff will check
}
BADGE: dict[str, str] = {
    "reserving": "busy",
    "opening": "busy",
    "door_open": "arrow",
    "checking": "busy",
    "no_item_seen": "question",
    "taking_back": "arrow",
    "deposited": "done",
    "no_compartment": "info",
    "unconfirmed": "question",
}


def _text_texture(text: str, font_size: float, bold: bool = True) -> Any:
    label = CoreLabel(text=text, font_size=max(1.0, font_size), bold=bold)
    label.refresh()
    return label.texture


def row_heights(specs: Sequence[CompartmentSpec]) -> dict[int, float]:
    """Each row's relative height: its tallest compartment's weight."""
    heights: dict[int, float] = {}
    for spec in specs:
        heights[spec.row] = max(heights.get(spec.row, 0.0), SIZE_WEIGHT.get(spec.size, 1.0))
    return heights


class LockerColumnPicture(Widget):  # type: ignore[misc]
    """The locker columns seen from the front; `target` is the door number to point out."""

    layout = ListProperty([])  # CompartmentSpec, any order, any number of columns
    target = NumericProperty(0)  # 0: no compartment to point out
    target_label = StringProperty("")
    picture = StringProperty("none")  # none | closed | open | done | unavailable
    type_unit = NumericProperty(1.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self._draw, 0)
        self.bind(
            pos=self._redraw,
            size=self._redraw,
            layout=self._redraw,
            target=self._redraw,
            target_label=self._redraw,
            picture=self._redraw,
            type_unit=self._redraw,
        )
        self.target_rect: tuple[float, float, float, float] | None = None

    def _draw(self, *_args: object) -> None:
        self.canvas.clear()
        self.target_rect = None
        specs: list[CompartmentSpec] = list(self.layout)
        if not specs or self.width < 20 or self.height < 20:
            return
        names = list(dict.fromkeys(spec.column for spec in specs))
        head = max(self.height * 0.045, 24 * self.type_unit)
        # an open door swings out by half a cell: keep 30 % of a column free on either side
        count = len(names)
        column_w = min(self.width / (count + 0.08 * (count - 1) + 0.6), (self.height - head) * 0.62)
        gap = column_w * 0.08
        total_w = column_w * len(names) + gap * (len(names) - 1)
        left = self.center_x - total_w / 2
        for index, name in enumerate(names):
            x = left + index * (column_w + gap)
            self._draw_column(name, [s for s in specs if s.column == name], x, column_w, head)

    def _draw_column(
        self, name: str, specs: list[CompartmentSpec], x: float, width: float, head: float
    ) -> None:
        frame = max(3.0, width * 0.035)
        top = self.top - head
        bottom = self.y + frame
        heights = row_heights(specs)
        rows = sorted(heights)
        unit = (top - bottom - frame * (len(rows) + 1)) / max(1e-6, sum(heights.values()))
        with self.canvas:
            Color(*CABINET)
            RoundedRectangle(
                pos=(x, bottom - frame), size=(width, top - bottom + frame * 2), radius=[frame]
            )
            label = _text_texture(name, head * 0.7)
            Color(*palette.TEXT)
            Rectangle(
                texture=label,
                pos=(
                    x + (width - label.width) / 2,
                    top + frame + (head - frame - label.height) / 2,
                ),
                size=label.size,
            )
        row_top = top - frame
        cells_per_row = {row: max(s.col for s in specs if s.row == row) for row in rows}
        for row in rows:
            row_h = heights[row] * unit
            count = cells_per_row[row]
            cell_w = (width - frame * (count + 1)) / count
            for spec in (s for s in specs if s.row == row):
                cx = x + frame + (spec.col - 1) * (cell_w + frame)
                self._draw_cell(spec, cx, row_top - row_h, cell_w, row_h, count)
            row_top -= row_h + frame

    def _draw_cell(
        self, spec: CompartmentSpec, x: float, y: float, w: float, h: float, per_row: int
    ) -> None:
        is_target = self.target > 0 and spec.number == self.target
        picture = self.picture
        radius = min(w, h) * 0.06
        number_size = min(h * 0.42, w * 0.3)
        if not is_target:
            with self.canvas:
                Color(*(UNAVAILABLE if picture == "unavailable" else DOOR))
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[radius])
                Color(*DOOR_EDGE)
                Line(rounded_rectangle=(x, y, w, h, radius), width=1.2)
                texture = _text_texture(str(spec.number), number_size * 0.8, bold=False)
                Color(*palette.TEXT_MUTED)
                Rectangle(
                    texture=texture,
                    pos=(x + (w - texture.width) / 2, y + (h - texture.height) / 2),
                    size=texture.size,
                )
            return
        self.target_rect = (x, y, w, h)
        fill = DONE if picture == "done" else palette.APPLY
        text = self.target_label or str(spec.number)
        texture = _text_texture(text, number_size)
        with self.canvas:
            # a halo, so the door stands out from across the room
            halo = max(6.0, min(w, h) * 0.1)
            Color(*fill[:3], 0.28)
            RoundedRectangle(
                pos=(x - halo, y - halo), size=(w + 2 * halo, h + 2 * halo), radius=[radius + halo]
            )
            if picture == "open":
                Color(*CAVITY)
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[radius])
                # the door, hinged on the outer side of its row, swung towards the citizen
                hinge_left = spec.col == 1 or per_row == 1
                hinge = x if hinge_left else x + w
                reach = w * 0.55 * (-1 if hinge_left else 1)
                flare = h * 0.1
                points = [
                    (hinge, y),
                    (hinge + reach, y - flare),
                    (hinge + reach, y + h + flare),
                    (hinge, y + h),
                ]
                Color(*fill)
                vertices: list[float] = []
                for px, py in points:
                    vertices.extend((px, py, 0.0, 0.0))
                Mesh(vertices=vertices, indices=[0, 1, 2, 3], mode="triangle_fan")
                Color(1, 1, 1, 1)
                Line(points=[c for p in points for c in p], close=True, width=1.5)
            else:
                Color(*fill)
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[radius])
                Color(1, 1, 1, 1)
                if picture == "done":
                    texture = _text_texture(text, number_size * 0.75)
                    Rectangle(
                        texture=texture,
                        pos=(x + (w - texture.width) / 2, y + h * 0.52),
                        size=texture.size,
                    )
                    mark = min(w, h) * 0.22
                    cx, cy = x + w / 2, y + h * 0.3
                    Line(
                        points=[
                            cx - mark,
                            cy,
                            cx - mark * 0.3,
                            cy - mark * 0.6,
                            cx + mark,
                            cy + mark * 0.6,
                        ],
                        width=max(2.0, mark * 0.18),
                        cap="round",
                        joint="round",
                    )
                    return
                Rectangle(
                    texture=texture,
                    pos=(x + (w - texture.width) / 2, y + (h - texture.height) / 2),
                    size=texture.size,
                )
                # the handle
                Color(1, 1, 1, 0.8)
                handle_x = x + w * (0.84 if spec.col == 1 else 0.1)
                Rectangle(pos=(handle_x, y + h * 0.35), size=(max(2.0, w * 0.05), h * 0.3))
            if picture == "open":
                Color(1, 1, 1, 1)
                Rectangle(
                    texture=texture,
                    pos=(x + (w - texture.width) / 2, y + (h - texture.height) / 2),
                    size=texture.size,
                )


class PhaseBadge(Widget):  # type: ignore[misc]
    """A round sign beside the instruction: spinning while the terminal works, else a symbol."""

    kind = StringProperty("busy")  # busy | arrow | question | done | info

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._angle = 0.0
        self._spinner: Any = None
        self._arc: Line | None = None
        self._redraw = Clock.create_trigger(self._draw, 0)
        self.bind(pos=self._redraw, size=self._redraw, kind=self._on_kind)

    @property
    def spinning(self) -> bool:
        return self._spinner is not None

    def start(self) -> None:
        if self.kind == "busy" and self._spinner is None:
            self._spinner = Clock.schedule_interval(self._spin, SPIN_FRAME_S)

    def stop(self) -> None:
        if self._spinner is not None:
            self._spinner.cancel()
            self._spinner = None

    def _on_kind(self, *_args: object) -> None:
        if self.kind != "busy":
            self.stop()
        elif self.get_root_window() is not None:
            self.start()
        self._redraw()

    def _spin(self, dt: float) -> None:
        self._angle = (self._angle + dt * 300) % 360
        if self._arc is not None:
            d = min(self.width, self.height)
            self._arc.circle = (
                self.center_x,
                self.center_y,
                d * 0.36,
                self._angle,
                self._angle + 270,
            )

    def _draw(self, *_args: object) -> None:
        self.canvas.clear()
        self._arc = None
        d = min(self.width, self.height)
        if d < 4:
            return
        cx, cy = self.center
        thick = max(2.0, d * 0.08)
        fills = {
            "busy": palette.SURFACE,
            "arrow": palette.APPLY,
            "question": palette.WARNING_ACCENT,
            "done": DONE,
            "info": palette.APPLY,
        }
        with self.canvas:
            Color(*fills.get(self.kind, palette.APPLY))
            Ellipse(pos=(cx - d / 2, cy - d / 2), size=(d, d))
            if self.kind == "busy":
                Color(*palette.RULE)
                Line(circle=(cx, cy, d * 0.36), width=thick)
                Color(*palette.APPLY)
                self._arc = Line(
                    circle=(cx, cy, d * 0.36, self._angle, self._angle + 270),
                    width=thick,
                    cap="round",
                )
                return
            Color(1, 1, 1, 1)
            if self.kind == "arrow":  # into the compartment
                Line(points=[cx, cy + d * 0.28, cx, cy - d * 0.2], width=thick, cap="round")
                Line(
                    points=[cx - d * 0.2, cy, cx, cy - d * 0.22, cx + d * 0.2, cy],
                    width=thick,
                    cap="round",
                    joint="round",
                )
            elif self.kind == "done":
                Line(
                    points=[
                        cx - d * 0.24,
                        cy,
                        cx - d * 0.06,
                        cy - d * 0.18,
                        cx + d * 0.25,
                        cy + d * 0.16,
                    ],
                    width=thick,
                    cap="round",
                    joint="round",
                )
            else:
                mark = "?" if self.kind == "question" else "i"
                texture = _text_texture(mark, d * 0.62)
                Rectangle(
                    texture=texture,
                    pos=(cx - texture.width / 2, cy - texture.height / 2),
                    size=texture.size,
                )


class DoorReminder(Label):  # type: ignore[misc]
    """The door-left-open reminder: white on solid amber (red once staff were called)."""

    shown = BooleanProperty(False)
    urgent = BooleanProperty(False)


class HandInScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    layout = ListProperty([])  # Sequence[CompartmentSpec] of the terminal, set by the presenter
    phase = StringProperty("reserving")
    compartment = NumericProperty(0)
    compartment_label = StringProperty("")
    position_text = StringProperty("")
    instruction = StringProperty("")
    materials = ListProperty([])
    reminder_text = StringProperty("")
    staff_alerted = BooleanProperty(False)
    confirm_label = StringProperty("")
    reopen_label = StringProperty("")
    cancel_label = StringProperty("")
    continue_label = StringProperty("")
    can_confirm = BooleanProperty(False)
    can_reopen = BooleanProperty(False)
    can_cancel = BooleanProperty(False)
    can_continue = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        self._buttons: list[Widget] = []
        super().__init__(**kwargs)

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, HandInView), f"hand-in screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.phase = body.phase
        self.compartment = body.compartment_number or 0
        self.compartment_label = body.compartment_label if body.compartment_number else ""
        self.position_text = body.position_text if body.compartment_number else ""
        self.instruction = body.instruction
        if list(body.materials) != list(self.materials):
            self.materials = list(body.materials)
        self.reminder_text = body.reminder.text if body.reminder is not None else ""
        self.staff_alerted = body.staff_alerted
        self.confirm_label = body.confirm_label
        self.reopen_label = body.reopen_label
        self.cancel_label = body.cancel_label
        self.continue_label = body.continue_label
        self.can_confirm = body.can_confirm and _offered(view, ConfirmHandIn)
        self.can_reopen = body.can_reopen and _offered(view, ReopenDoor)
        self.can_cancel = body.can_cancel and _offered(view, CancelHandIn)
        self.can_continue = body.can_continue and _offered(view, Continue)
        self._arrange_buttons()

    def clear_down(self) -> None:
        self.compartment = 0
        self.compartment_label = ""
        self.position_text = ""
        self.instruction = ""
        self.materials = []
        self.reminder_text = ""

    @staticmethod
    def door_picture(phase: HandInPhase | str) -> str:
        return DOOR_PICTURE.get(phase, "none")

    @staticmethod
    def badge_kind(phase: HandInPhase | str) -> str:
        return BADGE.get(phase, "info")

    # -- touches --------------------------------------------------------------------------------
    def press_confirm(self) -> None:
        if self.can_confirm:
            self.send(ConfirmHandIn())

    def press_reopen(self) -> None:
        if self.can_reopen:
            self.send(ReopenDoor())

    def press_cancel(self) -> None:
        if self.can_cancel:
            self.send(CancelHandIn())

    def press_continue(self) -> None:
        if self.can_continue:
            self.send(Continue())

    # -- lifecycle ------------------------------------------------------------------------------
    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    def on_enter(self, *_args: object) -> None:
        self.ids.badge.start()

    def on_leave(self, *_args: object) -> None:
        self.ids.badge.stop()

    def _arrange_buttons(self) -> None:
        """Only the buttons that apply now, the way out on the left, the way on at the right."""
        if not self._buttons:
            # kv ids are weak references: keep the buttons alive while they are out of the row
            ids = self.ids
            self._buttons = [
                ids[name].__self__
                for name in ("cancel_button", "reopen_button", "confirm_button", "continue_button")
            ]
        shown = (self.can_cancel, self.can_reopen, self.can_confirm, self.can_continue)
        wanted = [button for button, show in zip(self._buttons, shown, strict=True) if show]
        row = self.ids.buttons
        if list(reversed(row.children)) == wanted:
            return
        row.clear_widgets()
        for button in wanted:
            row.add_widget(button)


def _offered(view: ApplyView, intent: type[Intent]) -> bool:
    return not view.accepts or intent.__name__ in view.accepts
