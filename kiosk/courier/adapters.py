"""The courier flow's effects over the real core services: compartments, outbox, task feed, keys.

`CourierDesk` is the only place the courier journey touches the database. Every door goes
through `CompartmentService` (door truth: audited intent, pulse, outcome; jammed → out of
service). Each state change and the event that tells the hall about it commit together:

* collected — `confirm_removed(COLLECTED)` and the `collected` event (with the bag's seal);
* result_loaded — `confirm_deposit(ResultForCitizen)` and the `result_loaded` event carrying the
  8-digit code (generated here, hashed by the service, never stored in plain), the signed QR and
  the pickup deadline. The outbox deletes the row once the hall acknowledges it;
* returned — `confirm_removed(RETURNED)` and the `returned` event.

The envelope of a result carries the hall's 18-digit tracking number as its barcode (Code 128),
the same number the citizen's receipt shows; a task id is accepted too (docs/couriers.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.compartments import (
    CompartmentError,
    CompartmentService,
    DepositStatus,
    ParcelKind,
    ParcelStatus,
    RemovalStatus,
    ReservationPurpose,
    ResultForCitizen,
)
from kiosk.compartments import Parcel as StoredParcel
from kiosk.outbox import Outbox
from kiosk.pickup.tokens import PickupQrSigner, new_pickup_code
from kiosk.ports.hall import DeliveryTask, TaskFeed
from kiosk.ports.lockers import CompartmentSize, LockerError, UnlockOutcome
from kiosk.storage import Actor, ActorKind, AuditLog, Database, Outcome

from . import effects as fx
from .sign_in import CourierIdentity

_log = logging.getLogger(__name__)

DOOR_WATCH_S = 60.0  # poll the open door fast while the courier acts
MAX_SEAL_CHARS = 128
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def courier_actor(courier: CourierIdentity) -> Actor:
    return Actor(ActorKind.COURIER, courier.card_id)


class CourierDeskError(Exception):
    """A courier action could not be recorded; the message says what to do."""


class CourierDesk:
    """Performs the courier flow's effects (see kiosk/courier/runtime.py) on a worker thread."""

    def __init__(
        self,
        database: Database,
        compartments: CompartmentService,
        outbox: Outbox,
        tasks: TaskFeed,
        pickup_qr_key: Callable[[], bytes],
        *,
        audit: AuditLog | None = None,
        wall_clock: Callable[[], datetime] = _utc_now,
        keep_days: int = 7,
        watch_s: float = DOOR_WATCH_S,
        new_code: Callable[[], str] = new_pickup_code,
    ) -> None:
        self._database = database
        self._compartments = compartments
        self._outbox = outbox
        self._tasks = tasks
        self._pickup_qr_key = pickup_qr_key
        self._audit = audit or AuditLog(database, wall_clock)
        self._clock = wall_clock
        self._keep = timedelta(days=keep_days)
        self._watch_s = watch_s
        self._new_code = new_code

    # -- the menu's counts ----------------------------------------------------------------------

    def work(self) -> fx.WorkLoaded:
        materials = tuple(
            self._summary(p) for p in self._compartments.stored_parcels(ParcelKind.MATERIALS)
        )
        stored_results = self._compartments.stored_parcels(ParcelKind.RESULT)
        loaded = {p.submission_id for p in stored_results} | {
            p.tracking_number for p in stored_results if p.tracking_number
        }
        feed = self._tasks.latest()
        expected = sum(
            1
            for task in feed.deliveries
            if task.status == "pending"
            and task.submission_id not in loaded
            and task.tracking_number not in loaded
        )
        overdue = {p.id: p for p in self._compartments.overdue_results()}
        due_back = {t.submission_id for t in feed.returns_due}
        for parcel in stored_results:
            if parcel.submission_id in due_back:
                overdue.setdefault(parcel.id, parcel)
        returns = tuple(
            self._summary(p) for p in sorted(overdue.values(), key=lambda p: p.compartment)
        )
        return fx.WorkLoaded(materials, expected, returns)

    # -- collect and return ---------------------------------------------------------------------

    def open_for_removal(
        self, parcel: fx.ParcelSummary, purpose: fx.RemovalPurpose, courier: CourierIdentity
    ) -> UnlockOutcome:
        reason = (
            "courier collects the materials"
            if purpose == "collect"
            else "courier takes back an overdue result"
        )
        opening = self._compartments.open_for_removal(
            parcel.parcel_id, actor=courier_actor(courier), reason=reason
        )
        if opening.opened:
            self._watch(parcel.compartment)
        return opening.outcome

    def bind_seal(self, parcel: fx.ParcelSummary, seal: str, courier: CourierIdentity) -> None:
        seal = seal.strip()
        if not seal or len(seal) > MAX_SEAL_CHARS or not seal.isprintable():
            raise CourierDeskError(
                "that does not look like a seal label (empty, too long or unprintable); scan "
                "the seal's barcode again."
            )
        now_ms = _to_ms(self._clock())
        with self._database.transaction() as tx:
            tx.execute(
                "INSERT INTO courier_seals (parcel_id, submission_id, seal, courier_card_id, "
                "bound_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (parcel_id) DO UPDATE SET "
                "seal = excluded.seal, courier_card_id = excluded.courier_card_id, "
                "bound_at_ms = excluded.bound_at_ms",
                (parcel.parcel_id, parcel.submission_id, seal, courier.card_id, now_ms),
            )
            self._audit.record(
                actor=courier_actor(courier),
                action="parcel.seal_bound",
                subject=f"compartment:{parcel.compartment}",
                reason=f"seal of the materials of submission {parcel.submission_id}",
                outcome=Outcome.SUCCEEDED,
                details={"parcel_id": parcel.parcel_id, "seal": seal},
            )

    def seal_of(self, parcel_id: str) -> str | None:
        with self._database.snapshot() as view:
            value = view.fetch_value(
                "SELECT seal FROM courier_seals WHERE parcel_id = ?", (parcel_id,)
            )
        return None if value is None else str(value)

    def confirm_removal(
        self,
        parcel: fx.ParcelSummary,
        purpose: fx.RemovalPurpose,
        courier: CourierIdentity,
        seal: str | None,
        *,
        person_confirmed: bool,
    ) -> fx.RemovalVerdict:
        ending = ParcelStatus.COLLECTED if purpose == "collect" else ParcelStatus.RETURNED
        with self._database.transaction():
            result = self._compartments.confirm_removed(
                parcel.parcel_id,
                ending=ending,
                actor=courier_actor(courier),
                person_confirmed=person_confirmed,
            )
            if result.status is RemovalStatus.REMOVED:
                if purpose == "collect":
                    bound = seal or self.seal_of(parcel.parcel_id)
                    self._outbox.enqueue_event(
                        self._event(
                            "collected", parcel.parcel_id, parcel.label, courier, seal=bound
                        ),
                        submission_reference=parcel.submission_id,
                    )
                else:
                    self._outbox.enqueue_event(
                        {
                            **self._event("returned", parcel.parcel_id, parcel.label, courier),
                            "submission_id": parcel.submission_id,
                        }
                    )
        return _REMOVAL_VERDICTS[result.status]

    # -- load results ---------------------------------------------------------------------------

    def match_envelope(self, text: str) -> fx.EnvelopeMatched | fx.EnvelopeRefused:
        wanted = text.strip()
        if not wanted or len(wanted) > 64 or not wanted.isprintable():
            return fx.EnvelopeRefused("unreadable", "")
        for parcel in self._compartments.stored_parcels(ParcelKind.RESULT):
            if wanted == parcel.tracking_number:
                label = self._summary(parcel).label
                return fx.EnvelopeRefused("already_loaded", wanted, label)
        feed = self._tasks.latest()
        for task in feed.deliveries:
            if wanted not in (task.tracking_number, task.task_id):
                continue
            if task.status != "pending":
                return fx.EnvelopeRefused("already_loaded", wanted, task.compartment or "?")
            stored = self._stored_result_for(task.submission_id)
            if stored is not None:
                return fx.EnvelopeRefused("already_loaded", wanted, self._summary(stored).label)
            return fx.EnvelopeMatched(_result_task(task))
        return fx.EnvelopeRefused("no_task", wanted)

    def reserve(
        self,
        task: fx.ResultTask,
        size: CompartmentSize,
        courier: CourierIdentity,
        exclude: Collection[int] = (),
    ) -> fx.LoadSlot | None:
        actor = courier_actor(courier)
        set_aside = []
        try:
            for _ in range(len(exclude) + 1):
                held = self._compartments.reserve(
                    size, holder=actor, purpose=ReservationPurpose.LOAD_RESULT
                )
                if held is None:
                    return None
                if held.compartment not in exclude:
                    return fx.LoadSlot(held.id, held.compartment, held.column, held.size, held.row)
                set_aside.append(held)
            return None
        finally:
            for held in set_aside:
                try:
                    self._compartments.release(
                        held.id, actor=actor, reason="skipped: its door failed for this envelope"
                    )
                except CompartmentError as err:
                    _log.warning("could not give back compartment %s: %s", held.compartment, err)

    def open_for_load(self, slot: fx.LoadSlot, courier: CourierIdentity) -> UnlockOutcome:
        opening = self._compartments.open_for_deposit(
            slot.reservation_id, actor=courier_actor(courier), reason="courier loads a result"
        )
        if opening.opened:
            self._watch(slot.compartment)
        return opening.outcome

    def confirm_load(
        self,
        task: fx.ResultTask,
        slot: fx.LoadSlot,
        courier: CourierIdentity,
        *,
        courier_confirmed: bool,
    ) -> fx.LoadVerdict:
        code = self._new_code()
        deadline = self._clock() + self._keep
        signer = PickupQrSigner(self._pickup_qr_key())
        with self._database.transaction():
            result = self._compartments.confirm_deposit(
                slot.reservation_id,
                ResultForCitizen(
                    submission_id=task.submission_id,
                    pickup_code=code,
                    expires_at=deadline,
                    tracking_number=task.tracking_number,
                    applicant_id_sha256=task.applicant_id_sha256,
                ),
                actor=courier_actor(courier),
                citizen_confirmed=courier_confirmed,
            )
            if result.status is DepositStatus.DEPOSITED:
                assert result.parcel is not None
                parcel_id = result.parcel.id
                self._outbox.enqueue_event(
                    {
                        **self._event("result_loaded", parcel_id, slot.label, courier),
                        "submission_id": task.submission_id,
                        "pickup_code": code,
                        "pickup_qr": signer.sign(parcel_id, code, deadline),
                        "pickup_deadline": _iso(deadline),
                    }
                )
        return _LOAD_VERDICTS[result.status]

    def release(self, slot: fx.LoadSlot, courier: CourierIdentity) -> None:
        try:
            self._compartments.release(
                slot.reservation_id, actor=courier_actor(courier), reason="courier did not load it"
            )
        except CompartmentError as err:  # already ended (jammed, expired): nothing is held
            _log.info("release of %s: %s", slot.label, err)

    # -- staff ----------------------------------------------------------------------------------

    def alert_staff(self, compartment: int, detail: str, courier: CourierIdentity) -> None:
        """Flag the compartment here and tell the hall (a `door_alarm` event)."""
        self._compartments.alert_staff(compartment, detail, actor=courier_actor(courier))
        label = self._label(compartment)
        self._outbox.enqueue_event(
            {
                **self._event("door_alarm", "", label, courier),
                "event_id": f"courier-alert-{_to_ms(self._clock())}-{compartment}",
                "detail": detail[:1000],
            }
        )

    # -- inside ---------------------------------------------------------------------------------

    def _event(
        self,
        kind: str,
        parcel_id: str,
        label: str,
        courier: CourierIdentity,
        *,
        seal: str | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "event_id": f"{kind.replace('_', '-')}-{parcel_id}",
            "type": kind,
            "occurred_at": _iso(self._clock()),
            "compartment": label,
            "courier_card_id": courier.card_id,
            "detail": None,
        }
        if kind == "collected":
            event["seal"] = seal
        return event

    def _watch(self, compartment: int) -> None:
        try:
            self._compartments.watch_door(compartment, self._watch_s)
        except (LockerError, CompartmentError):  # polling fast is a nicety; the door is open
            _log.exception("could not ask for fast polling of compartment %s", compartment)

    def _summary(self, parcel: StoredParcel) -> fx.ParcelSummary:
        compartment = self._compartments.compartment(parcel.compartment)
        return fx.ParcelSummary(
            parcel.id,
            parcel.compartment,
            compartment.column,
            parcel.submission_id,
            parcel.tracking_number,
            compartment.row,
        )

    def _label(self, compartment: int) -> str:
        try:
            column = self._compartments.compartment(compartment).column
        except CompartmentError:
            return str(compartment)
        return f"{column}{compartment:02d}"

    def _stored_result_for(self, submission_id: str) -> StoredParcel | None:
        return next(
            (
                p
                for p in self._compartments.stored_parcels(ParcelKind.RESULT)
                if p.submission_id == submission_id
            ),
            None,
        )


