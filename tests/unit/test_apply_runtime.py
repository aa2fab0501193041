"""The apply runtime: every effect performed, every failure turned into the flow's event.

The workers and the UI-thread post are queues the test drains, so the order of things is the
production order (job on a worker, outcome posted, handled on the UI thread) without threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_apply_flow_fakes import ZHANG, FakeCatalog, FakeClock, FakeForms, wall_clock

from kiosk.apply import effects as fx
from kiosk.apply import view_models as vm
from kiosk.apply.adapters import DepositNotConfirmed
from kiosk.apply.flow import ApplyFlow, FlowSettings, TerminalFacts
from kiosk.apply.ports import ELicenceOnFile, HallRecords, PaymentOrder, Reservation
from kiosk.apply.runtime import ApplyRuntime, ApplyServices, RuntimeSettings
from kiosk.compartments import DepositStatus
from kiosk.config import Language
from kiosk.i18n import LocalizedText
from kiosk.materials import PhoneOnFile
from kiosk.ports.camera import CameraError, CameraMode, PageCaptured
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, HealthState
from kiosk.ports.identity import CardPlaced
from kiosk.ports.lockers import (
    CompartmentSize,
    DoorClosed,
    DoorOpened,
    ItemDetected,
    LockerError,
    UnlockOutcome,
)
from kiosk.ports.printer import (
    PaperLevel,
    PaperStatus,
    PrintedReceipt,
    PrinterError,
    PrinterNotReady,
    SubmissionReceipt,
)
from kiosk.storage import StorageError

PHONE = "13800138000"
BOX_3 = Reservation("r-3", 3, "A", "S", 2, 1, has_item_sensor=True)
BOX_4 = Reservation("r-4", 4, "A", "S", 2, 2, has_item_sensor=True)


# ---- hand-written fakes that record -----------------------------------------------------------


class Lane:
    """A worker that queues jobs; the test runs them (in order, like a one-thread executor)."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], None]] = []
        self.closed = False

    def submit(self, fn: Callable[[], None], /) -> object:
        if self.closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        self.jobs.append(fn)
        return None


class FakeSubmissions:
    def __init__(self) -> None:
        self.drafts: list[fx.SubmissionDraft] = []
        self.deposits: list[tuple[str, str, bool, bool]] = []
        self.commit_error: Exception | None = None
        self.deposit_errors: list[Exception] = []

    def commit(self, draft: fx.SubmissionDraft) -> None:
        if self.commit_error is not None:
            raise self.commit_error
        self.drafts.append(draft)

    def record_deposit(
        self,
        reference: str,
        reservation: Reservation,
        *,
        verified_by_sensor: bool,
        inside: Callable[[], None] | None,
    ) -> None:
        if self.deposit_errors:
            raise self.deposit_errors.pop(0)
        if inside is not None:
            inside()  # raises like the real one: then nothing is recorded
        self.deposits.append((reference, reservation.label, verified_by_sensor, inside is None))


class FakeLockers:
    def __init__(self) -> None:
        self.free: list[Reservation] = [BOX_3, BOX_4]
        self.outcomes: dict[int, UnlockOutcome | Exception] = {}
        self.confirm_errors: list[Exception] = []
        self.calls: list[tuple[Any, ...]] = []
        self.reserve_error: Exception | None = None

    def reserve(
        self, min_size: CompartmentSize, submission_reference: str, exclude: Collection[int] = ()
    ) -> Reservation | None:
        self.calls.append(("reserve", min_size, submission_reference, tuple(exclude)))
        if self.reserve_error is not None:
            raise self.reserve_error
        return next((r for r in self.free if r.compartment not in exclude), None)

    def open(self, reservation: Reservation, reason: str = "deposit") -> UnlockOutcome:
        self.calls.append(("open", reservation.compartment, reason))
        outcome = self.outcomes.get(reservation.compartment, UnlockOutcome.OPENED)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def confirm_deposit(self, reservation: Reservation, submission_reference: str) -> None:
        self.calls.append(("confirm", reservation.compartment, submission_reference))
        if self.confirm_errors:
            raise self.confirm_errors.pop(0)

    def release(self, reservation: Reservation) -> None:
        self.calls.append(("release", reservation.compartment))

    def alert_staff(self, compartment: int, submission_reference: str, detail: str) -> None:
        self.calls.append(("alert", compartment, submission_reference, detail))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] == name]


class FakePrinter:
    def __init__(self) -> None:
        self.printed: list[SubmissionReceipt] = []
        self.error: Exception | None = None
        self.paper = PaperLevel.OK

    def paper_status(self) -> PaperStatus:
        return PaperStatus(self.paper, cover_open=False)

    def print_submission_receipt(self, receipt: SubmissionReceipt) -> PrintedReceipt:
        if self.error is not None:
            raise self.error
        self.printed.append(receipt)
        return PrintedReceipt(100, receipt.tracking_no)


class FakeGuidePrinter:
    def __init__(self) -> None:
        self.guides: list[fx.PrintableGuide] = []

    def print_guide(self, guide: fx.PrintableGuide) -> None:
        self.guides.append(guide)


class FakeSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, submission_reference: str, text: str) -> None:
        self.sent.append((submission_reference, text))


class FakeCamera:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.error: Exception | None = None

    def set_mode(self, mode: CameraMode) -> None:
        self.calls.append(("mode", mode.value))

    def begin_document(self, document_id: str) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append(("begin", document_id))

    def capture_page_now(self) -> None:
        self.calls.append(("capture",))


class FakePages:
    def __init__(self) -> None:
        self.discarded: list[str] = []
        self.error: Exception | None = None

    def discard(self, jpeg_path: str) -> None:
        if self.error is not None:
            raise self.error
        self.discarded.append(jpeg_path)


class FakeELicences:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.licences: Sequence[ELicenceOnFile] = ()
        self.phone: PhoneOnFile | None = None
        self.error: Exception | None = None

    def lookup(self, id_number: str) -> HallRecords:
        self.asked.append(id_number)
        if self.error is not None:
            raise self.error
        return HallRecords(tuple(self.licences), self.phone)


class FakePayments:
    def __init__(self) -> None:
        self.answers: list[PaymentOrder | Exception | None] = []
        self.refreshes: list[str] = []
        self.paid = False

    def order_for(self, submission_reference: str) -> PaymentOrder | None:
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer

    def refresh(self, order_id: str) -> PaymentOrder:
        self.refreshes.append(order_id)
        return PaymentOrder(order_id, 12000, "https://pay/o-1", paid=self.paid)


class FakeVoice:
    def __init__(self) -> None:
        self.spoken: list[tuple[str, str, str]] = []
        self.stops = 0
        self.error: Exception | None = None

    def speak(self, key: str, text: str, language: Language) -> None:
        if self.error is not None:
            raise self.error
        self.spoken.append((key, text, language))

    def stop(self) -> None:
        self.stops += 1


class Rig:
    """The runtime with every service faked, its two lanes and the UI-thread queue."""

    def __init__(self, *, voice: bool = True, guide_printer: bool = True) -> None:
        self.clock = FakeClock()
        self.flow = ApplyFlow(
            catalog=FakeCatalog(),
            forms=FakeForms(),
            terminal=TerminalFacts(LocalizedText("慈利县服务站", "Cili"), "demo-0001", "12345"),
            clock=self.clock,
            wall_clock=wall_clock,
            new_reference=lambda: "ref-0001",
            settings=FlowSettings(),
        )
        self.submissions = FakeSubmissions()
        self.lockers = FakeLockers()
        self.printer = FakePrinter()
        self.guide_printer = FakeGuidePrinter()
        self.sms = FakeSms()
        self.camera = FakeCamera()
        self.pages = FakePages()
        self.elicences = FakeELicences()
        self.payments = FakePayments()
        self.voice = FakeVoice()
        self.local = Lane()
        self.hall = Lane()
        self.ui: list[Callable[[], None]] = []
        self.views: list[vm.ApplyView] = []
        self.clear_downs = 0
        self.ended = 0
        self.language: Language = "en"
        self.runtime = ApplyRuntime(
            self.flow,
            ApplyServices(
                submissions=self.submissions,
                lockers=self.lockers,
                printer=self.printer,
                receipt_sms=self.sms,
                camera=self.camera,
                pages=self.pages,
                elicences=self.elicences,
                payments=self.payments,
                voice=self.voice if voice else None,
                guide_printer=self.guide_printer if guide_printer else None,
            ),
            worker=self.local,
            hall_worker=self.hall,
            post=self.ui.append,
            publish=self.views.append,
            language=lambda: self.language,
            clock=self.clock,
            on_clear_down=self._cleared,
            on_journey_ended=self._ended,
            settings=RuntimeSettings(payment_retry_s=2.0, payment_give_up_s=10.0),
        )

    def _cleared(self) -> None:
        self.clear_downs += 1

    def _ended(self) -> None:
        self.ended += 1

    def drain(self, *, hall: bool = True) -> None:
        """Run queued jobs and posted outcomes until nothing is left (the hall lane optional)."""
        while self.local.jobs or (hall and self.hall.jobs) or self.ui:
            for lane in (self.local, self.hall) if hall else (self.local,):
                while lane.jobs:
                    lane.jobs.pop(0)()
            while self.ui:
                self.ui.pop(0)()

    def do(self, intent: vm.Intent) -> bool:
        accepted = self.runtime.send(intent)
        self.drain()
        return accepted

    def on(self, event: object) -> None:
        self.runtime.handle(event)
        self.drain()

    def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.runtime.tick()
        self.drain()

    @property
    def view(self) -> vm.ApplyView:
        return self.views[-1]

    def to_review(self, item_id: str = "reissue") -> None:
        self.runtime.start()
        self.drain()
        self.on(CardPlaced(ZHANG))
        self.do(vm.ChooseItem(item_id))
        self.do(vm.StartApplication())
        self.do(vm.SetField("reason", "lost"))
        self.do(vm.SetField("applicant.phone", PHONE))
        self.do(vm.Continue())
        assert self.flow.step is vm.ApplyStep.REVIEW

    def to_door_open(self) -> None:
        self.to_review()
        self.do(vm.Submit())
        assert self.flow.step is vm.ApplyStep.HAND_IN
        self.on(DoorOpened(3))
        assert self.view.body.phase == "door_open"  # type: ignore[union-attr]


# ---- the happy path ---------------------------------------------------------------------------


def test_a_whole_journey_performs_each_effect_on_the_right_lane_and_ends_clean() -> None:
    rig = Rig()
    rig.runtime.start()
    assert rig.runtime.active
    assert rig.view.step is vm.ApplyStep.IDENTIFY
    assert rig.voice.spoken[-1][0] == "apply.voice.identify"

    rig.runtime.handle(CardPlaced(ZHANG))
    assert rig.hall.jobs  # the e-licence lookup goes to the hall lane
    assert not rig.local.jobs
    rig.drain()
    assert rig.elicences.asked == [ZHANG.id_number]
    assert rig.view.step is vm.ApplyStep.CHOOSE

    rig.do(vm.ChooseItem("reissue"))
    rig.do(vm.StartApplication())
    rig.do(vm.SetField("reason", "lost"))
    rig.do(vm.SetField("applicant.phone", PHONE))
    rig.do(vm.Continue())
    rig.do(vm.Submit())
    assert [d.reference for d in rig.submissions.drafts] == ["ref-0001"]
    assert rig.lockers.named("reserve") == [("reserve", "S", "ref-0001", ())]
    assert rig.lockers.named("open") == [("open", 3, "deposit")]
    assert rig.view.body.compartment_label == "A03"  # type: ignore[union-attr]
    spoken = [key for key, _, _ in rig.voice.spoken]
    assert "apply.voice.door_open" in spoken
    door_text = next(text for key, text, _ in rig.voice.spoken if key == "apply.voice.door_open")
    assert "3" in door_text  # the prompt's placeholder was filled from the effect's args

    rig.on(DoorOpened(3))
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    assert rig.lockers.named("confirm") == [("confirm", 3, "ref-0001")]
    assert rig.submissions.deposits == [("ref-0001", "A03", True, False)]
    assert rig.flow.step is vm.ApplyStep.RECEIPT
    assert rig.printer.printed[0].compartment == "A03"
    assert rig.view.body.status == "printed"  # type: ignore[union-attr]

    rig.do(vm.Finish())
    assert rig.view.step is vm.ApplyStep.FINISH
    published = len(rig.views)
    rig.do(vm.Finish())
    assert rig.clear_downs == 1
    assert rig.ended == 1
    assert rig.voice.stops == 1
    assert not rig.runtime.active
    assert len(rig.views) == published  # nothing is drawn after the clear-down
    assert rig.do(vm.Finish()) is False  # no journey: touches are dropped


