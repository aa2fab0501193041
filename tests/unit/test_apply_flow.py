"""The apply journey's state machine: every branch of issue 5, with fakes and a fake clock."""

from __future__ import annotations

from typing import Any

import pytest
from test_apply_flow_fakes import (
    LI,
    NAMED,
    PROMISED_REISSUE,
    SS_CARD_HOLDER,
    ZHANG,
    FakeCatalog,
    FakeClock,
    FakeForms,
    wall_clock,
)

from kiosk.apply import effects as fx
from kiosk.apply import view_models as vm
from kiosk.apply.flow import (
    ApplyFlow,
    FlowSettings,
    IllegalEvent,
    IllegalIntent,
    TerminalFacts,
    add_working_days,
)
from kiosk.apply.ports import PaymentOrder, Reservation
from kiosk.apply.texts import APPLY_MESSAGES, voice_keys
from kiosk.i18n import LANGUAGES, LocalizedText
from kiosk.materials import PhoneOnFile
from kiosk.ports.camera import PageCaptured
from kiosk.ports.hall import SubmissionAcknowledged
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, HealthState
from kiosk.ports.identity import CardPlaced, CardReadFailed, CardRemoved
from kiosk.ports.lockers import DoorClosed, DoorOpened, ItemDetected, UnlockOutcome

PHONE = "13800138000"
ON_FILE = PhoneOnFile(PHONE, "138****8000", "registry")
BOX_3 = Reservation("r-3", 3, "A", "S", 2, 1, has_item_sensor=True)
BOX_5 = Reservation("r-5", 5, "A", "M", 3, 1, has_item_sensor=True)
BOX_6 = Reservation("r-6", 6, "A", "M", 3, 2, has_item_sensor=True)
NO_SENSOR = Reservation("r-9", 9, "B", "S", 1, 1, has_item_sensor=False)


class Journey:
    """Drives the flow like the runtime would, and renders every view in both languages."""

    def __init__(self, settings: FlowSettings | None = None) -> None:
        self.clock = FakeClock()
        self.flow = ApplyFlow(
            catalog=FakeCatalog(),
            forms=FakeForms(),
            terminal=TerminalFacts(
                LocalizedText("慈利县服务站", "Cili service point"), "demo-0001", "12345"
            ),
            clock=self.clock,
            wall_clock=wall_clock,
            new_reference=lambda: "ref-0001",
            settings=settings,
        )
        self.effects: list[Any] = []

    def _record(self, effects: list[Any]) -> list[Any]:
        self.effects.extend(effects)
        for language in LANGUAGES:
            self.flow.view(language)
        return effects

    def start(self) -> list[Any]:
        return self._record(self.flow.start())

    def do(self, intent: vm.Intent) -> list[Any]:
        return self._record(self.flow.send(intent))

    def on(self, event: object) -> list[Any]:
        return self._record(self.flow.handle(event))

    def tick(self, seconds: float) -> list[Any]:
        self.clock.advance(seconds)
        return self._record(self.flow.tick())

    def view(self, language: str = "en") -> vm.ApplyView:
        return self.flow.view(language)  # type: ignore[arg-type]

    @property
    def body(self) -> Any:
        return self.view().body

    def last(self, kind: type) -> Any:
        return next(e for e in reversed(self.effects) if isinstance(e, kind))

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.effects)

    # -- common stretches of the journey --

    def to_form(self, item_id: str = "reissue", identity: Any = ZHANG) -> None:
        self.start()
        self.on(CardPlaced(identity))
        self.do(vm.ChooseItem(item_id))
        self.do(vm.StartApplication())
        assert self.flow.step is vm.ApplyStep.FORM

    def fill_reissue(self) -> None:
        self.do(vm.SetField("reason", "lost"))
        self.do(vm.SetField("applicant.phone", PHONE))

    def to_hand_in(self) -> None:
        self.to_form()
        self.fill_reissue()
        self.do(vm.Continue())
        assert self.flow.step is vm.ApplyStep.REVIEW
        self.do(vm.Submit())
        self.on(fx.SubmissionCommitted("ref-0001"))
        assert self.flow.step is vm.ApplyStep.HAND_IN

    def door_opens(self, box: Reservation = BOX_3) -> None:
        self.on(fx.CompartmentReserved(box))
        self.on(fx.CompartmentOpened(box, UnlockOutcome.OPENED))
        self.on(DoorOpened(box.compartment))


# ---- the happy path ---------------------------------------------------------------------------