_REMOVAL_VERDICTS: dict[RemovalStatus, fx.RemovalVerdict] = {
    RemovalStatus.REMOVED: "removed",
    RemovalStatus.DOOR_STILL_OPEN: "door_still_open",
    RemovalStatus.STILL_THERE: "still_there",
    RemovalStatus.NEEDS_CONFIRMATION: "needs_confirmation",
    RemovalStatus.DOOR_STATE_UNKNOWN: "door_state_unknown",
}
_LOAD_VERDICTS: dict[DepositStatus, fx.LoadVerdict] = {
    DepositStatus.DEPOSITED: "loaded",
    DepositStatus.DOOR_STILL_OPEN: "door_still_open",
    DepositStatus.NO_ITEM_SEEN: "no_item_seen",
    DepositStatus.NEEDS_CONFIRMATION: "needs_confirmation",
    DepositStatus.DOOR_STATE_UNKNOWN: "door_state_unknown",
}


def _result_task(task: DeliveryTask) -> fx.ResultTask:
    return fx.ResultTask(
        task_id=task.task_id,
        submission_id=task.submission_id,
        tracking_number=task.tracking_number,
        description_zh=task.description_zh,
        description_en=task.description_en,
        outcome=task.outcome,
        applicant_id_sha256=task.applicant_id_number_sha256 or None,
        # a rejection notice comes back with the paper originals: a bigger envelope
        suggested_size="M" if task.outcome == "rejected" else "S",
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS
