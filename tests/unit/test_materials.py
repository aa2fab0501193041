"""The materials plan: what to hand in, photograph or pull from the hall, the compartment size,
and the fee — for the real sample items and topics."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from kiosk.catalog import Catalog, Material, MaterialForm, parse_catalog_file
from kiosk.i18n import LocalizedText
from kiosk.materials import (
    Handling,
    MaterialsError,
    OnFile,
    PhoneOnFile,
    compartment_size_for,
    format_fee,
    pages_for,
    parse_elicence_lookup,
    plan_materials,
)
from service_hall.catalog import packaged_catalog

TODAY = date(2025, 6, 2)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_delta(parse_catalog_file(packaged_catalog()))


def lookup_answer(**overrides: Any) -> dict[str, Any]:
    """Shaped like the hall's /elicences/lookup answer (docs/hall-api.md)."""
    answer: dict[str, Any] = {
        "elicences": [
            {
                "id": "el-1",
                "licence_type": "household_register",
                "number": "430821-0001",
                "title": {"zh": "居民户口簿", "en": "Household register"},
                "issuer": "慈利县公安局",
                "issued_on": "2010-01-01",
                "valid_until": None,
            },
            {
                "id": "el-2",
                "licence_type": "marriage_certificate",
                "number": "J430821-2014",
                "title": {"zh": "结婚证", "en": "Marriage certificate"},
                "issuer": "慈利县民政局",
                "issued_on": "2014-05-01",
                "valid_until": "2025-06-01",
            },
        ],
        "reusable_ecopies": [
            {
                "id": "ec-9",
                "material_code": "id-card",
                "filename": "id.jpg",
                "content_type": "image/jpeg",
                "size": 1000,
                "sha256": "0" * 64,
                "tracking_number": "1" * 18,
                "created_at": "2025-05-01T08:00:00Z",
                "valid_until": "2025-10-28T08:00:00Z",
            },
        ],
        "phone_on_file": {
            "phone": "13800138000",
            "masked": "138****8000",
            "source": "registry",
            "updated_at": "2025-06-01T10:00:00Z",
        },
    }
    answer.update(overrides)
    return answer


def handling(plan: Any) -> dict[str, Handling]:
    return {m.material.code: m.handling for m in plan.materials}


def test_birth_registration_without_identity(catalog: Catalog) -> None:
    plan = plan_materials([catalog.require_item("hh-birth-registration")], TODAY)
    assert handling(plan) == {
        "birth-medical-certificate": Handling.HAND_IN,
        "household-register": Handling.CAPTURE,  # an e-licence nobody could look up: photograph
        "marriage-certificate": Handling.CAPTURE,
        "id-card": Handling.CAPTURE,
    }
    assert plan.pages_expected == 2 + 1 + 2  # register 2, certificate 1, ID card front and back
    assert plan.compartment_size == "S"
    assert plan.fee.is_free
    assert plan.fee.label == LocalizedText("免费", "Free")
    assert plan.offers == ()


def test_the_hall_s_records_are_offered_and_used_once_confirmed(catalog: Catalog) -> None:
    on_file = parse_elicence_lookup(lookup_answer())
    birth = [catalog.require_item("hh-birth-registration")]
    offered = plan_materials(birth, TODAY, on_file)
    assert {m.material.code for m in offered.offers} == {"household-register", "id-card"}
    # the marriage certificate's e-licence expired yesterday: not offered
    assert handling(offered)["household-register"] == Handling.CAPTURE  # not confirmed yet
    confirmed = plan_materials(birth, TODAY, on_file, accepted={"household-register", "id-card"})
    assert handling(confirmed) == {
        "birth-medical-certificate": Handling.HAND_IN,
        "household-register": Handling.PULL_ELICENCE,
        "marriage-certificate": Handling.CAPTURE,
        "id-card": Handling.REUSE_ECOPY,
    }
    assert confirmed.elicence_ids == ("el-1",)
    assert confirmed.reused_ecopy_ids == ("ec-9",)
    assert confirmed.pages_expected == 1
    assert [m.material.code for m in confirmed.to_capture] == ["marriage-certificate"]


