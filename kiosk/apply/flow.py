"""The apply journey as one state machine: identify → choose → guide → form → materials → review
→ (payment) → hand in → receipt → finish.

Why a sans-I/O machine: the journey meets a card reader, a camera, lock boards, a printer and the
hall, any of which can fail at 3 a.m. Keeping every decision in one synchronous object that only
*returns* effects (kiosk/apply/effects.py) lets every branch — each device fault, each timeout — be
tested in microseconds with plain values and a fake clock, and keeps the UI thread from ever
waiting: the runtime performs the effects elsewhere and feeds their results back.

Three doors in: `send(intent)` for touches, `handle(event)` for device/hall events and effect
results, `tick()` for the clock. Each returns the effects to perform, in order. As in h11, an
event that makes no sense in the current state raises `IllegalEvent` naming both (a bug in the
runtime or a stale screen), while ambient events that may arrive at any time (a card lifted, a
door of another compartment, health changes) are absorbed where they do not matter.

Personal data (the identity, form answers, captured pages) lives only in this object until the
submission is committed, and `ClearDown` resets it to a fresh flow: nothing of one citizen is left
for the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from kiosk.config import Language
from kiosk.i18n import LocalizedText
from kiosk.materials import PhoneOnFile
from kiosk.ports.camera import PageCaptured
from kiosk.ports.hall import SubmissionAcknowledged
from kiosk.ports.health import DeviceHealthChanged, HealthState
from kiosk.ports.identity import CardPlaced, CardReadFailed, CardRemoved, Identity
from kiosk.ports.lockers import (
    CompartmentSize,
    DoorClosed,
    DoorOpened,
    ItemDetected,
    ItemRemoved,
    UnlockOutcome,
)

from . import effects as fx
from . import view_models as vm
from .ports import (
    CatalogView,
    ELicenceOnFile,
    FieldSpec,
    FormRules,
    ItemSpec,
    MaterialSpec,
    PaymentOrder,
    Reservation,
    TopicSpec,
)
from .receipt import ReceiptContent, build_receipt, guide_sheet, money_text
from .texts import tr

APPLICANT_PHONE_KEY = "applicant.phone"
_PHONE_SPEC = FieldSpec(
    name="phone",
    kind="phone",
    label=LocalizedText("手机号码（接收取件短信）", "Mobile phone (for the pickup SMS)"),
)


class ApplyFlowError(Exception):
    """The apply flow was driven wrongly; the message names the state and what arrived."""


class IllegalIntent(ApplyFlowError):
    """A touch the current step does not offer (usually a double tap after the step changed)."""


class IllegalEvent(ApplyFlowError):
    """An effect result that does not belong to the current state: a bug in the runtime."""


@dataclass(frozen=True)
class TerminalFacts:
    """What the receipt and guide sheets say about this terminal."""

    name: LocalizedText
    terminal_id: str
    hotline: str
    follow_url: str = "https://zwfw.example.gov.cn/track/{tracking_no}"


@dataclass(frozen=True)
class FlowSettings:
    """Timeouts and limits. Every timeout shows a warning first (the countdown *is* the warning)."""

    card_back_s: float = 30.0  # card lifted before submitting: time to put it back
    payment_wait_s: float = 180.0  # waiting for the payment before moving on unpaid
    payment_poll_s: float = 3.0
    warning_s: float = 20.0  # how long before a timeout its countdown appears
    door_reminder_after_s: float = 30.0  # door left open: first spoken reminder
    door_reminder_every_s: float = 20.0
    door_alert_after_s: float = 120.0  # door still open: staff are alerted
    receipt_show_s: float = 60.0  # receipt screen before it moves on to the thank-you
    finish_show_s: float = 10.0  # thank-you screen before the clear-down
    max_open_attempts: int = 3  # jammed doors tried before giving up on the locker
    most_used_count: int = 8
    search_limit: int = 20
    reader_devices: frozenset[str] = frozenset({"ID card reader", "social-security card reader"})
    camera_device: str = "camera"
    large_parcel_materials: int = 4  # this many paper originals need an M compartment


MaterialStatus = Literal[
    "paper", "to_capture", "captured", "elicence_offered", "elicence_used", "from_card"
]


@dataclass
class _Material:
    spec: MaterialSpec
    status: MaterialStatus
    pages: dict[int, fx.CapturedPage] = field(default_factory=dict)
    elicence: ELicenceOnFile | None = None

    @property
    def complete(self) -> bool:
        return len(self.pages) >= self.spec.pages


@dataclass
class _FormField:
    key: str
    spec: FieldSpec
    item_ids: tuple[str, ...]


HandInResult = Literal["none", "deposited", "no_compartment", "taken_back", "unconfirmed"]
ReceiptStatus = Literal["printing", "printed", "on_screen", "print_failed"]


class ApplyFlow:
    def __init__(
        self,
        catalog: CatalogView,
        forms: FormRules,
        terminal: TerminalFacts,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
        new_reference: Callable[[], str],
        settings: FlowSettings | None = None,
    ) -> None:
        self._catalog = catalog
        self._forms = forms
        self._terminal = terminal
        self._clock = clock
        self._wall_clock = wall_clock
        self._new_reference = new_reference
        self.settings = settings or FlowSettings()
        self._reader_health: dict[str, HealthState] = {}
        self._camera_health = HealthState.OK
        self.touches = 0  # intents received since the last clear-down (the touch-count bar)
        self._reset()

    # ---- state ---------------------------------------------------------------------------

    def _reset(self) -> None:
        self.step = vm.ApplyStep.IDENTIFY
        self._identity: Identity | None = None
        self._agent: fx.ApplyingAgent | None = None
        self._card_present = False
        self._card_back_deadline: float | None = None
        self._identify_purpose: Literal["start", "apply"] = "start"
        self._identify_problem: str | None = None  # a texts key
        self._browsing = False
        self._tab: vm.ChooseTab = "most_used"
        self._department_id = ""
        self._query = ""
        self._items: tuple[ItemSpec, ...] = ()
        self._topic: TopicSpec | None = None
        self._guide_notice: tuple[str, vm.Severity] | None = None
        self._fields: list[_FormField] = []
        self._values: dict[str, str] = {}
        self._prefilled: set[str] = set()
        self._edited: set[str] = set()
        self._phone_on_file: PhoneOnFile | None = None  # the hall's suggestion, for this card
        self._show_missing = False
        self._elicences: dict[str, ELicenceOnFile] | None = None
        self._materials: list[_Material] = []
        self._materials_shown = False
        self._capture_code: str | None = None
        self._document_serial = 0
        self._document_id = ""
        self._payment_choice: Literal["none", "pay_now", "pay_at_pickup"] = "none"
        self._review_notice: tuple[str, vm.Severity] | None = None
        self._reference = ""
        self._submitting = False
        self._committed = False
        self._submitted_at: datetime | None = None
        self._promised: date | None = None
        self._tracking_no = ""
        self._payment_status: Literal["waiting_order", "showing_qr", "paid", "unavailable"] = (
            "waiting_order"
        )
        self._order: PaymentOrder | None = None
        self._payment_deadline: float | None = None
        self._next_payment_poll: float | None = None
        self._paper: list[_Material] = []
        self._reservation: Reservation | None = None
        self._phase: vm.HandInPhase = "reserving"
        self._excluded: list[int] = []
        self._item_seen = False
        self._take_back = False
        self._door_open_since: float | None = None
        self._next_reminder: float | None = None
        self._reminders = 0
        self._staff_alerted = False
        self._hand_in_notice: tuple[str, vm.Severity, dict[str, object]] | None = None
        self._hand_in_result: HandInResult = "none"
        self._receipt: ReceiptContent | None = None
        self._receipt_status: ReceiptStatus = "printing"
        self._sms_sent = False
        self._receipt_deadline: float | None = None
        self._finish_deadline: float | None = None
        self._voice_key = "apply.voice.identify"
        self._voice_args: dict[str, object] = {}
        self._voice_serial = 0

    @property
    def holds_personal_data(self) -> bool:
        return self._identity is not None or bool(self._values) or self._has_pages()

    @property
    def reference(self) -> str:
        """The local id of the committed submission ("" before Submit)."""
        return self._reference

    # ---- entry points --------------------------------------------------------------------

    def start(self, agent: fx.ApplyingAgent | None = None) -> list[fx.Effect]:
        """The citizen pressed "Apply" on the attract screen, or a village agent chose "apply
        for a citizen" (`agent`: recorded on the submission and the receipt)."""
        self._reset()
        self._agent = agent
        self.touches = 1  # the touch on the attract screen that opened the journey
        return self._enter(vm.ApplyStep.IDENTIFY)

    def send(self, intent: vm.Intent) -> list[fx.Effect]:
        name = type(intent).__name__
        if name not in self._accepted():
            raise IllegalIntent(
                f"The {self.step} step does not accept {name} now (accepted: "
                f"{', '.join(sorted(self._accepted())) or 'nothing'}); the screen is stale."
            )
        self.touches += 1
        handler = getattr(self, f"_on_{_snake(name)}")
        result: list[fx.Effect] = handler(intent)
        return result

    def handle(self, event: object) -> list[fx.Effect]:
        if isinstance(event, CardPlaced):
            return self._card_placed(event.identity)
        if isinstance(event, CardRemoved):
            return self._card_removed()
        if isinstance(event, CardReadFailed):
            return self._card_unreadable()
        if isinstance(event, DeviceHealthChanged):
            return self._health_changed(event)
        if isinstance(event, SubmissionAcknowledged):
            if self._reference and event.reference == self._reference:
                self._tracking_no = event.tracking_number
                self._rebuild_receipt()
            return []
        if isinstance(event, DoorOpened | DoorClosed | ItemDetected | ItemRemoved):
            return self._door_event(event)
        if isinstance(event, PageCaptured):
            return self._page_captured(event)
        if isinstance(event, fx.ELicencesFound):
            return self._elicences_found(event)
        if isinstance(event, fx.ELicenceLookupFailed):
            if self._elicences is None:
                self._elicences = {}
            return []
        if isinstance(event, fx.Tick):
            return self.tick()
        handler = getattr(self, f"_after_{_snake(type(event).__name__)}", None)
        if handler is None:
            raise IllegalEvent(f"The apply flow does not know the event {event!r}.")
        result: list[fx.Effect] = handler(event)
        return result

    def tick(self) -> list[fx.Effect]:
        now = self._clock()
        out: list[fx.Effect] = []
        if self._card_back_deadline is not None and now >= self._card_back_deadline:
            return self._end_session(discard=True)
        if self.step is vm.ApplyStep.PAYMENT:
            if self._payment_deadline is not None and now >= self._payment_deadline:
                self._payment_deadline = None
                return self._after_payment()
            if (
                self._payment_status == "showing_qr"
                and self._order is not None
                and self._next_payment_poll is not None
                and now >= self._next_payment_poll
            ):
                self._next_payment_poll = now + self.settings.payment_poll_s
                out.append(fx.RefreshPayment(self._order.order_id))
        if self.step is vm.ApplyStep.HAND_IN and self._door_open_since is not None:
            out.extend(self._door_timers(now))
        deadline = {
            vm.ApplyStep.RECEIPT: self._receipt_deadline,
            vm.ApplyStep.FINISH: self._finish_deadline,
        }.get(self.step)
        if deadline is not None and now >= deadline:
            if self.step is vm.ApplyStep.RECEIPT:
                return self._enter(vm.ApplyStep.FINISH)
            return self._end_session(discard=False)
        return out

    def abandon(self) -> list[fx.Effect]:
        """The shell's idle timer expired (after its own warning): the citizen has gone."""
        out: list[fx.Effect] = []
        if self._reservation is not None and self._hand_in_result == "none":
            # The door may be open with papers inside: leave the compartment held for staff.
            out.append(
                fx.AlertStaff(
                    self._reservation.compartment,
                    self._reference,
                    "The citizen left during the hand-in; check the compartment.",
                )
            )
        return out + self._end_session(discard=not self._committed)

    # ---- which intents each state accepts -------------------------------------------------

    def _accepted(self) -> frozenset[str]:
        step = self.step
        names: set[str] = set()
        before_commit = not self._committed and not self._submitting
        if before_commit:
            names.add("Cancel")
        if self._countdown() is not None and self._countdown_extendable():
            names.add("ExtendTime")
        if step is vm.ApplyStep.IDENTIFY:
            names.update({"BrowseWithoutCard"})
            if self._identify_purpose == "apply":
                names.add("Back")
        elif step is vm.ApplyStep.CHOOSE:
            names.update(
                {"ShowTab", "ChooseDepartment", "ChooseItem", "ChooseTopic", "Search", "Back"}
            )
            if self._identity is None:
                names.add("IdentifyToApply")
        elif step is vm.ApplyStep.GUIDE:
            names.update({"PrintGuide", "StartApplication", "Back"})
        elif step is vm.ApplyStep.FORM:
            names.update({"SetField", "Continue", "Back"})
        elif step is vm.ApplyStep.MATERIALS:
            names.update({"Continue", "Back", "UseELicence", "CaptureInstead", "RetakePage"})
            if self._capture_code is not None and self._camera_ok():
                names.add("CapturePage")
        elif step is vm.ApplyStep.REVIEW:
            if not self._submitting:
                names.update({"Submit", "Back"})
                if self._fee() > 0:
                    names.add("PayNow")
                    if self._pay_at_pickup_allowed():
                        names.add("PayAtPickup")
        elif step is vm.ApplyStep.PAYMENT:
            if self._pay_at_pickup_allowed() and self._payment_status != "paid":
                names.add("PayAtPickup")
            if self._payment_status in ("paid", "unavailable"):
                names.add("Continue")
        elif step is vm.ApplyStep.HAND_IN:
            if self._phase == "no_item_seen":
                names.update({"ConfirmHandIn", "ReopenDoor", "CancelHandIn"})
            elif self._phase == "door_open":
                names.add("CancelHandIn")
            elif self._phase in ("no_compartment", "unconfirmed"):
                names.add("Continue")
        elif step is vm.ApplyStep.RECEIPT:
            names.add("Finish")
            if self._receipt_status in ("on_screen", "print_failed"):
                names.add("PrintReceipt")
        elif step is vm.ApplyStep.FINISH:
            names.add("Finish")
        return frozenset(names)

    # ---- moving between steps --------------------------------------------------------------

    def _enter(self, step: vm.ApplyStep) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        leaving_materials = step is not vm.ApplyStep.MATERIALS
        if self.step is vm.ApplyStep.MATERIALS and leaving_materials and self._capture_code:
            self._capture_code = None
            out.append(fx.StopCapture())
        self.step = step
        key = f"apply.voice.{step.value}"
        args: dict[str, object] = {}
        if step is vm.ApplyStep.IDENTIFY and not self._reader_ok():
            key = "apply.voice.reader_offline"
        if step is vm.ApplyStep.MATERIALS:
            self._materials_shown = True
            out.extend(self._next_capture())
        elif step is vm.ApplyStep.PAYMENT:
            self._payment_status = "waiting_order"
            self._payment_deadline = self._clock() + self.settings.payment_wait_s
            out.append(fx.FetchPayment(self._reference))
        elif step is vm.ApplyStep.HAND_IN:
            self._phase = "reserving"
            out.append(self._reserve())
        elif step is vm.ApplyStep.RECEIPT:
            self._rebuild_receipt()
            self._receipt_status = "printing"
            assert self._receipt is not None
            out.append(fx.PrintSubmissionReceipt(self._receipt.printable))
            if self._hand_in_result in ("no_compartment", "taken_back"):
                key = "apply.voice.receipt_bring_papers"
            elif self._hand_in_result == "unconfirmed":
                key = "apply.voice.receipt_ask_staff"
        elif step is vm.ApplyStep.FINISH:
            self._receipt_deadline = None
            self._finish_deadline = self._clock() + self.settings.finish_show_s
            if self._card_present:
                key = "apply.voice.finish_take_card"
        out.append(self._speak(key, **args))
        return out

    def _speak(self, key: str, **args: object) -> fx.Speak:
        self._voice_key = key
        self._voice_args = dict(args)
        self._voice_serial += 1
        return fx.Speak(key, tuple((name, str(value)) for name, value in args.items()))

    def _end_session(self, *, discard: bool) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        if self._capture_code is not None:
            out.append(fx.StopCapture())
        if discard:
            out.extend(fx.DiscardPage(page.jpeg_path) for page in self._all_pages())
        out.append(fx.ClearDown())
        self._reset()
        self.touches = 0
        return out

    # ---- identify ------------------------------------------------------------------------

    def _card_placed(self, identity: Identity) -> list[fx.Effect]:
        self._card_present = True
        self._identify_problem = None
        if self._identity is not None:
            if self._card_back_deadline is not None:
                if identity.id_number == self._identity.id_number:
                    self._card_back_deadline = None
                    return [self._speak("apply.voice.card_back_thanks")]
                # Someone else's card: the first citizen's application must not leak to them.
                return self._end_session(discard=True) + self._start_identified(identity)
            return []
        if self.step in (vm.ApplyStep.IDENTIFY, vm.ApplyStep.CHOOSE, vm.ApplyStep.GUIDE):
            return self._start_identified(identity)
        return []

    def _start_identified(self, identity: Identity) -> list[fx.Effect]:
        self._identity = identity
        self._card_present = True
        self._browsing = False
        out: list[fx.Effect] = [fx.LookUpELicences(identity.id_number)]
        if self._items and (self._identify_purpose == "apply" or self.step is vm.ApplyStep.GUIDE):
            self._identify_purpose = "start"
            self._prepare_form()
            return out + self._enter(vm.ApplyStep.FORM)
        self._identify_purpose = "start"
        return out + self._enter(vm.ApplyStep.CHOOSE)

    def _card_removed(self) -> list[fx.Effect]:
        was_present = self._card_present
        self._card_present = False
        if self.step is vm.ApplyStep.IDENTIFY and self._identity is None:
            self._identify_problem = "apply.identify.removed_early"
            return [self._speak("apply.voice.card_removed_early")]
        if (
            self._identity is not None
            and was_present
            and not self._committed
            and not self._submitting
            and self._card_back_deadline is None
        ):
            self._card_back_deadline = self._clock() + self.settings.card_back_s
            return [self._speak("apply.voice.card_back")]
        return []

    def _card_unreadable(self) -> list[fx.Effect]:
        if self._identity is not None:
            return []
        self._identify_problem = "apply.identify.unreadable"
        return [self._speak("apply.voice.card_unreadable")]

    def _health_changed(self, event: DeviceHealthChanged) -> list[fx.Effect]:
        health = event.health
        if health.device in self.settings.reader_devices:
            was_ok = self._reader_ok()
            self._reader_health[health.device] = health.state
            if was_ok and not self._reader_ok() and self.step is vm.ApplyStep.IDENTIFY:
                return [self._speak("apply.voice.reader_offline")]
        elif health.device == self.settings.camera_device:
            self._camera_health = health.state
        return []

    def _reader_ok(self) -> bool:
        if not self._reader_health:
            return True
        return any(
            state in (HealthState.OK, HealthState.DEGRADED)
            for state in self._reader_health.values()
        )

    def _camera_ok(self) -> bool:
        return self._camera_health in (HealthState.OK, HealthState.DEGRADED)

    def _on_browse_without_card(self, _: vm.BrowseWithoutCard) -> list[fx.Effect]:
        self._browsing = True
        if self._identify_purpose == "apply" and self._items:
            self._identify_purpose = "start"
            return self._enter(vm.ApplyStep.GUIDE)
        return self._enter(vm.ApplyStep.CHOOSE)

    def _on_identify_to_apply(self, _: vm.IdentifyToApply) -> list[fx.Effect]:
        self._identify_purpose = "start"
        return self._enter(vm.ApplyStep.IDENTIFY)

    # ---- choose and guide ----------------------------------------------------------------

    def _on_show_tab(self, intent: vm.ShowTab) -> list[fx.Effect]:
        self._tab = intent.tab
        self._department_id = ""
        return []

    def _on_choose_department(self, intent: vm.ChooseDepartment) -> list[fx.Effect]:
        if self._catalog.department(intent.department_id) is None:
            raise IllegalIntent(f"No department '{intent.department_id}' in the catalog.")
        self._tab = "departments"
        self._department_id = intent.department_id
        return []

    def _on_search(self, intent: vm.Search) -> list[fx.Effect]:
        self._tab = "search"
        self._query = intent.query.strip()
        return []

    def _on_choose_item(self, intent: vm.ChooseItem) -> list[fx.Effect]:
        item = self._catalog.item(intent.item_id)
        if item is None:
            raise IllegalIntent(f"No service item '{intent.item_id}' in the catalog.")
        return self._select((item,), None) + self._enter(vm.ApplyStep.GUIDE)

    def _on_choose_topic(self, intent: vm.ChooseTopic) -> list[fx.Effect]:
        topic = self._catalog.topic(intent.topic_id)
        if topic is None:
            raise IllegalIntent(f"No topic '{intent.topic_id}' in the catalog.")
        items = tuple(
            item for item in (self._catalog.item(i) for i in topic.item_ids) if item is not None
        )
        if not items:
            raise IllegalIntent(f"Topic '{topic.id}' names no item this terminal knows.")
        return self._select(items, topic) + self._enter(vm.ApplyStep.GUIDE)

    def _select(self, items: tuple[ItemSpec, ...], topic: TopicSpec | None) -> list[fx.Effect]:
        """A different choice starts a new form; the phone number typed so far is kept."""
        out: list[fx.Effect] = []
        if items != self._items:
            self._values = {k: v for k, v in self._values.items() if k == APPLICANT_PHONE_KEY}
            self._edited &= {APPLICANT_PHONE_KEY}
            self._prefilled &= {APPLICANT_PHONE_KEY}
            self._fields = []
            out.extend(fx.DiscardPage(page.jpeg_path) for page in self._all_pages())
            self._materials = []
            self._materials_shown = False
        self._items = items
        self._topic = topic
        self._guide_notice = None
        return out

    def _on_print_guide(self, _: vm.PrintGuide) -> list[fx.Effect]:
        self._guide_notice = ("apply.guide.printing", "info")
        return [fx.PrintGuideSheet(guide_sheet(self._items, self._topic, self._terminal, "zh-CN"))]

    def _after_guide_printed(self, _: fx.GuidePrinted) -> list[fx.Effect]:
        self._guide_notice = ("apply.guide.printed", "info")
        return []

    def _after_guide_print_failed(self, event: fx.GuidePrintFailed) -> list[fx.Effect]:
        key = "apply.guide.paper_out" if event.paper_out else "apply.guide.print_failed"
        self._guide_notice = (key, "warning")
        return []

    def _on_start_application(self, _: vm.StartApplication) -> list[fx.Effect]:
        if self._identity is None:
            self._identify_purpose = "apply"
            return self._enter(vm.ApplyStep.IDENTIFY)
        self._prepare_form()
        return self._enter(vm.ApplyStep.FORM)

    # ---- the one form --------------------------------------------------------------------

    def _prepare_form(self) -> None:
        if self._fields:
            return
        by_name: dict[str, list[tuple[ItemSpec, FieldSpec]]] = {}
        for item in self._items:
            for spec in item.fields:
                by_name.setdefault(spec.name, []).append((item, spec))
        fields: list[_FormField] = []
        for name, uses in by_name.items():
            specs = {spec for _, spec in uses}
            if len(specs) == 1:  # the same question in several items is asked once
                fields.append(_FormField(name, uses[0][1], tuple(item.id for item, _ in uses)))
            else:
                fields.extend(
                    _FormField(f"{item.id}.{name}", spec, (item.id,)) for item, spec in uses
                )
        fields.append(_FormField(APPLICANT_PHONE_KEY, _PHONE_SPEC, ()))
        self._fields = fields
        assert self._identity is not None
        for form_field in fields:
            if form_field.key in self._values:
                continue
            value = self._forms.prefill(form_field.spec, self._identity)
            if value:
                self._values[form_field.key] = value
                self._prefilled.add(form_field.key)
        self._offer_phone_on_file()

    def _offer_phone_on_file(self) -> None:
        """Pre-fill the phone with the hall's number, whichever comes first: the form or the
        lookup's answer. What the citizen typed (or cleared) is theirs and is never replaced."""
        phone = self._phone_on_file
        if (
            phone is None
            or not self._fields
            or APPLICANT_PHONE_KEY in self._edited
            or self._values.get(APPLICANT_PHONE_KEY)
        ):
            return
        self._values[APPLICANT_PHONE_KEY] = phone.phone
        self._prefilled.add(APPLICANT_PHONE_KEY)

    @property
    def phone_from_hall(self) -> PhoneOnFile | None:
        """The hall's number while it is what the form holds (shown masked, for confirming)."""
        phone = self._phone_on_file
        if (
            phone is not None
            and APPLICANT_PHONE_KEY in self._prefilled
            and self._values.get(APPLICANT_PHONE_KEY) == phone.phone
        ):
            return phone
        return None

    def _field(self, key: str) -> _FormField:
        for form_field in self._fields:
            if form_field.key == key:
                return form_field
        raise IllegalIntent(f"The form has no field '{key}'.")

    def _on_set_field(self, intent: vm.SetField) -> list[fx.Effect]:
        self._field(intent.key)
        self._values[intent.key] = intent.value.strip()
        self._prefilled.discard(intent.key)
        self._edited.add(intent.key)
        return []

    def _field_error(self, form_field: _FormField) -> LocalizedText | None:
        value = self._values.get(form_field.key, "")
        if not value:
            if form_field.spec.required and (self._show_missing or form_field.key in self._edited):
                return LocalizedText("请填写此项", "Please fill this in")
            return None
        return self._forms.validate(form_field.spec, value)

    def _form_problems(self) -> int:
        problems = 0
        for form_field in self._fields:
            value = self._values.get(form_field.key, "")
            if (not value and form_field.spec.required) or (
                value and self._forms.validate(form_field.spec, value) is not None
            ):
                problems += 1
        return problems

    def _continue_from_form(self) -> list[fx.Effect]:
        if self._form_problems():
            self._show_missing = True
            return [self._speak("apply.voice.form_errors")]
        self._plan_materials()
        if any(m.status in ("to_capture", "captured", "elicence_offered") for m in self._materials):
            return self._enter(vm.ApplyStep.MATERIALS)
        self._materials_shown = False
        return self._enter(vm.ApplyStep.REVIEW)

    # ---- materials: e-copies and e-licences ----------------------------------------------

    def _plan_materials(self) -> None:
        """Decide once per selection how each material is given, keeping pages already taken."""
        known = {m.spec.code: m for m in self._materials}
        strongest: dict[str, MaterialSpec] = {}
        rank = {"paper_original": 3, "e_licence": 2, "e_copy": 1}
        for item in self._items:
            for spec in item.materials:
                held = strongest.get(spec.code)
                if held is None or rank[spec.form] > rank[held.form]:
                    strongest[spec.code] = spec
        plan: list[_Material] = []
        for code, spec in strongest.items():
            previous = known.get(code)
            if previous is not None and previous.spec == spec:
                plan.append(previous)
                continue
            plan.append(self._material_for(spec))
        self._materials = plan

    def _material_for(self, spec: MaterialSpec) -> _Material:
        if spec.form == "paper_original":
            return _Material(spec, "paper")
        if (
            spec.code == "id-card"
            and self._identity is not None
            and self._identity.source == "id_card"
        ):
            return _Material(spec, "from_card")  # the reader's chip data is the better copy
        if spec.form == "e_licence" and self._elicences and spec.elicence_type in self._elicences:
            return _Material(spec, "elicence_offered", elicence=self._elicences[spec.elicence_type])
        return _Material(spec, "to_capture")

    def _elicences_found(self, event: fx.ELicencesFound) -> list[fx.Effect]:
        if self._identity is None or event.id_number != self._identity.id_number:
            return []  # an answer for a citizen who has gone
        self._elicences = {lic.licence_type: lic for lic in event.licences}
        if event.phone is not None and self._forms.validate(_PHONE_SPEC, event.phone.phone) is None:
            self._phone_on_file = event.phone  # a landline or a typo on file: let them type it
            self._offer_phone_on_file()
        for material in self._materials:
            if (
                material.status == "to_capture"
                and not material.pages
                and material.spec.form == "e_licence"
                and material.spec.elicence_type in self._elicences
            ):
                material.status = "elicence_offered"
                material.elicence = self._elicences[material.spec.elicence_type]
        if self.step is vm.ApplyStep.MATERIALS:
            return self._next_capture()
        return []

    def _material(self, code: str) -> _Material:
        for material in self._materials:
            if material.spec.code == code:
                return material
        raise IllegalIntent(f"No material '{code}' in this application.")

    def _next_capture(self) -> list[fx.Effect]:
        """Point the camera at the first material still missing pages (or stop it)."""
        wanted = next(
            (m for m in self._materials if m.status == "to_capture" and not m.complete), None
        )
        if wanted is None or not self._camera_ok():
            if self._capture_code is not None:
                self._capture_code = None
                return [fx.StopCapture()]
            return []
        if wanted.spec.code == self._capture_code:
            return []
        self._capture_code = wanted.spec.code
        self._document_serial += 1
        self._document_id = f"{wanted.spec.code}-{self._document_serial}"
        return [fx.BeginCapture(self._document_id)]

    def _page_captured(self, event: PageCaptured) -> list[fx.Effect]:
        if (
            self.step is not vm.ApplyStep.MATERIALS
            or self._capture_code is None
            or event.document_id != self._document_id
        ):
            return [fx.DiscardPage(event.jpeg_path)]  # late or stray: nobody asked for it
        material = self._material(self._capture_code)
        slot = next(n for n in range(1, material.spec.pages + 2) if n not in material.pages)
        if slot > material.spec.pages:
            return [fx.DiscardPage(event.jpeg_path)]
        material.pages[slot] = fx.CapturedPage(material.spec.code, slot, event.jpeg_path)
        if material.complete:
            material.status = "captured"
        out = self._next_capture()
        left = self._pages_still_expected()
        out.append(
            self._speak("apply.voice.page_taken", left=left)
            if left
            else self._speak("apply.voice.pages_done")
        )
        return out

    def _pages_still_expected(self) -> int:
        return sum(m.spec.pages - len(m.pages) for m in self._materials if m.status == "to_capture")

    def _on_capture_page(self, _: vm.CapturePage) -> list[fx.Effect]:
        return [fx.CaptureNow()]

    def _on_retake_page(self, intent: vm.RetakePage) -> list[fx.Effect]:
        material = self._material(intent.material_code)
        page = material.pages.pop(intent.page_number, None)
        if page is None:
            raise IllegalIntent(
                f"Material '{intent.material_code}' has no page {intent.page_number} to retake."
            )
        material.status = "to_capture"
        out: list[fx.Effect] = [fx.DiscardPage(page.jpeg_path)]
        if self._capture_code is not None and self._capture_code != material.spec.code:
            self._capture_code = None
            out.append(fx.StopCapture())
        if self._capture_code is None:
            if not self._camera_ok():
                return out
            self._capture_code = material.spec.code
            self._document_serial += 1
            self._document_id = f"{material.spec.code}-{self._document_serial}"
            out.append(fx.BeginCapture(self._document_id))
        return out

    def _on_use_e_licence(self, intent: vm.UseELicence) -> list[fx.Effect]:
        material = self._material(intent.material_code)
        if material.elicence is None:
            raise IllegalIntent(f"No e-licence is on file for '{intent.material_code}'.")
        out: list[fx.Effect] = [fx.DiscardPage(p.jpeg_path) for p in material.pages.values()]
        material.pages.clear()
        material.status = "elicence_used"
        if self._capture_code == material.spec.code:
            self._capture_code = None
            out.append(fx.StopCapture())
        return out + self._next_capture()

    def _on_capture_instead(self, intent: vm.CaptureInstead) -> list[fx.Effect]:
        material = self._material(intent.material_code)
        if material.status not in ("elicence_offered", "elicence_used"):
            raise IllegalIntent(f"'{intent.material_code}' is not offered as an e-licence.")
        material.status = "to_capture"
        return self._next_capture()

    def _continue_from_materials(self) -> list[fx.Effect]:
        if any(m.status == "elicence_offered" for m in self._materials):
            # Unanswered offers are taken as accepted only by an explicit touch; ask first.
            for material in self._materials:
                if material.status == "elicence_offered":
                    material.status = "elicence_used"
        missing = [m for m in self._materials if m.status == "to_capture" and not m.complete]
        if missing and self._camera_ok():
            return [self._speak("apply.voice.pages_missing", left=self._pages_still_expected())]
        for material in missing:  # camera down: these go in on paper with the rest
            material.status = "paper"
        return self._enter(vm.ApplyStep.REVIEW)

    # ---- review, fee and submission ------------------------------------------------------

    def _fee(self) -> int:
        return sum(item.fee_fen for item in self._items)

    def _pay_at_pickup_allowed(self) -> bool:
        return self._fee() > 0 and all(
            item.pay_at_pickup or not item.fee_fen for item in self._items
        )

    def _on_pay_now(self, _: vm.PayNow) -> list[fx.Effect]:
        self._payment_choice = "pay_now"
        return []

    def _on_pay_at_pickup(self, _: vm.PayAtPickup) -> list[fx.Effect]:
        self._payment_choice = "pay_at_pickup"
        if self.step is vm.ApplyStep.PAYMENT:
            return self._after_payment()
        return []

    def _effective_choice(self) -> Literal["free", "pay_now", "pay_at_pickup"]:
        if self._fee() == 0:
            return "free"
        return "pay_at_pickup" if self._payment_choice == "pay_at_pickup" else "pay_now"

    def _on_submit(self, _: vm.Submit) -> list[fx.Effect]:
        assert self._identity is not None
        if not self._reference:
            self._reference = self._new_reference()
        now = self._wall_clock()
        self._submitted_at = now
        self._promised = add_working_days(
            now.date(), max(item.promised_working_days for item in self._items)
        )
        self._paper = [m for m in self._materials if m.status == "paper"]
        draft = fx.SubmissionDraft(
            reference=self._reference,
            item_ids=tuple(item.id for item in self._items),
            topic_id=self._topic.id if self._topic else None,
            applicant=self._identity,
            phone=self._values.get(APPLICANT_PHONE_KEY, ""),
            forms=self._typed_forms(),
            elicence_ids=tuple(
                m.elicence.id
                for m in self._materials
                if m.status == "elicence_used" and m.elicence is not None
            ),
            pages=tuple(self._all_pages()),
            paper_materials=tuple(m.spec.code for m in self._paper),
            fee_fen=self._fee(),
            payment_choice=self._effective_choice(),
            promised_date=self._promised,
            created_at=now,
            agent=self._agent,
        )
        self._submitting = True
        self._review_notice = ("apply.review.submitting", "info")
        return [fx.CommitSubmission(draft)]

    def _typed_forms(self) -> dict[str, dict[str, str | int | float]]:
        forms: dict[str, dict[str, str | int | float]] = {item.id: {} for item in self._items}
        for form_field in self._fields:
            value = self._values.get(form_field.key, "")
            if not value or form_field.key == APPLICANT_PHONE_KEY:
                continue
            typed: str | int | float = value
            if form_field.spec.kind == "number":
                number = float(value)
                typed = int(number) if number.is_integer() else number
            for item_id in form_field.item_ids:
                forms[item_id][form_field.spec.name] = typed
        return forms

    def _after_submission_committed(self, event: fx.SubmissionCommitted) -> list[fx.Effect]:
        if not self._submitting or event.reference != self._reference:
            raise IllegalEvent(f"SubmissionCommitted({event.reference}) arrived in {self.step}.")
        self._submitting = False
        self._committed = True
        self._card_back_deadline = None  # submitted: the card is no longer needed
        self._review_notice = None
        if self._effective_choice() == "pay_now":
            return self._enter(vm.ApplyStep.PAYMENT)
        return self._after_payment()

    def _after_submission_commit_failed(self, event: fx.SubmissionCommitFailed) -> list[fx.Effect]:
        if not self._submitting:
            raise IllegalEvent(f"SubmissionCommitFailed arrived in {self.step}.")
        self._submitting = False
        self._review_notice = ("apply.review.commit_failed", "error")
        return [self._speak("apply.voice.commit_failed")]

    # ---- payment -------------------------------------------------------------------------

    def _after_payment_order_ready(self, event: fx.PaymentOrderReady) -> list[fx.Effect]:
        if self.step is not vm.ApplyStep.PAYMENT:
            return []  # a late answer after the citizen moved on
        self._order = event.order
        if event.order.paid:
            self._payment_status = "paid"
            return [self._speak("apply.voice.paid"), *self._after_payment()]
        if self._payment_status != "showing_qr":
            self._payment_status = "showing_qr"
            self._next_payment_poll = self._clock() + self.settings.payment_poll_s
            return [self._speak("apply.voice.payment_qr")]
        return []

    def _after_payment_unavailable(self, _: fx.PaymentUnavailable) -> list[fx.Effect]:
        if self.step is not vm.ApplyStep.PAYMENT:
            return []
        self._payment_status = "unavailable"
        self._payment_deadline = None
        return [self._speak("apply.voice.payment_unavailable")]

    def _after_payment(self) -> list[fx.Effect]:
        if self._paper:
            return self._enter(vm.ApplyStep.HAND_IN)
        return self._enter(vm.ApplyStep.RECEIPT)

    def _fee_status(self, language: Language) -> str:
        fee = self._fee()
        if fee == 0:
            return tr("apply.fee.free", language)
        amount = money_text(fee)
        if self._payment_status == "paid":
            return tr("apply.fee.paid", language, amount=amount)
        if self._effective_choice() == "pay_at_pickup":
            return tr("apply.fee.at_pickup", language, amount=amount)
        return tr("apply.fee.unpaid", language, amount=amount)

    # ---- hand in -------------------------------------------------------------------------

    def _min_size(self) -> CompartmentSize:
        return "M" if len(self._paper) >= self.settings.large_parcel_materials else "S"

    def _reserve(self) -> fx.ReserveCompartment:
        return fx.ReserveCompartment(self._reference, self._min_size(), tuple(self._excluded))

    def _require_hand_in(self, what: str) -> None:
        if self.step is not vm.ApplyStep.HAND_IN:
            raise IllegalEvent(f"{what} arrived in the {self.step} step.")

    def _after_compartment_reserved(self, event: fx.CompartmentReserved) -> list[fx.Effect]:
        self._require_hand_in("CompartmentReserved")
        if self._phase != "reserving":
            raise IllegalEvent(f"CompartmentReserved arrived while {self._phase}.")
        self._reservation = event.reservation
        self._phase = "opening"
        self._item_seen = False
        return [fx.OpenCompartment(event.reservation, "deposit")]

    def _after_no_compartment_free(self, _: fx.NoCompartmentFree) -> list[fx.Effect]:
        self._require_hand_in("NoCompartmentFree")
        return self._no_compartment()

    def _no_compartment(self) -> list[fx.Effect]:
        self._phase = "no_compartment"
        self._reservation = None
        self._hand_in_result = "no_compartment"
        return [self._speak("apply.voice.no_compartment")]

    def _after_compartment_opened(self, event: fx.CompartmentOpened) -> list[fx.Effect]:
        self._require_hand_in("CompartmentOpened")
        reservation = self._reservation
        if reservation is None or event.reservation != reservation or self._phase != "opening":
            raise IllegalEvent(
                f"CompartmentOpened for {event.reservation.label} while {self._phase}."
            )
        if event.outcome in (UnlockOutcome.OPENED, UnlockOutcome.ALREADY_OPEN):
            self._door_opened()
            if self._take_back:
                self._phase = "taking_back"
                return [self._speak("apply.voice.take_back", number=reservation.compartment)]
            self._phase = "door_open"
            return [self._speak("apply.voice.door_open", number=reservation.compartment)]
        # Jammed or no answer: the compartment service has taken it out of service.
        if self._take_back:
            # The papers are locked inside and cannot be given back: they go to the centre.
            self._take_back = False
            self._phase = "checking"
            return [
                fx.AlertStaff(
                    reservation.compartment,
                    self._reference,
                    "The door would not reopen for the citizen to take the papers back.",
                ),
                fx.RecordDeposit(reservation, self._reference, verified_by_sensor=False),
            ]
        self._excluded.append(reservation.compartment)
        self._reservation = None
        out: list[fx.Effect] = [fx.ReleaseCompartment(reservation)]
        if len(self._excluded) >= self.settings.max_open_attempts:
            self._hand_in_notice = ("apply.hand_in.all_stuck", "error", {})
            return out + self._no_compartment()
        self._hand_in_notice = (
            "apply.hand_in.jammed",
            "warning",
            {"number": reservation.compartment},
        )
        self._phase = "reserving"
        out.append(self._reserve())
        out.append(self._speak("apply.voice.jammed"))
        return out

    def _door_opened(self) -> None:
        if self._door_open_since is None:
            now = self._clock()
            self._door_open_since = now
            self._next_reminder = now + self.settings.door_reminder_after_s

    def _door_event(
        self, event: DoorOpened | DoorClosed | ItemDetected | ItemRemoved
    ) -> list[fx.Effect]:
        reservation = self._reservation
        if (
            self.step is not vm.ApplyStep.HAND_IN
            or reservation is None
            or event.compartment != reservation.compartment
        ):
            return []  # another compartment, or no hand-in under way: door truth watches those
        if isinstance(event, ItemDetected):
            self._item_seen = True
            if self._phase == "no_item_seen":
                return self._record_deposit(verified=True)
            return []
        if isinstance(event, ItemRemoved):
            self._item_seen = False
            return []
        if isinstance(event, DoorOpened):
            if self._phase in ("opening", "door_open", "taking_back"):
                self._door_opened()
            return []
        # DoorClosed
        if self._phase not in ("door_open", "taking_back"):
            return []
        self._door_open_since = None
        self._next_reminder = None
        self._reminders = 0
        if self._phase == "taking_back":
            self._take_back = False
            self._reservation = None
            self._hand_in_result = "taken_back"
            return [fx.ReleaseCompartment(reservation), *self._enter(vm.ApplyStep.RECEIPT)]
        if self._item_seen or not reservation.has_item_sensor:
            return self._record_deposit(verified=reservation.has_item_sensor)
        self._phase = "no_item_seen"
        return [self._speak("apply.voice.no_item_seen")]

    def _record_deposit(self, *, verified: bool) -> list[fx.Effect]:
        assert self._reservation is not None
        self._phase = "checking"
        return [fx.RecordDeposit(self._reservation, self._reference, verified_by_sensor=verified)]

    def _after_deposit_recorded(self, event: fx.DepositRecorded) -> list[fx.Effect]:
        self._require_hand_in("DepositRecorded")
        if self._phase != "checking" or event.reservation != self._reservation:
            raise IllegalEvent(f"DepositRecorded arrived while {self._phase}.")
        self._phase = "deposited"
        self._hand_in_result = "deposited"
        return self._enter(vm.ApplyStep.RECEIPT)

    def _after_deposit_record_failed(self, event: fx.DepositRecordFailed) -> list[fx.Effect]:
        """Say so rather than "handed in": the papers may be behind the door, but nothing
        vouches for them. The compartment stays held and staff settle it by hand."""
        self._require_hand_in("DepositRecordFailed")
        reservation = self._reservation
        if self._phase != "checking" or reservation is None or event.reservation != reservation:
            raise IllegalEvent(f"DepositRecordFailed arrived while {self._phase}.")
        self._phase = "unconfirmed"
        self._hand_in_result = "unconfirmed"
        self._staff_alerted = True
        self._hand_in_notice = (
            "apply.hand_in.unconfirmed",
            "error",
            {"number": reservation.label, "hotline": self._terminal.hotline},
        )
        return [
            fx.AlertStaff(
                reservation.compartment,
                self._reference,
                f"The hand-in of submission {self._reference} into {reservation.label} could "
                f"not be recorded ({event.reason}); the citizen was told to ask staff. Check "
                "the compartment and record the deposit by hand.",
            ),
            self._speak("apply.voice.deposit_unconfirmed", number=reservation.label),
        ]

    def _on_confirm_hand_in(self, _: vm.ConfirmHandIn) -> list[fx.Effect]:
        return self._record_deposit(verified=False)

    def _on_reopen_door(self, _: vm.ReopenDoor) -> list[fx.Effect]:
        assert self._reservation is not None
        self._phase = "opening"
        return [fx.OpenCompartment(self._reservation, "reopen")]

    def _on_cancel_hand_in(self, _: vm.CancelHandIn) -> list[fx.Effect]:
        assert self._reservation is not None
        self._take_back = True
        if self._phase == "door_open":
            self._phase = "taking_back"
            return [self._speak("apply.voice.take_back", number=self._reservation.compartment)]
        self._phase = "opening"
        return [fx.OpenCompartment(self._reservation, "take_back")]

    def _door_timers(self, now: float) -> list[fx.Effect]:
        assert self._door_open_since is not None
        assert self._reservation is not None
        out: list[fx.Effect] = []
        open_for = now - self._door_open_since
        if not self._staff_alerted and open_for >= self.settings.door_alert_after_s:
            self._staff_alerted = True
            out.append(
                fx.AlertStaff(
                    self._reservation.compartment,
                    self._reference,
                    f"Door left open for {int(open_for)} s during a hand-in.",
                )
            )
            out.append(
                self._speak("apply.voice.staff_alerted", number=self._reservation.compartment)
            )
        elif self._next_reminder is not None and now >= self._next_reminder:
            self._reminders += 1
            self._next_reminder = now + self.settings.door_reminder_every_s
            out.append(self._speak("apply.voice.close_door", number=self._reservation.compartment))
        return out

    # ---- receipt and finish --------------------------------------------------------------

    def _rebuild_receipt(self) -> None:
        """The printed receipt is in Chinese, the official language of the record."""
        self._receipt = self._receipt_in("zh-CN")

    def _receipt_in(self, language: Language) -> ReceiptContent | None:
        if not self._committed or self._identity is None or self._submitted_at is None:
            return None
        assert self._promised is not None
        return build_receipt(
            terminal=self._terminal,
            tracking_no=self._tracking_no or local_tracking_number(self._reference),
            submitted_at=self._submitted_at,
            applicant=self._identity,
            items=self._items,
            paper=tuple(m.spec for m in self._paper),
            hand_in_result=self._hand_in_result,
            reservation=self._reservation
            if self._hand_in_result in ("deposited", "unconfirmed")
            else None,
            promised_date=self._promised,
            fee_text=self._fee_status(language),
            ecopies=sum(len(m.pages) for m in self._materials),
            elicences=sum(1 for m in self._materials if m.status == "elicence_used"),
            language=language,
            agent=self._agent,
        )

    def _after_receipt_printed(self, _: fx.ReceiptPrinted) -> list[fx.Effect]:
        if self.step is not vm.ApplyStep.RECEIPT:
            raise IllegalEvent(f"ReceiptPrinted arrived in the {self.step} step.")
        self._receipt_status = "printed"
        self._receipt_deadline = self._clock() + self.settings.receipt_show_s
        return [self._speak("apply.voice.receipt_printed")]

    def _after_receipt_print_failed(self, event: fx.ReceiptPrintFailed) -> list[fx.Effect]:
        if self.step is not vm.ApplyStep.RECEIPT:
            raise IllegalEvent(f"ReceiptPrintFailed arrived in the {self.step} step.")
        self._receipt_status = "on_screen" if event.paper_out else "print_failed"
        self._receipt_deadline = self._clock() + self.settings.receipt_show_s
        out: list[fx.Effect] = []
        if not self._sms_sent and self._receipt is not None:
            out.append(fx.SendReceiptBySms(self._reference, self._receipt.sms_text))
        out.append(self._speak("apply.voice.receipt_on_screen"))
        return out

    def _after_receipt_sent_by_sms(self, _: fx.ReceiptSentBySms) -> list[fx.Effect]:
        self._sms_sent = True
        return []

    def _on_print_receipt(self, _: vm.PrintReceipt) -> list[fx.Effect]:
        assert self._receipt is not None
        self._receipt_status = "printing"
        self._receipt_deadline = None
        return [fx.PrintSubmissionReceipt(self._receipt.printable)]

    def _on_finish(self, _: vm.Finish) -> list[fx.Effect]:
        if self.step is vm.ApplyStep.RECEIPT:
            return self._enter(vm.ApplyStep.FINISH)
        return self._end_session(discard=False)

    # ---- navigation ----------------------------------------------------------------------

    def _on_continue(self, _: vm.Continue) -> list[fx.Effect]:
        if self.step is vm.ApplyStep.FORM:
            return self._continue_from_form()
        if self.step is vm.ApplyStep.MATERIALS:
            return self._continue_from_materials()
        if self.step is vm.ApplyStep.PAYMENT:
            self._payment_deadline = None
            return self._after_payment()
        # HAND_IN with no compartment
        return self._enter(vm.ApplyStep.RECEIPT)

    def _on_back(self, _: vm.Back) -> list[fx.Effect]:
        step = self.step
        if step is vm.ApplyStep.IDENTIFY:
            self._identify_purpose = "start"
            return self._enter(vm.ApplyStep.GUIDE)
        if step is vm.ApplyStep.CHOOSE:
            if self._department_id:
                self._department_id = ""
                return []
            if self._query:
                self._query = ""
                return []
            if self._identity is None:
                return self._enter(vm.ApplyStep.IDENTIFY)
            return []
        if step is vm.ApplyStep.GUIDE:
            return self._enter(vm.ApplyStep.CHOOSE)
        if step is vm.ApplyStep.FORM:
            return self._enter(vm.ApplyStep.GUIDE)
        if step is vm.ApplyStep.MATERIALS:
            return self._enter(vm.ApplyStep.FORM)
        # REVIEW
        self._review_notice = None
        return self._enter(vm.ApplyStep.MATERIALS if self._materials_shown else vm.ApplyStep.FORM)

    def _on_cancel(self, _: vm.Cancel) -> list[fx.Effect]:
        return self._end_session(discard=True)

    def _on_extend_time(self, _: vm.ExtendTime) -> list[fx.Effect]:
        now = self._clock()
        if self._card_back_deadline is not None:
            self._card_back_deadline = now + self.settings.card_back_s
        elif self.step is vm.ApplyStep.PAYMENT and self._payment_deadline is not None:
            self._payment_deadline = now + self.settings.payment_wait_s
        elif self.step is vm.ApplyStep.RECEIPT and self._receipt_deadline is not None:
            self._receipt_deadline = now + self.settings.receipt_show_s
        return []

    # ---- pages bookkeeping ---------------------------------------------------------------

    def _all_pages(self) -> list[fx.CapturedPage]:
        return [
            material.pages[number]
            for material in self._materials
            for number in sorted(material.pages)
        ]

    def _has_pages(self) -> bool:
        return any(material.pages for material in self._materials)

    # ---- countdowns ------------------------------------------------------------------------

    def _countdown(self) -> tuple[float, str] | None:
        """(seconds left, kind) of the timeout being warned about now, if any."""
        now = self._clock()
        warn = self.settings.warning_s
        if self._card_back_deadline is not None:
            return (self._card_back_deadline - now, "card_back")  # shown from the start
        if self.step is vm.ApplyStep.PAYMENT and self._payment_deadline is not None:
            left = self._payment_deadline - now
            return (left, "payment") if left <= warn else None
        if self.step is vm.ApplyStep.RECEIPT and self._receipt_deadline is not None:
            left = self._receipt_deadline - now
            return (left, "receipt") if left <= warn else None
        if self.step is vm.ApplyStep.FINISH and self._finish_deadline is not None:
            return (self._finish_deadline - now, "finish")
        return None

    def _countdown_extendable(self) -> bool:
        countdown = self._countdown()
        return countdown is not None and countdown[1] != "finish"

    # ---- views ---------------------------------------------------------------------------

    def view(self, language: Language) -> vm.ApplyView:
        from .views import render  # the view code is long; kept apart from the transitions

        return render(self, language)


def local_tracking_number(reference: str) -> str:
    """Printed until the hall's tracking number is known: enough to find the record by phone."""
    return f"L{reference.replace('-', '')[:12].upper()}"


def add_working_days(start: date, days: int) -> date:
    """Promised date: working days after `start`, weekends skipped (holidays: the hall's job)."""
    current = start
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def _snake(name: str) -> str:
    out: list[str] = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def items_names(items: Sequence[ItemSpec], language: Language) -> tuple[str, ...]:
    return tuple(item.name.in_language(language) for item in items)
