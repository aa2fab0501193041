"""Courier sign-in, second factor: the PIN on big telephone-layout keys, shown only as dots.

Each key press is one intent, so the flow holds the digits (the screen never keeps a PIN) and
the dots are the flow's `pin_mask`. A wrong PIN comes back as the notice ("Wrong PIN. 2 attempts
left."); too many lock the card and the message screen says until when.
"""

from __future__ import annotations

from kiosk.courier.view_models import PressKey

from .courier_widgets import CourierScreen

KV_FILE = "courier_pin_screen.kv"
NAME = "courier_pin"


class CourierPinScreen(CourierScreen):
    def press_key(self, key: str) -> None:
        self.press(PressKey(key))
