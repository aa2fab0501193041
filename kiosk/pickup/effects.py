"""What the pickup flow asks the world to do, and what the world answers.

Like the apply journey (kiosk/apply/effects.py): the flow returns effects (imperative), the runtime
performs them off the UI thread and feeds back one result event (past tense). Nothing here does
I/O; the values are plain and frozen so a test can compare whole lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kiosk.ports.identity import Identity
from kiosk.ports.lockers import UnlockOutcome

PickupMethod = Literal["qr", "code", "id_card"]
RemovalVerdict = Literal[
    "removed", "door_still_open", "still_there", "needs_confirmation", "door_state_unknown"
]
QrRefusal = Literal["malformed", "signature", "expired"]


@dataclass(frozen=True)
class WaitingParcel:
    """A stored result the person has proved is theirs, and where its door is."""

    parcel_id: str
    compartment: int
    label: str  # the number painted on the door ("A03")
    column: str
    row: int
    col: int
    submission_id: str
    tracking_number: str = ""


# ---- effects (imperative) --------------------------------------------------------------------


@dataclass(frozen=True)
class Speak:
    key: str
    args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WatchForCodes:
    """Camera in QR mode and scanner beam on (`active`), or both back to idle."""

    active: bool


@dataclass(frozen=True)
class CheckKeypadLock:
    pass


@dataclass(frozen=True)
class FindByCode:
    code: str = field(repr=False)


@dataclass(frozen=True)
class FindByQr:
    payload: str = field(repr=False)


@dataclass(frozen=True)
class FindByIdCard:
    identity: Identity


@dataclass(frozen=True)
class OpenForPickup:
    parcel: WaitingParcel
    attempt: int  # 1, then 2 when the person asked to open it again
    method: PickupMethod = "code"  # for the audit record's reason


@dataclass(frozen=True)
class ConfirmPickup:
    """Door shut: parcel picked up + `picked_up` outbox event in one transaction, if it is gone."""

    parcel: WaitingParcel
    method: PickupMethod
    person_confirmed: bool = False


@dataclass(frozen=True)
class RecordNotTaken:
    """Asked twice and still inside: parcel stays stored, compartment flagged, hall told."""

    parcel: WaitingParcel
    method: PickupMethod
    why: str


@dataclass(frozen=True)
class AlertStaff:
    compartment: int
    detail: str


@dataclass(frozen=True)
class ClearDown:
    pass


Effect = (
    Speak
    | WatchForCodes
    | CheckKeypadLock
    | FindByCode
    | FindByQr
    | FindByIdCard
    | OpenForPickup
    | ConfirmPickup
    | RecordNotTaken
    | AlertStaff
    | ClearDown
)


# ---- results (past tense) --------------------------------------------------------------------


@dataclass(frozen=True)
class KeypadLockChecked:
    locked_until: datetime | None


@dataclass(frozen=True)
class ParcelsFound:
    method: PickupMethod
    parcels: tuple[WaitingParcel, ...]


@dataclass(frozen=True)
class CodeWrong:
    """No stored result has this code; it was counted (`locked_until` set: that was the limit)."""

    wrong_in_window: int
    locked_until: datetime | None


@dataclass(frozen=True)
class KeypadLocked:
    """The code was not even checked: the keypad is locked until then."""

    locked_until: datetime


@dataclass(frozen=True)
class ResultExpired:
    """Proved theirs, but past its collection period: it goes back to the centre."""

    method: PickupMethod


@dataclass(frozen=True)
class NothingFound:
    """A card with no result here, or a valid QR whose parcel was already collected."""

    method: PickupMethod


@dataclass(frozen=True)
class QrRefused:
    reason: QrRefusal


@dataclass(frozen=True)
class LookupFailed:
    """The database or the key store failed: a plain sentence and the hotline."""

    reason: str


@dataclass(frozen=True)
class DoorOpenedForPickup:
    parcel_id: str
    outcome: UnlockOutcome
    taken_out_of_service: bool


@dataclass(frozen=True)
class RemovalChecked:
    parcel_id: str
    verdict: RemovalVerdict


@dataclass(frozen=True)
class NotTakenRecorded:
    parcel_id: str


@dataclass(frozen=True)
class Tick:
    pass