def test_the_thank_you_screen_gives_way_to_the_next_person_and_nothing_earlier_does() -> None:
    idle = Rig()
    idle.runtime.start()
    assert idle.runtime.make_way() is False  # identifying: the citizen keeps the terminal
    rig = Rig()
    rig.to_door_open()
    assert rig.runtime.make_way() is False  # a door is open for this citizen
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    assert rig.runtime.make_way() is False  # the receipt is still being read
    rig.do(vm.Finish())
    assert rig.view.step is vm.ApplyStep.FINISH
    assert rig.runtime.make_way() is True
    assert (rig.clear_downs, rig.ended) == (1, 1)
    assert not rig.flow.holds_personal_data
    assert rig.submissions.deposits == [("ref-0001", "A03", True, False)]  # nothing undone


def test_views_are_published_only_when_they_change_and_again_on_request() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.drain()
    count = len(rig.views)
    rig.tick(0.25)
    rig.tick(0.25)
    assert len(rig.views) == count
    rig.language = "zh-CN"
    rig.runtime.refresh_view()
    assert len(rig.views) == count + 1
    assert rig.view.language == "zh-CN"


def test_a_stale_touch_is_refused_without_an_exception() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.drain()
    assert rig.do(vm.Submit()) is False
    assert rig.flow.step is vm.ApplyStep.IDENTIFY


# ---- failures become the flow's events ------------------------------------------------------


def test_a_refused_commit_keeps_the_citizen_on_review_with_a_message() -> None:
    rig = Rig()
    rig.to_review()
    rig.submissions.commit_error = StorageError("The disk is full; free space on /var.")
    rig.do(vm.Submit())
    assert rig.flow.step is vm.ApplyStep.REVIEW
    assert rig.view.body.notice is not None  # type: ignore[union-attr]
    assert rig.view.body.notice.severity == "error"  # type: ignore[union-attr]
    rig.submissions.commit_error = None
    rig.do(vm.Submit())
    assert rig.flow.step is vm.ApplyStep.HAND_IN


def test_an_unreachable_hall_makes_the_lookup_fail_quietly() -> None:
    rig = Rig()
    rig.elicences.error = OSError("The service hall cannot be reached")
    rig.runtime.start()
    rig.on(CardPlaced(ZHANG))
    assert rig.flow.step is vm.ApplyStep.CHOOSE


def test_a_jammed_door_and_a_failing_board_each_move_on_to_the_next_compartment() -> None:
    rig = Rig()
    rig.lockers.outcomes[3] = UnlockOutcome.JAMMED
    rig.lockers.outcomes[4] = LockerError("column A: board 0 does not answer")
    rig.to_review()
    rig.do(vm.Submit())
    assert rig.lockers.named("reserve") == [
        ("reserve", "S", "ref-0001", ()),
        ("reserve", "S", "ref-0001", (3,)),
        ("reserve", "S", "ref-0001", (3, 4)),
    ]
    assert rig.lockers.named("release") == [("release", 3), ("release", 4)]
    # No third compartment is free: the application stays submitted, papers to the centre.
    assert rig.view.body.phase == "no_compartment"  # type: ignore[union-attr]


def test_a_reservation_that_raises_counts_as_no_free_compartment() -> None:
    rig = Rig()
    rig.lockers.reserve_error = StorageError("database busy")
    rig.to_review()
    rig.do(vm.Submit())
    assert rig.view.body.phase == "no_compartment"  # type: ignore[union-attr]
    rig.do(vm.Continue())
    assert rig.flow.step is vm.ApplyStep.RECEIPT


def test_out_of_paper_shows_the_receipt_on_screen_and_sends_it_by_sms() -> None:
    rig = Rig()
    rig.printer.error = PrinterNotReady("The receipt printer is out of paper.")
    rig.printer.paper = PaperLevel.OUT
    rig.to_door_open()
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    assert rig.flow.step is vm.ApplyStep.RECEIPT
    assert rig.view.body.status == "on_screen"  # type: ignore[union-attr]
    assert [reference for reference, _ in rig.sms.sent] == ["ref-0001"]
    assert rig.view.body.sms_text != ""  # type: ignore[union-attr]


