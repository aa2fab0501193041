"""Pickup by typed code: eight big boxes and a telephone-style keypad, nothing else.

The keys are the terminal's largest (an elderly thumb, gloves in winter); each press is one
intent, so the flow holds the digits and the screen only draws them. When the keypad is locked
the keys are greyed and the notice says until when and which other ways still work.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.pickup.view_models import (
    ClearCode,
    CodeView,
    EraseDigit,
    PickupView,
    PressDigit,
    SubmitCode,
)

from .apply_chrome import drop_intent

KV_FILE = "pickup_code_screen.kv"
NAME = "pickup_code"


class PickupCodeScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    heading = StringProperty("")
    masked = StringProperty("")
    checking = StringProperty("")
    submit_label = StringProperty("")
    erase_label = StringProperty("")
    clear_label = StringProperty("")
    can_type = BooleanProperty(False)
    can_submit = BooleanProperty(False)
    locked = BooleanProperty(False)

    def render(self, view: PickupView) -> None:
        body = view.body
        assert isinstance(body, CodeView), f"pickup code screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(view.notice)
        self.heading = body.heading
        self.masked = body.masked
        self.checking = body.checking
        self.submit_label = body.submit_label
        self.erase_label = body.erase_label
        self.clear_label = body.clear_label
        self.locked = body.locked
        self.can_type = PressDigit.__name__ in view.accepts
        self.can_submit = body.can_submit

    def press_digit(self, digit: str) -> None:
        if self.can_type:
            self.send(PressDigit(digit))

    def press_erase(self) -> None:
        if self.can_type:
            self.send(EraseDigit())

    def press_clear(self) -> None:
        if self.can_type:
            self.send(ClearCode())

    def press_submit(self) -> None:
        if self.can_submit:
            self.send(SubmitCode())

    def clear_down(self) -> None:
        self.masked = ""

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
