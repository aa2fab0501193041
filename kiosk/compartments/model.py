"""The vocabulary of compartments and parcels: frozen values, the alerts for staff, the errors.

Everything here is plain data, so workflows, screens' view-models and tests can share it without
touching the database or a lock board.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from kiosk.ports.lockers import CompartmentSize, DoorState, UnlockOutcome

SIZES_SMALL_TO_LARGE: tuple[CompartmentSize, ...] = ("S", "M", "L")


class CompartmentState(StrEnum):
    FREE = "free"
    RESERVED = "reserved"  # held for one session (a citizen's deposit, a courier's load)
    OCCUPIED = "occupied"  # holds a stored parcel
    OUT_OF_SERVICE = "out_of_service"  # jammed or taken out by staff; may still hold a parcel


class ParcelKind(StrEnum):
    MATERIALS = "materials"  # paper originals a citizen handed in, for the service centre
    RESULT = "result"  # a finished document waiting for its citizen


class ParcelStatus(StrEnum):
    STORED = "stored"
    COLLECTED = "collected"  # materials taken by a courier
    PICKED_UP = "picked_up"  # a result taken by its citizen
    RETURNED = "returned"  # an overdue (or refused) result taken back by a courier


class ReservationPurpose(StrEnum):
    DEPOSIT_MATERIALS = "deposit_materials"
    LOAD_RESULT = "load_result"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    FULFILLED = "fulfilled"  # a parcel was deposited
    RELEASED = "released"  # given back (cancel, or nothing handed in)
    EXPIRED = "expired"  # abandoned: the hold ran out, or the terminal restarted
    JAMMED = "jammed"  # its door did not open; the compartment went out of service


@dataclass(frozen=True)
class Compartment:
    """What the terminal knows about one compartment, as last committed."""

    number: int
    column: str
    size: CompartmentSize
    row: int
    col: int
    state: CompartmentState
    door: DoorState
    item_present: bool | None  # None: the board has no item sensor, or it was not read yet
    in_map: bool  # False: no longer in any column's map (kept because of its history)
    service_note: str  # why it is out of service; empty otherwise
    attention: str  # what staff must look at; empty when nothing

    @property
    def usable(self) -> bool:
        """Whether a new reservation may pick it, leaving aside the door and sensor readings."""
        return self.in_map and self.state is CompartmentState.FREE


@dataclass(frozen=True)
class Reservation:
    """A compartment held for one session; carries what the screen shows ("box 7, column A")."""

    id: str
    compartment: int
    column: str
    size: CompartmentSize
    row: int
    col: int
    purpose: ReservationPurpose
    holder: str
    status: ReservationStatus
    door_opened: bool  # an unlock was sent (opened, already open or unknown outcome)
    expires_at: datetime


@dataclass(frozen=True)
class Parcel:
    id: str
    kind: ParcelKind
    compartment: int
    status: ParcelStatus
    submission_id: str
    tracking_number: str
    applicant_id_sha256: str | None
    expires_at: datetime | None
    stored_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True)
class MaterialsForCentre:
    """Paper originals of one submission; `submission_id` is the terminal's local reference."""

    submission_id: str
    tracking_number: str = ""


@dataclass(frozen=True)
class ResultForCitizen:
    """A finished document. The pickup code is hashed on arrival and never stored or shown."""

    submission_id: str
    pickup_code: str = field(repr=False)
    expires_at: datetime
    tracking_number: str = ""
    applicant_id_sha256: str | None = None  # from the hall's delivery task, for card pickup


ParcelContents = MaterialsForCentre | ResultForCitizen


# -- what door and parcel operations report ------------------------------------------------------


@dataclass(frozen=True)
class DoorOpening:
    """How one audited unlock ended; `intent_id` links to the audit trail."""

    compartment: int
    outcome: UnlockOutcome
    intent_id: int
    taken_out_of_service: bool  # jammed: the caller should move on to another compartment

    @property
    def opened(self) -> bool:
        return self.outcome in (UnlockOutcome.OPENED, UnlockOutcome.ALREADY_OPEN)


class DepositStatus(StrEnum):
    DEPOSITED = "deposited"
    DOOR_STILL_OPEN = "door_still_open"  # ask the citizen to close the door
    NO_ITEM_SEEN = "no_item_seen"  # the sensor saw nothing: ask again, open the door again
    NEEDS_CONFIRMATION = "needs_confirmation"  # no item sensor: ask "did you put them in?"
    DOOR_STATE_UNKNOWN = "door_state_unknown"  # the board does not answer: try again shortly


@dataclass(frozen=True)
class DepositResult:
    status: DepositStatus
    parcel: Parcel | None = None


class RemovalStatus(StrEnum):
    REMOVED = "removed"
    DOOR_STILL_OPEN = "door_still_open"
    STILL_THERE = "still_there"  # the sensor still sees it: flagged for staff, ask once more
    NEEDS_CONFIRMATION = "needs_confirmation"  # no item sensor: ask the person
    DOOR_STATE_UNKNOWN = "door_state_unknown"


@dataclass(frozen=True)
class RemovalResult:
    status: RemovalStatus
    parcel: Parcel


class ReleaseStatus(StrEnum):
    RELEASED = "released"
    DOOR_STILL_OPEN = "door_still_open"  # cancelled with the door open: close it first
    ITEM_STILL_INSIDE = "item_still_inside"  # materials still in: open it again to take them


@dataclass(frozen=True)
class ReleaseResult:
    status: ReleaseStatus
    reservation: Reservation


@dataclass(frozen=True)
class EndedReservation:
    """A reservation ended by expiry or restart, and what became of its compartment."""

    reservation: Reservation
    compartment_freed: bool  # False: the door was opened for it and the contents are not known


@dataclass(frozen=True)
class ReconciledOpening:
    """An unlock whose outcome was lost in a crash, settled from the board's readings."""

    intent_id: int
    compartment: int
    outcome: UnlockOutcome
    door: DoorState


@dataclass(frozen=True)
class MapSyncReport:
    added: tuple[int, ...]
    updated: tuple[int, ...]
    left_map: tuple[int, ...]  # no longer in any column's map
    left_map_holding_parcel: tuple[int, ...]  # ... and still holding a parcel: flagged
    returned_to_map: tuple[int, ...]


@dataclass(frozen=True)
class StartUpReport:
    map_sync: MapSyncReport
    reconciled: tuple[ReconciledOpening, ...]
    ended_reservations: tuple[EndedReservation, ...]


# -- alerts for staff (published to the event sink; past tense) ----------------------------------


@dataclass(frozen=True)
class DoorAlarmRaised:
    """A door opened that nobody unlocked: forced, or a lock that let go by itself."""

    compartment: int
    column: str
    holds_parcel: bool


@dataclass(frozen=True)
class CompartmentTakenOutOfService:
    compartment: int
    column: str
    reason: str


@dataclass(frozen=True)
class CompartmentNeedsAttention:
    """Staff should look: contents unknown, a parcel left behind, a door left open, ..."""

    compartment: int
    column: str
    note: str


# -- errors -------------------------------------------------------------------------------------


class CompartmentError(Exception):
    """A compartment operation cannot be done; the message says why and what to do."""


class UnknownCompartment(CompartmentError):
    pass


class UnknownParcel(CompartmentError):
    pass


class ReservationNotActive(CompartmentError):
    """The reservation ended (deposited, released, expired, jammed) or never existed."""


class CompartmentNotAvailable(CompartmentError):
    """The compartment is not in a state that allows this (e.g. opening a free one for pickup)."""


class CompartmentMapError(CompartmentError):
    """The columns' compartment maps contradict each other (a number used twice)."""
