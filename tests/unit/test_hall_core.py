"""The hall's pure parts: lifecycle table, canonical signing, hashing, validation, supervision,
catalog versioning. No server, no threads."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service_hall.catalog import packaged_catalog
from service_hall.errors import IllegalTransition, InvalidInput
from service_hall.lifecycle import TRANSITIONS, Status, Step, next_status
from service_hall.secrets_hashing import hash_secret, verify_secret
from service_hall.seed import sample_id_number
from service_hall.service import HallConfig, HallService
from service_hall.signing import Signer, canonical_json, verify
from service_hall.supervision import Supervision, add_working_days, supervision_colour
from service_hall.validation import check_form, is_valid_id_number, is_valid_phone

# ---- lifecycle -------------------------------------------------------------------------


def test_the_happy_path_of_the_design_is_legal() -> None:
    path = [
        Step.SUBMITTED,
        Step.DEPOSITED,
        Step.COLLECTED,
        Step.REVIEW_STARTED,
        Step.APPROVED,
        Step.RESULT_PRODUCED,
        Step.PICKED_UP,
    ]
    status = Status.DRAFT
    for step in path:
        status = next_status(status, step)
    assert status is Status.PICKED_UP


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("step", list(Step))
def test_every_step_outside_the_table_is_refused(status: Status, step: Step) -> None:
    if (status, step) in TRANSITIONS:
        assert next_status(status, step) is TRANSITIONS[(status, step)]
    else:
        with pytest.raises(IllegalTransition, match=status.value):
            next_status(status, step)


def test_final_states_allow_nothing() -> None:
    for final in (Status.PICKED_UP, Status.RETURNED):
        assert not [key for key in TRANSITIONS if key[0] is final]


# ---- signing -----------------------------------------------------------------------------


def test_canonical_json_is_the_documented_form() -> None:
    assert canonical_json({"b": 1, "a": {"d": "慈利", "c": [2, 1]}}) == (
        '{"a":{"c":[2,1],"d":"慈利"},"b":1}'.encode()
    )


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(ValueError, match="floats"):
        canonical_json({"fee": 1.5})


json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_documents)
def test_signature_verifies_and_any_change_breaks_it(document: object) -> None:
    signer = Signer.generate()
    wrapped = {"payload": document}
    signature = signer.sign(wrapped)
    assert verify(signer.public_raw_b64(), wrapped, signature)
    assert not verify(signer.public_raw_b64(), {"payload": document, "extra": 1}, signature)


def test_signature_from_another_key_fails() -> None:
    document = {"couriers": [{"card_id": "C-1"}]}
    assert not verify(
        Signer.generate().public_raw_b64(), document, Signer.generate().sign(document)
    )


def test_key_survives_a_pem_round_trip() -> None:
    signer = Signer.generate()
    again = Signer.from_pem(signer.private_pem())
    assert again.key_id == signer.key_id
    assert base64.b64decode(again.public_raw_b64()) == base64.b64decode(signer.public_raw_b64())


# ---- secrets ----------------------------------------------------------------------------


def test_pin_hash_verifies_only_the_right_pin() -> None:
    encoded = hash_secret("2468")
    assert encoded.startswith("scrypt$16384$8$1$")
    assert verify_secret("2468", encoded)
    assert not verify_secret("2469", encoded)
    assert not verify_secret("2468", "garbage")
    assert hash_secret("2468") != encoded  # salted


# ---- validation ----------------------------------------------------------------------


def test_id_numbers_need_their_check_character() -> None:
    good = sample_id_number("43082119850312002")
    assert is_valid_id_number(good)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert not is_valid_id_number(wrong)
    assert not is_valid_id_number(sample_id_number("43082119851332002"))  # month 13


def test_phone_numbers() -> None:
    assert is_valid_phone("13800138000")
    assert is_valid_phone("0744-3221234")
    assert not is_valid_phone("12345")


ITEM_FIELDS = [
    {"name": "kind", "type": "choice", "required": True, "choices": [{"value": "a"}]},
    {"name": "when", "type": "date", "required": False},
    {"name": "count", "type": "number", "required": True, "min": 1, "max": 3},
    {"name": "note", "type": "text", "max_length": 5},
]


@pytest.mark.parametrize(
    ("form", "complaint"),
    [
        ({"count": 1}, "'kind' of 'x' is required"),
        ({"kind": "b", "count": 1}, "one of: a"),
        ({"kind": "a", "count": 9}, "between 1 and 3"),
        ({"kind": "a", "count": True}, "must be a number"),
        ({"kind": "a", "count": 1, "when": "31/12/2024"}, "YYYY-MM-DD"),
        ({"kind": "a", "count": 1, "note": "too long"}, "at most 5"),
        ({"kind": "a", "count": 1, "surprise": 1}, "does not belong"),
    ],
)
def test_form_errors_name_the_field(form: dict[str, object], complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        check_form(ITEM_FIELDS, form, "x")


def test_a_correct_form_passes() -> None:
    check_form(ITEM_FIELDS, {"kind": "a", "count": 2, "when": "2025-01-31"}, "x")


# ---- supervision ----------------------------------------------------------------------


def test_working_days_skip_the_weekend() -> None:
    friday = datetime(2025, 3, 7, 10, 0)
    assert add_working_days(friday, 1) == datetime(2025, 3, 10, 10, 0)  # Monday
    assert add_working_days(friday, 5) == datetime(2025, 3, 14, 10, 0)
    assert add_working_days(friday, 0) == datetime(2025, 3, 10, 10, 0)


def test_colours_at_80_percent_and_when_overdue() -> None:
    start = datetime(2025, 3, 3, 9, 0)
    due = start + timedelta(days=10)
    assert supervision_colour(start, due, start + timedelta(days=7)) is Supervision.GREEN
    assert supervision_colour(start, due, start + timedelta(days=8)) is Supervision.YELLOW
    assert supervision_colour(start, due, due) is Supervision.YELLOW
    assert supervision_colour(start, due, due + timedelta(seconds=1)) is Supervision.RED
    finished = supervision_colour(start, due, due + timedelta(days=3), finished=True)
    assert finished is Supervision.DONE


# ---- catalog ---------------------------------------------------------------------------


def test_the_shipped_catalog_meets_the_brief() -> None:
    data = packaged_catalog()
    assert len(data["items"]) >= 20
    assert len({item["department"] for item in data["items"]}) >= 6
    assert len(data["topics"]) >= 3
    kinds = {field["type"] for item in data["items"] for field in item["form_fields"]}
    assert kinds == {"choice", "date", "number", "phone", "id_number", "text"}
    forms = {form for item in data["items"] for _code, form in item["materials"]}
    assert forms == {"paper_original", "e_copy", "e_licence"}
    for item in data["items"]:
        for key in ("name", "summary", "legal_basis"):
            assert item[key]["zh"], (item["id"], key)
            assert item[key]["en"], (item["id"], key)
        assert item["steps"]
        assert item["promised_working_days"] >= 1


def test_catalog_versions_move_only_on_change(tmp_path: Path) -> None:
    service = HallService(HallConfig(db_url=f"sqlite:///{tmp_path / 'h.db'}"))
    try:
        assert service.catalog_version() == 1
        full = service.catalog(0)
        assert full["full"]
        assert len(full["items"]) == len(packaged_catalog()["items"])
        data = packaged_catalog()
        assert service.import_catalog(data) == 1  # unchanged: same version
        assert service.catalog(1)["items"] == []

        changed = copy.deepcopy(data)
        changed["items"][0]["fee_fen"] = 500
        dropped = changed["items"].pop()
        changed["topics"] = [t for t in changed["topics"] if dropped["id"] not in t["items"]]
        assert service.import_catalog(changed) == 2
        delta = service.catalog(1)
        assert [item["id"] for item in delta["items"]] == [changed["items"][0]["id"]]
        assert delta["items"][0]["fee_fen"] == 500
        assert delta["removed"]["items"] == [dropped["id"]]
        assert service.catalog(2)["items"] == []
        json.dumps(delta)  # what the API sends must be plain JSON
    finally:
        service.close()