def test_happy_path_with_card_and_no_ecopies_needs_at_most_eight_touches() -> None:
    j = Journey()
    j.start()
    assert j.flow.step is vm.ApplyStep.IDENTIFY
    j.on(CardPlaced(ZHANG))
    assert j.flow.step is vm.ApplyStep.CHOOSE
    assert j.last(fx.LookUpELicences).id_number == ZHANG.id_number
    j.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))  # the hall knows her mobile
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    j.do(vm.SetField("reason", "lost"))  # one choice button; the phone is only confirmed
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.REVIEW  # the ID card's copy came from the chip: no camera
    j.do(vm.Submit())
    draft = j.last(fx.CommitSubmission).draft
    assert draft.item_ids == ("reissue",)
    assert draft.forms == {"reissue": {"reason": "lost"}}
    assert draft.phone == PHONE
    assert draft.paper_materials == ("application-form",)
    assert draft.promised_date == PROMISED_REISSUE
    j.on(fx.SubmissionCommitted("ref-0001"))
    assert j.last(fx.ReserveCompartment).min_size == "S"
    j.door_opens()
    hand_in = j.body
    assert (hand_in.phase, hand_in.compartment_label) == ("door_open", "A03")
    assert "row 2" in hand_in.position_text
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    assert j.last(fx.RecordDeposit).verified_by_sensor is True
    j.on(fx.DepositRecorded(BOX_3))
    assert j.flow.step is vm.ApplyStep.RECEIPT
    receipt = j.last(fx.PrintSubmissionReceipt).receipt
    assert receipt.compartment == "A03"
    assert receipt.applicant == ZHANG.masked
    assert receipt.fee == "免费"
    j.on(fx.ReceiptPrinted())
    j.do(vm.Finish())
    assert j.flow.step is vm.ApplyStep.FINISH
    touches = j.flow.touches  # every SetField is a touch: a keypad sends one per key
    print(f"apply happy path (fake catalog): {touches} touches (attract Apply included)")
    assert touches <= 8
    j.do(vm.Finish())
    assert isinstance(j.effects[-1], fx.ClearDown)
    assert not j.flow.holds_personal_data
    assert j.view().header.applicant == ""


def test_a_village_agent_applies_for_a_citizen_and_is_named_everywhere_until_clear_down() -> None:
    j = Journey()
    agent = fx.ApplyingAgent("C-0002", "李主任")
    j._record(j.flow.start(agent=agent))
    assert j.flow.step is vm.ApplyStep.IDENTIFY
    assert j.body.instruction.startswith("Applying for a citizen: lay the citizen's own ID card")
    assert j.flow.view("zh-CN").body.instruction.startswith("代办：请将办事群众本人")
    j.on(CardPlaced(ZHANG))
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    j.fill_reissue()
    j.do(vm.Continue())
    agent_line = "Submitted by village agent 李主任 (C-0002)"
    assert (j.body.lines[2].label, j.body.lines[2].value) == ("Agent", agent_line)
    j.do(vm.Submit())
    assert j.last(fx.CommitSubmission).draft.agent == agent
    j.on(fx.SubmissionCommitted("ref-0001"))
    j.door_opens()
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    j.on(fx.DepositRecorded(BOX_3))
    printed = j.last(fx.PrintSubmissionReceipt).receipt
    assert printed.submitted_by == "代办员 李主任 (C-0002) 代为提交"
    assert ("Agent", agent_line) in [(line.label, line.value) for line in j.body.lines]
    j.do(vm.Finish())
    j.do(vm.Finish())
    assert isinstance(j.effects[-1], fx.ClearDown)
    j.start()  # the next citizen, alone: no agent left over from the last session
    assert not j.body.instruction.startswith("Applying for a citizen")


def test_every_message_has_both_languages_and_every_voice_key_exists() -> None:
    for key, texts in APPLY_MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
    for step in vm.ApplyStep:
        assert f"apply.voice.{step.value}" in voice_keys()


def test_views_speak_the_step_prompt_in_the_asked_language() -> None:
    j = Journey()
    j.start()
    zh, en = j.view("zh-CN"), j.view("en")
    assert zh.voice is not None
    assert en.voice is not None
    assert zh.voice.key == en.voice.key == "apply.voice.identify"
    assert zh.voice.text != en.voice.text
    assert isinstance(j.effects[-1], fx.Speak)


# ---- identify -------------------------------------------------------------------------------


def test_card_lifted_before_it_was_read_has_its_own_message() -> None:
    j = Journey()
    j.start()
    j.on(CardRemoved("id_card"))
    body = j.body
    assert body.notice is not None
    assert "lifted too soon" in body.notice.text


def test_unreadable_card_has_its_own_message_and_animation() -> None:
    j = Journey()
    j.start()
    j.on(CardReadFailed("id_card", "checksum"))
    assert j.body.animation == "unreadable"
    assert "could not be read" in j.body.notice.text


def test_reader_offline_still_lets_the_citizen_browse() -> None:
    j = Journey()
    j.start()
    j.on(DeviceHealthChanged(DeviceHealth("ID card reader", HealthState.OFFLINE, "unplugged")))
    body = j.body
    assert body.animation == "reader_offline"
    assert not body.reader_available
    assert body.can_browse
    assert "hotline" in body.notice.text
    j.do(vm.BrowseWithoutCard())
    assert j.flow.step is vm.ApplyStep.CHOOSE


def test_one_reader_offline_is_fine_when_the_other_works() -> None:
    j = Journey()
    j.start()
    j.on(DeviceHealthChanged(DeviceHealth("ID card reader", HealthState.OFFLINE, "x")))
    j.on(DeviceHealthChanged(DeviceHealth("social-security card reader", HealthState.OK)))
    assert j.body.animation == "place_card"


