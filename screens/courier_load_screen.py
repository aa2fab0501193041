"""Load results: scan the envelope, choose the size, put it in the door that opens, close it.

While nothing is open the screen is mostly the one instruction ("scan the barcode on the
envelope") and the size buttons once a task matches (the suggested size drawn filled). When a
door opens, the column drawing points at it with its label in very large type, as in a run.
"""

from __future__ import annotations

from kivy.properties import ListProperty

from kiosk.courier import view_models as vm

from . import hand_in_screen  # noqa: F401  (LockerColumnPicture for the kv rules)
from .courier_widgets import CourierScreen

KV_FILE = "courier_load_screen.kv"
NAME = "courier_load"


class CourierLoadScreen(CourierScreen):
    layout = ListProperty([])  # CompartmentSpec of every column (the composition root sets it)

    def press_size(self, size: str) -> None:
        if any(choice.size == size for choice in self.view.sizes):
            self.press(vm.ChooseSize(size))  # type: ignore[arg-type]

    def press_check_door(self) -> None:
        door = self.view.door
        if door is not None:
            self.press(vm.CheckDoor(str(door.compartment)))

    def press_answer(self, yes: bool) -> None:
        question = self.view.question
        if question is None:
            return
        self.press(vm.AnswerYes(question.subject) if yes else vm.AnswerNo(question.subject))

    @staticmethod
    def size_choice(size: str, view: vm.CourierView) -> vm.SizeChoice | None:
        return next((c for c in view.sizes if c.size == size), None)

    def size_text(self, size: str, view: vm.CourierView) -> str:
        found = self.size_choice(size, view)
        return "" if found is None else found.label

    def size_suggested(self, size: str, view: vm.CourierView) -> bool:
        found = self.size_choice(size, view)
        return found is not None and found.suggested

    @staticmethod
    def picture(view: vm.CourierView) -> str:
        return view.door.picture if view.door is not None else "none"
