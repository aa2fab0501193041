"""Compartments, parcels and door truth: the one place that decides what a compartment holds.

Decisions, and why (the full rules and the state diagram are in docs/compartments.md):

* **Door truth.** Every unlock is an audited intent committed *before* the board is commanded and
  an outcome committed *after* (`_open`). A crash in between leaves a pending intent, which
  start-up settles against the board's readings: door open → opened, anything else → unknown,
  both marked as reconciled. So no door can open without a record, even across a power cut.
* **The board's readings decide, not the screen.** A deposit is confirmed from the column's
  latest readings (door closed, item seen), read at the moment of the confirmation; events only
  keep the table current for staff and for choosing compartments. Where a board has no item
  sensor, the citizen's "yes, they are inside" plus a closed door is the evidence, and the audit
  record says so.
* **When in doubt, out of service.** A reservation abandoned after its door was opened, with
  contents the sensors cannot vouch for, is not handed to the next citizen: the compartment goes
  out of service with a note for staff. A jammed lock does the same, and the caller moves on.
* **The database guards the invariants too** (migrations/0004_compartments.sql): never two parcels
  in one compartment, never a free compartment holding one. A bug here fails a transaction; it
  cannot lose a parcel.
* **Blocking by design.** `unlock` talks to a board; the flows call these methods off the UI
  thread. No transaction is held while a door is commanded, so other threads (door events, the
  outbox) are never stuck behind a slow board. Do not call the door methods inside your own
  `Database.transaction()`: the intent would not be committed before the unlock.
* **Time** is an injected wall clock (UTC), because reservations and expiry dates must survive a
  restart; tests pass a fake one.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from kiosk.ports.health import EventSink
from kiosk.ports.lockers import (
    CompartmentReading,
    CompartmentSize,
    CompartmentSpec,
    DoorClosed,
    DoorOpened,
    DoorOpenedWithoutCommand,
    DoorState,
    ItemDetected,
    ItemRemoved,
    LockerColumn,
    LockerError,
    UnlockOutcome,
)
from kiosk.storage import (
    DOOR_OPEN,
    SYSTEM_ACTOR,
    Actor,
    AuditEvent,
    AuditLog,
    Database,
    Outcome,
    Reader,
    StorageError,
    Transaction,
)

from .codes import PickupCodeHasher, applicant_id_sha256, pickup_code_matches
from .model import (
    SIZES_SMALL_TO_LARGE,
    Compartment,
    CompartmentError,
    CompartmentMapError,
    CompartmentNeedsAttention,
    CompartmentNotAvailable,
    CompartmentState,
    CompartmentTakenOutOfService,
    DepositResult,
    DepositStatus,
    DoorAlarmRaised,
    DoorOpening,
    EndedReservation,
    MapSyncReport,
    MaterialsForCentre,
    Parcel,
    ParcelContents,
    ParcelKind,
    ParcelStatus,
    ReconciledOpening,
    ReleaseResult,
    ReleaseStatus,
    RemovalResult,
    RemovalStatus,
    Reservation,
    ReservationNotActive,
    ReservationPurpose,
    ReservationStatus,
    ResultForCitizen,
    StartUpReport,
    UnknownCompartment,
    UnknownParcel,
)

_log = logging.getLogger(__name__)

DEFAULT_HOLD_S = 300.0  # a citizen at the hand-in step; the flow extends it while they act
_NO_READING = CompartmentReading(DoorState.UNKNOWN, None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_SUBJECT_PREFIX = "compartment:"
_ENDINGS: Mapping[ParcelKind, frozenset[ParcelStatus]] = {
    ParcelKind.MATERIALS: frozenset({ParcelStatus.COLLECTED}),
    ParcelKind.RESULT: frozenset({ParcelStatus.PICKED_UP, ParcelStatus.RETURNED}),
}
_PURPOSE_OF: Mapping[type, ReservationPurpose] = {
    MaterialsForCentre: ReservationPurpose.DEPOSIT_MATERIALS,
    ResultForCitizen: ReservationPurpose.LOAD_RESULT,
}
_COMPARTMENT_COLUMNS = (
    "number, column_name, size, row, col, in_map, state, service_note, door, item_present, "
    "attention"
)
_RESERVATION_SELECT = (
    "SELECT r.id, r.compartment, r.purpose, r.holder, r.status, r.door_opened, r.expires_at_ms, "
    "c.column_name, c.size, c.row, c.col FROM compartment_reservations AS r "
    "JOIN compartments AS c ON c.number = r.compartment"
)
_PARCEL_COLUMNS = (
    "id, kind, compartment, status, submission_id, tracking_number, applicant_id_sha256, "
    "expires_at_ms, stored_at_ms, removed_at_ms"
)


def subject_of(number: int) -> str:
    """The audit subject of a compartment; its whole story is `AuditLog.for_subject(...)`."""
    return f"{_SUBJECT_PREFIX}{number}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pending:
    """Alerts gathered inside a transaction, published only once it has committed."""

    alerts: list[object]


class CompartmentService:
    """Reserve, open, fill and empty compartments over several locker columns, with door truth."""

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        columns: Sequence[LockerColumn],
        *,
        clock: Callable[[], datetime] = _utc_now,
        alerts: EventSink | None = None,
        code_hasher: PickupCodeHasher | None = None,
        hold_s: float = DEFAULT_HOLD_S,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._alerts = alerts
        self._hasher = code_hasher or PickupCodeHasher()
        self._hold = timedelta(seconds=hold_s)
        self._columns = list(columns)
        self._specs: dict[int, CompartmentSpec] = {}
        self._column_of: dict[int, LockerColumn] = {}
        for column in self._columns:
            for spec in column.compartments():
                if spec.number in self._specs:
                    other = self._specs[spec.number].column
                    raise CompartmentMapError(
                        f"Compartment number {spec.number} is used by column {other} and by "
                        f"column {column.name}; door numbers must be unique on the terminal — "
                        "renumber one of them in the configuration."
                    )
                self._specs[spec.number] = spec
                self._column_of[spec.number] = column

    # -- start-up -------------------------------------------------------------------------------

    def start_up(self) -> StartUpReport:
        """Run once the columns have been started (ideally after their first poll).

        Order matters: the map first (so every number exists), then the readings, then the
        unlocks a crash left without an outcome, then the reservations of sessions that died
        with the previous process.
        """
        map_sync = self.sync_compartment_map()
        self.refresh_readings()
        reconciled = self.reconcile_pending_openings()
        self._flag_parcels_the_sensor_misses()
        ended = self._end_reservations(
            "SELECT id FROM compartment_reservations WHERE status = 'active' ORDER BY id",
            (),
            "the terminal restarted during the session",
        )
        return StartUpReport(map_sync, tuple(reconciled), tuple(ended))

    def _flag_parcels_the_sensor_misses(self) -> None:
        """A stored parcel whose sensor reads empty at start-up: flag it for staff.

        The door's opening had its outcome recorded, the parcel was taken out, and the process
        died before the removal was confirmed — no pending intent is left to reconcile, so
        without this the terminal would go on promising a parcel that is not there (and a
        citizen's result would later be "returned" while the citizen holds it). Flag, do not
        guess: whoever opens it next confirms what is really inside.
        """
        pending = _Pending([])
        with self._database.transaction() as tx:
            rows = tx.fetch_all(
                "SELECT c.number, p.id FROM compartments c JOIN parcels p "
                "ON p.compartment = c.number AND p.status = 'stored' "
                "WHERE c.item_present = 0 AND c.attention = '' ORDER BY c.number"
            )
            for row in rows:
                self._flag(
                    tx,
                    pending,
                    int(row["number"]),
                    f"parcel {row['id']} is recorded inside but the item sensor sees nothing "
                    "(a removal interrupted by a restart?); check whether it is still inside",
                    SYSTEM_ACTOR,
                )
        self._publish(pending)

    def sync_compartment_map(self) -> MapSyncReport:
        """Make the table match the columns' maps, keeping what left the map and its history."""
        pending = _Pending([])
        added: list[int] = []
        updated: list[int] = []
        left: list[int] = []
        left_holding: list[int] = []
        returned: list[int] = []
        now_ms = self._now_ms()
        with self._database.transaction() as tx:
            existing = {int(r["number"]): r for r in tx.fetch_all("SELECT * FROM compartments")}
            for number, spec in sorted(self._specs.items()):
                row = existing.get(number)
                if row is None:
                    tx.execute(
                        "INSERT INTO compartments (number, column_name, size, row, col, "
                        "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        (number, spec.column, spec.size, spec.row, spec.col, now_ms),
                    )
                    added.append(number)
                    continue
                place = (row["column_name"], row["size"], row["row"], row["col"])
                if place != (spec.column, spec.size, spec.row, spec.col):
                    updated.append(number)
                if not row["in_map"]:
                    returned.append(number)
                if place != (spec.column, spec.size, spec.row, spec.col) or not row["in_map"]:
                    tx.execute(
                        "UPDATE compartments SET column_name = ?, size = ?, row = ?, col = ?, "
                        "in_map = 1, updated_at_ms = ? WHERE number = ?",
                        (spec.column, spec.size, spec.row, spec.col, now_ms, number),
                    )
            for number, row in sorted(existing.items()):
                if number in self._specs or not row["in_map"]:
                    continue
                left.append(number)
                tx.execute(
                    "UPDATE compartments SET in_map = 0, updated_at_ms = ? WHERE number = ?",
                    (now_ms, number),
                )
                parcel = _stored_parcel_id(tx, number)
                if parcel is not None:
                    left_holding.append(number)
                    self._flag(
                        tx,
                        pending,
                        number,
                        f"compartment {number} is no longer in the locker configuration but "
                        f"still holds parcel {parcel}; empty it by hand or restore it in the "
                        "configuration",
                        SYSTEM_ACTOR,
                    )
        self._publish(pending)
        return MapSyncReport(
            tuple(added), tuple(updated), tuple(left), tuple(left_holding), tuple(returned)
        )

    def refresh_readings(self) -> None:
        """Copy every column's latest readings into the table (no board traffic: memory only)."""
        readings: dict[int, CompartmentReading] = {}
        for column in self._columns:
            try:
                readings.update(column.readings())
            except LockerError as err:
                _log.warning("readings of column %s unavailable: %s", column.name, err)
        with self._database.transaction() as tx:
            for number, reading in readings.items():
                if number in self._specs:
                    _store_reading(tx, number, reading)

    def reconcile_pending_openings(self) -> list[ReconciledOpening]:
        """Settle unlocks whose outcome a crash lost, from what the board reads now."""
        settled: list[ReconciledOpening] = []
        pending = _Pending([])
        for intent in self._audit.pending_intents():
            number = _compartment_of(intent)
            if intent.action != DOOR_OPEN or number is None:
                continue  # another service's intent; it reconciles its own
            reading = self._reading(number)
            outcome = (
                UnlockOutcome.OPENED if reading.door is DoorState.OPEN else UnlockOutcome.UNKNOWN
            )
            with self._database.transaction() as tx:
                self._audit.record_outcome(
                    intent,
                    Outcome(outcome.value),
                    actor=SYSTEM_ACTOR,
                    details={"reconciled": True, "door": reading.door.value},
                )
                if _exists(tx, number):
                    _store_reading(tx, number, reading)
                reservation_id = intent.details.get("reservation_id")
                if isinstance(reservation_id, str):
                    # the door may have opened: the abandonment rule must treat it so
                    tx.execute(
                        "UPDATE compartment_reservations SET door_opened = 1 "
                        "WHERE id = ? AND status = 'active'",
                        (reservation_id,),
                    )
                parcel_id = intent.details.get("parcel_id")
                if isinstance(parcel_id, str) and _parcel_is_stored(tx, parcel_id):
                    self._flag(
                        tx,
                        pending,
                        number,
                        f"the door was opened to take out parcel {parcel_id} just before a "
                        "restart; check whether it is still inside",
                        SYSTEM_ACTOR,
                    )
            settled.append(ReconciledOpening(intent.id, number, outcome, reading.door))
        self._publish(pending)
        return settled

    # -- queries --------------------------------------------------------------------------------

    def compartments(self) -> list[Compartment]:
        with self._database.snapshot() as view:
            rows = view.fetch_all(
                f"SELECT {_COMPARTMENT_COLUMNS} FROM compartments ORDER BY number"
            )
        return [_compartment(row) for row in rows]

    def compartment(self, number: int) -> Compartment:
        with self._database.snapshot() as view:
            return _compartment(_compartment_row(view, number))

    def reservation(self, reservation_id: str) -> Reservation:
        with self._database.snapshot() as view:
            return _reservation(_reservation_row(view, reservation_id))

    def active_reservations(self) -> list[Reservation]:
        with self._database.snapshot() as view:
            rows = view.fetch_all(f"{_RESERVATION_SELECT} WHERE r.status = 'active'")
        return [_reservation(row) for row in rows]

    def parcel(self, parcel_id: str) -> Parcel:
        with self._database.snapshot() as view:
            return _parcel(_parcel_row(view, parcel_id))

    def stored_parcels(self, kind: ParcelKind | None = None) -> list[Parcel]:
        sql = f"SELECT {_PARCEL_COLUMNS} FROM parcels WHERE status = 'stored'"
        params: tuple[object, ...] = ()
        if kind is not None:
            sql += " AND kind = ?"
            params = (kind.value,)
        with self._database.snapshot() as view:
            rows = view.fetch_all(sql + " ORDER BY compartment", params)
        return [_parcel(row) for row in rows]

    def overdue_results(self) -> list[Parcel]:
        """Stored results past their expiry: the next courier session takes them back."""
        with self._database.snapshot() as view:
            rows = view.fetch_all(
                f"SELECT {_PARCEL_COLUMNS} FROM parcels WHERE status = 'stored' "
                "AND kind = 'result' AND expires_at_ms <= ? ORDER BY expires_at_ms",
                (self._now_ms(),),
            )
        return [_parcel(row) for row in rows]

    def results_for_code(self, code: str) -> list[Parcel]:
        """Stored, unexpired results whose pickup code this is (one scrypt per stored result)."""
        with self._database.snapshot() as view:
            rows = view.fetch_all(
                f"SELECT {_PARCEL_COLUMNS}, pickup_code_hash FROM parcels WHERE status = 'stored' "
                "AND kind = 'result' AND expires_at_ms > ? ORDER BY compartment",
                (self._now_ms(),),
            )
        return [_parcel(row) for row in rows if pickup_code_matches(row["pickup_code_hash"], code)]

    def result_code_matches(self, parcel_id: str, code: str) -> bool:
        """This stored result's pickup code is `code` (one scrypt: a signed QR names its parcel).
        Expiry is not judged here, so the caller can tell "expired" from "wrong"."""
        with self._database.snapshot() as view:
            stored: Any = view.fetch_value(
                "SELECT pickup_code_hash FROM parcels WHERE id = ? AND status = 'stored' "
                "AND kind = 'result'",
                (parcel_id,),
            )
        return stored is not None and pickup_code_matches(str(stored), code)

    def overdue_result_has_code(self, code: str) -> bool:
        """A stored result past its expiry has this code: the citizen is told it went back,
        and the right-but-late code is not counted as a guess."""
        with self._database.snapshot() as view:
            rows = view.fetch_all(
                "SELECT pickup_code_hash FROM parcels WHERE status = 'stored' AND kind = 'result' "
                "AND expires_at_ms <= ? AND pickup_code_hash IS NOT NULL",
                (self._now_ms(),),
            )
        return any(pickup_code_matches(str(row[0]), code) for row in rows)

    def results_for_applicant(self, id_number: str) -> list[Parcel]:
        """Stored, unexpired results for the person whose card is on the reader."""
        with self._database.snapshot() as view:
            rows = view.fetch_all(
                f"SELECT {_PARCEL_COLUMNS} FROM parcels WHERE status = 'stored' "
                "AND kind = 'result' AND applicant_id_sha256 = ? AND expires_at_ms > ? "
                "ORDER BY compartment",
                (applicant_id_sha256(id_number), self._now_ms()),
            )
        return [_parcel(row) for row in rows]

    def free_counts(self) -> dict[CompartmentSize, int]:
        """Usable free compartments per size, e.g. to say "no free compartment" early."""
        counts: dict[CompartmentSize, int] = dict.fromkeys(SIZES_SMALL_TO_LARGE, 0)
        for compartment in self.compartments():
            if compartment.usable and _can_take_new(compartment):
                counts[compartment.size] += 1
        return counts

    # -- reservations ---------------------------------------------------------------------------

    def reserve(
        self,
        size: CompartmentSize,
        *,
        holder: Actor,
        purpose: ReservationPurpose = ReservationPurpose.DEPOSIT_MATERIALS,
        hold_s: float | None = None,
    ) -> Reservation | None:
        """Hold the best-fitting free compartment (S→M→L from `size` up), or None if none is.

        Abandoned reservations are expired first, so a session that walked away frees its
        compartment for this one. Compartments whose door reads closed come before those whose
        board has not answered; a door reading open, an item inside or out of service: never.
        """
        self.expire_reservations()
        self.refresh_readings()
        wanted = SIZES_SMALL_TO_LARGE[SIZES_SMALL_TO_LARGE.index(size) :]
        now_ms = self._now_ms()
        expires_ms = now_ms + _ms(self._hold if hold_s is None else timedelta(seconds=hold_s))
        reservation_id = uuid.uuid4().hex
        with self._database.transaction() as tx:
            marks = ", ".join("?" for _ in wanted)
            row = tx.fetch_one(
                f"SELECT number FROM compartments WHERE state = 'free' AND in_map = 1 "
                f"AND door <> 'open' AND item_present IS NOT 1 AND size IN ({marks}) "
                "ORDER BY door = 'unknown', "
                "CASE size WHEN 'S' THEN 0 WHEN 'M' THEN 1 ELSE 2 END, number LIMIT 1",
                tuple(wanted),
            )
            if row is None:
                return None
            number = int(row["number"])
            tx.execute(
                "UPDATE compartments SET state = 'reserved', updated_at_ms = ? WHERE number = ?",
                (now_ms, number),
            )
            tx.execute(
                "INSERT INTO compartment_reservations (id, compartment, purpose, holder, "
                "created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (reservation_id, number, purpose.value, holder.id, now_ms, expires_ms),
            )
            self._audit.record(
                actor=holder,
                action="compartment.reserve",
                subject=subject_of(number),
                reason=f"{purpose.value}, size {size} wanted",
                outcome=Outcome.SUCCEEDED,
                details={"reservation_id": reservation_id},
            )
            return _reservation(_reservation_row(tx, reservation_id))

    def extend_reservation(self, reservation_id: str, hold_s: float | None = None) -> Reservation:
        """Keep holding while the citizen is still acting (the flow calls this on each touch)."""
        hold = self._hold if hold_s is None else timedelta(seconds=hold_s)
        with self._database.transaction() as tx:
            _active_reservation_row(tx, reservation_id)
            tx.execute(
                "UPDATE compartment_reservations SET expires_at_ms = max(expires_at_ms, ?) "
                "WHERE id = ?",
                (self._now_ms() + _ms(hold), reservation_id),
            )
            return _reservation(_reservation_row(tx, reservation_id))

    def release(self, reservation_id: str, *, actor: Actor, reason: str) -> ReleaseResult:
        """Give a compartment back (cancel, or nothing to hand in).

        Refused while the door reads open or the sensor sees something inside: after a cancel
        the flow opens the door again so the citizen takes the materials back, then releases.
        Given back with the door opened while its board is silent, the compartment goes out of
        service: nobody can say it is empty.
        """
        pending = _Pending([])
        with self._database.transaction() as tx:
            row = _active_reservation_row(tx, reservation_id)
            number = int(row["compartment"])
            reading = self._reading(number)
            _store_reading(tx, number, reading)
            opened = bool(row["door_opened"])
            if opened and reading.door is DoorState.OPEN:
                return ReleaseResult(ReleaseStatus.DOOR_STILL_OPEN, _reservation(row))
            if opened and reading.item_present is True:
                return ReleaseResult(ReleaseStatus.ITEM_STILL_INSIDE, _reservation(row))
            self._end_reservation(tx, reservation_id, ReservationStatus.RELEASED)
            self._audit.record(
                actor=actor,
                action="compartment.release",
                subject=subject_of(number),
                reason=reason,
                outcome=Outcome.SUCCEEDED,
                details={"reservation_id": reservation_id, "door": reading.door.value},
            )
            if opened and reading.door is DoorState.UNKNOWN:
                self._out_of_service(
                    tx,
                    pending,
                    number,
                    "it was given back after its door was opened, while its board did not "
                    "answer; check that it is empty, then return it to service",
                    actor,
                )
            else:
                self._set_state(tx, number, CompartmentState.FREE)
        self._publish(pending)
        return ReleaseResult(ReleaseStatus.RELEASED, _reservation(row, ReservationStatus.RELEASED))

    def expire_reservations(self) -> list[EndedReservation]:
        """End every reservation whose hold ran out; the flow's timer and `reserve` call this."""
        return self._end_reservations(
            "SELECT id FROM compartment_reservations WHERE status = 'active' "
            "AND expires_at_ms <= ? ORDER BY id",
            (self._now_ms(),),
            "the session left without finishing the hand-in",
        )

    # -- doors ----------------------------------------------------------------------------------

    def open_for_deposit(
        self, reservation_id: str, *, actor: Actor, reason: str = "hand in materials"
    ) -> DoorOpening:
        """Open a reserved compartment (again, after "no item seen" or to take things back)."""
        with self._database.snapshot() as view:
            row = _active_reservation_row(view, reservation_id)
        return self._open(
            int(row["compartment"]),
            actor=actor,
            reason=reason,
            details={"reservation_id": reservation_id, "purpose": str(row["purpose"])},
            reservation_id=reservation_id,
        )

    def open_for_removal(self, parcel_id: str, *, actor: Actor, reason: str) -> DoorOpening:
        """Open the compartment holding a parcel: courier collection, citizen pickup, return."""
        with self._database.snapshot() as view:
            parcel = _parcel(_parcel_row(view, parcel_id))
        if parcel.status is not ParcelStatus.STORED:
            raise CompartmentNotAvailable(
                f"Parcel {parcel_id} was already {parcel.status.value} "
                f"(compartment {parcel.compartment}); there is nothing to take out."
            )
        return self._open(
            parcel.compartment,
            actor=actor,
            reason=reason,
            details={"parcel_id": parcel_id, "kind": parcel.kind.value},
            reservation_id=None,
        )

    def open_door(self, number: int, *, actor: Actor, reason: str) -> DoorOpening:
        """A technician's or remote operator's opening: audited like all the others."""
        with self._database.snapshot() as view:
            _compartment_row(view, number)
        return self._open(number, actor=actor, reason=reason, details={}, reservation_id=None)

    def watch_door(self, number: int, seconds: float) -> None:
        """Ask the column to poll fast: a citizen is about to close this door."""
        self._column(number).expect_movement(number, seconds)

    # -- deposit and removal --------------------------------------------------------------------

    def confirm_deposit(
        self,
        reservation_id: str,
        contents: ParcelContents,
        *,
        actor: Actor,
        citizen_confirmed: bool = False,
    ) -> DepositResult:
        """Store the parcel if the board vouches for it: door closed and an item inside.

        On a board without an item sensor, a closed door plus `citizen_confirmed` is accepted
        (and recorded as the evidence). To report the deposit to the hall in the same commit, call
        this inside your own `Database.transaction()` and enqueue the outbox event there.
        """
        with self._database.snapshot() as view:
            row = _active_reservation_row(view, reservation_id)
        purpose = ReservationPurpose(row["purpose"])
        if _PURPOSE_OF[type(contents)] is not purpose:
            raise CompartmentError(
                f"Reservation {reservation_id} is for {purpose.value}, not for "
                f"{type(contents).__name__}; reserve a compartment for the right purpose."
            )
        if not row["door_opened"]:
            raise CompartmentNotAvailable(
                f"The door of compartment {row['compartment']} was never opened for reservation "
                f"{reservation_id}; open it before confirming a deposit."
            )
        number = int(row["compartment"])
        reading = self._reading(number)
        verdict = _judge_deposit(reading, citizen_confirmed)
        if verdict is not DepositStatus.DEPOSITED:
            with self._database.transaction() as tx:
                _store_reading(tx, number, reading)
            return DepositResult(verdict)
        code_hash = None
        if isinstance(contents, ResultForCitizen):
            code_hash = self._hasher.hash(contents.pickup_code)  # slow: outside the transaction
        parcel_id = uuid.uuid4().hex
        now_ms = self._now_ms()
        with self._database.transaction() as tx:
            _active_reservation_row(tx, reservation_id)  # still ours after the hashing?
            _store_reading(tx, number, reading)
            self._end_reservation(tx, reservation_id, ReservationStatus.FULFILLED, parcel_id)
            self._set_state(tx, number, CompartmentState.OCCUPIED)
            tx.execute(
                "INSERT INTO parcels (id, kind, compartment, submission_id, tracking_number, "
                "pickup_code_hash, applicant_id_sha256, expires_at_ms, stored_at_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    parcel_id,
                    (
                        ParcelKind.RESULT
                        if isinstance(contents, ResultForCitizen)
                        else ParcelKind.MATERIALS
                    ).value,
                    number,
                    contents.submission_id,
                    contents.tracking_number,
                    code_hash,
                    contents.applicant_id_sha256
                    if isinstance(contents, ResultForCitizen)
                    else None,
                    _to_ms(contents.expires_at) if isinstance(contents, ResultForCitizen) else None,
                    now_ms,
                ),
            )
            self._audit.record(
                actor=actor,
                action="parcel.deposit",
                subject=subject_of(number),
                reason=f"{purpose.value} for submission {contents.submission_id}",
                outcome=Outcome.SUCCEEDED,
                details={
                    "parcel_id": parcel_id,
                    "reservation_id": reservation_id,
                    "evidence": "item_sensor"
                    if reading.item_present is True
                    else "citizen_confirmation",
                },
            )
            parcel = _parcel(_parcel_row(tx, parcel_id))
        return DepositResult(DepositStatus.DEPOSITED, parcel)

    def confirm_removed(
        self,
        parcel_id: str,
        *,
        ending: ParcelStatus,
        actor: Actor,
        person_confirmed: bool = False,
    ) -> RemovalResult:
        """After `open_for_removal`: the door closed on an empty compartment → parcel gone, free.

        Still seen inside → flagged for staff and reported, so the flow can ask once more.
        """
        pending = _Pending([])
        with self._database.transaction() as tx:
            parcel = _parcel(_parcel_row(tx, parcel_id))
            if parcel.status is not ParcelStatus.STORED:
                raise CompartmentNotAvailable(
                    f"Parcel {parcel_id} was already {parcel.status.value}; nothing to confirm."
                )
            if ending not in _ENDINGS[parcel.kind]:
                raise CompartmentError(
                    f"A {parcel.kind.value} parcel cannot end as {ending.value}; use one of "
                    f"{', '.join(sorted(_ENDINGS[parcel.kind]))}."
                )
            number = parcel.compartment
            reading = self._reading(number)
            _store_reading(tx, number, reading)
            verdict = _judge_removal(reading, person_confirmed)
            if verdict is RemovalStatus.STILL_THERE:
                self._flag(
                    tx,
                    pending,
                    number,
                    f"parcel {parcel_id} is still inside after it was to be {ending.value}",
                    actor,
                )
            if verdict is not RemovalStatus.REMOVED:
                result = RemovalResult(verdict, parcel)
            else:
                now_ms = self._now_ms()
                tx.execute(
                    "UPDATE parcels SET status = ?, removed_at_ms = ? WHERE id = ?",
                    (ending.value, now_ms, parcel_id),
                )
                state = CompartmentState(_compartment_row(tx, number)["state"])
                if state is CompartmentState.OCCUPIED:
                    self._set_state(tx, number, CompartmentState.FREE)
                    tx.execute("UPDATE compartments SET attention = '' WHERE number = ?", (number,))
                self._audit.record(
                    actor=actor,
                    action=f"parcel.{ending.value}",
                    subject=subject_of(number),
                    reason=f"{parcel.kind.value} of submission {parcel.submission_id}",
                    outcome=Outcome.SUCCEEDED,
                    details={
                        "parcel_id": parcel_id,
                        "evidence": "item_sensor"
                        if reading.item_present is False
                        else "person_confirmation",
                    },
                )
                result = RemovalResult(verdict, _parcel(_parcel_row(tx, parcel_id)))
        self._publish(pending)
        return result

    # -- events from the columns ----------------------------------------------------------------

    def handle_locker_event(self, event: object) -> None:
        """Keep door and sensor columns current; a door opened without a command is an alarm."""
        if isinstance(event, DoorOpened | DoorClosed | ItemDetected | ItemRemoved):
            number = event.compartment
            if number not in self._specs:
                return
            column, value = {
                DoorOpened: ("door", DoorState.OPEN.value),
                DoorClosed: ("door", DoorState.CLOSED.value),
                ItemDetected: ("item_present", 1),
                ItemRemoved: ("item_present", 0),
            }[type(event)]
            with self._database.transaction() as tx:
                tx.execute(
                    f"UPDATE compartments SET {column} = ?, updated_at_ms = ? WHERE number = ?",
                    (value, self._now_ms(), number),
                )
        elif isinstance(event, DoorOpenedWithoutCommand):
            self._raise_door_alarm(event.compartment)

    def locker_event_sink(self, forward: EventSink | None = None) -> EventSink:
        """The sink to give `LockerColumn.start`: update the table, then pass the event on.

        A storage failure is logged, not raised: it must not kill a column's poller thread, and
        the next start-up re-reads the board anyway.
        """

        def sink(event: object) -> None:
            try:
                self.handle_locker_event(event)
            except StorageError:
                _log.exception("could not record locker event %r", event)
            if forward is not None:
                forward(event)

        return sink

    # -- staff ----------------------------------------------------------------------------------

    def alert_staff(self, number: int, note: str, *, actor: Actor) -> None:
        """Flag a compartment and tell staff (a door left open after the reminders, ...)."""
        pending = _Pending([])
        with self._database.transaction() as tx:
            _compartment_row(tx, number)
            self._flag(tx, pending, number, note, actor)
        self._publish(pending)

    def clear_attention(self, number: int, *, actor: Actor, note: str) -> None:
        with self._database.transaction() as tx:
            _compartment_row(tx, number)
            tx.execute("UPDATE compartments SET attention = '' WHERE number = ?", (number,))
            self._audit.record(
                actor=actor,
                action="compartment.attention_cleared",
                subject=subject_of(number),
                reason=note,
                outcome=Outcome.SUCCEEDED,
            )

    def take_out_of_service(self, number: int, *, actor: Actor, reason: str) -> None:
        pending = _Pending([])
        with self._database.transaction() as tx:
            _compartment_row(tx, number)
            self._out_of_service(
                tx, pending, number, reason, actor, reservation_ends_as=ReservationStatus.RELEASED
            )
        self._publish(pending)

    def return_to_service(self, number: int, *, actor: Actor, note: str) -> Compartment:
        """Back to free, or to occupied when it still holds its parcel."""
        with self._database.transaction() as tx:
            row = _compartment_row(tx, number)
            if CompartmentState(row["state"]) is not CompartmentState.OUT_OF_SERVICE:
                return _compartment(row)
            held = _stored_parcel_id(tx, number) is not None
            state = CompartmentState.OCCUPIED if held else CompartmentState.FREE
            tx.execute(
                "UPDATE compartments SET state = ?, service_note = '', updated_at_ms = ? "
                "WHERE number = ?",
                (state.value, self._now_ms(), number),
            )
            self._audit.record(
                actor=actor,
                action="compartment.in_service",
                subject=subject_of(number),
                reason=note,
                outcome=Outcome.SUCCEEDED,
                details={"state": state.value},
            )
            return _compartment(_compartment_row(tx, number))

    def staff_emptied(self, number: int, *, actor: Actor, note: str) -> Parcel | None:
        """A courier or technician emptied a compartment by hand (a dead board, a retired one).

        Their word is the only evidence, so the audit record names them. The stored parcel, if
        any, ends as collected (materials) or returned (a result); the compartment keeps its
        state otherwise, so one out of service stays out until someone returns it to service.
        """
        with self._database.transaction() as tx:
            row = _compartment_row(tx, number)
            parcel_id = _stored_parcel_id(tx, number)
            parcel = None if parcel_id is None else _parcel(_parcel_row(tx, parcel_id))
            if parcel is not None:
                ending = (
                    ParcelStatus.COLLECTED
                    if parcel.kind is ParcelKind.MATERIALS
                    else ParcelStatus.RETURNED
                )
                tx.execute(
                    "UPDATE parcels SET status = ?, removed_at_ms = ? WHERE id = ?",
                    (ending.value, self._now_ms(), parcel.id),
                )
                if CompartmentState(row["state"]) is CompartmentState.OCCUPIED:
                    self._set_state(tx, number, CompartmentState.FREE)
            tx.execute("UPDATE compartments SET attention = '' WHERE number = ?", (number,))
            self._audit.record(
                actor=actor,
                action="compartment.emptied_by_hand",
                subject=subject_of(number),
                reason=note,
                outcome=Outcome.SUCCEEDED,
                details={"parcel_id": parcel.id if parcel is not None else None},
            )
            return None if parcel is None else _parcel(_parcel_row(tx, parcel.id))

    # -- internals ------------------------------------------------------------------------------

    def _open(
        self,
        number: int,
        *,
        actor: Actor,
        reason: str,
        details: Mapping[str, object],
        reservation_id: str | None,
    ) -> DoorOpening:
        column = self._column(number)
        intent = self._audit.record_intent(
            actor=actor,
            action=DOOR_OPEN,
            subject=subject_of(number),
            reason=reason,
            details=details,
        )  # committed: from here on, a crash leaves a record to reconcile
        error = ""
        try:
            outcome = column.unlock(number)
        except LockerError as err:
            outcome, error = UnlockOutcome.UNKNOWN, str(err)
        except BaseException as err:
            # a bug or an interrupt: the intent stays pending and start-up reconciles it
            _log.error("unlock of compartment %s failed unexpectedly: %r", number, err)
            raise
        pending = _Pending([])
        with self._database.transaction() as tx:
            self._audit.record_outcome(
                intent, Outcome(outcome.value), details={"error": error} if error else None
            )
            if outcome in (UnlockOutcome.OPENED, UnlockOutcome.ALREADY_OPEN):
                tx.execute(
                    "UPDATE compartments SET door = 'open', updated_at_ms = ? WHERE number = ?",
                    (self._now_ms(), number),
                )
            if reservation_id is not None and outcome is not UnlockOutcome.JAMMED:
                tx.execute(
                    "UPDATE compartment_reservations SET door_opened = 1, "
                    "expires_at_ms = max(expires_at_ms, ?) WHERE id = ? AND status = 'active'",
                    (self._now_ms() + _ms(self._hold), reservation_id),
                )
            if outcome is UnlockOutcome.JAMMED:
                self._out_of_service(
                    tx,
                    pending,
                    number,
                    "the lock did not open when commanded (jammed, or the door is held); "
                    "check the lock, then return it to service",
                    SYSTEM_ACTOR,
                )
        self._publish(pending)
        return DoorOpening(number, outcome, intent.id, outcome is UnlockOutcome.JAMMED)

    def _end_reservations(
        self, sql: str, params: tuple[object, ...], why: str
    ) -> list[EndedReservation]:
        with self._database.snapshot() as view:
            ids = [str(row["id"]) for row in view.fetch_all(sql, params)]
        ended: list[EndedReservation] = []
        pending = _Pending([])
        for reservation_id in ids:
            with self._database.transaction() as tx:
                row = tx.fetch_one(
                    f"{_RESERVATION_SELECT} WHERE r.id = ? AND r.status = 'active'",
                    (reservation_id,),
                )
                if row is None:
                    continue  # ended meanwhile by its own session
                ended.append(self._end_abandoned(tx, pending, row, why))
        self._publish(pending)
        return ended

    def _end_abandoned(
        self, tx: Transaction, pending: _Pending, row: sqlite3.Row, why: str
    ) -> EndedReservation:
        number = int(row["compartment"])
        reading = self._reading(number)
        _store_reading(tx, number, reading)
        empty_and_shut = reading.door is DoorState.CLOSED and reading.item_present is False
        freed = not row["door_opened"] or empty_and_shut
        self._end_reservation(tx, str(row["id"]), ReservationStatus.EXPIRED)
        self._audit.record(
            actor=SYSTEM_ACTOR,
            action="compartment.reservation_ended",
            subject=subject_of(number),
            reason=why,
            outcome=Outcome.SUCCEEDED,
            details={"reservation_id": str(row["id"]), "freed": freed},
        )
        if freed:
            self._set_state(tx, number, CompartmentState.FREE)
        else:
            self._out_of_service(
                tx,
                pending,
                number,
                f"its door was opened for a session that ended ({why}); what is inside is not "
                "known — check and empty it, then return it to service",
                SYSTEM_ACTOR,
            )
        return EndedReservation(_reservation(row, ReservationStatus.EXPIRED), freed)

    def _end_reservation(
        self,
        tx: Transaction,
        reservation_id: str,
        status: ReservationStatus,
        parcel_id: str | None = None,
    ) -> None:
        tx.execute(
            "UPDATE compartment_reservations SET status = ?, ended_at_ms = ?, parcel_id = ? "
            "WHERE id = ? AND status = 'active'",
            (status.value, self._now_ms(), parcel_id, reservation_id),
        )

    def _out_of_service(
        self,
        tx: Transaction,
        pending: _Pending,
        number: int,
        note: str,
        actor: Actor,
        reservation_ends_as: ReservationStatus = ReservationStatus.JAMMED,
    ) -> None:
        held = tx.fetch_value(
            "SELECT id FROM compartment_reservations WHERE compartment = ? AND status = 'active'",
            (number,),
        )
        if held is not None:
            self._end_reservation(tx, str(held), reservation_ends_as)
        tx.execute(
            "UPDATE compartments SET state = 'out_of_service', service_note = ?, "
            "updated_at_ms = ? WHERE number = ?",
            (note, self._now_ms(), number),
        )
        self._audit.record(
            actor=actor,
            action="compartment.out_of_service",
            subject=subject_of(number),
            reason=note,
            outcome=Outcome.SUCCEEDED,
            details={"reservation_id": str(held)} if held is not None else None,
        )
        pending.alerts.append(
            CompartmentTakenOutOfService(number, self._column_name(tx, number), note)
        )

    def _flag(
        self, tx: Transaction, pending: _Pending, number: int, note: str, actor: Actor
    ) -> None:
        tx.execute(
            "UPDATE compartments SET attention = ?, updated_at_ms = ? WHERE number = ?",
            (note, self._now_ms(), number),
        )
        self._audit.record(
            actor=actor,
            action="compartment.flagged",
            subject=subject_of(number),
            reason=note,
            outcome=Outcome.SUCCEEDED,
        )
        pending.alerts.append(
            CompartmentNeedsAttention(number, self._column_name(tx, number), note)
        )

    def _raise_door_alarm(self, number: int) -> None:
        pending = _Pending([])
        with self._database.transaction() as tx:
            if not _exists(tx, number):
                return
            holds = _stored_parcel_id(tx, number) is not None
            tx.execute(
                "UPDATE compartments SET door = 'open', attention = ?, updated_at_ms = ? "
                "WHERE number = ?",
                (
                    "the door was opened without a command; check the compartment",
                    self._now_ms(),
                    number,
                ),
            )
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action="door.alarm",
                subject=subject_of(number),
                reason="the door opened without a command (forced, or the lock let go)",
                outcome=Outcome.OPENED,
                details={"holds_parcel": holds},
            )
            pending.alerts.append(DoorAlarmRaised(number, self._column_name(tx, number), holds))
        self._publish(pending)

    def _set_state(self, tx: Transaction, number: int, state: CompartmentState) -> None:
        tx.execute(
            "UPDATE compartments SET state = ?, updated_at_ms = ? WHERE number = ?",
            (state.value, self._now_ms(), number),
        )

    def _column(self, number: int) -> LockerColumn:
        try:
            return self._column_of[number]
        except KeyError as err:
            raise UnknownCompartment(
                f"Compartment {number} is not in any locker column's configuration; it cannot be "
                "opened from this terminal."
            ) from err

    @staticmethod
    def _column_name(view: Reader, number: int) -> str:
        return str(
            view.fetch_value("SELECT column_name FROM compartments WHERE number = ?", (number,))
        )

    def _reading(self, number: int) -> CompartmentReading:
        column = self._column_of.get(number)
        if column is None:
            return _NO_READING
        try:
            return column.readings().get(number, _NO_READING)
        except LockerError as err:
            _log.warning("no reading for compartment %s: %s", number, err)
            return _NO_READING

    def _publish(self, pending: _Pending) -> None:
        if self._alerts is None:
            return
        for alert in pending.alerts:
            self._alerts(alert)

    def _now_ms(self) -> int:
        return _to_ms(self._clock())