def test_browse_guides_then_identify_to_apply_goes_straight_to_the_form() -> None:
    j = Journey()
    j.start()
    j.do(vm.BrowseWithoutCard())
    assert j.body.identify_label == "Use my card"
    j.do(vm.ChooseItem("reissue"))
    guide = j.body
    assert guide.start_label == "Use my card to apply"
    assert guide.legal_basis == ("Regulation, Art. 7",)
    assert [m.form for m in guide.materials] == ["e_copy", "paper_original"]
    j.do(vm.StartApplication())
    assert j.flow.step is vm.ApplyStep.IDENTIFY
    assert j.body.purpose == "apply"
    j.on(CardPlaced(ZHANG))
    assert j.flow.step is vm.ApplyStep.FORM


def test_a_card_laid_down_while_reading_a_guide_identifies_the_citizen() -> None:
    j = Journey()
    j.start()
    j.do(vm.BrowseWithoutCard())
    j.do(vm.ChooseItem("named"))
    j.on(CardPlaced(ZHANG))
    assert j.flow.step is vm.ApplyStep.FORM
    holder = next(f for f in j.body.fields if f.key == "holder_name")
    assert holder.value == ZHANG.name
    assert holder.prefilled


def test_back_from_identify_returns_to_the_guide() -> None:
    j = Journey()
    j.start()
    j.do(vm.BrowseWithoutCard())
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    j.do(vm.Back())
    assert j.flow.step is vm.ApplyStep.GUIDE


# ---- card lifted during the application ----------------------------------------------------


def test_card_lifted_mid_form_warns_then_resumes_when_put_back() -> None:
    j = Journey()
    j.to_form()
    j.on(CardRemoved("id_card"))
    view = j.view()
    assert view.overlay is not None
    assert view.countdown is not None
    assert view.countdown.seconds_left == 30
    j.tick(10)
    assert j.view().countdown.seconds_left == 20
    j.on(CardPlaced(ZHANG))
    assert j.view().overlay is None
    assert j.view().countdown is None
    assert j.flow.step is vm.ApplyStep.FORM


def test_card_lifted_and_not_put_back_ends_the_session() -> None:
    j = Journey()
    j.to_form()
    j.fill_reissue()
    j.on(CardRemoved("id_card"))
    j.tick(29)
    assert j.flow.step is vm.ApplyStep.FORM
    j.do(vm.ExtendTime())  # "I need more time" restarts the countdown
    j.tick(29)
    assert j.flow.step is vm.ApplyStep.FORM
    j.tick(2)
    assert isinstance(j.effects[-1], fx.ClearDown)
    assert j.flow.step is vm.ApplyStep.IDENTIFY
    assert not j.flow.holds_personal_data


def test_another_persons_card_clears_the_first_application() -> None:
    j = Journey()
    j.to_form()
    j.fill_reissue()
    j.on(CardRemoved("id_card"))
    j.on(CardPlaced(LI))
    assert j.count(fx.ClearDown) == 1
    assert j.flow.step is vm.ApplyStep.CHOOSE
    assert j.view().header.applicant == LI.masked
    assert j.flow._values == {}


def test_card_lifted_after_submitting_is_fine() -> None:
    j = Journey()
    j.to_hand_in()
    j.on(CardRemoved("id_card"))
    assert j.view().countdown is None


# ---- choose --------------------------------------------------------------------------------


def test_choose_by_department_topic_and_search() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    assert j.body.tabs[0].selected
    assert j.body.tabs[0].tab == "most_used"
    j.do(vm.ShowTab("departments"))
    assert {e.kind for e in j.body.entries} == {"department"}
    j.do(vm.ChooseDepartment("exit-entry"))
    assert [e.id for e in j.body.entries] == ["passport", "permit"]
    j.do(vm.Back())
    assert j.body.department_id == ""
    j.do(vm.ShowTab("topics"))
    assert j.body.entries[0].fee_text == "¥180.00"
    j.do(vm.Search("travel"))
    assert j.body.keyboard == "pinyin"
    assert [e.id for e in j.body.entries] == ["topic-travel"]
    j.do(vm.Search("zzz"))
    assert j.body.entries == ()
    assert "Nothing found" in j.body.empty_text


def test_unknown_item_is_refused() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    with pytest.raises(IllegalIntent):
        j.do(vm.ChooseItem("no-such-item"))


# ---- guide ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (fx.GuidePrinted(), "Printed"),
        (fx.GuidePrintFailed(paper_out=True, reason="paper out"), "out of paper"),
        (fx.GuidePrintFailed(paper_out=False, reason="offline"), "not working"),
    ],
)
def test_print_the_guide(result: object, expected: str) -> None:
    j = Journey()
    j.start()
    j.do(vm.BrowseWithoutCard())
    j.do(vm.ChooseItem("passport"))
    j.do(vm.PrintGuide())
    sheet = j.last(fx.PrintGuideSheet).guide
    assert any("¥120.00" in line for line in sheet.lines)
    assert "Printing" in j.body.notice.text
    j.on(result)
    assert expected in j.body.notice.text


# ---- one form ------------------------------------------------------------------------------


def test_validation_messages_sit_next_to_the_fields() -> None:
    j = Journey()
    j.to_form()
    form = j.body
    assert not form.can_continue
    assert form.errors_left == 2
    assert all(f.error == "" for f in form.fields)  # nothing shouted before the citizen tries
    j.do(vm.SetField("applicant.phone", "12345"))
    phone = next(f for f in j.body.fields if f.key == "applicant.phone")
    assert phone.error == "Enter an 11-digit mobile number"
    assert phone.keypad == "phone"
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.FORM
    reason = next(f for f in j.body.fields if f.key == "reason")
    assert reason.error == "Please fill this in"
    assert [c.label for c in reason.choices] == ["Lost", "Damaged"]
    j.fill_reissue()
    assert j.body.can_continue


