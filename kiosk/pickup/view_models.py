"""What the pickup screens show, and the touches they send back. Pure Python, no Kivy.

The header, notice and voice values are the apply journey's own types (kiosk/apply/view_models),
so the pickup screens reuse the same header bar, notice banner and spoken-prompt handling.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from kiosk.apply.view_models import Header, Notice, ProgressStep, Severity, Voice

__all__ = [
    "Header",
    "Notice",
    "ProgressStep",
    "Severity",
    "Voice",
]


class PickupStep(StrEnum):
    START = "pickup_start"  # three ways: scan, type the code, tap the card
    CODE = "pickup_code"  # the large keypad
    DOOR = "pickup_door"  # a door opens: take your documents and close it
    DONE = "pickup_done"


DoorPhase = Literal[
    "opening",  # the unlock is on its way
    "open",  # take your documents and close the door
    "checking",  # door shut: is it empty?
    "ask_taken",  # no item sensor: did you take them?
    "still_inside",  # the sensor still sees them: open again, or leave them
]
OutcomeKind = Literal["taken", "not_taken", "jammed", "unknown"]


# ---- intents (touches) -----------------------------------------------------------------------


@dataclass(frozen=True)
class TypeCode:
    """Open the keypad."""


@dataclass(frozen=True)
class PressDigit:
    digit: str


@dataclass(frozen=True)
class EraseDigit:
    pass


@dataclass(frozen=True)
class ClearCode:
    pass


@dataclass(frozen=True)
class SubmitCode:
    pass


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class OpenAgain:
    pass


@dataclass(frozen=True)
class LeaveIt:
    """The documents stay; staff keep them."""


@dataclass(frozen=True)
class ConfirmTaken:
    """No item sensor: "yes, I have taken my documents"."""


@dataclass(frozen=True)
class Finish:
    pass


Intent = (
    TypeCode
    | PressDigit
    | EraseDigit
    | ClearCode
    | SubmitCode
    | Back
    | Cancel
    | OpenAgain
    | LeaveIt
    | ConfirmTaken
    | Finish
)


# ---- one body per step -------------------------------------------------------------------------


@dataclass(frozen=True)
class WayIn:
    """One of the three ways in, with the words under its picture."""

    kind: Literal["scan", "code", "card"]
    title: str
    hint: str


@dataclass(frozen=True)
class StartView:
    heading: str
    ways: tuple[WayIn, ...]
    checking: str  # "Checking…" while a lookup runs; empty otherwise
    type_code_label: str


@dataclass(frozen=True)
class CodeView:
    heading: str
    digits: str  # what was typed, e.g. "1234"
    slots: int  # 8
    masked: str  # "1 2 3 4 _ _ _ _" as drawn
    locked: bool
    checking: str
    submit_label: str
    can_submit: bool
    erase_label: str
    clear_label: str


@dataclass(frozen=True)
class DoorView:
    phase: DoorPhase
    compartment: int
    compartment_label: str  # "A03"
    position: str  # "Column A, row 2 from the top"
    instruction: str
    progress: str  # "Document 1 of 2"
    open_again_label: str
    leave_label: str
    taken_label: str


@dataclass(frozen=True)
class OutcomeLine:
    kind: OutcomeKind
    text: str


@dataclass(frozen=True)
class DoneView:
    heading: str
    lines: tuple[OutcomeLine, ...]
    closing: str
    done_label: str


Body = StartView | CodeView | DoorView | DoneView


@dataclass(frozen=True)
class PickupView:
    step: PickupStep
    header: Header
    notice: Notice | None
    body: Body
    accepts: frozenset[str]
    voice: Voice | None
    voice_serial: int
