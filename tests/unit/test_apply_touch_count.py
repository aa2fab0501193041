"""Issue 5's touch-count bar, counted the way a citizen's finger counts, on the real catalog.

Every intent is one touch, and the form screen sends one `SetField` per keypad key (screens/
keypads.py forwards the whole text after each key), so typing is replayed here key by key: an
entry of N characters costs N touches. The item is a real one from
service_hall/data/catalog.json with a paper original, no e-copy to photograph when the citizen
identifies with an ID card (its chip is the ID copy), and one required question answered with a
choice button; the phone comes from the hall's lookup and is only confirmed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_apply_flow_fakes import ZHANG, FakeClock, wall_clock

from kiosk.apply import effects as fx
from kiosk.apply import view_models as vm
from kiosk.apply.adapters import CatalogAdapter, FormRulesAdapter
from kiosk.apply.flow import ApplyFlow, TerminalFacts
from kiosk.apply.ports import Reservation
from kiosk.catalog import Catalog, parse_catalog_file
from kiosk.i18n import LocalizedText
from kiosk.materials import PhoneOnFile
from kiosk.ports.identity import CardPlaced
from kiosk.ports.lockers import DoorClosed, DoorOpened, ItemDetected, UnlockOutcome

CATALOG_FILE = Path(__file__).resolve().parents[2] / "service_hall" / "data" / "catalog.json"
ITEM = "hh-register-reissue"  # household register reissue: the application form on paper
PHONE = "13800138000"
BOX = Reservation("r-2", 2, "A", "S", 1, 2, has_item_sensor=True)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_delta(parse_catalog_file(json.loads(CATALOG_FILE.read_text())))


class Finger:
    """Drives the flow as the screens do and counts the touches a citizen makes."""

    def __init__(self, catalog: Catalog) -> None:
        self.clock = FakeClock()
        self.flow = ApplyFlow(
            catalog=CatalogAdapter(lambda: catalog),
            forms=FormRulesAdapter(wall_clock),
            terminal=TerminalFacts(LocalizedText("慈利县服务站", "Cili"), "demo-0001", "12345"),
            clock=self.clock,
            wall_clock=wall_clock,
            new_reference=lambda: "ref-0001",
        )
        self.effects: list[fx.Effect] = []

    def tap(self, intent: vm.Intent) -> None:
        assert type(intent).__name__ in self.flow.view("zh-CN").accepts, intent
        self.effects += self.flow.send(intent)

    def type_in(self, key: str, text: str) -> None:
        """A keypad: one touch per key, the field's whole text sent after each."""
        for end in range(1, len(text) + 1):
            self.tap(vm.SetField(key, text[:end]))

    def on(self, event: object) -> None:
        self.effects += self.flow.handle(event)

    @property
    def touches(self) -> int:
        return self.flow.touches


def _answer_the_form(finger: Finger) -> None:
    """Every required field without a value: a choice is one tap, anything else is typed."""
    body = finger.flow.view("zh-CN").body
    assert isinstance(body, vm.FormView)
    for field in body.fields:
        if not field.required or field.value:
            continue
        if field.choices:
            finger.tap(vm.SetField(field.key, field.choices[0].value))
        else:
            finger.type_in(field.key, PHONE if field.kind == "phone" else "1")


def _walk(finger: Finger, phone: PhoneOnFile | None) -> None:
    finger.effects += finger.flow.start()  # the attract screen's "Apply": touch 1
    finger.on(CardPlaced(ZHANG))
    finger.on(fx.ELicencesFound(ZHANG.id_number, (), phone))
    finger.tap(vm.ChooseItem(ITEM))
    finger.tap(vm.StartApplication())
    _answer_the_form(finger)
    finger.tap(vm.Continue())
    assert finger.flow.step is vm.ApplyStep.REVIEW  # nothing to photograph: the chip is the copy
    finger.tap(vm.PayAtPickup())  # the ¥8.00 booklet fee, paid when the booklet is collected
    finger.tap(vm.Submit())
    finger.on(fx.SubmissionCommitted("ref-0001"))
    assert finger.flow.view("en").step is vm.ApplyStep.HAND_IN
    finger.on(fx.CompartmentReserved(BOX))
    finger.on(fx.CompartmentOpened(BOX, UnlockOutcome.OPENED))
    finger.on(DoorOpened(2))
    finger.on(ItemDetected(2))
    finger.on(DoorClosed(2))
    finger.on(fx.DepositRecorded(BOX))
    finger.on(fx.ReceiptPrinted())
    finger.tap(vm.Finish())  # "Done" on the receipt; the thank-you clears down by itself
    assert finger.flow.view("en").step is vm.ApplyStep.FINISH


def test_the_real_item_fits_the_bar(catalog: Catalog) -> None:
    item = CatalogAdapter(lambda: catalog).item(ITEM)
    assert item is not None
    assert [m.form for m in item.materials if m.code != "id-card"] == ["paper_original"]
    assert {m.code: m.form for m in item.materials}["id-card"] == "e_copy"  # from the chip
    assert [f.kind for f in item.fields if f.required] == ["choice"]


def test_happy_path_with_card_and_no_ecopies_takes_at_most_eight_real_touches(
    catalog: Catalog,
) -> None:
    finger = Finger(catalog)
    _walk(finger, PhoneOnFile(PHONE, "138****8000", "registry"))
    draft = next(e for e in finger.effects if isinstance(e, fx.CommitSubmission)).draft
    assert draft.phone == PHONE
    assert draft.paper_materials == ("application-form",)
    assert draft.payment_choice == "pay_at_pickup"
    print(f"apply happy path ({ITEM}, phone on file): {finger.touches} touches, every key counted")
    assert finger.touches <= 8


def test_without_a_phone_on_file_the_keypad_costs_a_touch_per_digit(catalog: Catalog) -> None:
    finger = Finger(catalog)
    _walk(finger, None)
    with_phone = Finger(catalog)
    _walk(with_phone, PhoneOnFile(PHONE, "138****8000", "registry"))
    print(f"apply happy path ({ITEM}, phone typed): {finger.touches} touches")
    assert finger.touches == with_phone.touches + len(PHONE)


def test_the_clock_is_not_needed_to_finish(catalog: Catalog) -> None:
    """The thank-you screen ends on its own: no further touch is owed after "Done"."""
    finger = Finger(catalog)
    _walk(finger, PhoneOnFile(PHONE, "138****8000", "registry"))
    touches = finger.touches
    finger.clock.advance(finger.flow.settings.finish_show_s)
    finger.effects += finger.flow.tick()
    assert isinstance(finger.effects[-1], fx.ClearDown)
    assert finger.touches == 0  # counted afresh for the next citizen
    assert touches <= 8