# -- pure decisions ------------------------------------------------------------------------------


def _judge_deposit(reading: CompartmentReading, citizen_confirmed: bool) -> DepositStatus:
    if reading.door is DoorState.OPEN:
        return DepositStatus.DOOR_STILL_OPEN
    if reading.door is DoorState.UNKNOWN:
        return DepositStatus.DOOR_STATE_UNKNOWN
    if reading.item_present is True:
        return DepositStatus.DEPOSITED
    if reading.item_present is False:
        return DepositStatus.NO_ITEM_SEEN
    return DepositStatus.DEPOSITED if citizen_confirmed else DepositStatus.NEEDS_CONFIRMATION


def _judge_removal(reading: CompartmentReading, person_confirmed: bool) -> RemovalStatus:
    if reading.door is DoorState.OPEN:
        return RemovalStatus.DOOR_STILL_OPEN
    if reading.door is DoorState.UNKNOWN:
        return RemovalStatus.DOOR_STATE_UNKNOWN
    if reading.item_present is False:
        return RemovalStatus.REMOVED
    if reading.item_present is True:
        return RemovalStatus.STILL_THERE
    return RemovalStatus.REMOVED if person_confirmed else RemovalStatus.NEEDS_CONFIRMATION


def _can_take_new(compartment: Compartment) -> bool:
    return compartment.door is not DoorState.OPEN and compartment.item_present is not True


