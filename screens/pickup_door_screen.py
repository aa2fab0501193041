"""Pickup, at the door: which door has opened, where it is on the column, and what to do now.

It reuses the hand-in step's drawing of the locker columns (screens/hand_in_screen.py), with the
door to use swinging open, and its label in very large type: a citizen standing before sixteen
identical doors finds the right one at a glance. The buttons appear only when there is a question
(documents still inside; "have you taken them?" on a board without an item sensor).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.pickup.view_models import ConfirmTaken, DoorView, LeaveIt, OpenAgain, PickupView

from . import hand_in_screen  # noqa: F401  (LockerColumnPicture and PhaseBadge for the kv rules)
from .apply_chrome import drop_intent

KV_FILE = "pickup_door_screen.kv"
NAME = "pickup_door"

DOOR_PICTURE = {
    "opening": "closed",
    "open": "open",
    "checking": "closed",
    "ask_taken": "closed",
    "still_inside": "closed",
}
BADGE = {
    "opening": "busy",
    "open": "arrow",
    "checking": "busy",
    "ask_taken": "question",
    "still_inside": "question",
}


class PickupDoorScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    layout = ListProperty([])  # CompartmentSpec of every column (the composition root sets it)
    phase = StringProperty("opening")
    compartment = ObjectProperty(0)
    compartment_label = StringProperty("")
    position = StringProperty("")
    instruction = StringProperty("")
    progress = StringProperty("")
    open_again_label = StringProperty("")
    leave_label = StringProperty("")
    taken_label = StringProperty("")
    can_open_again = BooleanProperty(False)
    can_leave = BooleanProperty(False)
    can_confirm = BooleanProperty(False)

    def render(self, view: PickupView) -> None:
        body = view.body
        assert isinstance(body, DoorView), f"pickup door screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(view.notice)
        self.phase = body.phase
        self.compartment = body.compartment
        self.compartment_label = body.compartment_label
        self.position = body.position
        self.instruction = body.instruction
        self.progress = body.progress
        self.open_again_label = body.open_again_label
        self.leave_label = body.leave_label
        self.taken_label = body.taken_label
        self.can_open_again = OpenAgain.__name__ in view.accepts
        self.can_leave = LeaveIt.__name__ in view.accepts
        self.can_confirm = ConfirmTaken.__name__ in view.accepts

    @staticmethod
    def door_picture(phase: str) -> str:
        return DOOR_PICTURE.get(phase, "closed")

    @staticmethod
    def badge_kind(phase: str) -> str:
        return BADGE.get(phase, "busy")

    def press_open_again(self) -> None:
        if self.can_open_again:
            self.send(OpenAgain())

    def press_leave(self) -> None:
        if self.can_leave:
            self.send(LeaveIt())

    def press_taken(self) -> None:
        if self.can_confirm:
            self.send(ConfirmTaken())

    def clear_down(self) -> None:
        self.compartment = 0
        self.compartment_label = ""

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    def on_enter(self, *_args: object) -> None:
        self.ids.badge.start()

    def on_leave(self, *_args: object) -> None:
        self.ids.badge.stop()
