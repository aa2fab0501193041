"""Finish step: thank you, what happens next, and — if a card is still on the reader — take it.

The last thing a citizen sees decides whether they leave their ID card behind, so that reminder is
the most prominent element whenever the view carries one. Everything else is calm: a large tick,
one sentence of thanks, one of what comes next, and the button that ends the session now.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.apply.view_models import ApplyView, Finish, FinishView

from . import hand_in_screen  # noqa: F401  (PhaseBadge is used by the kv rules)
from .apply_chrome import drop_intent

KV_FILE = "finish_screen.kv"
NAME = "finish"


class FinishScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    thank_you = StringProperty("")
    next_steps = StringProperty("")
    take_card_reminder = StringProperty("")
    done_label = StringProperty("")
    can_finish = BooleanProperty(False)

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, FinishView), f"finish screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.countdown.render(body.countdown)
        self.thank_you = body.thank_you
        self.next_steps = body.next_steps
        self.take_card_reminder = body.take_card_reminder
        self.done_label = body.done_label
        self.can_finish = bool(body.done_label) and (
            not view.accepts or Finish.__name__ in view.accepts
        )

    def clear_down(self) -> None:
        self.take_card_reminder = ""

    def press_done(self) -> None:
        if self.can_finish:
            self.send(Finish())

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
        self.ids.countdown.send = send