def test_topic_items_share_one_form_and_numbers_are_sent_as_numbers() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    j.do(vm.ChooseTopic("topic-travel"))
    assert j.body.items == ("Item passport", "Item permit")
    j.do(vm.StartApplication())
    keys = [f.key for f in j.body.fields]
    # the same emergency phone is asked once; the two different "kind" questions stay apart
    assert keys == ["passport.kind", "permit.kind", "emergency_contact_phone", "applicant.phone"]
    assert "Item passport" in j.body.fields[0].label

    j2 = Journey()
    j2.to_form("move-in")
    j2.do(vm.SetField("persons", "3"))
    j2.do(vm.SetField("applicant.phone", PHONE))
    j2.do(vm.Continue())
    j2.do(vm.Continue())  # past materials with the camera down? no: pages are missing
    assert j2.flow.step is vm.ApplyStep.MATERIALS
    assert j2.flow._typed_forms() == {"move-in": {"persons": 3}}


# ---- e-copies and e-licences ---------------------------------------------------------------


def page(document_id: str, number: int) -> PageCaptured:
    return PageCaptured(document_id, number, f"/pages/{document_id}-{number}.jpg", 1240, 1754)


def test_capture_pages_with_expected_count_thumbnails_and_retake() -> None:
    j = Journey()
    j.to_form("move-in", identity=SS_CARD_HOLDER)
    j.do(vm.SetField("persons", "2"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.on(fx.ELicenceLookupFailed("hall offline"))
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.MATERIALS
    begin = j.last(fx.BeginCapture)
    assert begin.document_id == "housing-proof-1"
    body = j.body
    assert body.pages_still_expected == 3  # 2 pages of proof of address + household register
    assert body.show_preview
    assert body.can_capture
    assert not body.can_continue
    j.on(page("housing-proof-1", 1))
    j.do(vm.CapturePage())
    assert isinstance(j.effects[-1], fx.CaptureNow)
    j.on(page("housing-proof-1", 2))
    proof = j.body.materials[0]
    assert proof.status == "captured"
    assert len(proof.thumbnails) == 2
    assert j.last(fx.BeginCapture).document_id == "household-register-2"
    j.do(vm.RetakePage("housing-proof", 1))
    assert j.last(fx.DiscardPage).jpeg_path == "/pages/housing-proof-1-1.jpg"
    assert j.last(fx.BeginCapture).document_id == "housing-proof-3"
    j.on(page("household-register-2", 1))  # stray page from the abandoned document
    assert j.last(fx.DiscardPage).jpeg_path == "/pages/household-register-2-1.jpg"
    j.on(page("housing-proof-3", 1))
    j.on(page("household-register-4", 1))
    assert j.body.pages_still_expected == 0
    assert j.body.can_continue
    assert isinstance(j.effects[-2], fx.StopCapture)
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.REVIEW
    j.do(vm.Submit())
    pages = j.last(fx.CommitSubmission).draft.pages
    assert [(p.material_code, p.page_number) for p in pages] == [
        ("housing-proof", 1),
        ("housing-proof", 2),
        ("household-register", 1),
    ]


def test_elicence_on_file_replaces_the_photo_when_the_citizen_confirms() -> None:
    from kiosk.apply.ports import ELicenceOnFile

    j = Journey()
    j.to_form("move-in", identity=SS_CARD_HOLDER)
    j.on(
        fx.ELicencesFound(
            SS_CARD_HOLDER.id_number, (ELicenceOnFile("el-1", "household_register", "户口簿"),)
        )
    )
    j.do(vm.SetField("persons", "2"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.do(vm.Continue())
    register = next(m for m in j.body.materials if m.code == "household-register")
    assert register.status == "elicence_offered"
    assert register.use_elicence_label
    j.do(vm.UseELicence("household-register"))
    j.do(vm.CaptureInstead("household-register"))
    assert (
        next(m for m in j.body.materials if m.code == "household-register").status == "to_capture"
    )
    j.do(vm.UseELicence("household-register"))
    j.on(page("housing-proof-1", 1))
    j.on(page("housing-proof-1", 2))
    j.do(vm.Continue())
    j.do(vm.Submit())
    assert j.last(fx.CommitSubmission).draft.elicence_ids == ("el-1",)


def test_elicences_found_late_are_offered_on_the_materials_step() -> None:
    from kiosk.apply.ports import ELicenceOnFile

    j = Journey()
    j.to_form("move-in", identity=SS_CARD_HOLDER)
    j.do(vm.SetField("persons", "2"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.do(vm.Continue())
    j.on(
        fx.ELicencesFound(
            SS_CARD_HOLDER.id_number, (ELicenceOnFile("el-1", "household_register", "户口簿"),)
        )
    )
    statuses = {m.code: m.status for m in j.body.materials}
    assert statuses["household-register"] == "elicence_offered"
    j.on(fx.ELicencesFound(LI.id_number, ()))  # an answer about someone else is ignored
    assert {m.code: m.status for m in j.body.materials} == statuses


def test_camera_down_moves_the_pages_to_paper() -> None:
    j = Journey()
    j.to_form("move-in", identity=SS_CARD_HOLDER)
    j.do(vm.SetField("persons", "2"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.do(vm.Continue())
    j.on(DeviceHealthChanged(DeviceHealth("camera", HealthState.OFFLINE, "no frames")))
    body = j.body
    assert not body.camera_available
    assert body.can_continue
    assert not body.can_capture
    assert "not working" in body.notice.text
    j.do(vm.Continue())
    j.do(vm.Submit())
    assert set(j.last(fx.CommitSubmission).draft.paper_materials) == {
        "housing-proof",
        "household-register",
        "application-form",
    }


def test_continue_with_pages_missing_is_refused_with_a_spoken_count() -> None:
    j = Journey()
    j.to_form("move-in", identity=SS_CARD_HOLDER)
    j.do(vm.SetField("persons", "2"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.do(vm.Continue())
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.MATERIALS
    assert j.last(fx.Speak).key == "apply.voice.pages_missing"


# ---- review, fee and payment ---------------------------------------------------------------


def to_review_passport(j: Journey) -> None:
    j.to_form("passport")
    j.do(vm.SetField("kind", "first"))
    j.do(vm.SetField("emergency_contact_phone", "13900139000"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.do(vm.Continue())
    j.on(page("photo-1", 1))
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.REVIEW


def test_fee_is_shown_with_its_basis_and_pay_now_shows_the_hall_qr() -> None:
    j = Journey()
    to_review_passport(j)
    review = j.body
    assert review.has_fee
    assert review.fee_text == "¥120.00"
    assert review.fee_basis == "Charging notice"
    assert review.payment_choice == "pay_now"
    assert review.can_pay_at_pickup
    j.do(vm.Submit())
    j.on(fx.SubmissionCommitted("ref-0001"))
    assert j.flow.step is vm.ApplyStep.PAYMENT
    assert j.last(fx.FetchPayment).submission_reference == "ref-0001"
    assert j.body.status == "waiting_order"
    j.on(fx.PaymentOrderReady(PaymentOrder("po-1", 12000, "https://hall/pay/po-1", paid=False)))
    assert j.body.qr_payload == "https://hall/pay/po-1"
    j.tick(3)
    assert j.last(fx.RefreshPayment).order_id == "po-1"
    j.on(fx.PaymentOrderReady(PaymentOrder("po-1", 12000, "https://hall/pay/po-1", paid=True)))
    assert j.flow.step is vm.ApplyStep.HAND_IN
    j.door_opens()
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    j.on(fx.DepositRecorded(BOX_3))
    assert j.last(fx.PrintSubmissionReceipt).receipt.fee == "已缴 ¥120.00"


def test_payment_unavailable_goes_on_unpaid() -> None:
    j = Journey()
    to_review_passport(j)
    j.do(vm.Submit())
    j.on(fx.SubmissionCommitted("ref-0001"))
    j.on(fx.PaymentUnavailable("hall offline"))
    assert j.body.status == "unavailable"
    assert j.body.can_continue
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.HAND_IN


def test_payment_wait_warns_before_it_gives_up() -> None:
    j = Journey()
    to_review_passport(j)
    j.do(vm.Submit())
    j.on(fx.SubmissionCommitted("ref-0001"))
    j.on(fx.PaymentOrderReady(PaymentOrder("po-1", 12000, "qr", paid=False)))
    j.tick(150)
    assert j.view().countdown is None
    j.tick(15)
    assert j.view().countdown is not None
    assert j.view().countdown.seconds_left == 15
    j.do(vm.ExtendTime())
    j.tick(170)
    assert j.flow.step is vm.ApplyStep.PAYMENT
    j.tick(11)
    assert j.flow.step is vm.ApplyStep.HAND_IN


def test_pay_at_pickup() -> None:
    j = Journey()
    to_review_passport(j)
    j.do(vm.PayAtPickup())
    assert j.body.payment_choice == "pay_at_pickup"
    j.do(vm.Submit())
    assert j.last(fx.CommitSubmission).draft.payment_choice == "pay_at_pickup"
    j.on(fx.SubmissionCommitted("ref-0001"))
    assert j.flow.step is vm.ApplyStep.HAND_IN


def test_commit_failure_lets_the_citizen_try_again() -> None:
    j = Journey()
    j.to_form()
    j.fill_reissue()
    j.do(vm.Continue())
    j.do(vm.Submit())
    assert not j.body.can_submit  # no double submission while the commit runs
    with pytest.raises(IllegalIntent):
        j.do(vm.Submit())
    j.on(fx.SubmissionCommitFailed("disk full"))
    assert j.body.notice.severity == "error"
    assert j.body.can_submit
    j.do(vm.Submit())
    assert j.count(fx.CommitSubmission) == 2
    assert j.last(fx.CommitSubmission).draft.reference == "ref-0001"


def test_cancel_before_submitting_discards_pages_and_clears_down() -> None:
    j = Journey()
    j.to_form("move-in", identity=SS_CARD_HOLDER)
    j.do(vm.SetField("persons", "2"))
    j.do(vm.SetField("applicant.phone", PHONE))
    j.do(vm.Continue())
    j.on(page("housing-proof-1", 1))
    j.do(vm.Cancel())
    assert j.last(fx.DiscardPage).jpeg_path == "/pages/housing-proof-1-1.jpg"
    assert isinstance(j.effects[-1], fx.ClearDown)
    assert not j.flow.holds_personal_data


def test_no_cancel_after_submitting() -> None:
    j = Journey()
    j.to_hand_in()
    assert not j.view().header.can_cancel
    with pytest.raises(IllegalIntent):
        j.do(vm.Cancel())


# ---- hand in -------------------------------------------------------------------------------


def test_jammed_door_moves_to_another_compartment() -> None:
    j = Journey()
    j.to_hand_in()
    j.on(fx.CompartmentReserved(BOX_3))
    j.on(fx.CompartmentOpened(BOX_3, UnlockOutcome.JAMMED))
    assert j.last(fx.ReserveCompartment).exclude == (3,)
    assert "Door 3 would not open" in j.body.notice.text
    j.on(fx.CompartmentReserved(BOX_5))
    j.on(fx.CompartmentOpened(BOX_5, UnlockOutcome.ALREADY_OPEN))
    assert j.body.phase == "door_open"
    assert j.body.compartment_number == 5


def test_doors_that_never_open_end_as_no_compartment() -> None:
    j = Journey()
    j.to_hand_in()
    for box in (BOX_3, BOX_5, BOX_6):
        j.on(fx.CompartmentReserved(box))
        j.on(fx.CompartmentOpened(box, UnlockOutcome.UNKNOWN))
    assert j.body.phase == "no_compartment"
    j.do(vm.Continue())
    assert j.last(fx.PrintSubmissionReceipt).receipt.compartment is None


def test_no_free_compartment_still_submits_and_the_receipt_says_bring_the_papers() -> None:
    j = Journey()
    j.to_hand_in()
    j.on(fx.NoCompartmentFree())
    assert j.body.phase == "no_compartment"
    assert j.body.can_continue
    j.do(vm.Continue())
    view = j.view()
    assert view.step is vm.ApplyStep.RECEIPT
    assert "bring these paper originals" in view.body.notice.text
    assert view.voice.key == "apply.voice.receipt_bring_papers"
    assert j.last(fx.PrintSubmissionReceipt).receipt.materials == ()


def test_door_left_open_reminds_then_alerts_staff() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.tick(29)
    assert j.count(fx.AlertStaff) == 0
    assert j.body.reminder is None
    j.tick(2)
    assert j.last(fx.Speak).key == "apply.voice.close_door"
    assert "close door A03" in j.body.reminder.text  # the label on the door
    j.tick(20)
    j.tick(20)
    assert j.count(fx.Speak) >= 3
    j.tick(60)
    alert = j.last(fx.AlertStaff)
    assert alert.compartment == 3
    assert j.body.staff_alerted
    j.tick(60)
    assert j.count(fx.AlertStaff) == 1  # once
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    assert j.body.phase == "checking"


def test_no_item_seen_asks_again_and_can_reopen() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(3))
    body = j.body
    assert body.phase == "no_item_seen"
    assert body.can_reopen
    assert body.can_confirm
    j.do(vm.ReopenDoor())
    assert j.last(fx.OpenCompartment).reason == "reopen"
    j.on(fx.CompartmentOpened(BOX_3, UnlockOutcome.OPENED))
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    assert j.last(fx.RecordDeposit).verified_by_sensor


def test_no_item_seen_but_the_citizen_confirms() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(3))
    j.do(vm.ConfirmHandIn())
    assert j.last(fx.RecordDeposit).verified_by_sensor is False


def test_item_sensor_reporting_late_confirms_the_deposit() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(3))
    j.on(ItemDetected(3))
    assert j.last(fx.RecordDeposit).verified_by_sensor is True


def test_compartment_without_item_sensor_is_confirmed_by_the_door() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens(NO_SENSOR)
    j.on(DoorClosed(9))
    assert j.last(fx.RecordDeposit).verified_by_sensor is False
    j.on(fx.DepositRecorded(NO_SENSOR))
    assert j.last(fx.PrintSubmissionReceipt).receipt.compartment == "B09"


def test_cancel_while_the_door_is_open_takes_the_papers_back() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(ItemDetected(3))
    j.do(vm.CancelHandIn())
    assert j.body.phase == "taking_back"
    j.on(DoorClosed(3))
    assert j.last(fx.ReleaseCompartment).reservation == BOX_3
    assert j.count(fx.RecordDeposit) == 0
    assert j.flow.step is vm.ApplyStep.RECEIPT
    assert "bring these paper originals" in j.body.notice.text


def test_cancel_after_the_door_closed_opens_it_again() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(3))
    j.do(vm.CancelHandIn())
    assert j.last(fx.OpenCompartment).reason == "take_back"
    j.on(fx.CompartmentOpened(BOX_3, UnlockOutcome.OPENED))
    assert j.body.phase == "taking_back"
    j.on(DoorClosed(3))
    assert j.last(fx.ReleaseCompartment).reservation == BOX_3


def test_take_back_with_a_jammed_door_sends_the_papers_to_the_centre() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(3))
    j.do(vm.CancelHandIn())
    j.on(fx.CompartmentOpened(BOX_3, UnlockOutcome.JAMMED))
    assert j.count(fx.AlertStaff) == 1
    assert j.last(fx.RecordDeposit).verified_by_sensor is False


def test_other_compartments_doors_are_ignored() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(7))
    assert j.body.phase == "door_open"


def test_idle_expiry_during_hand_in_alerts_staff_and_keeps_the_compartment() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    effects = j.flow.abandon()
    assert isinstance(effects[0], fx.AlertStaff)
    assert not any(isinstance(e, fx.ReleaseCompartment | fx.DiscardPage) for e in effects)
    assert isinstance(effects[-1], fx.ClearDown)


def test_paper_heavy_application_asks_for_a_medium_compartment() -> None:
    j = Journey(FlowSettings(large_parcel_materials=1))
    j.to_hand_in()
    assert j.last(fx.ReserveCompartment).min_size == "M"


# ---- receipt and finish --------------------------------------------------------------------


def to_receipt(j: Journey) -> None:
    j.to_hand_in()
    j.door_opens()
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    j.on(fx.DepositRecorded(BOX_3))


def test_printer_out_of_paper_shows_the_receipt_and_sends_it_by_sms() -> None:
    j = Journey()
    to_receipt(j)
    j.on(fx.ReceiptPrintFailed(paper_out=True, reason="paper out"))
    body = j.body
    assert body.status == "on_screen"
    assert body.can_print_again
    assert body.tracking_number == "LREF0001"
    sms = j.last(fx.SendReceiptBySms)
    assert sms.submission_reference == "ref-0001"
    assert "LREF0001" in sms.text
    j.on(fx.ReceiptSentBySms())
    assert "138****8000" in j.body.sms_text
    j.do(vm.PrintReceipt())
    assert j.count(fx.PrintSubmissionReceipt) == 2
    j.on(fx.ReceiptPrinted())
    assert j.body.status == "printed"


def test_hall_acknowledgement_puts_its_tracking_number_on_the_receipt() -> None:
    j = Journey()
    j.to_hand_in()
    j.on(SubmissionAcknowledged("ref-0001", "hall-9", "430800202506060001"))
    j.on(SubmissionAcknowledged("someone-else", "hall-8", "999"))
    j.door_opens()
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    j.on(fx.DepositRecorded(BOX_3))
    receipt = j.last(fx.PrintSubmissionReceipt).receipt
    assert receipt.tracking_no == "430800202506060001"
    assert receipt.follow_url.endswith("/430800202506060001")


def test_receipt_and_thank_you_time_out_with_warnings() -> None:
    j = Journey()
    to_receipt(j)
    j.on(fx.ReceiptPrinted())
    j.tick(39)
    assert j.view().countdown is None
    j.tick(2)
    assert j.view().countdown.seconds_left == 19
    j.tick(20)
    assert j.flow.step is vm.ApplyStep.FINISH
    finish = j.view()
    assert finish.countdown is not None
    assert not finish.countdown.can_extend
    assert finish.body.take_card_reminder == "Please take your card with you."
    j.tick(11)
    assert isinstance(j.effects[-1], fx.ClearDown)
    assert j.flow.step is vm.ApplyStep.IDENTIFY
    assert not j.flow.holds_personal_data


# ---- illegal events ------------------------------------------------------------------------


def test_effect_results_out_of_place_raise_a_clear_error() -> None:
    j = Journey()
    j.start()
    with pytest.raises(IllegalEvent, match="CompartmentReserved arrived in the identify step"):
        j.on(fx.CompartmentReserved(BOX_3))
    with pytest.raises(IllegalEvent, match="SubmissionCommitted"):
        j.on(fx.SubmissionCommitted("ref-0001"))
    with pytest.raises(IllegalEvent, match="does not know"):
        j.on(object())


def test_stale_intents_are_refused_and_not_counted() -> None:
    j = Journey()
    j.start()
    touches = j.flow.touches
    with pytest.raises(IllegalIntent, match="identify step does not accept Submit"):
        j.do(vm.Submit())
    assert j.flow.touches == touches
    assert "BrowseWithoutCard" in j.view().accepts


def test_working_days_skip_weekends() -> None:
    from datetime import date

    assert add_working_days(date(2025, 6, 6), 1) == date(2025, 6, 9)
    assert add_working_days(date(2025, 6, 9), 5) == date(2025, 6, 16)
    assert NAMED.fields[0].name == "holder_name"


# ---- the phone on file ------------------------------------------------------------------------


def phone_field(j: Journey, language: str = "en") -> vm.FieldView:
    body = j.view(language).body
    assert isinstance(body, vm.FormView)
    return next(f for f in body.fields if f.key == "applicant.phone")


def test_the_phone_on_file_is_prefilled_masked_for_the_citizen_to_confirm() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    j.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    phone = phone_field(j)
    assert (phone.value, phone.display_value, phone.prefilled) == (PHONE, "138****8000", True)
    assert phone.error == ""
    assert "on file" in phone.note
    assert "政务服务平台" in phone_field(j, "zh-CN").note
    j.do(vm.SetField("reason", "lost"))
    assert j.view().body.can_continue
    j.do(vm.Continue())
    j.do(vm.Submit())
    assert j.last(fx.CommitSubmission).draft.phone == PHONE


def test_a_phone_arriving_after_the_form_fills_in_only_an_untouched_field() -> None:
    j = Journey()
    j.to_form()
    assert phone_field(j).value == ""
    j.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))  # the hall answered late
    assert (phone_field(j).value, phone_field(j).prefilled) == (PHONE, True)

    typed = Journey()
    typed.to_form()
    typed.do(vm.SetField("applicant.phone", "139"))  # the citizen has started typing
    typed.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))
    assert (phone_field(typed).value, phone_field(typed).prefilled) == ("139", False)

    cleared = Journey()
    cleared.to_form()
    cleared.do(vm.SetField("applicant.phone", "1"))
    cleared.do(vm.SetField("applicant.phone", ""))  # and cleared it: still theirs
    cleared.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))
    assert phone_field(cleared).value == ""


