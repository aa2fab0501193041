"""The adapters that answer the flow on the UI thread (catalog, form rules) and the pure ones."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.apply.adapters import (
    ApplyAdapterError,
    CatalogAdapter,
    ELicenceDesk,
    FormRulesAdapter,
    PageFiles,
    field_spec,
    form_field,
)
from kiosk.apply.ports import ChoiceSpec, FieldSpec, ItemSpec, TopicSpec
from kiosk.catalog import Catalog, parse_catalog_file
from kiosk.i18n import LocalizedText
from kiosk.ports.identity import Identity

CATALOG_FILE = Path(__file__).resolve().parents[2] / "service_hall" / "data" / "catalog.json"
CITIZEN = Identity(
    name="张秀英",
    id_number="430821198503120023",
    source="id_card",
    gender="female",
    birth_date=date(1985, 3, 12),
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_delta(parse_catalog_file(json.loads(CATALOG_FILE.read_text())))


def test_the_real_catalog_reads_as_the_flows_specs(catalog: Catalog) -> None:
    view = CatalogAdapter(lambda: catalog)
    passport = view.item("ee-passport")
    assert passport is not None
    assert passport.fee_fen == 12000
    assert passport.fee_basis == passport.legal_basis
    assert {m.code: m.form for m in passport.materials}["old-passport"] == "paper_original"
    assert {m.code: m.pages for m in passport.materials}["id-card"] == 2
    assert [f.kind for f in passport.fields][-1] == "phone"
    assert view.item("no-such-item") is None
    assert len(view.departments()) == 7
    assert all(isinstance(t, TopicSpec) for t in view.topics())
    department = view.department(passport.department_id)
    assert department is not None
    assert passport in view.items_of(department.id)
    assert view.item("ee-passport") is passport  # converted once per catalog value


def test_search_and_most_used_come_from_the_core(catalog: Catalog) -> None:
    view = CatalogAdapter(lambda: catalog, preferred=("ee-passport",))
    hits = view.search("hz", 5)  # pinyin initials of 护照
    assert hits
    assert isinstance(hits[0], ItemSpec)
    assert hits[0].id == "ee-passport"
    assert view.search("", 5) == []
    most = view.most_used(3)
    assert next(item.id for item in most) == "ee-passport"
    assert len(most) == 3


def test_a_new_catalog_value_is_used_from_the_next_question(catalog: Catalog) -> None:
    current = [Catalog.empty()]
    view = CatalogAdapter(lambda: current[0])
    assert view.item("ee-passport") is None
    current[0] = catalog
    assert view.item("ee-passport") is not None


def test_form_rules_prefill_from_the_card_and_check_like_the_hall() -> None:
    rules = FormRulesAdapter(lambda: datetime(2025, 6, 6, tzinfo=UTC))
    name = FieldSpec("applicant_name", "text", _label(), max_length=20)
    birth = FieldSpec("birth_date", "date", _label())
    phone = FieldSpec("contact_phone", "phone", _label())
    other = FieldSpec("child_name", "text", _label())
    assert rules.prefill(name, CITIZEN) == "张秀英"
    assert rules.prefill(birth, CITIZEN) == "1985-03-12"
    assert rules.prefill(other, CITIZEN) is None
    assert rules.validate(phone, "13800138000") is None
    problem = rules.validate(phone, "12345")
    assert problem is not None
    assert problem.zh
    assert problem.en


def test_field_specs_survive_the_round_trip(catalog: Catalog) -> None:
    for item in catalog.items:
        for original in item.form_fields:
            assert form_field(field_spec(original)) == original


def test_choices_display_their_label() -> None:
    rules = FormRulesAdapter()
    spec = FieldSpec("reason", "choice", _label(), choices=(ChoiceSpec("lost", _label("遗失")),))
    assert rules.display(spec, "lost").zh == "遗失"
    assert rules.display(spec, "other").en == "other"


class FakeHall:
    def __init__(self, answer: Mapping[str, Any]) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def lookup_elicences(self, id_number: str, purpose: str) -> Mapping[str, Any]:
        self.asked.append((id_number, purpose))
        return self.answer

    def payment_order(self, hall_submission_id: str) -> Mapping[str, Any] | None:
        return None


def test_elicences_on_file_leave_out_expired_ones() -> None:
    licence = {
        "id": "e-1",
        "licence_type": "household_register",
        "number": "H-1",
        "title": {"zh": "户口簿", "en": "Household register"},
        "issuer": "公安局",
        "valid_until": None,
    }
    expired = {**licence, "id": "e-2", "valid_until": "2020-01-01"}
    hall = FakeHall({"elicences": [licence, expired], "reusable_ecopies": []})
    desk = ELicenceDesk(hall, lambda: datetime(2025, 6, 6, tzinfo=UTC))
    found = desk.lookup(CITIZEN.id_number)
    assert [(f.id, f.licence_type, f.title) for f in found.licences] == [
        ("e-1", "household_register", "户口簿")
    ]
    assert found.phone is None  # the hall gave none
    assert hall.asked == [(CITIZEN.id_number, "apply")]


def test_the_phone_on_file_comes_with_the_lookup() -> None:
    phone = {"phone": "13800138000", "masked": "138****8000", "source": "registry"}
    hall = FakeHall({"elicences": [], "reusable_ecopies": [], "phone_on_file": phone})
    found = ELicenceDesk(hall).lookup(CITIZEN.id_number)
    assert found.licences == ()
    assert found.phone is not None
    assert (found.phone.phone, found.phone.masked, found.phone.source) == (
        "13800138000",
        "138****8000",
        "registry",
    )


def test_pages_are_deleted_only_inside_the_pages_folder(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    page = pages / "p1.jpg"
    page.write_bytes(b"\xff\xd8")
    outside = tmp_path / "kiosk.sqlite3"
    outside.write_bytes(b"x")
    files = PageFiles(pages)
    files.discard(str(page))
    files.discard(str(page))  # already gone: fine
    assert not page.exists()
    with pytest.raises(ApplyAdapterError, match="not in the pages folder"):
        files.discard(str(outside))
    assert outside.exists()


def _label(zh: str = "标签") -> LocalizedText:
    return LocalizedText(zh, zh)
