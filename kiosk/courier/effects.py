"""What the courier flow asks the world to do, and what the world answers.

As in kiosk/apply/effects.py: the flow only returns effects (imperative names); the runtime
performs them off the UI thread and feeds back one of the result events (past tense). The sign-in
answers (`PinWanted`, `SignInRefused`, `WrongPin`, `SignedIn`) come from kiosk/courier/sign_in.py
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kiosk.ports.lockers import CompartmentSize, UnlockOutcome

from .sign_in import CourierIdentity, SignInRoute

RemovalPurpose = Literal["collect", "return"]
RemovalVerdict = Literal[
    "removed", "door_still_open", "still_there", "needs_confirmation", "door_state_unknown"
]
LoadVerdict = Literal[
    "loaded", "door_still_open", "no_item_seen", "needs_confirmation", "door_state_unknown"
]
EnvelopeRefusal = Literal["no_task", "already_loaded", "unreadable"]


# ---- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelSummary:
    """A stored parcel as the courier screens show it ("A03, 440100…")."""

    parcel_id: str
    compartment: int
    column: str
    submission_id: str
    tracking_number: str
    row: int = 0  # the shelf, counted from the top (1); 0: not known

    @property
    def label(self) -> str:
        return f"{self.column}{self.compartment:02d}"


@dataclass(frozen=True)
class ResultTask:
    """A delivery task of the hall, matched to the envelope in the courier's hand."""

    task_id: str
    submission_id: str
    tracking_number: str
    description_zh: str
    description_en: str
    outcome: str  # approved | rejected (a rejection returns the originals: a bigger envelope)
    applicant_id_sha256: str | None
    suggested_size: CompartmentSize


@dataclass(frozen=True)
class LoadSlot:
    """A compartment reserved for one result."""

    reservation_id: str
    compartment: int
    column: str
    size: CompartmentSize
    row: int = 0  # the shelf, counted from the top (1); 0: not known

    @property
    def label(self) -> str:
        return f"{self.column}{self.compartment:02d}"


# ---- effects (imperative) ----------------------------------------------------------------------


@dataclass(frozen=True)
class LookUpCard:
    card_id: str
    via: SignInRoute


@dataclass(frozen=True)
class CheckPin:
    card_id: str
    pin: str
    via: SignInRoute

    def __repr__(self) -> str:  # the PIN never reaches a log line
        return f"CheckPin(card_id={self.card_id!r}, pin=<{len(self.pin)} digits>, via={self.via!r})"


@dataclass(frozen=True)
class LoadWork:
    """Count what is waiting: materials to collect, results expected, overdue results."""


@dataclass(frozen=True)
class OpenForRemoval:
    parcel: ParcelSummary
    purpose: RemovalPurpose
    courier: CourierIdentity


@dataclass(frozen=True)
class BindSeal:
    parcel: ParcelSummary
    seal: str
    courier: CourierIdentity


@dataclass(frozen=True)
class ConfirmRemoval:
    parcel: ParcelSummary
    purpose: RemovalPurpose
    courier: CourierIdentity
    seal: str | None
    person_confirmed: bool = False


@dataclass(frozen=True)
class MatchEnvelope:
    text: str


@dataclass(frozen=True)
class ReserveForResult:
    task: ResultTask
    size: CompartmentSize
    courier: CourierIdentity
    exclude: tuple[int, ...] = ()


@dataclass(frozen=True)
class OpenForLoad:
    slot: LoadSlot
    courier: CourierIdentity


@dataclass(frozen=True)
class ConfirmLoad:
    task: ResultTask
    slot: LoadSlot
    courier: CourierIdentity
    courier_confirmed: bool = False


@dataclass(frozen=True)
class ReleaseSlot:
    slot: LoadSlot
    courier: CourierIdentity


@dataclass(frozen=True)
class AlertStaff:
    compartment: int
    detail: str
    courier: CourierIdentity


@dataclass(frozen=True)
class EndSession:
    session_id: str
    reason: str


@dataclass(frozen=True)
class StartAgentApply:
    """A village agent asked to apply for a citizen: the apply journey starts with them recorded."""

    agent: CourierIdentity


@dataclass(frozen=True)
class ClearDown:
    """The session is over: nothing of it stays on the screen."""


Effect = (
    LookUpCard
    | CheckPin
    | LoadWork
    | OpenForRemoval
    | BindSeal
    | ConfirmRemoval
    | MatchEnvelope
    | ReserveForResult
    | OpenForLoad
    | ConfirmLoad
    | ReleaseSlot
    | AlertStaff
    | EndSession
    | StartAgentApply
    | ClearDown
)


# ---- results (past tense) ----------------------------------------------------------------------


@dataclass(frozen=True)
class WorkLoaded:
    materials: tuple[ParcelSummary, ...]
    deliveries_expected: int
    returns: tuple[ParcelSummary, ...]


@dataclass(frozen=True)
class WorkLoadFailed:
    reason: str


@dataclass(frozen=True)
class RemovalDoorOpened:
    parcel: ParcelSummary
    outcome: UnlockOutcome


@dataclass(frozen=True)
class SealBound:
    parcel: ParcelSummary
    seal: str


@dataclass(frozen=True)
class SealBindFailed:
    parcel: ParcelSummary
    reason: str


@dataclass(frozen=True)
class RemovalChecked:
    parcel: ParcelSummary
    verdict: RemovalVerdict


@dataclass(frozen=True)
class RemovalCheckFailed:
    parcel: ParcelSummary
    reason: str


@dataclass(frozen=True)
class EnvelopeMatched:
    task: ResultTask


@dataclass(frozen=True)
class EnvelopeRefused:
    reason: EnvelopeRefusal
    text: str
    compartment_label: str = ""  # already loaded: where


@dataclass(frozen=True)
class ResultCompartmentReserved:
    task: ResultTask
    slot: LoadSlot


@dataclass(frozen=True)
class NoCompartmentFree:
    size: CompartmentSize


@dataclass(frozen=True)
class LoadDoorOpened:
    slot: LoadSlot
    outcome: UnlockOutcome


@dataclass(frozen=True)
class LoadChecked:
    slot: LoadSlot
    verdict: LoadVerdict


@dataclass(frozen=True)
class LoadCheckFailed:
    slot: LoadSlot
    reason: str


@dataclass(frozen=True)
class Tick:
    """The clock moved; the runtime may feed it like any event."""
