"""The real services of the terminal, seen through the apply flow's narrow ports.

The flow (flow.py) speaks in its own small values (`ItemSpec`, `Reservation`, ...) so it can be
tested with plain fakes; the runtime (runtime.py) performs its effects. Between them and the
services built beside them — the catalog, the form rules, the compartment service, the submission
store and outbox, the hall — sit the adapters below. Each is thin: it translates values and
errors, and keeps the rules where they belong (door truth in the compartment service, durability
in the store and the outbox, form rules in kiosk.forms).

Two of them answer on the UI thread (`CatalogAdapter`, `FormRulesAdapter`): they never touch the
database or the network while answering — the "most used" counts are read on the worker after a
commit and cached. All the others block and are called by the runtime's workers only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from kiosk.catalog import (
    Catalog,
    Choice,
    FieldType,
    FormField,
    FormSlot,
    FormSpec,
    ServiceItem,
    Topic,
    UsageCount,
    most_used,
    read_usage,
    record_submission,
)
from kiosk.catalog import (
    MaterialForm as CatalogMaterialForm,
)
from kiosk.compartments import (
    CompartmentError,
    CompartmentService,
    DepositStatus,
    MaterialsForCentre,
    ReleaseStatus,
)
from kiosk.compartments import Reservation as HeldCompartment
from kiosk.forms import Checked, check_value, prefill_values
from kiosk.i18n import LocalizedText
from kiosk.materials import pages_for, parse_elicence_lookup, pay_at_pickup_allowed
from kiosk.outbox import Outbox
from kiosk.ports.identity import Identity
from kiosk.ports.lockers import CompartmentSize, LockerError, UnlockOutcome
from kiosk.storage import Actor, ActorKind, Database, StorageError

from .effects import SubmissionDraft
from .ports import (
    ChoiceSpec,
    DepartmentSpec,
    ELicenceOnFile,
    FieldKind,
    FieldSpec,
    HallRecords,
    ItemSpec,
    MaterialForm,
    MaterialSpec,
    PaymentOrder,
    Reservation,
    SearchHit,
    TopicSpec,
)
from .store import SubmissionStore

_log = logging.getLogger(__name__)

# How long the column polls fast after a door opened for a citizen: they close it within this.
DOOR_WATCH_S = 120.0
RECEIPT_SMS_KIND = "receipt_sms"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def citizen_actor(submission_reference: str) -> Actor:
    """The audit's "who" for a citizen: the submission's local reference, never the ID number."""
    return Actor(ActorKind.CITIZEN, f"submission:{submission_reference}")


class ApplyAdapterError(Exception):
    """A service could not do what the apply flow asked; the message says what to check."""


class DepositNotConfirmed(ApplyAdapterError):
    """The compartment's board does not vouch for the deposit (yet); `status` says why."""

    def __init__(self, message: str, status: DepositStatus) -> None:
        super().__init__(message)
        self.status = status

    @property
    def passing(self) -> bool:
        """A reading that may settle within a second or two: worth asking again."""
        return self.status in (DepositStatus.DOOR_STILL_OPEN, DepositStatus.DOOR_STATE_UNKNOWN)


# ---- catalog --------------------------------------------------------------------------------


_MATERIAL_FORMS: Mapping[CatalogMaterialForm, MaterialForm] = {
    CatalogMaterialForm.PAPER_ORIGINAL: "paper_original",
    CatalogMaterialForm.E_COPY: "e_copy",
    CatalogMaterialForm.E_LICENCE: "e_licence",
}
_FIELD_KINDS: Mapping[FieldType, FieldKind] = {
    FieldType.CHOICE: "choice",
    FieldType.DATE: "date",
    FieldType.NUMBER: "number",
    FieldType.PHONE: "phone",
    FieldType.ID_NUMBER: "id_number",
    FieldType.TEXT: "text",
}


def field_spec(form_field: FormField) -> FieldSpec:
    return FieldSpec(
        name=form_field.name,
        kind=_FIELD_KINDS[form_field.type],
        label=form_field.label,
        required=form_field.required,
        choices=tuple(ChoiceSpec(c.value, c.label) for c in form_field.choices),
        min_value=form_field.minimum,
        max_value=form_field.maximum,
        max_length=form_field.max_length,
    )