# -- rows ------------------------------------------------------------------------------------------


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("the compartments clock returned a naive datetime; it must be UTC-aware")
    return (moment - _EPOCH) // _ONE_MS


def _from_ms(value: object) -> datetime:
    return _EPOCH + cast(int, value) * _ONE_MS


def _ms(span: timedelta) -> int:
    return span // _ONE_MS


def _store_reading(tx: Transaction, number: int, reading: CompartmentReading) -> None:
    item = None if reading.item_present is None else int(reading.item_present)
    tx.execute(
        "UPDATE compartments SET door = ?, item_present = ? "
        "WHERE number = ? AND (door IS NOT ? OR item_present IS NOT ?)",
        (reading.door.value, item, number, reading.door.value, item),
    )


def _exists(view: Reader, number: int) -> bool:
    return view.fetch_one("SELECT 1 FROM compartments WHERE number = ?", (number,)) is not None


def _stored_parcel_id(view: Reader, number: int) -> str | None:
    value = view.fetch_value(
        "SELECT id FROM parcels WHERE compartment = ? AND status = 'stored'", (number,)
    )
    return None if value is None else str(value)


def _parcel_is_stored(view: Reader, parcel_id: str) -> bool:
    return (
        view.fetch_one("SELECT 1 FROM parcels WHERE id = ? AND status = 'stored'", (parcel_id,))
        is not None
    )


