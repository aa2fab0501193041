"""What the flow asks the world to do, and what the world answers.

The flow is pure and synchronous: it never unlocks a door, prints or writes the database itself.
Each call to the flow returns a list of effects (imperative names); the runtime performs them off
the UI thread and feeds the outcome back as one of the result events (past tense) below. Device
and hall events the flow reacts to come from kiosk/ports (CardPlaced, DoorClosed, PageCaptured,
SubmissionAcknowledged, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kiosk.materials import PhoneOnFile
from kiosk.ports.identity import Identity
from kiosk.ports.lockers import CompartmentSize, UnlockOutcome
from kiosk.ports.printer import SubmissionReceipt

from .ports import ELicenceOnFile, PaymentOrder, Reservation

# ---- values carried by effects ---------------------------------------------------------------


@dataclass(frozen=True)
class CapturedPage:
    material_code: str
    page_number: int
    jpeg_path: str


@dataclass(frozen=True)
class ApplyingAgent:
    """A village agent applying for a citizen (from the courier roster): named on the receipt
    and sent to the hall, so the centre knows who stood at the terminal for the applicant."""

    card_id: str
    name: str


@dataclass(frozen=True)
class SubmissionDraft:
    """Everything a submission is made of, at the moment the citizen pressed Submit.

    `forms` holds JSON-ready values (numbers as numbers) per item id; `applicant` lives only in
    memory and in the outbox message the hall needs (the local record keeps it masked).
    """

    reference: str
    item_ids: tuple[str, ...]
    topic_id: str | None
    applicant: Identity
    phone: str
    forms: dict[str, dict[str, str | int | float]]
    elicence_ids: tuple[str, ...]
    pages: tuple[CapturedPage, ...]
    paper_materials: tuple[str, ...]  # material codes handed in on paper
    fee_fen: int
    payment_choice: str  # free | pay_now | pay_at_pickup
    promised_date: date
    created_at: datetime
    agent: ApplyingAgent | None = None  # a village agent applied for the citizen


@dataclass(frozen=True)
class PrintableGuide:
    """A guide as printed on the receipt printer: plain lines in the citizen's language."""

    title: str
    lines: tuple[str, ...]
    terminal_name: str
    hotline: str


# ---- effects (imperative) --------------------------------------------------------------------


@dataclass(frozen=True)
class Speak:
    """Play the prompt `key` (kiosk/apply/texts.py) in the session's language.

    `args` fill the prompt's placeholders (a compartment number); the runtime renders the text
    with `texts.tr(key, language, **dict(args))` and plays the pre-rendered clip or espeak-ng.
    """

    key: str
    args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LookUpELicences:
    """Ask the hall which e-licences the card holder has (only while the card is present)."""

    id_number: str


@dataclass(frozen=True)
class PrintGuideSheet:
    guide: PrintableGuide


@dataclass(frozen=True)
class BeginCapture:
    """Camera to document mode, collecting pages under `document_id`."""

    document_id: str


@dataclass(frozen=True)
class CaptureNow:
    pass


@dataclass(frozen=True)
class StopCapture:
    pass


@dataclass(frozen=True)
class DiscardPage:
    """A page the citizen retook, or one of an application abandoned: delete the file."""

    jpeg_path: str


@dataclass(frozen=True)
class CommitSubmission:
    """Write the submission and its outbox messages (submission + e-copies) in one transaction."""

    draft: SubmissionDraft


@dataclass(frozen=True)
class FetchPayment:
    submission_reference: str


@dataclass(frozen=True)
class RefreshPayment:
    order_id: str


@dataclass(frozen=True)
class ReserveCompartment:
    submission_reference: str
    min_size: CompartmentSize
    exclude: tuple[int, ...]


@dataclass(frozen=True)
class OpenCompartment:
    reservation: Reservation
    reason: str  # deposit | reopen | take_back (goes into the audit record)


@dataclass(frozen=True)
class RecordDeposit:
    """Compartment occupied + local record + "deposited" outbox event, in one transaction."""

    reservation: Reservation
    submission_reference: str
    verified_by_sensor: bool


@dataclass(frozen=True)
class ReleaseCompartment:
    reservation: Reservation


@dataclass(frozen=True)
class AlertStaff:
    """A door stays open (or the citizen left it so): tell staff through the hall."""

    compartment: int
    submission_reference: str
    detail: str


@dataclass(frozen=True)
class PrintSubmissionReceipt:
    receipt: SubmissionReceipt


@dataclass(frozen=True)
class SendReceiptBySms:
    """The printer could not print: the hall texts the receipt to the applicant's phone."""

    submission_reference: str
    text: str


@dataclass(frozen=True)
class ClearDown:
    """The session is over: drop personal data everywhere (session, screens, camera pages)."""


Effect = (
    Speak
    | LookUpELicences
    | PrintGuideSheet
    | BeginCapture
    | CaptureNow
    | StopCapture
    | DiscardPage
    | CommitSubmission
    | FetchPayment
    | RefreshPayment
    | ReserveCompartment
    | OpenCompartment
    | RecordDeposit
    | ReleaseCompartment
    | AlertStaff
    | PrintSubmissionReceipt
    | SendReceiptBySms
    | ClearDown
)


# ---- results of effects (past tense) ---------------------------------------------------------


@dataclass(frozen=True)
class ELicencesFound:
    """The hall's lookup answer; `phone` pre-fills the form's phone for the citizen to confirm."""

    id_number: str
    licences: tuple[ELicenceOnFile, ...]
    phone: PhoneOnFile | None = None


@dataclass(frozen=True)
class ELicenceLookupFailed:
    reason: str


@dataclass(frozen=True)
class GuidePrinted:
    pass


@dataclass(frozen=True)
class GuidePrintFailed:
    paper_out: bool
    reason: str


@dataclass(frozen=True)
class SubmissionCommitted:
    reference: str


@dataclass(frozen=True)
class SubmissionCommitFailed:
    """The local database refused the write (disk full, corrupt): nothing was submitted."""

    reason: str


@dataclass(frozen=True)
class PaymentOrderReady:
    order: PaymentOrder


@dataclass(frozen=True)
class PaymentUnavailable:
    """No order could be had (hall offline, not acknowledged yet after a while)."""

    reason: str


@dataclass(frozen=True)
class CompartmentReserved:
    reservation: Reservation


@dataclass(frozen=True)
class NoCompartmentFree:
    pass


@dataclass(frozen=True)
class CompartmentOpened:
    """The unlock's audited outcome (opened / already_open / jammed / unknown)."""

    reservation: Reservation
    outcome: UnlockOutcome


@dataclass(frozen=True)
class DepositRecorded:
    reservation: Reservation


@dataclass(frozen=True)
class DepositRecordFailed:
    """The hand-in could not be recorded: the board would not vouch for it after every attempt,
    or the database refused the write. The papers may be behind the closed door, so the
    compartment stays held; the citizen is told to ask staff instead of "handed in"."""

    reservation: Reservation
    reason: str


@dataclass(frozen=True)
class ReceiptPrinted:
    pass


@dataclass(frozen=True)
class ReceiptPrintFailed:
    paper_out: bool
    reason: str


@dataclass(frozen=True)
class ReceiptSentBySms:
    pass


@dataclass(frozen=True)
class Tick:
    """The clock moved: check the flow's deadlines (the runtime sends one every ~0.25 s)."""
