"""The apply runtime with the real services: card placed to receipt, on a temp database.

Real: the SQLite database and its migrations, the audit log, the outbox, the submission store,
the compartment service over a serial lock-board column (Kerong CU16, item sensors) talking to
the emulated firmware over socket://, the catalog from service_hall/data/catalog.json, the form
rules, and two one-thread executors. Faked (recording): the printer, the camera and the hall's
two direct questions. The test thread plays the UI thread: it drains what the runtime posts.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from devices.lockers.column import SerialLockerColumn
from devices.lockers.protocols import protocol_by_name
from firmware_stubs.lockers import LockerBusFirmware
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.apply import view_models as vm
from kiosk.apply.adapters import (
    RECEIPT_SMS_KIND,
    CatalogAdapter,
    ELicenceDesk,
    FormRulesAdapter,
    LockerDesk,
    PageFiles,
    PaymentDeskAdapter,
    ReceiptSmsDesk,
    SubmissionDesk,
)
from kiosk.apply.flow import ApplyFlow, TerminalFacts
from kiosk.apply.runtime import ApplyRuntime, ApplyServices
from kiosk.apply.store import SubmissionStore
from kiosk.catalog import Catalog, parse_catalog_file
from kiosk.compartments import CompartmentService, CompartmentState, subject_of
from kiosk.config import CompartmentSettings, LockerColumnSettings
from kiosk.i18n import LocalizedText
from kiosk.outbox import Outbox
from kiosk.ports.camera import CameraMode
from kiosk.ports.identity import CardPlaced, Identity
from kiosk.ports.lockers import DoorState
from kiosk.ports.printer import PaperLevel, PaperStatus, PrintedReceipt, SubmissionReceipt
from kiosk.storage import AuditLog, Database, Outcome

CATALOG_FILE = Path(__file__).resolve().parents[2] / "service_hall" / "data" / "catalog.json"
PHONE = "13800138000"
CITIZEN = Identity(
    name="张秀英",
    id_number="430821198503120023",
    source="id_card",
    gender="female",
    birth_date=date(1985, 3, 12),
)


class RecordingPrinter:
    def __init__(self) -> None:
        self.printed: list[SubmissionReceipt] = []

    def paper_status(self) -> PaperStatus:
        return PaperStatus(PaperLevel.OK, cover_open=False)

    def print_submission_receipt(self, receipt: SubmissionReceipt) -> PrintedReceipt:
        self.printed.append(receipt)
        return PrintedReceipt(512, receipt.tracking_no)


class IdleCamera:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def set_mode(self, mode: CameraMode) -> None:
        self.calls.append(f"mode:{mode.value}")

    def begin_document(self, document_id: str) -> None:
        self.calls.append(f"begin:{document_id}")

    def capture_page_now(self) -> None:
        self.calls.append("capture")


class OfflineHall:
    """The hall's direct questions while the hall is unreachable (the outbox keeps the rest)."""

    def __init__(self) -> None:
        self.lookups = 0
        self.orders: dict[str, Mapping[str, Any]] = {}

    def lookup_elicences(self, id_number: str, purpose: str) -> Mapping[str, Any]:
        self.lookups += 1
        raise OSError("The service hall cannot be reached (test: offline).")

    def payment_order(self, hall_submission_id: str) -> Mapping[str, Any] | None:
        return self.orders.get(hall_submission_id)