def test_the_citizen_may_change_the_phone_on_file() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    j.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    j.do(vm.SetField("applicant.phone", "13912345678"))
    phone = phone_field(j)
    assert (phone.value, phone.display_value, phone.prefilled, phone.note) == (
        "13912345678",
        "13912345678",
        False,
        "",
    )
    j.do(vm.SetField("applicant.phone", PHONE))  # typed back by hand: shown, not masked
    assert phone_field(j).display_value == PHONE
    j.do(vm.SetField("reason", "lost"))
    j.do(vm.Continue())
    j.do(vm.Submit())
    assert j.last(fx.CommitSubmission).draft.phone == PHONE


def test_the_phone_on_file_survives_choosing_another_item_and_ignores_other_people() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    j.on(fx.ELicencesFound(LI.id_number, (), PhoneOnFile("13700000000", "137****0000", "x")))
    j.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    j.do(vm.Back())
    j.do(vm.Back())
    j.do(vm.ChooseItem("named"))
    j.do(vm.StartApplication())
    assert (phone_field(j).value, phone_field(j).prefilled) == (PHONE, True)


def test_a_phone_on_file_the_form_would_refuse_is_not_prefilled() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    landline = PhoneOnFile("07445551234", "0744****1234", "earlier_submission")
    j.on(fx.ELicencesFound(ZHANG.id_number, (), landline))
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    assert (phone_field(j).value, phone_field(j).prefilled) == ("", False)