def form_field(spec: FieldSpec) -> FormField:
    """The catalog's field back from the flow's copy, for the rules in kiosk.forms."""
    return FormField(
        name=spec.name,
        type=FieldType(spec.kind),
        label=spec.label,
        required=spec.required,
        choices=tuple(Choice(c.value, c.label) for c in spec.choices),
        minimum=spec.min_value,
        maximum=spec.max_value,
        max_length=spec.max_length,
    )


def item_spec(item: ServiceItem) -> ItemSpec:
    return ItemSpec(
        id=item.id,
        department_id=item.department,
        name=item.name,
        summary=item.summary,
        legal_basis=item.legal_basis,
        fee_fen=item.fee_fen,
        promised_working_days=item.promised_working_days,
        steps=item.steps,
        materials=tuple(
            MaterialSpec(
                code=m.code,
                name=m.name,
                form=_MATERIAL_FORMS[m.form],
                elicence_type=m.elicence_type,
                pages=pages_for(m),
            )
            for m in item.materials
        ),
        fields=tuple(field_spec(f) for f in item.form_fields),
        # The catalog's legal basis is the charging basis too (kiosk.materials.fee_for says so).
        fee_basis=item.legal_basis if item.fee_fen > 0 else None,
        pay_at_pickup=pay_at_pickup_allowed(item),
    )


def topic_spec(topic: Topic) -> TopicSpec:
    return TopicSpec(topic.id, topic.name, topic.summary, topic.item_ids)


@dataclass(frozen=True)
class _Converted:
    catalog: Catalog
    items: Mapping[str, ItemSpec]
    topics: Mapping[str, TopicSpec]


class CatalogAdapter:
    """`CatalogView` over the current `Catalog`, its search index and the local usage counts.

    `catalog` is asked each time, so a catalog the hall updated is used from the next question
    on; the converted specs are kept per catalog value. Usage counts are read by
    `refresh_usage()` (on a worker, after each commit), never while the UI thread asks.
    """

    def __init__(
        self,
        catalog: Callable[[], Catalog],
        database: Database | None = None,
        *,
        preferred: Sequence[str] = (),
    ) -> None:
        self._catalog = catalog
        self._database = database
        self._preferred = tuple(preferred)
        self._usage: tuple[UsageCount, ...] = ()
        self._converted: _Converted | None = None

    def refresh_usage(self) -> None:
        if self._database is None:
            return
        with self._database.snapshot() as reader:
            self._usage = read_usage(reader)

    def _current(self) -> _Converted:
        catalog = self._catalog()
        converted = self._converted
        if converted is None or converted.catalog is not catalog:
            converted = _Converted(
                catalog,
                {item.id: item_spec(item) for item in catalog.items},
                {topic.id: topic_spec(topic) for topic in catalog.topics},
            )
            self._converted = converted
        return converted

    def departments(self) -> Sequence[DepartmentSpec]:
        return [DepartmentSpec(d.id, d.name) for d in self._current().catalog.departments]

    def department(self, department_id: str) -> DepartmentSpec | None:
        found = self._current().catalog.department(department_id)
        return None if found is None else DepartmentSpec(found.id, found.name)

    def items_of(self, department_id: str) -> Sequence[ItemSpec]:
        current = self._current()
        return [
            current.items[item.id] for item in current.catalog.items_of_department(department_id)
        ]

    def topics(self) -> Sequence[TopicSpec]:
        return list(self._current().topics.values())

    def item(self, item_id: str) -> ItemSpec | None:
        return self._current().items.get(item_id)

    def topic(self, topic_id: str) -> TopicSpec | None:
        return self._current().topics.get(topic_id)

    def most_used(self, limit: int) -> Sequence[ItemSpec]:
        current = self._current()
        chosen = most_used(current.catalog, self._usage, count=limit, preferred=self._preferred)
        return [current.items[item.id] for item in chosen]

    def search(self, query: str, limit: int) -> Sequence[SearchHit]:
        current = self._current()
        hits: list[SearchHit] = []
        for hit in current.catalog.search_index.search(query, limit=limit):
            found: SearchHit | None = (
                current.items.get(hit.id) if hit.kind == "item" else current.topics.get(hit.id)
            )
            if found is not None:
                hits.append(found)
        return hits