def test_a_printer_that_does_not_answer_is_a_print_failure_not_paper_out() -> None:
    rig = Rig()
    rig.printer.error = PrinterError("The receipt printer on /dev/ttyUSB1 does not answer.")
    rig.to_door_open()
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    assert rig.view.body.status == "print_failed"  # type: ignore[union-attr]
    rig.printer.error = None
    rig.do(vm.PrintReceipt())
    assert rig.view.body.status == "printed"  # type: ignore[union-attr]


def test_a_deposit_the_board_does_not_vouch_for_yet_is_asked_again_on_the_clock() -> None:
    rig = Rig()
    rig.lockers.confirm_errors = [
        DepositNotConfirmed("door reads open", DepositStatus.DOOR_STILL_OPEN)
    ]
    rig.to_door_open()
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    assert rig.flow.step is vm.ApplyStep.HAND_IN
    assert rig.submissions.deposits == []
    rig.tick(1.0)
    assert rig.submissions.deposits == [("ref-0001", "A03", True, False)]
    assert rig.flow.step is vm.ApplyStep.RECEIPT
    assert rig.lockers.named("alert") == []


def test_a_deposit_the_board_denies_is_not_claimed_the_citizen_is_sent_to_staff() -> None:
    rig = Rig()
    rig.lockers.confirm_errors = [DepositNotConfirmed("nothing seen", DepositStatus.NO_ITEM_SEEN)]
    rig.to_door_open()
    rig.on(DoorClosed(3))  # no item seen: the flow asks the citizen
    rig.do(vm.ConfirmHandIn())  # "I have put them in"
    assert rig.submissions.deposits == []  # nothing vouches for it: not recorded as handed in
    (alert,) = rig.lockers.named("alert")
    assert alert[1:3] == (3, "ref-0001")
    assert "nothing seen" in alert[3]
    assert "Check the compartment" in alert[3]
    assert rig.lockers.named("release") == []  # the papers may be inside: the box stays held
    body = rig.view.body
    assert isinstance(body, vm.HandInView)
    assert (body.phase, body.staff_alerted, body.can_continue) == ("unconfirmed", True, True)
    assert body.notice is not None
    assert "ask staff" in body.notice.text
    assert rig.voice.spoken[-1][0] == "apply.voice.deposit_unconfirmed"
    rig.do(vm.Continue())
    assert rig.flow.step is vm.ApplyStep.RECEIPT
    receipt = rig.printer.printed[-1]
    assert receipt.materials == ()
    assert receipt.compartment is None


def test_a_deposit_still_unconfirmed_when_the_attempts_run_out_fails_honestly() -> None:
    rig = Rig()
    rig.lockers.confirm_errors = [
        DepositNotConfirmed("door reads open", DepositStatus.DOOR_STILL_OPEN)
    ] * rig.runtime.settings.deposit_attempts
    rig.to_door_open()
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    for _ in range(rig.runtime.settings.deposit_attempts - 1):
        assert rig.flow.step is vm.ApplyStep.HAND_IN
        assert rig.lockers.named("alert") == []
        rig.tick(rig.runtime.settings.deposit_retry_s)
    assert rig.submissions.deposits == []
    assert rig.view.body.phase == "unconfirmed"  # type: ignore[union-attr]
    (alert,) = rig.lockers.named("alert")
    assert "door reads open" in alert[3]


def test_a_database_that_refuses_the_deposit_is_a_failure_too() -> None:
    rig = Rig()
    rig.submissions.deposit_errors = [StorageError("disk full")]
    rig.to_door_open()
    rig.on(ItemDetected(3))
    rig.on(DoorClosed(3))
    assert rig.view.body.phase == "unconfirmed"  # type: ignore[union-attr]
    assert "disk full" in rig.lockers.named("alert")[0][3]


