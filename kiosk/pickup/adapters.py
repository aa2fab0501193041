"""The pickup journey's adapter over the compartments, the keypad guard, the QR key and the outbox.

Thin, and run on the runtime's worker (scrypt and SQLite take tens of milliseconds). Each method
answers with the flow's result event, so the runtime only forwards it.

Decisions, and why:

* **A QR is checked before any hash.** `PickupQrSigner.verify` refuses a forged, foreign, damaged
  or expired QR in microseconds; only a QR this terminal signed reaches the one scrypt check of
  the parcel it names. A QR is never counted as a wrong code: an unsigned one cannot be a guess
  at anything, a signed one carries the code this terminal made.
* **A typed code is checked only while the keypad is unlocked**, against every stored, unexpired
  result (`CompartmentService.results_for_code`). A miss is then checked against the few overdue
  results, so a citizen who comes back late hears "it went back to the centre", not "wrong
  code"; only a code matching nothing is counted as a guess.
* **Picked up and the `picked_up` event commit together**: `confirm_removed` runs inside this
  adapter's transaction, so the hall hears of exactly the removals the terminal recorded.
* **Not taken:** the parcel stays stored, the compartment is flagged for staff (the service's
  attention flag and alert) and the hall gets `pickup_not_taken`, in one commit.
* **A keypad lock alerts staff** twice over: a `door_alarm` event to the hall with no compartment
  (the hall's alert list is where staff already look; the hall engineer agreed the field is
  optional) and a local `PickupKeypadLocked` alert on the event sink (remote monitoring).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.compartments import (
    CompartmentNotAvailable,
    CompartmentService,
    Parcel,
    ParcelKind,
    ParcelStatus,
    UnknownParcel,
    applicant_id_sha256,
)
from kiosk.front_door import Waiting
from kiosk.outbox import Outbox
from kiosk.ports.camera import Camera, CameraError, CameraMode
from kiosk.ports.health import EventSink
from kiosk.ports.identity import Identity
from kiosk.storage import Actor, ActorKind, Database, Transaction

from . import effects as fx
from .guard import KeypadGuard
from .tokens import PickupQrRejected, PickupQrSigner, is_pickup_code

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PickupKeypadLocked:
    """Published for staff and remote monitoring: someone may be guessing codes here."""

    locked_until: datetime
    wrong_codes: int


class CodeReaderSwitch:
    """The camera in code mode and the scanner's beam, on while the pickup start screens show."""

    def __init__(self, camera: Camera | None, scanner: object | None) -> None:
        self._camera = camera
        self._scanner = scanner

    def watch(self, active: bool) -> None:
        if self._camera is not None:
            try:
                self._camera.set_mode(CameraMode.CODES if active else CameraMode.IDLE)
            except CameraError as err:
                _log.info("camera not switched for pickup codes: %s", err)
        set_scanning = getattr(self._scanner, "set_scanning", None)
        if set_scanning is not None:
            set_scanning(active)


def pickup_actor(method: str) -> Actor:
    """The audit's "who" for a citizen collecting: never their code or ID number."""
    return Actor(ActorKind.CITIZEN, f"pickup:{method}")


