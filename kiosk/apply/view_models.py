"""What each step of the apply journey shows, and what a screen may ask of the flow.

This module is the contract between the flow (kiosk/apply/flow.py) and the Kivy screens: a screen
renders one of the `*View` dataclasses below and sends one of the intents; it never decides
anything itself. Every text is already translated into the session's language, every list is in
display order, and flags such as `can_continue` say which buttons to enable — so a screen is a
thin copy of fields onto widgets, and what a citizen reads in each state is testable without a
window.

Intents are imperative and carry only what the citizen chose; a touch that arrives after the step
changed (a double tap) is refused by the flow with `IllegalIntent`, which the presenter logs and
drops — `ApplyView.accepts` lets a screen disable such buttons up front.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from kiosk.config import Language


class ApplyStep(StrEnum):
    IDENTIFY = "identify"  # lay the card on the reader, or browse without it
    CHOOSE = "choose"  # departments, topics, most used, search
    GUIDE = "guide"  # materials, legal basis, fee, days, steps; print the guide
    FORM = "form"  # the one form, pre-filled from the card
    MATERIALS = "materials"  # e-copies by camera, e-licences from the hall
    REVIEW = "review"  # summary and fee with its basis; submit
    PAYMENT = "payment"  # payment QR from the hall (only when paying now)
    HAND_IN = "hand_in"  # the compartment for the paper originals
    RECEIPT = "receipt"  # printed, or on screen and by SMS
    FINISH = "finish"  # thank you, then clear-down


# ---- parts shared by the step views ---------------------------------------------------------

Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """A plain sentence for the citizen about something that happened (a fault, a reminder)."""

    text: str
    severity: Severity = "info"


@dataclass(frozen=True)
class Countdown:
    """A timeout the citizen is being warned about; `text` is e.g. "还剩 12 秒" / "12 s left"."""

    seconds_left: int
    text: str
    extend_label: str  # the button that sends `ExtendTime` ("I need more time")
    can_extend: bool = True


@dataclass(frozen=True)
class ProgressStep:
    label: str
    state: Literal["done", "current", "todo"]


@dataclass(frozen=True)
class Header:
    """Title, the progress bar and the two ever-present buttons (Back, Cancel)."""

    title: str
    progress: tuple[ProgressStep, ...]
    back_label: str
    cancel_label: str
    can_go_back: bool
    can_cancel: bool
    applicant: str  # the masked identity ("张*明 4301**********1234"), empty when browsing


@dataclass(frozen=True)
class Voice:
    """The prompt spoken when this view appears; `key` names the pre-rendered audio clip."""

    key: str
    text: str
    language: Language


# ---- one view per step ----------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifyView:
    """`animation` tells the screen which picture to loop: where to put the card, or a fault."""

    instruction: str
    animation: Literal["place_card", "reading", "unreadable", "reader_offline"]
    reader_available: bool
    browse_label: str  # "Look at guides without a card" (sends BrowseWithoutCard)
    can_browse: bool
    purpose: Literal["start", "apply"]  # "apply": the citizen chose an item and must identify
    notice: Notice | None = None


ChooseTab = Literal["most_used", "departments", "topics", "search"]


@dataclass(frozen=True)
class TabView:
    tab: ChooseTab
    label: str
    selected: bool


@dataclass(frozen=True)
class ChoiceEntry:
    """One tappable row: a department (opens its items), a service item or a topic."""

    kind: Literal["department", "item", "topic"]
    id: str
    title: str
    subtitle: str  # department name, summary or "3 items"
    fee_text: str  # "免费" / "¥120.00"; empty for departments
    days_text: str  # "3 个工作日"; empty for departments


@dataclass(frozen=True)
class ChooseView:
    tabs: tuple[TabView, ...]
    heading: str  # "Most used", a department's name, "Results for …"
    entries: tuple[ChoiceEntry, ...]
    empty_text: str  # shown when `entries` is empty
    search_query: str
    search_hint: str  # "Type pinyin initials (e.g. HZ) or a word"
    keyboard: Literal["none", "pinyin"]  # the touch keyboard to show under the search box
    department_id: str  # the department whose items are listed, "" otherwise
    identify_label: str  # "Use my card" when browsing; empty when identified
    notice: Notice | None = None


@dataclass(frozen=True)
class MaterialLine:
    """One required material and how it is given: paper into the locker, camera, or e-licence."""

    code: str
    name: str
    form: Literal["paper_original", "e_copy", "e_licence"]
    form_text: str  # "纸质原件（投入柜格）" / "Paper original (into the locker)"
    note: str  # "e-licence on file: will be pulled" / "read from your ID card" / ""


@dataclass(frozen=True)
class GuideView:
    kind: Literal["item", "topic"]
    id: str
    title: str
    summary: str
    items: tuple[str, ...]  # the topic's item names; one entry for a single item
    materials_heading: str
    materials: tuple[MaterialLine, ...]
    legal_basis_heading: str
    legal_basis: tuple[str, ...]
    fee_heading: str
    fee_text: str
    days_heading: str
    days_text: str
    steps_heading: str
    steps: tuple[str, ...]
    print_label: str
    can_print: bool
    start_label: str  # "Apply now" or, when browsing, "Use my card to apply"
    notice: Notice | None = None  # print result, or why applying is not possible now


FieldKind = Literal["choice", "date", "number", "phone", "id_number", "text"]
Keypad = Literal["none", "digits", "id_number", "phone", "date", "pinyin"]


@dataclass(frozen=True)
class ChoiceOption:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FieldView:
    """One typed field; `error` sits next to the field and is empty while it is fine."""

    key: str  # "<item_id>.<field name>", or "applicant.phone"
    label: str
    kind: FieldKind
    keypad: Keypad  # which touch keypad suits the type
    value: str  # the stored value ("2025-03-01", "male", "13800138000")
    display_value: str  # what to show ("2025年3月1日", "男")
    required: bool
    prefilled: bool  # came from the card or the hall (shown with a small card icon)
    error: str
    choices: tuple[ChoiceOption, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    note: str = ""  # under the field: where a pre-filled value came from ("check it")


@dataclass(frozen=True)
class FormView:
    title: str
    intro: str  # "Fields marked * are required; what your card told us is filled in"
    fields: tuple[FieldView, ...]
    continue_label: str
    can_continue: bool  # all required fields filled and no errors
    errors_left: int


@dataclass(frozen=True)
class Thumbnail:
    page_number: int
    image_path: str


@dataclass(frozen=True)
class MaterialCaptureView:
    """One material in the e-copies step and how far it is."""

    code: str
    name: str
    status: Literal["to_capture", "captured", "elicence_offered", "elicence_used", "from_card"]
    status_text: str
    pages_expected: int
    pages_captured: int
    thumbnails: tuple[Thumbnail, ...]
    current: bool  # the camera is capturing this one now
    use_elicence_label: str = ""  # offered e-licence: "Use the e-licence on file"
    capture_instead_label: str = ""  # offered e-licence: "Photograph my paper instead"


@dataclass(frozen=True)
class MaterialsView:
    materials: tuple[MaterialCaptureView, ...]
    instruction: str  # "Lay page 2 of 2 of <name> in the frame; it is taken when it lies still"
    pages_still_expected: int
    pages_still_expected_text: str
    camera_available: bool  # False: the camera is down; the citizen may hand in paper instead
    show_preview: bool  # the screen shows the camera's live preview with a page outline
    capture_label: str
    retake_label: str
    continue_label: str
    can_capture: bool
    can_continue: bool
    notice: Notice | None = None


@dataclass(frozen=True)
class SummaryLine:
    label: str
    value: str


@dataclass(frozen=True)
class ReviewView:
    """The last look before submitting, with the fee and its basis."""

    lines: tuple[SummaryLine, ...]
    has_fee: bool
    fee_text: str  # "免费" or "¥120.00"
    fee_basis: str  # the charging basis; empty when free
    pay_now_label: str
    pay_at_pickup_label: str
    can_pay_at_pickup: bool
    payment_choice: Literal["none", "pay_now", "pay_at_pickup"]
    submit_label: str
    can_submit: bool  # a fee needs a payment choice first
    notice: Notice | None = None


@dataclass(frozen=True)
class PaymentView:
    amount_text: str
    status: Literal["waiting_order", "showing_qr", "paid", "unavailable"]
    qr_payload: str  # the hall's payment link; empty until the order arrived
    instruction: str
    pay_at_pickup_label: str
    can_pay_at_pickup: bool
    continue_label: str
    can_continue: bool
    countdown: Countdown | None = None
    notice: Notice | None = None


HandInPhase = Literal[
    "reserving",  # looking for a free compartment of the right size
    "opening",  # the door is being unlocked
    "door_open",  # put the papers in and close the door
    "checking",  # the door closed with an item: recording the hand-in
    "no_item_seen",  # the door closed but no item was seen: ask again
    "taking_back",  # cancelled: take the papers back and close the door
    "deposited",  # confirmed
    "no_compartment",  # none free: bring the papers to the centre
    "unconfirmed",  # the hand-in could not be recorded: ask staff (they have been alerted)
]


@dataclass(frozen=True)
class HandInView:
    phase: HandInPhase
    compartment_number: int | None
    compartment_label: str  # "A03"
    position_text: str  # "A 列 · 第 2 排 · 左" / "Column A · row 2 · left"
    column: str
    row: int
    col: int
    materials: tuple[str, ...]  # the paper originals to put in
    instruction: str
    reminder: Notice | None  # the door-left-open reminder, also spoken
    staff_alerted: bool
    confirm_label: str  # no_item_seen: "I have put them in"
    reopen_label: str  # no_item_seen: "Open the door again"
    cancel_label: str  # "Take my papers back"
    can_confirm: bool
    can_reopen: bool
    can_cancel: bool
    continue_label: str
    can_continue: bool  # no_compartment: go on to the receipt
    notice: Notice | None = None  # "that door is stuck, we opened box 5 instead"


@dataclass(frozen=True)
class ReceiptView:
    tracking_number: str
    lines: tuple[SummaryLine, ...]
    follow_qr_payload: str
    status: Literal["printing", "printed", "on_screen", "print_failed"]
    status_text: str
    sms_text: str  # "We also sent this receipt to 138****8000"; empty when not sent
    print_again_label: str
    can_print_again: bool
    done_label: str
    countdown: Countdown | None = None
    notice: Notice | None = None


@dataclass(frozen=True)
class FinishView:
    thank_you: str
    next_steps: str  # "You will get an SMS when your documents are ready to collect here"
    take_card_reminder: str  # empty when no card is on the reader
    done_label: str
    countdown: Countdown | None = None


StepView = (
    IdentifyView
    | ChooseView
    | GuideView
    | FormView
    | MaterialsView
    | ReviewView
    | PaymentView
    | HandInView
    | ReceiptView
    | FinishView
)


@dataclass(frozen=True)
class ApplyView:
    """Everything the apply screens render at one moment."""

    step: ApplyStep
    language: Language
    header: Header
    body: StepView
    voice: Voice | None  # the step's prompt; the runtime speaks it when `voice_serial` changes
    voice_serial: int
    countdown: Countdown | None  # a flow timeout being warned about (card removed, receipt…)
    overlay: Notice | None  # e.g. "put your card back" while the countdown runs
    accepts: frozenset[str] = field(default_factory=frozenset)  # intent class names accepted now


# ---- intents (what a screen may send) -------------------------------------------------------


@dataclass(frozen=True)
class BrowseWithoutCard:
    """Look at the catalog and guides without identifying."""


@dataclass(frozen=True)
class IdentifyToApply:
    """While browsing: "use my card" (goes to the identify step and comes back)."""


@dataclass(frozen=True)
class ShowTab:
    tab: ChooseTab


@dataclass(frozen=True)
class ChooseDepartment:
    department_id: str


@dataclass(frozen=True)
class ChooseItem:
    item_id: str


@dataclass(frozen=True)
class ChooseTopic:
    topic_id: str


@dataclass(frozen=True)
class Search:
    """The whole query as typed so far (pinyin initials or a keyword); "" clears it."""

    query: str


@dataclass(frozen=True)
class PrintGuide:
    pass


@dataclass(frozen=True)
class StartApplication:
    """ "Apply now" on the guide screen."""


@dataclass(frozen=True)
class SetField:
    """A field's new value as the keypad composed it (`key` as in FieldView.key)."""

    key: str
    value: str