def _compartment_of(intent: AuditEvent) -> int | None:
    if not intent.subject.startswith(_SUBJECT_PREFIX):
        return None
    tail = intent.subject[len(_SUBJECT_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def _compartment_row(view: Reader, number: int) -> sqlite3.Row:
    row = view.fetch_one(
        f"SELECT {_COMPARTMENT_COLUMNS} FROM compartments WHERE number = ?", (number,)
    )
    if row is None:
        raise UnknownCompartment(
            f"There is no compartment {number} on this terminal; check the number on the door."
        )
    return row


def _reservation_row(view: Reader, reservation_id: str) -> sqlite3.Row:
    row = view.fetch_one(f"{_RESERVATION_SELECT} WHERE r.id = ?", (reservation_id,))
    if row is None:
        raise ReservationNotActive(f"There is no reservation {reservation_id} on this terminal.")
    return row


def _active_reservation_row(view: Reader, reservation_id: str) -> sqlite3.Row:
    row = _reservation_row(view, reservation_id)
    if row["status"] != ReservationStatus.ACTIVE.value:
        raise ReservationNotActive(
            f"Reservation {reservation_id} of compartment {row['compartment']} has ended "
            f"({row['status']}); reserve a compartment again."
        )
    return row


def _parcel_row(view: Reader, parcel_id: str) -> sqlite3.Row:
    row = view.fetch_one(f"SELECT {_PARCEL_COLUMNS} FROM parcels WHERE id = ?", (parcel_id,))
    if row is None:
        raise UnknownParcel(f"There is no parcel {parcel_id} on this terminal.")
    return row


def _compartment(row: sqlite3.Row) -> Compartment:
    item = row["item_present"]
    return Compartment(
        number=int(row["number"]),
        column=str(row["column_name"]),
        size=cast(CompartmentSize, row["size"]),
        row=int(row["row"]),
        col=int(row["col"]),
        state=CompartmentState(row["state"]),
        door=DoorState(row["door"]),
        item_present=None if item is None else bool(item),
        in_map=bool(row["in_map"]),
        service_note=str(row["service_note"]),
        attention=str(row["attention"]),
    )


def _reservation(row: sqlite3.Row, status: ReservationStatus | None = None) -> Reservation:
    return Reservation(
        id=str(row["id"]),
        compartment=int(row["compartment"]),
        column=str(row["column_name"]),
        size=cast(CompartmentSize, row["size"]),
        row=int(row["row"]),
        col=int(row["col"]),
        purpose=ReservationPurpose(row["purpose"]),
        holder=str(row["holder"]),
        status=status or ReservationStatus(row["status"]),
        door_opened=bool(row["door_opened"]),
        expires_at=_from_ms(row["expires_at_ms"]),
    )


def _parcel(row: sqlite3.Row) -> Parcel:
    expires = row["expires_at_ms"]
    removed = row["removed_at_ms"]
    return Parcel(
        id=str(row["id"]),
        kind=ParcelKind(row["kind"]),
        compartment=int(row["compartment"]),
        status=ParcelStatus(row["status"]),
        submission_id=str(row["submission_id"]),
        tracking_number=str(row["tracking_number"]),
        applicant_id_sha256=row["applicant_id_sha256"],
        expires_at=None if expires is None else _from_ms(expires),
        stored_at=_from_ms(row["stored_at_ms"]),
        removed_at=None if removed is None else _from_ms(removed),
    )