def test_a_paper_original_is_never_replaced(catalog: Catalog) -> None:
    on_file = parse_elicence_lookup(
        lookup_answer(
            elicences=[
                {
                    "id": "el-5",
                    "licence_type": "business_licence",
                    "number": "9143",
                    "title": {"zh": "营业执照", "en": "Business licence"},
                    "issuer": "县市场监管局",
                    "issued_on": "2020-01-01",
                    "valid_until": None,
                },
            ]
        )
    )
    change = [catalog.require_item("mr-sole-trader-change")]
    plan = plan_materials(change, TODAY, on_file, accepted={"business-licence"})
    assert handling(plan)["business-licence"] == Handling.HAND_IN
    food = [catalog.require_item("mr-food-business-licence")]
    plan = plan_materials(food, TODAY, on_file, accepted={"business-licence"})
    assert handling(plan)["business-licence"] == Handling.PULL_ELICENCE


def test_a_topic_asks_for_each_material_once_in_its_strongest_form(catalog: Catalog) -> None:
    items = catalog.items_of_topic("topic-open-shop")
    plan = plan_materials(items, TODAY)
    codes = [m.material.code for m in plan.materials]
    assert len(codes) == len(set(codes))
    by_code = {m.material.code: m for m in plan.materials}
    assert by_code["id-card"].item_ids == tuple(i.id for i in items)
    assert {m.material.code for m in plan.paper_originals} == {
        "application-form",
        "food-safety-plan",
    }
    assert plan.compartment_size == "S"


def test_strongest_form_wins_when_items_disagree() -> None:
    name = LocalizedText("营业执照", "Business licence")
    licence = Material("business-licence", name, MaterialForm.E_LICENCE, "business_licence")
    original = Material("business-licence", name, MaterialForm.PAPER_ORIGINAL, "business_licence")
    catalog = Catalog.from_delta(parse_catalog_file(packaged_catalog()))
    pulls = catalog.require_item("mr-food-business-licence")
    hands = catalog.require_item("mr-sole-trader-change")
    assert licence in pulls.materials
    assert original in hands.materials
    plan = plan_materials([pulls, hands], TODAY)
    assert handling(plan)["business-licence"] == Handling.HAND_IN


@pytest.mark.parametrize(
    ("count", "size"), [(0, None), (1, "S"), (2, "S"), (3, "M"), (4, "M"), (5, "L"), (12, "L")]
)
def test_compartment_size_from_the_number_of_originals(count: int, size: str | None) -> None:
    assert compartment_size_for(count) == size


def test_an_item_without_paper_needs_no_compartment(catalog: Catalog) -> None:
    plan = plan_materials([catalog.require_item("gi-disclosure-request")], TODAY)
    assert plan.paper_originals == ()
    assert plan.compartment_size is None
    assert plan.pages_expected == 2


def test_pages_per_material() -> None:
    name = LocalizedText("x", "x")
    assert pages_for(Material("id-card", name, MaterialForm.E_COPY)) == 2
    assert pages_for(Material("bank-card", name, MaterialForm.E_COPY)) == 1  # never the back
    assert pages_for(Material("photo", name, MaterialForm.E_COPY)) == 1
    assert pages_for(Material("photo", name, MaterialForm.E_COPY, pages=3)) == 3


def test_catalog_pages_are_read_from_the_library() -> None:
    data = packaged_catalog()
    data["materials"]["housing-proof"] = {**data["materials"]["housing-proof"], "pages": 4}
    catalog = Catalog.from_delta(parse_catalog_file(data))
    plan = plan_materials([catalog.require_item("hh-move-in")], TODAY)
    assert next(m for m in plan.materials if m.material.code == "housing-proof").pages == 4


# ---- fees -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"), [(1200, "¥12.00"), (5, "¥0.05"), (12000, "¥120.00"), (1234567, "¥12,345.67")]
)
def test_fees_in_yuan(fen: int, text: str) -> None:
    assert format_fee(fen) == LocalizedText(text, text)