def test_the_phone_on_file_is_forgotten_at_clear_down() -> None:
    j = Journey()
    j.start()
    j.on(CardPlaced(ZHANG))
    j.on(fx.ELicencesFound(ZHANG.id_number, (), ON_FILE))
    j.do(vm.Cancel())
    assert not j.flow.holds_personal_data
    assert j.flow.phone_from_hall is None
    j.start()
    j.on(CardPlaced(LI))
    j.do(vm.ChooseItem("reissue"))
    j.do(vm.StartApplication())
    assert phone_field(j).value == ""


# ---- a hand-in that cannot be recorded ------------------------------------------------------


def test_a_deposit_that_cannot_be_recorded_sends_the_citizen_to_staff() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(ItemDetected(3))
    j.on(DoorClosed(3))
    j.on(fx.DepositRecordFailed(BOX_3, "compartment A03 reads the door open"))
    alert = j.last(fx.AlertStaff)
    assert (alert.compartment, alert.submission_reference) == (3, "ref-0001")
    assert "reads the door open" in alert.detail
    assert "record the deposit by hand" in alert.detail
    assert j.count(fx.ReleaseCompartment) == 0  # the papers may be inside
    assert j.last(fx.Speak).key == "apply.voice.deposit_unconfirmed"
    hand_in = j.body
    assert (hand_in.phase, hand_in.staff_alerted, hand_in.can_continue) == (
        "unconfirmed",
        True,
        True,
    )
    assert "Please ask staff" in hand_in.instruction
    assert hand_in.notice.severity == "error"
    assert "12345" in hand_in.notice.text  # the hotline
    assert "A03" in j.view("zh-CN").body.notice.text
    assert j.view().accepts == frozenset({"Continue"})
    j.do(vm.Continue())
    assert j.flow.step is vm.ApplyStep.RECEIPT
    assert j.last(fx.Speak).key == "apply.voice.receipt_ask_staff"
    receipt = j.last(fx.PrintSubmissionReceipt).receipt
    assert receipt.materials == ()  # not claimed as handed in
    assert receipt.compartment is None
    body = j.body
    assert body.notice is not None
    assert "ask staff" in body.notice.text
    assert "bring" not in body.notice.text.lower()


def test_deposit_record_failed_out_of_place_is_an_illegal_event() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    with pytest.raises(IllegalEvent, match="DepositRecordFailed arrived while door_open"):
        j.on(fx.DepositRecordFailed(BOX_3, "x"))


def test_leaving_after_an_unrecorded_deposit_does_not_alert_staff_twice() -> None:
    j = Journey()
    j.to_hand_in()
    j.door_opens()
    j.on(DoorClosed(3))
    j.do(vm.ConfirmHandIn())
    j.on(fx.DepositRecordFailed(BOX_3, "nothing seen"))
    alerts = j.count(fx.AlertStaff)
    j._record(j.flow.abandon())
    assert j.count(fx.AlertStaff) == alerts == 1
