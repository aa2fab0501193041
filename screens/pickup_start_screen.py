"""Pickup, first step: the three ways in — scan the QR, type the code, tap the ID card.

Scanning and the card need no touch at all (the scanner and the reader are watched all the time
this screen shows), so the only button is "type the code". Each way has a picture of where to go
on the terminal, drawn in kv: the scan window below the screen, the keypad, the card reader.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.pickup.view_models import PickupView, StartView, TypeCode

from .apply_chrome import drop_intent

KV_FILE = "pickup_start_screen.kv"
NAME = "pickup_start"


class PickupStartScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    heading = StringProperty("")
    ways = ListProperty([])  # (kind, title, hint)
    checking = StringProperty("")
    type_code_label = StringProperty("")
    can_type_code = BooleanProperty(False)

    def render(self, view: PickupView) -> None:
        body = view.body
        assert isinstance(body, StartView), f"pickup start screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(view.notice)
        self.heading = body.heading
        self.ways = [(way.kind, way.title, way.hint) for way in body.ways]
        self.checking = body.checking
        self.type_code_label = body.type_code_label
        self.can_type_code = TypeCode.__name__ in view.accepts

    def way(self, index: int) -> tuple[str, str, str]:
        if index >= len(self.ways):
            return ("", "", "")
        kind, title, hint = self.ways[index]
        return (str(kind), str(title), str(hint))

    def press_type_code(self) -> None:
        if self.can_type_code:
            self.send(TypeCode())

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