class PickupDesk:
    def __init__(
        self,
        compartments: CompartmentService,
        database: Database,
        outbox: Outbox,
        guard: KeypadGuard,
        qr_key: Callable[[], bytes],
        *,
        wall_clock: Callable[[], datetime],
        alerts: EventSink | None = None,
        watch_door_s: float = 60.0,
    ) -> None:
        self._compartments = compartments
        self._database = database
        self._outbox = outbox
        self._guard = guard
        self._qr_key = qr_key
        self._signer: PickupQrSigner | None = None
        self._wall_clock = wall_clock
        self._alerts = alerts
        self._watch_door_s = watch_door_s

    # ---- proving a parcel is yours ----------------------------------------------------------

    def keypad_locked_until(self) -> datetime | None:
        return self._guard.locked_until()

    def find_by_code(self, code: str) -> object:
        locked = self._guard.locked_until()
        if locked is not None:
            return fx.KeypadLocked(locked)
        found = self._compartments.results_for_code(code) if is_pickup_code(code) else []
        if found:
            return fx.ParcelsFound("code", tuple(self._waiting(p) for p in found))
        if is_pickup_code(code) and self._compartments.overdue_result_has_code(code):
            return fx.ResultExpired("code")
        counted = self._guard.record_wrong(inside=self._report_lock)
        if counted.locked_until is not None and self._alerts is not None:
            self._alerts(PickupKeypadLocked(counted.locked_until, counted.wrong_in_window))
        return fx.CodeWrong(counted.wrong_in_window, counted.locked_until)

    def find_by_qr(self, payload: str) -> object:
        try:
            qr = self._qr_signer().verify(payload, self._wall_clock())
        except PickupQrRejected as err:
            _log.info("pickup QR refused: %s (%s)", err, err.reason)
            return fx.QrRefused(err.reason)
        try:
            parcel = self._compartments.parcel(qr.parcel_id)
        except UnknownParcel:
            return fx.NothingFound("qr")
        if (
            parcel.kind is not ParcelKind.RESULT
            or parcel.status is not ParcelStatus.STORED
            or not self._compartments.result_code_matches(qr.parcel_id, qr.code)
        ):
            return fx.NothingFound("qr")
        if parcel.expires_at is not None and parcel.expires_at <= self._wall_clock():
            return fx.ResultExpired("qr")
        return fx.ParcelsFound("qr", (self._waiting(parcel),))

    def find_by_id_card(self, identity: Identity) -> object:
        found = self._compartments.results_for_applicant(identity.id_number)
        if found:
            return fx.ParcelsFound("id_card", tuple(self._waiting(p) for p in found))
        if self._overdue_for(identity.id_number):
            return fx.ResultExpired("id_card")
        return fx.NothingFound("id_card")

    def results_waiting_for(self, id_number: str) -> Waiting:
        """For the front door: does a card at the attract screen mean "collect"?"""
        if self._compartments.results_for_applicant(id_number):
            return "waiting"
        return "expired" if self._overdue_for(id_number) else "none"

    # ---- doors ---------------------------------------------------------------------------------

    def open_for_pickup(self, parcel: fx.WaitingParcel, method: str, attempt: int) -> object:
        reason = f"citizen pickup ({method})" + (" — opened again" if attempt > 1 else "")
        opening = self._compartments.open_for_removal(
            parcel.parcel_id, actor=pickup_actor(method), reason=reason
        )
        if opening.opened:
            try:
                self._compartments.watch_door(parcel.compartment, self._watch_door_s)
            except Exception as err:  # noqa: BLE001 - polling faster is a nicety, not a need
                _log.info("could not watch door %s: %s", parcel.label, err)
        return fx.DoorOpenedForPickup(
            parcel.parcel_id, opening.outcome, opening.taken_out_of_service
        )

    def confirm_pickup(
        self, parcel: fx.WaitingParcel, method: fx.PickupMethod, person_confirmed: bool
    ) -> object:
        try:
            with self._database.transaction():
                result = self._compartments.confirm_removed(
                    parcel.parcel_id,
                    ending=ParcelStatus.PICKED_UP,
                    actor=pickup_actor(method),
                    person_confirmed=person_confirmed,
                )
                if result.status.value == "removed":
                    self._outbox.enqueue_event(
                        {
                            "event_id": f"picked_up:{parcel.parcel_id}",
                            "type": "picked_up",
                            "occurred_at": _iso(self._wall_clock()),
                            "submission_id": parcel.submission_id,
                            "compartment": parcel.label,
                            "courier_card_id": None,
                            "method": method,
                            "detail": None,
                        }
                    )
        except CompartmentNotAvailable:
            if self._compartments.parcel(parcel.parcel_id).status is ParcelStatus.PICKED_UP:
                return fx.RemovalChecked(parcel.parcel_id, "removed")
            raise
        return fx.RemovalChecked(parcel.parcel_id, result.status.value)

    def record_not_taken(
        self, parcel: fx.WaitingParcel, method: fx.PickupMethod, why: str
    ) -> object:
        note = f"result {parcel.parcel_id} was not taken at pickup ({why}); it is still inside"
        with self._database.transaction():
            self._compartments.alert_staff(parcel.compartment, note, actor=pickup_actor(method))
            self._outbox.enqueue_event(
                {
                    "event_id": f"pickup_not_taken:{parcel.parcel_id}:{uuid.uuid4().hex[:12]}",
                    "type": "pickup_not_taken",
                    "occurred_at": _iso(self._wall_clock()),
                    "submission_id": parcel.submission_id,
                    "compartment": parcel.label,
                    "courier_card_id": None,
                    "method": method,
                    "detail": why,
                }
            )
        return fx.NotTakenRecorded(parcel.parcel_id)

    def alert_staff(self, compartment: int, detail: str) -> None:
        self._compartments.alert_staff(compartment, detail, actor=pickup_actor("door"))
        self._outbox.enqueue_event(
            {
                "event_id": f"pickup_alert:{uuid.uuid4().hex}",
                "type": "door_alarm",
                "occurred_at": _iso(self._wall_clock()),
                "compartment": self._label(compartment),
                "courier_card_id": None,
                "detail": detail,
            }
        )

    # ---- helpers ---------------------------------------------------------------------------------

    def _qr_signer(self) -> PickupQrSigner:
        if self._signer is None:
            self._signer = PickupQrSigner(self._qr_key())
        return self._signer

    def _report_lock(self, _tx: Transaction, until: datetime) -> None:
        limit = self._guard.settings
        self._outbox.enqueue_event(
            {
                "event_id": f"keypad_locked:{uuid.uuid4().hex}",
                "type": "door_alarm",
                "occurred_at": _iso(self._wall_clock()),
                "compartment": None,
                "courier_card_id": None,
                "detail": (
                    f"The pickup keypad was locked until {_iso(until)} after "
                    f"{limit.wrong_code_limit} wrong codes within "
                    f"{limit.wrong_code_window_s:g} s; someone may be guessing codes."
                ),
            }
        )

    def _waiting(self, parcel: Parcel) -> fx.WaitingParcel:
        place = self._compartments.compartment(parcel.compartment)
        return fx.WaitingParcel(
            parcel_id=parcel.id,
            compartment=parcel.compartment,
            label=f"{place.column}{place.number:02d}",
            column=place.column,
            row=place.row,
            col=place.col,
            submission_id=parcel.submission_id,
            tracking_number=parcel.tracking_number,
        )

    def _label(self, compartment: int) -> str:
        try:
            place = self._compartments.compartment(compartment)
        except Exception:  # noqa: BLE001 - a label is for people; the number will do
            return str(compartment)
        return f"{place.column}{place.number:02d}"

    def _overdue_for(self, id_number: str) -> bool:
        wanted = applicant_id_sha256(id_number)
        return any(p.applicant_id_sha256 == wanted for p in self._compartments.overdue_results())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
