"""Pickup, the end: what was collected, what was not and whom to ask, then back to the start."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.pickup.view_models import DoneView, Finish, PickupView

from . import hand_in_screen  # noqa: F401  (PhaseBadge for the kv rules)
from .apply_chrome import drop_intent

KV_FILE = "pickup_done_screen.kv"
NAME = "pickup_done"


class PickupDoneScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    heading = StringProperty("")
    lines = StringProperty("")
    closing = StringProperty("")
    done_label = StringProperty("")
    all_taken = BooleanProperty(True)
    can_finish = BooleanProperty(False)

    def render(self, view: PickupView) -> None:
        body = view.body
        assert isinstance(body, DoneView), f"pickup done screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(view.notice)
        self.heading = body.heading
        self.lines = "\n".join(
            ("✓  " if line.kind == "taken" else "!  ") + line.text for line in body.lines
        )
        self.closing = body.closing
        self.done_label = body.done_label
        self.all_taken = all(line.kind == "taken" for line in body.lines)
        self.can_finish = Finish.__name__ in view.accepts

    def press_done(self) -> None:
        if self.can_finish:
            self.send(Finish())

    def clear_down(self) -> None:
        self.lines = ""

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