@dataclass
class Terminal:
    database: Database
    audit: AuditLog
    outbox: Outbox
    store: SubmissionStore
    compartments: CompartmentService
    firmware: LockerBusFirmware
    runtime: ApplyRuntime
    printer: RecordingPrinter
    catalog: CatalogAdapter
    ui: queue.SimpleQueue[Callable[[], None]]
    views: list[vm.ApplyView]
    ended: list[bool]

    def pump(self) -> None:
        """Be the UI thread for a moment: run whatever was posted."""
        while True:
            try:
                self.ui.get_nowait()()
            except queue.Empty:
                return

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if condition():
                return
            with contextlib.suppress(queue.Empty):
                self.ui.get(timeout=0.02)()
        self.pump()
        assert condition(), f"not reached in {timeout} s; the flow is at {self.runtime.flow.step}"

    def send(self, intent: vm.Intent) -> None:
        assert self.runtime.send(intent), f"{intent} refused at {self.runtime.flow.step}"
        self.pump()

    @property
    def view(self) -> vm.ApplyView:
        return self.views[-1]

    def board_lock(self, compartment: int) -> dict[str, object]:
        return {"board": 0, "lock": compartment}


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    protocol = protocol_by_name("kerong-cu16", None)
    firmware = LockerBusFirmware(protocol, {0: protocol.locks_per_board})
    stub = SerialStubServer(firmware, use_pty=False, pty_link=None).start()
    settings = LockerColumnSettings(
        name="A",
        port=stub.url,
        protocol="kerong-cu16",
        compartments=[
            CompartmentSettings(number=n, board=0, lock=n, size=size, row=n)  # type: ignore[arg-type]
            for n, size in ((1, "S"), (2, "S"), (3, "M"), (4, "L"))
        ],
    )
    column = SerialLockerColumn.from_settings(
        settings, fast_poll_s=0.05, idle_poll_s=0.1, poll_timeout_s=1.0
    )
    database = Database.open(tmp_path / "kiosk.sqlite3")
    audit = AuditLog(database)
    outbox = Outbox(database)
    store = SubmissionStore(database, outbox)
    compartments = CompartmentService(database, audit, [column])
    ui: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
    runtime_box: list[ApplyRuntime] = []

    def forward(event: object) -> None:  # from the column's poller thread to the UI thread
        ui.put(lambda: runtime_box[0].handle(event))

    column.start(compartments.locker_event_sink(forward))
    deadline = time.monotonic() + 10
    while any(r.door is DoorState.UNKNOWN for r in column.readings().values()):
        assert time.monotonic() < deadline, "the emulated board never answered"
        time.sleep(0.02)
    compartments.start_up()

    catalog_value = Catalog.from_delta(parse_catalog_file(json.loads(CATALOG_FILE.read_text())))
    catalog = CatalogAdapter(lambda: catalog_value, database)
    hall = OfflineHall()
    printer = RecordingPrinter()
    flow = ApplyFlow(
        catalog=catalog,
        forms=FormRulesAdapter(),
        terminal=TerminalFacts(LocalizedText("慈利县服务站", "Cili"), "demo-0001", "12345"),
        clock=time.monotonic,
        wall_clock=lambda: datetime.now(UTC),
        new_reference=lambda: "ref-int-0001",
    )
    views: list[vm.ApplyView] = []
    ended: list[bool] = []
    local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apply")
    hall_lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apply-hall")
    runtime = ApplyRuntime(
        flow,
        ApplyServices(
            submissions=SubmissionDesk(database, store, catalog=catalog),
            lockers=LockerDesk(compartments, outbox),
            printer=printer,
            receipt_sms=ReceiptSmsDesk(database, outbox),
            camera=IdleCamera(),
            pages=PageFiles(tmp_path / "pages"),
            elicences=ELicenceDesk(hall),
            payments=PaymentDeskAdapter(hall, outbox),
        ),
        worker=local,
        hall_worker=hall_lane,
        post=ui.put,
        publish=views.append,
        language=lambda: "en",
        clock=time.monotonic,
        on_journey_ended=lambda: ended.append(True),
    )
    runtime_box.append(runtime)
    yield Terminal(
        database,
        audit,
        outbox,
        store,
        compartments,
        firmware,
        runtime,
        printer,
        catalog,
        ui,
        views,
        ended,
    )
    local.shutdown(wait=True)
    hall_lane.shutdown(wait=True)
    column.stop()
    stub.stop()
    database.close()


def _apply_until_the_door_opens(t: Terminal) -> None:
    t.runtime.start()
    t.runtime.handle(CardPlaced(CITIZEN))
    t.pump()
    assert t.runtime.flow.step is vm.ApplyStep.CHOOSE
    t.send(vm.Search("licence reissue"))
    t.send(vm.ChooseItem("mr-licence-reissue"))
    t.send(vm.StartApplication())
    t.send(vm.SetField("credit_code", "92430821MA4L00001X"))
    t.send(vm.SetField("applicant.phone", PHONE))
    t.send(vm.Continue())
    assert t.runtime.flow.step is vm.ApplyStep.REVIEW  # the ID card's copy is the chip's data
    t.send(vm.Submit())
    t.wait_for(lambda: getattr(t.view.body, "phase", "") == "door_open")