def test_a_topic_fee_sums_its_items_with_their_basis(catalog: Catalog) -> None:
    plan = plan_materials(catalog.items_of_topic("topic-travel-abroad"), TODAY)
    assert plan.fee.fen == 18000
    assert plan.fee.label.en == "¥180.00"
    assert [(line.item_id, line.fen) for line in plan.fee.lines] == [
        ("ee-passport", 12000),
        ("ee-hk-macao-permit", 6000),
    ]
    assert "护照法" in plan.fee.lines[0].basis.zh


def test_pay_at_pickup_follows_the_catalog(catalog: Catalog) -> None:
    # The sample's fee items say "pay by QR code" while applying: no pay at pickup, except where
    # the catalog says so explicitly (the household register reissue).
    allowed = {i.id for i in catalog.items if plan_materials([i], TODAY).fee.pay_at_pickup_allowed}
    assert allowed == {"hh-register-reissue"}
    data = packaged_catalog()
    reissue = next(i for i in data["items"] if i["id"] == "hh-register-reissue")
    reissue["pay_at_pickup"] = False
    assert not plan_materials(
        [Catalog.from_delta(parse_catalog_file(data)).require_item("hh-register-reissue")], TODAY
    ).fee.pay_at_pickup_allowed
    reissue["pay_at_pickup"] = True
    allowing = Catalog.from_delta(parse_catalog_file(data))
    assert plan_materials(
        [allowing.require_item("hh-register-reissue")], TODAY
    ).fee.pay_at_pickup_allowed
    mixed = [allowing.require_item("hh-register-reissue"), allowing.require_item("ee-passport")]
    assert not plan_materials(mixed, TODAY).fee.pay_at_pickup_allowed
    # Without the flag: collected here with the pickup code and no payment step → allowed.
    reissue.pop("pay_at_pickup")
    reissue["steps"] = [s for s in reissue["steps"] if "缴" not in s["zh"]]
    implied = Catalog.from_delta(parse_catalog_file(data))
    assert plan_materials(
        [implied.require_item("hh-register-reissue")], TODAY
    ).fee.pay_at_pickup_allowed


# ---- the lookup answer ----------------------------------------------------------------------


def test_the_lookup_answer_is_parsed() -> None:
    on_file = parse_elicence_lookup(lookup_answer())
    assert [e.id for e in on_file.elicences] == ["el-1", "el-2"]
    assert on_file.elicences[1].valid_until == date(2025, 6, 1)
    assert on_file.reusable_ecopies[0].valid_until == date(2025, 10, 28)
    assert parse_elicence_lookup({}) == OnFile()


def test_the_phone_on_file_is_parsed_and_may_be_absent() -> None:
    phone = parse_elicence_lookup(lookup_answer()).phone
    assert phone == PhoneOnFile(
        "13800138000", "138****8000", "registry", datetime(2025, 6, 1, 10, tzinfo=UTC)
    )
    assert parse_elicence_lookup(lookup_answer(phone_on_file=None)).phone is None
    assert parse_elicence_lookup({"elicences": []}).phone is None  # a hall from before the key
    undated = {"phone": "13912345678", "masked": "139****5678", "source": "earlier_submission"}
    assert parse_elicence_lookup({"phone_on_file": undated}).phone == PhoneOnFile(
        "13912345678", "139****5678", "earlier_submission"
    )


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"elicences": "none"},
        {"elicences": [{"id": "x"}]},
        {"reusable_ecopies": [{"id": "c", "material_code": "id-card", "valid_until": "soon"}]},
        {"phone_on_file": "13800138000"},
        {"phone_on_file": {"phone": "+86 138", "masked": "138", "source": "registry"}},
        {"phone_on_file": {"phone": "13800138000", "source": "registry"}},
        {
            "phone_on_file": {
                "phone": "13800138000",
                "masked": "138****8000",
                "source": "registry",
                "updated_at": "yesterday",
            }
        },
    ],
)
def test_a_malformed_lookup_answer_is_refused(answer: Any) -> None:
    with pytest.raises(MaterialsError):
        parse_elicence_lookup(answer)
