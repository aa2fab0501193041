"""The HTTP contract, as pydantic models: they produce /openapi.json and validate both ways.

Requests reject unknown fields (a misspelt field must not be silently dropped on its way to an
approval desk); responses are the documented shape in docs/hall-api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Identifier = str
EVENT_TYPES = (
    "deposited",
    "collected",
    "result_loaded",
    "picked_up",
    "returned",
    "door_alarm",
    "receipt_sms",
    "pickup_not_taken",
)
PICKUP_METHODS = ("qr", "code", "id_card")
MAX_SUBMISSIONS_PER_BATCH = 100
FormValue = str | int | float | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bilingual(BaseModel):
    zh: str
    en: str


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable reason, e.g. idempotency_key_reused")
    message: str = Field(description="one plain sentence saying what to do")


class ErrorBody(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: Literal["ok"]
    catalog_version: int
    time: str


class PublicKeyOut(BaseModel):
    algorithm: Literal["Ed25519"]
    key_id: str
    public_key_b64: str = Field(description="raw 32-byte Ed25519 public key, base64")
    public_key_pem: str
    canonical_form: str


class KioskOut(BaseModel):
    id: str
    name: str


# ---- catalog -----------------------------------------------------------------------------


class ChoiceOut(BaseModel):
    value: str
    label: Bilingual


class FormFieldOut(BaseModel):
    name: str
    type: Literal["choice", "date", "number", "phone", "id_number", "text"]
    required: bool = False
    label: Bilingual
    choices: list[ChoiceOut] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None


class MaterialOut(BaseModel):
    code: str
    name: Bilingual
    form: Literal["paper_original", "e_copy", "e_licence"]
    elicence_type: str | None = None
    pages: int | None = None  # pages to photograph for an e-copy (front + back of a card: 2)


class DepartmentOut(BaseModel):
    id: str
    name: Bilingual
    version: int


class ServiceItemOut(BaseModel):
    id: str
    department: str
    name: Bilingual
    summary: Bilingual
    legal_basis: Bilingual
    fee_fen: int
    promised_working_days: int
    pay_at_pickup: bool | None = None  # None: the item's steps decide (see the kiosk's rules)
    materials: list[MaterialOut]
    steps: list[Bilingual]
    form_fields: list[FormFieldOut]
    version: int


class TopicOut(BaseModel):
    id: str
    name: Bilingual
    summary: Bilingual
    items: list[str]
    version: int


class RemovedOut(BaseModel):
    departments: list[str]
    items: list[str]
    topics: list[str]


class CatalogOut(BaseModel):
    version: int
    since_version: int
    full: bool
    departments: list[DepartmentOut]
    items: list[ServiceItemOut]
    topics: list[TopicOut]
    removed: RemovedOut


# ---- submissions ---------------------------------------------------------------------------


class ApplicantIn(_Strict):
    id_number: str = Field(min_length=18, max_length=18, description="18-character resident ID")
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20, description="where the pickup code goes")


class SubmissionIn(_Strict):
    item_ids: list[str] = Field(min_length=1, max_length=10)
    topic_id: str | None = None
    applicant: ApplicantIn
    forms: dict[str, dict[str, FormValue]] = Field(
        default_factory=dict, description="form values per item id"
    )
    elicence_ids: list[str] = Field(default_factory=list, max_length=20)
    reused_ecopy_ids: list[str] = Field(default_factory=list, max_length=20)
    draft: bool = Field(False, description="true keeps it a draft until POST …/submit")
    agent_card_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="a village agent (roster role village_agent) submitting for the citizen",
    )
    agent_name: str | None = Field(
        None, min_length=1, max_length=100, description="the agent's name as on the receipt"
    )


class HistoryOut(BaseModel):
    step: str
    from_status: str | None
    to_status: str
    actor: str
    at: str
    note: str | None


class ECopyOut(BaseModel):
    id: str
    submission_id: str
    material_code: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: str
    valid_until: str


class PaymentOut(BaseModel):
    order_id: str
    submission_id: str
    amount_fen: int
    status: Literal["unpaid", "paid"]
    qr_payload: str
    created_at: str
    paid_at: str | None


class SubmissionOut(BaseModel):
    id: str
    tracking_number: str
    kiosk_id: str
    status: str
    item_ids: list[str]
    topic_id: str | None
    applicant_name: str
    applicant_phone_masked: str
    fee_fen: int
    promised_working_days: int
    created_at: str
    submitted_at: str | None
    due_at: str | None
    decision_reason: str | None
    agent_card_id: str | None = None
    agent_name: str | None = None
    elicence_ids: list[str]
    reused_ecopy_ids: list[str]
    ecopies: list[ECopyOut]
    payment: PaymentOut | None
    history: list[HistoryOut]


class SubmissionListOut(BaseModel):
    submissions: list[SubmissionOut]


class SubmissionBatchEntryIn(_Strict):
    idempotency_key: str = Field(
        min_length=1, max_length=200, description="what the Idempotency-Key header is for one"
    )
    submission: SubmissionIn


class SubmissionBatchIn(_Strict):
    submissions: list[SubmissionBatchEntryIn] = Field(
        min_length=1, max_length=MAX_SUBMISSIONS_PER_BATCH
    )


class SubmissionBatchResultOut(BaseModel):
    idempotency_key: str
    outcome: Literal["created", "replayed", "rejected", "retry_later"]
    status: int = Field(description="what POST /submissions would have answered for this entry")
    submission: SubmissionOut | None = None
    error: ErrorDetail | None = None


class SubmissionBatchOut(BaseModel):
    results: list[SubmissionBatchResultOut]


# ---- events ------------------------------------------------------------------------------


class EventIn(_Strict):
    event_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: Literal[
        "deposited",
        "collected",
        "result_loaded",
        "picked_up",
        "returned",
        "door_alarm",
        "receipt_sms",
        "pickup_not_taken",
    ]
    occurred_at: datetime
    submission_id: str | None = Field(None, max_length=32)
    compartment: str | None = Field(None, max_length=40)
    courier_card_id: str | None = Field(None, max_length=64)
    detail: str | None = Field(
        None, max_length=1000, description="door_alarm: what happened; receipt_sms: the text"
    )
    seal: str | None = Field(
        None, max_length=64, description="collected: the bag's seal barcode, as scanned"
    )
    method: Literal["qr", "code", "id_card"] | None = Field(
        None, description="picked_up: how the citizen proved the parcel was theirs"
    )
    pickup_code: str | None = Field(
        None,
        max_length=8,
        description="result_loaded: the 8-digit code the terminal made (the hall keeps a hash)",
    )
    pickup_qr: str | None = Field(
        None, max_length=200, description="result_loaded: the terminal-signed QR text (GZPK1.…)"
    )
    pickup_deadline: datetime | None = Field(
        None, description="result_loaded: until when the result waits in the compartment"
    )


class EventBatchIn(_Strict):
    events: list[EventIn] = Field(min_length=1, max_length=200)


class EventResultOut(BaseModel):
    event_id: str
    outcome: Literal["applied", "rejected", "conflict"]
    duplicate: bool
    message: str


class EventBatchOut(BaseModel):
    results: list[EventResultOut]


# ---- roster and tasks --------------------------------------------------------------------


class RosterCourierOut(BaseModel):
    card_id: str
    name: str
    role: Literal["courier", "village_agent"]
    pin_hash: str
    id_number_sha256: str | None = Field(
        None, description="hex SHA-256 of the upper-case ID number, or null (badge only)"
    )


class RosterDocumentOut(BaseModel):
    format: int
    kiosk_id: str
    version: int
    issued_at: str
    expires_at: str
    key_id: str
    couriers: list[RosterCourierOut]


class SignedRosterOut(BaseModel):
    roster: RosterDocumentOut
    algorithm: Literal["Ed25519"]
    key_id: str
    signature: str = Field(description="base64 Ed25519 signature over canonical JSON of roster")


class CollectionTaskOut(BaseModel):
    submission_id: str
    tracking_number: str
    compartment: str | None
    deposited_at: str | None
    item_ids: list[str]


class DeliveryTaskOut(BaseModel):
    task_id: str
    submission_id: str
    tracking_number: str
    status: Literal["pending", "loaded", "picked_up", "returned"]
    description: Bilingual
    outcome: Literal["approved", "rejected"]
    applicant_id_number_sha256: str
    compartment: str | None
    pickup_deadline: str | None
    created_at: str


class TasksOut(BaseModel):
    collections: list[CollectionTaskOut]
    deliveries: list[DeliveryTaskOut]
    returns_due: list[DeliveryTaskOut]


# ---- e-licences ---------------------------------------------------------------------------


class LookupIn(_Strict):
    id_number: str = Field(min_length=18, max_length=18)
    submission_id: str | None = Field(None, max_length=32)
    purpose: str | None = Field(None, max_length=80, description="e.g. the item id being served")


class ELicenceOut(BaseModel):
    id: str
    licence_type: str
    number: str
    title: Bilingual
    issuer: str
    issued_on: str
    valid_until: str | None


class ReusableECopyOut(BaseModel):
    id: str
    material_code: str
    filename: str
    content_type: str
    size: int
    sha256: str
    tracking_number: str
    created_at: str
    valid_until: str


class PhoneOnFileOut(BaseModel):
    phone: str = Field(
        description="the full number, to pre-fill the form for the citizen to confirm"
    )
    masked: str = Field(description="e.g. 138****8000, for showing before the citizen confirms")
    source: Literal["registry", "earlier_submission"]
    updated_at: str


class LookupOut(BaseModel):
    elicences: list[ELicenceOut]
    reusable_ecopies: list[ReusableECopyOut]
    phone_on_file: PhoneOnFileOut | None = Field(
        None, description="the mobile number on file for this identity, or null"
    )