# ---- forms ----------------------------------------------------------------------------------


class FormRulesAdapter:
    """`FormRules` over kiosk.forms: the same checks the hall applies, pre-fill from the card."""

    def __init__(self, wall_clock: Callable[[], datetime] = _utc_now) -> None:
        self._wall_clock = wall_clock

    def _today(self) -> date:
        return self._wall_clock().date()

    def prefill(self, spec: FieldSpec, identity: Identity) -> str | None:
        one_slot = FormSpec((FormSlot(spec.name, form_field(spec), ()),))
        return prefill_values(one_slot, identity, self._today()).get(spec.name)

    def validate(self, spec: FieldSpec, value: str) -> LocalizedText | None:
        checked = check_value(form_field(spec), value, self._today())
        return None if isinstance(checked, Checked) else checked.message

    def display(self, spec: FieldSpec, value: str) -> LocalizedText:
        for choice in spec.choices:
            if choice.value == value:
                return choice.label
        return LocalizedText(value, value)


# ---- submissions ----------------------------------------------------------------------------


class SubmissionDesk:
    """Commit a submission with its usage count, and record the deposit with the compartment.

    The usage count joins the store's transaction (a nested savepoint), so "most used" never
    counts an application that was not submitted.
    """

    def __init__(
        self,
        database: Database,
        store: SubmissionStore,
        *,
        catalog: CatalogAdapter | None = None,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._database = database
        self._store = store
        self._catalog = catalog
        self._wall_clock = wall_clock

    def commit(self, draft: SubmissionDraft) -> None:
        with self._database.transaction() as tx:
            self._store.commit(draft)
            record_submission(
                tx, draft.item_ids, int(self._wall_clock().timestamp() * 1000), draft.topic_id
            )
        if self._catalog is not None:
            try:
                self._catalog.refresh_usage()
            except StorageError:  # the submission is safe; a stale "most used" list is not
                _log.exception("the most-used counts could not be re-read after a submission")

    def record_deposit(
        self,
        reference: str,
        reservation: Reservation,
        *,
        verified_by_sensor: bool,
        inside: Callable[[], None] | None,
    ) -> None:
        self._store.record_deposit(
            reference, reservation, verified_by_sensor=verified_by_sensor, inside=inside
        )


# ---- compartments ---------------------------------------------------------------------------


class LockerDesk:
    """`CompartmentBooking` (with the audit reason and staff alerts) over CompartmentService.

    Every door opening goes through `CompartmentService.open_for_deposit`, which commits the
    audited intent before the pulse and the outcome after it; a jammed lock leaves service there.
    """

    def __init__(
        self,
        compartments: CompartmentService,
        outbox: Outbox | None = None,
        *,
        wall_clock: Callable[[], datetime] = _utc_now,
        watch_s: float = DOOR_WATCH_S,
    ) -> None:
        self._compartments = compartments
        self._outbox = outbox
        self._wall_clock = wall_clock
        self._watch_s = watch_s

    def reserve(
        self, min_size: CompartmentSize, submission_reference: str, exclude: Collection[int] = ()
    ) -> Reservation | None:
        actor = citizen_actor(submission_reference)
        set_aside: list[HeldCompartment] = []
        try:
            for _ in range(len(exclude) + 1):
                held = self._compartments.reserve(min_size, holder=actor)
                if held is None:
                    return None
                if held.compartment not in exclude:
                    return self._reservation(held)
                set_aside.append(held)  # a door that failed this citizen: try the next best
            return None
        finally:
            for held in set_aside:
                try:
                    self._compartments.release(
                        held.id, actor=actor, reason="skipped: its door failed for this citizen"
                    )
                except CompartmentError as err:  # it expires by itself; say so in the log
                    _log.warning("could not give back compartment %s: %s", held.compartment, err)

    def _reservation(self, held: HeldCompartment) -> Reservation:
        compartment = self._compartments.compartment(held.compartment)
        return Reservation(
            token=held.id,
            compartment=held.compartment,
            column=held.column,
            size=held.size,
            row=held.row,
            col=held.col,
            has_item_sensor=compartment.item_present is not None,
        )

    def open(self, reservation: Reservation, reason: str = "deposit") -> UnlockOutcome:
        actor = citizen_actor(_holder_reference(self._compartments, reservation))
        opening = self._compartments.open_for_deposit(
            reservation.token, actor=actor, reason=_AUDIT_REASONS.get(reason, reason)
        )
        if opening.opened:
            try:
                self._compartments.watch_door(reservation.compartment, self._watch_s)
            except (LockerError, CompartmentError):  # polling fast is a nicety; the door is open
                _log.exception("could not ask for fast polling of %s", reservation.label)
        return opening.outcome

    def confirm_deposit(self, reservation: Reservation, submission_reference: str) -> None:
        """Raises `DepositNotConfirmed` when the board does not vouch for it, so the caller's
        transaction (the store's deposit record) rolls back with it."""
        result = self._compartments.confirm_deposit(
            reservation.token,
            MaterialsForCentre(submission_reference),
            actor=citizen_actor(submission_reference),
            # The flow asks only once the citizen has said so or the sensor has seen it; the
            # service still trusts a sensor that reads empty over the citizen.
            citizen_confirmed=True,
        )
        if result.status is not DepositStatus.DEPOSITED:
            raise DepositNotConfirmed(
                f"Compartment {reservation.label} does not confirm the deposit "
                f"({result.status.value}).",
                result.status,
            )

    def release(self, reservation: Reservation) -> None:
        try:
            result = self._compartments.release(
                reservation.token,
                actor=citizen_actor(_holder_reference(self._compartments, reservation)),
                reason="the citizen did not leave materials in it",
            )
        except CompartmentError as err:
            # Already ended (a jammed lock ends it; so does expiry): nothing is held any more.
            _log.info("release of %s: %s", reservation.label, err)
            return
        if result.status is not ReleaseStatus.RELEASED:
            self._compartments.alert_staff(
                reservation.compartment,
                f"a citizen gave compartment {reservation.label} back, but it reads "
                f"{result.status.value.replace('_', ' ')}; check it",
                actor=citizen_actor(_holder_reference(self._compartments, reservation)),
            )

    def alert_staff(self, compartment: int, submission_reference: str, detail: str) -> None:
        """Flag the compartment for staff here and tell the hall (a `door_alarm` event)."""
        self._compartments.alert_staff(
            compartment, detail, actor=citizen_actor(submission_reference or "none")
        )
        if self._outbox is None:
            return
        label = next(
            (
                f"{c.column}{c.number:02d}"
                for c in self._compartments.compartments()
                if c.number == compartment
            ),
            str(compartment),
        )
        self._outbox.enqueue_event(
            {
                "event_id": f"staff-alert-{uuid.uuid4().hex}",
                "type": "door_alarm",
                "occurred_at": self._wall_clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "compartment": label,
                "courier_card_id": None,
                "detail": detail
                + (f" (submission {submission_reference})" if submission_reference else ""),
            }
        )


_AUDIT_REASONS = {
    "deposit": "hand in materials",
    "reopen": "hand in materials: opened again, no item was seen",
    "take_back": "the citizen cancelled: take the materials back",
}


def _holder_reference(compartments: CompartmentService, reservation: Reservation) -> str:
    """The submission a reservation was made for (its holder), for the audit's actor."""
    try:
        holder = compartments.reservation(reservation.token).holder
    except CompartmentError:
        return "unknown"
    return holder.removeprefix("submission:")


# ---- the hall: e-licences, payment, receipt SMS ---------------------------------------------


class HallRequests(Protocol):
    """The two questions the apply journey asks the hall directly (backend_client answers them).

    Both raise when the hall cannot be asked now; `payment_order` returns None when the hall
    has no order for the submission (HTTP 404: the items have no fee).
    """

    def lookup_elicences(self, id_number: str, purpose: str) -> Mapping[str, Any]: ...

    def payment_order(self, hall_submission_id: str) -> Mapping[str, Any] | None: ...


class ELicenceDesk:
    """`ELicenceLookup`: the hall's answer parsed by kiosk.materials, expired licences left out,
    the phone on file passed on as the hall gave it (the flow decides whether it fits the form)."""

    def __init__(self, hall: HallRequests, wall_clock: Callable[[], datetime] = _utc_now) -> None:
        self._hall = hall
        self._wall_clock = wall_clock

    def lookup(self, id_number: str) -> HallRecords:
        on_file = parse_elicence_lookup(self._hall.lookup_elicences(id_number, "apply"))
        today = self._wall_clock().date()
        return HallRecords(
            licences=tuple(
                ELicenceOnFile(lic.id, lic.licence_type, lic.title.zh)
                for lic in on_file.elicences
                if lic.valid_on(today)
            ),
            phone=on_file.phone,
        )


class PaymentDeskAdapter:
    """`PaymentDesk`: the hall's order exists only once the outbox has delivered the submission.

    Until the hall's id for the local reference is known, `order_for` answers None and the
    runtime asks again; refreshing goes by the hall submission the order belongs to.
    """

    def __init__(self, hall: HallRequests, outbox: Outbox) -> None:
        self._hall = hall
        self._outbox = outbox
        self._submission_of_order: dict[str, str] = {}

    def order_for(self, submission_reference: str) -> PaymentOrder | None:
        hall_id = self._outbox.hall_id_for(submission_reference)
        if hall_id is None:
            return None
        return self._fetch(hall_id)

    def refresh(self, order_id: str) -> PaymentOrder:
        hall_id = self._submission_of_order.get(order_id)
        if hall_id is None:
            raise ApplyAdapterError(
                f"Payment order {order_id} was not fetched by this terminal; it cannot be "
                "refreshed (fetch the submission's order first)."
            )
        order = self._fetch(hall_id)
        if order is None:
            raise ApplyAdapterError(
                f"The hall no longer has payment order {order_id} for submission {hall_id}."
            )
        return order

    def _fetch(self, hall_id: str) -> PaymentOrder | None:
        answer = self._hall.payment_order(hall_id)
        if answer is None:
            return None
        try:
            order = PaymentOrder(
                order_id=str(answer["order_id"]),
                amount_fen=int(answer["amount_fen"]),
                qr_payload=str(answer["qr_payload"]),
                paid=str(answer.get("status", "unpaid")) == "paid",
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ApplyAdapterError(
                f"The hall's payment order for submission {hall_id} lacks {err}; check that the "
                "hall follows docs/hall-api.md (Fees)."
            ) from err
        self._submission_of_order[order.order_id] = hall_id
        return order


class ReceiptSmsDesk:
    """The printer failed: the receipt goes by SMS through the outbox (the hall has the phone).

    The hall has no endpoint for it yet, so the message waits in the outbox under its own
    ordering key — a message the sender cannot deliver never holds up the submission's own.
    """

    def __init__(self, database: Database, outbox: Outbox) -> None:
        self._database = database
        self._outbox = outbox

    def send(self, submission_reference: str, text: str) -> None:
        with self._database.transaction():
            self._outbox.enqueue(
                RECEIPT_SMS_KIND,
                {"submission_ref": submission_reference, "text": text},
                ordering_key=f"{RECEIPT_SMS_KIND}:{submission_reference}",
            )


# ---- captured pages -------------------------------------------------------------------------


class PageFiles:
    """Deletes pages the citizen retook or abandoned — only inside the camera's pages folder."""

    def __init__(self, pages_dir: Path | None = None) -> None:
        self._pages_dir = None if pages_dir is None else pages_dir.resolve()

    def discard(self, jpeg_path: str) -> None:
        path = Path(jpeg_path).resolve()
        if self._pages_dir is not None and not path.is_relative_to(self._pages_dir):
            raise ApplyAdapterError(
                f"Refusing to delete {path}: it is not in the pages folder {self._pages_dir}."
            )
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            raise ApplyAdapterError(
                f"The captured page {path} could not be deleted ({err.strerror}); check the "
                "pages folder's permissions — it may hold personal data."
            ) from err
