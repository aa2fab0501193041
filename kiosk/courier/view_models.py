"""What the courier screens show (one frozen `CourierView`) and the touches they send back.

The flow renders every sentence in the session's language, so a screen only places text and
buttons; `accepts` names the intents the current state offers, and screens enable only those.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from kiosk.ports.lockers import CompartmentSize

Severity = Literal["info", "success", "warning", "error"]
RowState = Literal["waiting", "opening", "open", "checking", "asking", "done", "problem"]


class CourierStep(StrEnum):
    SIGNED_OUT = "signed_out"  # no session: the attract screen is showing
    PIN = "pin"  # card known: enter the PIN
    REFUSED = "refused"  # locked card, unknown card, stale roster: a message, then back
    MENU = "menu"
    COLLECT = "collect"
    LOAD = "load"
    RETURNS = "returns"


@dataclass(frozen=True)
class MenuEntry:
    intent: str  # the intent's class name, e.g. "StartCollect"
    label: str
    count: int | None  # None: nothing to count (sign out)
    enabled: bool


@dataclass(frozen=True)
class RowView:
    """One compartment in a collect or return run."""

    parcel_id: str
    label: str  # "A03"
    detail: str  # "seal 00123 ✓" / "waiting" / "left inside: staff alerted"
    state: RowState
    compartment: int = 0  # the door number, for the column drawing


DoorPicture = Literal["closed", "open", "done", "unavailable"]


@dataclass(frozen=True)
class DoorFocus:
    """The one door the courier should look at now, for the column drawing and its big label."""

    compartment: int
    label: str  # "A03"
    position: str  # "A柜 从上往下第2层" / "Column A, row 2 from the top"; empty if unknown
    picture: DoorPicture


@dataclass(frozen=True)
class SizeChoice:
    size: CompartmentSize
    label: str
    suggested: bool


@dataclass(frozen=True)
class Question:
    """A yes/no the courier must answer about one compartment (a board without item sensor)."""

    text: str
    yes: str
    no: str
    subject: str  # parcel id (removal) or reservation id (load)


@dataclass(frozen=True)
class CourierView:
    step: CourierStep
    title: str
    courier_name: str  # "王师傅 (C-0001)", empty before the PIN is right
    instruction: str  # the one thing to do now
    notice: str  # what went wrong / what happened, in a sentence; empty if nothing
    severity: Severity
    pin_mask: str  # "●●●●" while typing a PIN
    pin_ready: bool
    menu: tuple[MenuEntry, ...]
    rows: tuple[RowView, ...]
    sizes: tuple[SizeChoice, ...]
    question: Question | None
    loaded_count: int  # results loaded in this session
    countdown: int | None  # seconds before the session ends for idleness (last warning only)
    accepts: frozenset[str]
    labels: tuple[tuple[str, str], ...]  # button texts by intent name
    door: DoorFocus | None = None  # the door open (or opening) now, if any
    progress: str = ""  # "1 done, 2 left" in a run; "2 loaded this session" while loading
    heading: str = ""  # a short line above the list ("Done and left" / "Choose a size")

    def label_for(self, intent: str) -> str:
        return dict(self.labels).get(intent, intent)


# ---- intents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PressKey:
    key: str  # "0"–"9", "back", "clear"


@dataclass(frozen=True)
class SubmitPin:
    pass


@dataclass(frozen=True)
class CancelSignIn:
    pass


@dataclass(frozen=True)
class Dismiss:
    """The refusal was read: back to the attract screen."""


@dataclass(frozen=True)
class StartCollect:
    pass


@dataclass(frozen=True)
class StartLoad:
    pass


@dataclass(frozen=True)
class StartReturns:
    pass


@dataclass(frozen=True)
class ApplyForCitizen:
    pass


@dataclass(frozen=True)
class SignOut:
    pass


@dataclass(frozen=True)
class OpenAll:
    pass


@dataclass(frozen=True)
class CheckDoor:
    """ "I have closed it": ask the board again (a door event may have been missed)."""

    subject: str


@dataclass(frozen=True)
class AnswerYes:
    subject: str


@dataclass(frozen=True)
class AnswerNo:
    subject: str


@dataclass(frozen=True)
class ChooseSize:
    size: CompartmentSize


@dataclass(frozen=True)
class ReopenDoor:
    pass


@dataclass(frozen=True)
class CancelLoad:
    pass


@dataclass(frozen=True)
class BackToMenu:
    pass


@dataclass(frozen=True)
class StillHere:
    pass


Intent = (
    PressKey
    | SubmitPin
    | CancelSignIn
    | Dismiss
    | StartCollect
    | StartLoad
    | StartReturns
    | ApplyForCitizen
    | SignOut
    | OpenAll
    | CheckDoor
    | AnswerYes
    | AnswerNo
    | ChooseSize
    | ReopenDoor
    | CancelLoad
    | BackToMenu
    | StillHere
)