def test_the_phone_on_file_reaches_the_form_through_the_lookup() -> None:
    rig = Rig()
    rig.elicences.phone = PhoneOnFile(PHONE, "138****8000", "registry")
    rig.runtime.start()
    rig.on(CardPlaced(ZHANG))
    rig.do(vm.ChooseItem("reissue"))
    rig.do(vm.StartApplication())
    body = rig.view.body
    assert isinstance(body, vm.FormView)
    phone = next(f for f in body.fields if f.key == "applicant.phone")
    assert (phone.value, phone.display_value, phone.prefilled) == (PHONE, "138****8000", True)
    rig.do(vm.SetField("reason", "lost"))
    rig.do(vm.Continue())
    rig.do(vm.Submit())
    assert rig.submissions.drafts[-1].phone == PHONE


def test_payment_waits_for_the_halls_order_then_polls_until_paid() -> None:
    rig = Rig()
    order = PaymentOrder("o-1", 12000, "https://pay/o-1", paid=False)
    rig.payments.answers = [None, OSError("hall unreachable"), order]
    rig.runtime.start()
    rig.on(CardPlaced(ZHANG))
    rig.do(vm.ChooseItem("passport"))
    rig.do(vm.StartApplication())
    rig.do(vm.SetField("kind", "first"))
    rig.do(vm.SetField("emergency_contact_phone", PHONE))
    rig.do(vm.SetField("applicant.phone", PHONE))
    rig.do(vm.Continue())
    assert rig.flow.step is vm.ApplyStep.MATERIALS
    (begin,) = [call for call in rig.camera.calls if call[0] == "begin"]
    rig.on(PageCaptured(begin[1], 1, "/pages/p1.jpg", 800, 600))
    rig.do(vm.Continue())
    rig.do(vm.PayNow())
    rig.do(vm.Submit())
    assert rig.flow.step is vm.ApplyStep.PAYMENT
    assert rig.view.body.status == "waiting_order"  # type: ignore[union-attr]
    rig.tick(2.0)  # asked again: the hall is unreachable this time
    assert rig.view.body.status == "waiting_order"  # type: ignore[union-attr]
    rig.tick(2.0)
    assert rig.view.body.status == "showing_qr"  # type: ignore[union-attr]
    rig.tick(3.0)
    assert rig.payments.refreshes == ["o-1"]
    rig.payments.paid = True
    rig.tick(3.0)
    assert rig.flow.step is vm.ApplyStep.HAND_IN


def test_payment_gives_up_when_the_hall_never_has_the_order() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.on(CardPlaced(ZHANG))
    rig.do(vm.ChooseItem("passport"))
    rig.do(vm.StartApplication())
    rig.do(vm.SetField("kind", "first"))
    rig.do(vm.SetField("emergency_contact_phone", PHONE))
    rig.do(vm.SetField("applicant.phone", PHONE))
    rig.do(vm.Continue())
    (begin,) = [call for call in rig.camera.calls if call[0] == "begin"]
    rig.on(PageCaptured(begin[1], 1, "/pages/p1.jpg", 800, 600))
    rig.do(vm.Continue())
    rig.do(vm.PayNow())
    rig.do(vm.Submit())
    for _ in range(6):
        rig.tick(2.0)
    assert rig.view.body.status == "unavailable"  # type: ignore[union-attr]


def test_a_refresh_still_out_is_not_asked_twice() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.drain()
    rig.runtime._submit(fx.RefreshPayment("o-1"), None)
    rig.runtime._submit(fx.RefreshPayment("o-1"), None)
    assert len(rig.hall.jobs) == 1
    rig.drain()
    rig.runtime._submit(fx.RefreshPayment("o-1"), None)
    assert len(rig.hall.jobs) == 1


def test_a_camera_that_fails_is_taken_as_down_and_its_papers_go_to_the_locker() -> None:
    rig = Rig()
    rig.camera.error = CameraError("The camera /dev/video0 cannot be opened.")
    rig.runtime.start()
    rig.on(CardPlaced(ZHANG))
    rig.do(vm.ChooseItem("passport"))
    rig.do(vm.StartApplication())
    rig.do(vm.SetField("kind", "first"))
    rig.do(vm.SetField("emergency_contact_phone", PHONE))
    rig.do(vm.SetField("applicant.phone", PHONE))
    rig.do(vm.Continue())
    assert "CapturePage" not in rig.view.accepts
    rig.do(vm.Continue())
    assert rig.flow.step is vm.ApplyStep.REVIEW


