"""Collect materials, or take back overdue results: a run of doors, one after another.

The drawing of the locker columns is the hand-in step's (screens/hand_in_screen.py), pointing at
the door open now with its label and shelf in very large type, because a courier with a bag in
each hand reads the screen from a step away. Under it: the one instruction, a yes/no when the
board has no item sensor, "door is closed" when a door event may have been missed, and the list
of this run's compartments (done, with a problem, still to do).
"""

from __future__ import annotations

from kivy.properties import ListProperty

from kiosk.courier import view_models as vm

from . import hand_in_screen  # noqa: F401  (LockerColumnPicture for the kv rules)
from .courier_widgets import CourierScreen

KV_FILE = "courier_run_screen.kv"
NAME = "courier_run"


class CourierRunScreen(CourierScreen):
    layout = ListProperty([])  # CompartmentSpec of every column (the composition root sets it)

    def render(self, view: vm.CourierView) -> None:
        super().render(view)
        self.ids.rows.rows = list(view.rows)

    def clear_down(self) -> None:
        super().clear_down()
        self.ids.rows.rows = []

    def press_check_door(self) -> None:
        door = self.view.door
        subject = self._open_row_subject() if door is not None else ""
        if subject:
            self.press(vm.CheckDoor(subject))

    def press_answer(self, yes: bool) -> None:
        question = self.view.question
        if question is None:
            return
        self.press(vm.AnswerYes(question.subject) if yes else vm.AnswerNo(question.subject))

    def _open_row_subject(self) -> str:
        door = self.view.door
        assert door is not None
        found = next(
            (r for r in self.view.rows if r.compartment == door.compartment and r.state == "open"),
            None,
        )
        return "" if found is None else found.parcel_id

    @staticmethod
    def picture(view: vm.CourierView) -> str:
        return view.door.picture if view.door is not None else "none"

    @staticmethod
    def can_check(view: vm.CourierView) -> bool:
        return "CheckDoor" in view.accepts and view.door is not None and view.door.picture == "open"