def test_card_to_receipt_commits_the_submission_the_deposit_and_the_door_truth(
    terminal: Terminal,
) -> None:
    t = terminal
    _apply_until_the_door_opens(t)
    number = t.view.body.compartment_number  # type: ignore[union-attr]
    assert number == 1  # best fit: the first S compartment
    label = t.view.body.compartment_label  # type: ignore[union-attr]

    t.firmware.control("put_item", t.board_lock(number))
    t.firmware.control("close_door", t.board_lock(number))
    t.wait_for(lambda: t.runtime.flow.step is vm.ApplyStep.RECEIPT)
    t.wait_for(lambda: getattr(t.view.body, "status", "") == "printed")
    (receipt,) = t.printer.printed
    assert receipt.compartment == label  # as the screens call it: "A01"
    assert receipt.applicant == CITIZEN.masked

    stored = t.store.get("ref-int-0001")
    assert stored is not None
    assert (stored.status, stored.compartment_label, stored.deposit_verified) == (
        "deposited",
        "A01",
        True,
    )
    assert t.compartments.compartment(number).state is CompartmentState.OCCUPIED
    messages = t.outbox.messages()
    kinds = [(m.kind, m.payload.get("type")) for m in messages]
    assert ("submission", None) in kinds
    assert ("event", "deposited") in kinds
    submission = next(m for m in messages if m.kind == "submission")
    assert submission.payload["item_ids"] == ["mr-licence-reissue"]
    assert submission.payload["applicant"]["phone"] == PHONE

    story = t.audit.for_subject(subject_of(number))
    intents = [e for e in story if e.action == "door.open" and e.intent_id is None]
    outcomes = [e for e in story if e.intent_id is not None]
    assert len(intents) == 1
    assert intents[0].reason == "hand in materials"
    assert intents[0].actor.id == "submission:ref-int-0001"
    assert [(o.intent_id, o.outcome) for o in outcomes] == [(intents[0].id, Outcome.OPENED)]
    assert t.audit.pending_intents() == []

    assert [item.id for item in t.catalog.most_used(1)] == ["mr-licence-reissue"]

    t.send(vm.Finish())
    t.send(vm.Finish())
    assert t.ended == [True]
    assert not t.runtime.flow.holds_personal_data


def test_a_jammed_lock_goes_out_of_service_and_the_next_compartment_opens(
    terminal: Terminal,
) -> None:
    t = terminal
    t.firmware.control("jam", t.board_lock(1))
    _apply_until_the_door_opens(t)
    assert t.view.body.compartment_number == 2  # type: ignore[union-attr]
    assert t.compartments.compartment(1).state is CompartmentState.OUT_OF_SERVICE
    jammed = [e for e in t.audit.for_subject(subject_of(1)) if e.intent_id is not None]
    assert [e.outcome for e in jammed] == [Outcome.JAMMED]

    t.send(vm.CancelHandIn())  # the citizen changes their mind with the door open
    t.firmware.control("close_door", t.board_lock(2))
    t.wait_for(lambda: t.runtime.flow.step is vm.ApplyStep.RECEIPT)
    t.wait_for(lambda: t.compartments.compartment(2).state is CompartmentState.FREE)
    stored = t.store.get("ref-int-0001")
    assert stored is not None
    assert stored.status == "submitted"  # still submitted: the papers go to the centre by hand


def test_hall_side_adapters_wait_for_the_outbox_and_queue_the_sms(terminal: Terminal) -> None:
    t = terminal
    hall = OfflineHall()
    payments = PaymentDeskAdapter(hall, t.outbox)
    _apply_until_the_door_opens(t)
    assert payments.order_for("ref-int-0001") is None  # the hall does not hold it yet

    (submission,) = [m for m in t.outbox.messages() if m.kind == "submission"]
    t.outbox.acknowledge(submission.key, "hall-77", "GZ-2025-000077")
    hall.orders["hall-77"] = {
        "order_id": "o-9",
        "amount_fen": 800,
        "status": "unpaid",
        "qr_payload": "https://hall/pay/o-9",
    }
    order = payments.order_for("ref-int-0001")
    assert order is not None
    assert (order.order_id, order.paid) == ("o-9", False)
    hall.orders["hall-77"] = {**hall.orders["hall-77"], "status": "paid"}
    assert payments.refresh("o-9").paid is True

    ReceiptSmsDesk(t.database, t.outbox).send("ref-int-0001", "回执 L0001")
    (sms,) = [m for m in t.outbox.messages() if m.kind == RECEIPT_SMS_KIND]
    assert sms.payload == {"submission_ref": "ref-int-0001", "text": "回执 L0001"}
    assert sms.ordering_key != "ref-int-0001"  # never holds up the submission's own messages

    desk = LockerDesk(t.compartments, t.outbox)
    desk.alert_staff(1, "ref-int-0001", "Door left open for 120 s during a hand-in.")
    assert "120 s" in t.compartments.compartment(1).attention
    (alarm,) = [m for m in t.outbox.messages() if m.payload.get("type") == "door_alarm"]
    assert alarm.payload["compartment"] == "A01"