def test_camera_control_and_page_discards_reach_their_services() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.on(CardPlaced(ZHANG))
    rig.do(vm.ChooseItem("passport"))
    rig.do(vm.StartApplication())
    rig.do(vm.SetField("kind", "first"))
    rig.do(vm.SetField("emergency_contact_phone", PHONE))
    rig.do(vm.SetField("applicant.phone", PHONE))
    rig.do(vm.Continue())
    rig.do(vm.CapturePage())
    assert ("capture",) in rig.camera.calls
    (begin,) = [call for call in rig.camera.calls if call[0] == "begin"]
    rig.on(PageCaptured(begin[1], 1, "/pages/p1.jpg", 800, 600))
    assert ("mode", "idle") in rig.camera.calls  # nothing more to photograph: camera stops
    rig.do(vm.Cancel())
    assert rig.pages.discarded == ["/pages/p1.jpg"]
    assert rig.ended == 1


def test_a_failing_discard_or_voice_does_not_stop_the_journey(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    rig.voice.error = OSError("no sound card")
    rig.pages.error = OSError("read-only file system")
    with caplog.at_level(logging.WARNING):
        rig.runtime.start()
        rig.drain()
        rig.runtime._submit(fx.DiscardPage("/pages/x.jpg"), None)
        rig.drain()
    assert rig.view.step is vm.ApplyStep.IDENTIFY
    assert "read-only file system" in caplog.text


def test_guides_print_on_the_guide_printer_or_say_they_cannot() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.do(vm.BrowseWithoutCard())
    rig.do(vm.ChooseItem("reissue"))
    rig.do(vm.PrintGuide())
    assert len(rig.guide_printer.guides) == 1
    assert rig.view.body.notice.severity == "info"  # type: ignore[union-attr]

    bare = Rig(guide_printer=False)
    bare.runtime.start()
    bare.do(vm.BrowseWithoutCard())
    bare.do(vm.ChooseItem("reissue"))
    bare.do(vm.PrintGuide())
    assert bare.view.body.notice.severity == "warning"  # type: ignore[union-attr]


# ---- sessions, generations and events between journeys --------------------------------------


def test_answers_for_a_session_that_was_cleared_down_are_dropped() -> None:
    rig = Rig()
    rig.elicences.licences = (ELicenceOnFile("e-1", "household_register", "户口簿"),)
    rig.runtime.start()
    rig.drain()
    rig.runtime.handle(CardPlaced(ZHANG))
    rig.drain(hall=False)  # the lookup is still out at the hall
    rig.do(vm.Cancel())
    assert rig.ended == 1
    rig.runtime.start()
    rig.drain(hall=False)
    count = len(rig.views)
    rig.drain()  # the old answer arrives now
    assert rig.flow.step is vm.ApplyStep.IDENTIFY
    assert not rig.flow.holds_personal_data
    assert len(rig.views) == count


def test_between_journeys_health_is_followed_silently_and_cards_are_ignored() -> None:
    rig = Rig()
    offline = DeviceHealth("ID card reader", HealthState.OFFLINE, "unplugged")
    rig.runtime.handle(DeviceHealthChanged(offline))
    rig.runtime.handle(CardPlaced(ZHANG))
    rig.drain()
    assert rig.voice.spoken == []
    assert rig.views == []
    assert rig.elicences.asked == []
    rig.runtime.start()
    assert rig.voice.spoken[-1][0] == "apply.voice.reader_offline"


def test_without_a_voice_port_nothing_is_spoken_and_abandon_alerts_staff_at_the_locker() -> None:
    rig = Rig(voice=False)
    rig.to_door_open()
    rig.runtime.abandon()
    rig.drain()
    assert rig.voice.spoken == []
    (alert,) = rig.lockers.named("alert")
    assert alert[1] == 3
    assert rig.ended == 1


def test_a_stopped_worker_does_not_raise_into_the_ui_thread() -> None:
    rig = Rig()
    rig.runtime.start()
    rig.local.closed = True
    rig.hall.closed = True
    rig.runtime.handle(CardPlaced(ZHANG))
    assert rig.flow.step is vm.ApplyStep.CHOOSE


def test_a_real_thread_pool_is_a_worker(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from kiosk.apply.runtime import Worker

    with ThreadPoolExecutor(max_workers=1) as pool:
        worker: Worker = pool
        done: list[int] = []
        worker.submit(lambda: done.append(1))
    assert done == [1]
