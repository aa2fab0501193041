"""The narrow views the apply flow needs of the services built beside it.

The catalog, the form rules and the compartment service are separate parts of the terminal; the
flow only needs a few questions answered by each, so it declares them here as Protocols over its
own small value types. The composition root adapts the real services to these, and the tests use
hand-written fakes — the flow never imports the services themselves.

The catalog and form rules answer from memory or the local database in microseconds, so the flow
calls them directly. Compartments, e-licences, payments and printing block on devices or the
network: the flow only *asks* for them as effects (kiosk/apply/effects.py) and the runtime calls the
Protocols below off the UI thread.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from kiosk.i18n import LocalizedText
from kiosk.materials import PhoneOnFile
from kiosk.ports.identity import Identity
from kiosk.ports.lockers import CompartmentSize, UnlockOutcome

MaterialForm = Literal["paper_original", "e_copy", "e_licence"]
FieldKind = Literal["choice", "date", "number", "phone", "id_number", "text"]


# ---- catalog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialSpec:
    """A material an item requires and the form it accepts it in.

    `pages` is how many pages the camera should expect for an e-copy (an ID card has two sides).
    An e-licence material is pulled from the hall when the citizen has it on file and confirms;
    otherwise it is photographed like an e-copy.
    """

    code: str
    name: LocalizedText
    form: MaterialForm
    elicence_type: str | None = None
    pages: int = 1


@dataclass(frozen=True)
class ChoiceSpec:
    value: str
    label: LocalizedText


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    label: LocalizedText
    required: bool = True
    choices: tuple[ChoiceSpec, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class ItemSpec:
    """A service item as the flow needs it (built from the hall's catalog by the catalog service).

    `fee_basis` is the charging document shown next to the fee; `pay_at_pickup` says whether the
    fee may be paid when the result is collected instead of now.
    """

    id: str
    department_id: str
    name: LocalizedText
    summary: LocalizedText
    legal_basis: LocalizedText
    fee_fen: int
    promised_working_days: int
    steps: tuple[LocalizedText, ...]
    materials: tuple[MaterialSpec, ...]
    fields: tuple[FieldSpec, ...]
    fee_basis: LocalizedText | None = None
    pay_at_pickup: bool = False


@dataclass(frozen=True)
class TopicSpec:
    """A "one trip" bundle: its items are applied for together with one form."""

    id: str
    name: LocalizedText
    summary: LocalizedText
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentSpec:
    id: str
    name: LocalizedText


SearchHit = ItemSpec | TopicSpec


class CatalogView(Protocol):
    def departments(self) -> Sequence[DepartmentSpec]: ...

    def department(self, department_id: str) -> DepartmentSpec | None: ...

    def items_of(self, department_id: str) -> Sequence[ItemSpec]: ...

    def topics(self) -> Sequence[TopicSpec]: ...

    def item(self, item_id: str) -> ItemSpec | None: ...

    def topic(self, topic_id: str) -> TopicSpec | None: ...

    def most_used(self, limit: int) -> Sequence[ItemSpec]:
        """The items applied for most often at this terminal, most used first."""

    def search(self, query: str, limit: int) -> Sequence[SearchHit]:
        """Items and topics matching pinyin initials ("hk" → 户口) or a keyword, best first."""


# ---- forms ----------------------------------------------------------------------------------


class FormRules(Protocol):
    def prefill(self, spec: FieldSpec, identity: Identity) -> str | None:
        """The value the card gives for this field (name, birth date, ID number…), if any."""

    def validate(self, spec: FieldSpec, value: str) -> LocalizedText | None:
        """None when `value` is acceptable for `spec`; otherwise the sentence shown next to it.

        An empty value of a required field is the flow's business, not the rules'.
        """

    def display(self, spec: FieldSpec, value: str) -> LocalizedText:
        """How a stored value reads on screen and on the receipt (a choice's label, a date)."""


# ---- compartments (blocking; called by the runtime) ------------------------------------------


@dataclass(frozen=True)
class Reservation:
    """A compartment held for one submission until the deposit is confirmed or released."""

    token: str
    compartment: int
    column: str
    size: CompartmentSize
    row: int
    col: int
    has_item_sensor: bool

    @property
    def label(self) -> str:
        """How the door is labelled, e.g. "A03"."""
        return f"{self.column}{self.compartment:02d}"


class CompartmentBooking(Protocol):
    def reserve(
        self, min_size: CompartmentSize, submission_reference: str, exclude: Collection[int] = ()
    ) -> Reservation | None:
        """The best-fitting free compartment (S→M→L) of at least `min_size`, or None."""

    def open(self, reservation: Reservation) -> UnlockOutcome:
        """Audited unlock (intent, pulse, outcome); a jammed door leaves service by itself."""

    def confirm_deposit(self, reservation: Reservation, submission_reference: str) -> None:
        """The parcel is in: the compartment becomes occupied (joins the caller's transaction)."""

    def release(self, reservation: Reservation) -> None:
        """Nothing was left in it: the compartment is free again."""


# ---- hall requests (blocking; called by the runtime) -----------------------------------------


@dataclass(frozen=True)
class ELicenceOnFile:
    id: str
    licence_type: str
    title: str


@dataclass(frozen=True)
class HallRecords:
    """What the hall holds for the card holder that spares the citizen work: valid e-licences
    (instead of photographs) and the mobile on file (instead of typing eleven digits)."""

    licences: tuple[ELicenceOnFile, ...] = ()
    phone: PhoneOnFile | None = None


class ELicenceLookup(Protocol):
    def lookup(self, id_number: str) -> HallRecords:
        """The card holder's records at the hall; raises when the hall cannot be asked now."""


@dataclass(frozen=True)
class PaymentOrder:
    order_id: str
    amount_fen: int
    qr_payload: str
    paid: bool


class PaymentDesk(Protocol):
    def order_for(self, submission_reference: str) -> PaymentOrder | None:
        """The hall's order for the submission (None while the hall does not have it yet)."""

    def refresh(self, order_id: str) -> PaymentOrder: ...