@dataclass(frozen=True)
class Continue:
    """The step's main button: next step (form → materials → review, payment/hand-in → on)."""


@dataclass(frozen=True)
class CapturePage:
    """Take the page now, without waiting for it to lie still."""


@dataclass(frozen=True)
class RetakePage:
    material_code: str
    page_number: int


@dataclass(frozen=True)
class UseELicence:
    material_code: str


@dataclass(frozen=True)
class CaptureInstead:
    """Decline the offered e-licence and photograph the paper instead."""

    material_code: str


@dataclass(frozen=True)
class PayNow:
    pass


@dataclass(frozen=True)
class PayAtPickup:
    pass


@dataclass(frozen=True)
class Submit:
    """Review step: submit the application (commits it locally; the hall gets it via the outbox)."""


@dataclass(frozen=True)
class ConfirmHandIn:
    """No item was seen but the citizen says the papers are in."""


@dataclass(frozen=True)
class ReopenDoor:
    """No item was seen: open the door again to put the papers in."""


@dataclass(frozen=True)
class CancelHandIn:
    """Take the papers back: the door opens (again) and the papers go to the centre by hand."""


@dataclass(frozen=True)
class PrintReceipt:
    """Print the receipt again (e.g. after staff refilled the paper)."""


@dataclass(frozen=True)
class ExtendTime:
    """ "I need more time" on any countdown warning."""


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Cancel:
    """Abandon the application: everything entered is cleared (not allowed once submitted)."""


@dataclass(frozen=True)
class Finish:
    """Done: thank-you screen now, or from the thank-you screen end the session."""


Intent = (
    BrowseWithoutCard
    | IdentifyToApply
    | ShowTab
    | ChooseDepartment
    | ChooseItem
    | ChooseTopic
    | Search
    | PrintGuide
    | StartApplication
    | SetField
    | Continue
    | CapturePage
    | RetakePage
    | UseELicence
    | CaptureInstead
    | PayNow
    | PayAtPickup
    | Submit
    | ConfirmHandIn
    | ReopenDoor
    | CancelHandIn
    | PrintReceipt
    | ExtendTime
    | Back
    | Cancel
    | Finish
)
