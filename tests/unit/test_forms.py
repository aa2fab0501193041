"""The one form: validation per type with messages in both languages, card pre-fill, keypads,
and the form state a screen renders."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog import (
    Catalog,
    Choice,
    FieldType,
    FormField,
    FormSlot,
    FormSpec,
    parse_catalog_file,
)
from kiosk.forms import (
    Checked,
    FieldProblem,
    FormError,
    FormState,
    Keypad,
    check_value,
    id_check_character,
    keypad_for,
)
from kiosk.i18n import LocalizedText
from kiosk.ports.identity import Identity
from service_hall.catalog import packaged_catalog
from service_hall.validation import is_valid_id_number, is_valid_phone

TODAY = date(2025, 6, 2)
LABEL = LocalizedText("标签", "Label")


def make_field(kind: FieldType, name: str = "f", **extra: object) -> FormField:
    return FormField(name=name, type=kind, label=LABEL, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_delta(parse_catalog_file(packaged_catalog()))


def problem(result: Checked | FieldProblem) -> str:
    assert isinstance(result, FieldProblem), result
    return result.code


# ---- id numbers -----------------------------------------------------------------------------


def test_the_gb11643_check_character() -> None:
    assert id_check_character("11010519491231002") == "X"  # the standard's own example
    assert id_check_character("43082119850312002") == "3"


@pytest.mark.parametrize(
    "raw", ["11010519491231002X", "11010519491231002x", " 430821198503120023 "]
)
def test_valid_id_numbers_pass_normalised(raw: str) -> None:
    result = check_value(make_field(FieldType.ID_NUMBER), raw, TODAY)
    assert isinstance(result, Checked)
    assert result.value == raw.strip().upper()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("43082119850312002", "id_number_shape"),  # 17 characters
        ("43082119850312002A", "id_number_shape"),
        ("030821198503120023", "id_number_shape"),  # no region starts with 0
        ("430821198502300023", "id_number_birth_date"),  # 30 February
        ("430821203001010023", "id_number_birth_date"),  # born in the future
        ("430821198503120024", "id_number_check"),
    ],
)
def test_invalid_id_numbers_say_why(raw: str, code: str) -> None:
    assert problem(check_value(make_field(FieldType.ID_NUMBER), raw, TODAY)) == code


def test_the_id_number_message_is_plain_in_both_languages() -> None:
    result = check_value(make_field(FieldType.ID_NUMBER), "123", TODAY)
    assert isinstance(result, FieldProblem)
    assert result.message.zh == "请输入18位身份证号码（最后一位可能是X）"
    assert result.message.en == "Enter the 18-character ID number (the last may be X)"


# ---- phones, dates, numbers, choices, text ---------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["13800138000", "138 0013 8000", "0744-8221234", "07448221234", "010-12345678"]
)
def test_mobiles_and_landlines_pass(raw: str) -> None:
    result = check_value(make_field(FieldType.PHONE), raw, TODAY)
    assert isinstance(result, Checked)
    assert is_valid_phone(str(result.value))  # the hall accepts what the terminal accepted


def test_a_short_mobile_gets_the_mobile_message() -> None:
    result = check_value(make_field(FieldType.PHONE), "1380013800", TODAY)
    assert isinstance(result, FieldProblem)
    assert (result.message.zh, result.message.en) == (
        "请输入11位手机号码",
        "Enter an 11-digit mobile number",
    )
    assert problem(check_value(make_field(FieldType.PHONE), "12800138000", TODAY)) == "phone_mobile"
    assert problem(check_value(make_field(FieldType.PHONE), "abc", TODAY)) == "phone"


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2025-03-01", "2025-03-01"),
        ("2025/3/1", "2025-03-01"),
        ("20250301", "2025-03-01"),
        ("2025年3月1日", "2025-03-01"),
        ("2025-06-02", "2025-06-02"),
    ],
)
def test_dates_in_the_usual_spellings_are_normalised(raw: str, iso: str) -> None:
    assert check_value(make_field(FieldType.DATE), raw, TODAY) == Checked(iso)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2025-02-30", "date"),
        ("yesterday", "date"),
        ("2025-06-03", "date_future"),
        ("1899-12-31", "date_too_early"),
    ],
)
def test_dates_must_be_real_and_not_in_the_future(raw: str, code: str) -> None:
    assert problem(check_value(make_field(FieldType.DATE, "child_birth_date"), raw, TODAY)) == code


def test_a_start_date_may_lie_ahead_but_not_far() -> None:
    start = make_field(FieldType.DATE, "start_month")
    assert check_value(start, "2025-09-01", TODAY) == Checked("2025-09-01")
    assert problem(check_value(start, "2027-01-01", TODAY)) == "date_too_late"


def test_numbers_within_bounds() -> None:
    persons = make_field(FieldType.NUMBER, minimum=1.0, maximum=10.0)
    assert check_value(persons, "3", TODAY) == Checked(3)
    assert problem(check_value(persons, "0", TODAY)) == "number_range"
    assert problem(check_value(persons, "2.5", TODAY)) == "number_whole"
    result = check_value(persons, "11", TODAY)
    assert isinstance(result, FieldProblem)
    assert result.message == LocalizedText("请输入1到10之间的数", "Enter a number from 1 to 10")
    area = make_field(FieldType.NUMBER, minimum=0.5)
    assert check_value(area, "2.25", TODAY) == Checked(2.25)
    assert check_value(area, "3", TODAY) == Checked(3)
    assert problem(check_value(area, "0.1", TODAY)) == "number_range"


def test_choices_only_from_the_list() -> None:
    sex = make_field(FieldType.CHOICE, choices=())
    assert problem(check_value(sex, "male", TODAY)) == "not_a_choice"


def test_text_length_and_characters() -> None:
    name = make_field(FieldType.TEXT, max_length=4)
    assert check_value(name, " 王小明 ", TODAY) == Checked("王小明")
    assert problem(check_value(name, "王小明明明", TODAY)) == "text_length"
    assert problem(check_value(name, "王\x00明", TODAY)) == "text_characters"
    assert check_value(name, "王\ue000明", TODAY) == Checked("王\ue000明")  # a rare name character


def test_every_message_is_chinese_and_english() -> None:
    cases = [
        (make_field(FieldType.ID_NUMBER), "1"),
        (make_field(FieldType.PHONE), "1"),
        (make_field(FieldType.DATE), "x"),
        (make_field(FieldType.NUMBER, maximum=1.0), "5"),
        (make_field(FieldType.TEXT, max_length=1), "ab"),
    ]
    for form_field, raw in cases:
        result = check_value(form_field, raw, TODAY)
        assert isinstance(result, FieldProblem)
        assert re.search(r"[\u4e00-\u9fff]", result.message.zh)
        assert not re.search(r"[\u4e00-\u9fff]", result.message.en)


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(list(FieldType)),
    raw=st.text(max_size=60),
    name=st.sampled_from(["f", "start_month", "child_birth_date"]),
    bounds=st.tuples(st.none() | st.floats(-1e6, 1e6), st.none() | st.floats(-1e6, 1e6)),
)
def test_validation_never_raises(
    kind: FieldType, raw: str, name: str, bounds: tuple[float | None, float | None]
) -> None:
    form_field = make_field(kind, name, minimum=bounds[0], maximum=bounds[1], max_length=10)
    result = check_value(form_field, raw, TODAY)
    assert isinstance(result, Checked | FieldProblem)
    if isinstance(result, Checked) and kind == FieldType.ID_NUMBER:
        assert is_valid_id_number(str(result.value))


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_terminal_agrees_with_the_hall_on_id_numbers(digits: str) -> None:
    candidate = digits + id_check_character(digits)
    accepted = isinstance(check_value(make_field(FieldType.ID_NUMBER), candidate, TODAY), Checked)
    born_after_today = False
    if is_valid_id_number(candidate):
        born_after_today = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])) > TODAY
    assert accepted == (
        is_valid_id_number(candidate) and not born_after_today and int(digits[6:10]) >= 1900
    )


# ---- keypads --------------------------------------------------------------------------------


def test_each_type_gets_its_keypad() -> None:
    assert keypad_for(make_field(FieldType.PHONE)) == Keypad.PHONE
    assert keypad_for(make_field(FieldType.ID_NUMBER)) == Keypad.ID_NUMBER
    assert keypad_for(make_field(FieldType.DATE)) == Keypad.DATE_PICKER
    assert keypad_for(make_field(FieldType.CHOICE)) == Keypad.CHOICE_BUTTONS
    assert keypad_for(make_field(FieldType.TEXT)) == Keypad.TEXT
    assert keypad_for(make_field(FieldType.NUMBER, maximum=10.0)) == Keypad.DIGITS
    assert keypad_for(make_field(FieldType.NUMBER, maximum=9.5)) == Keypad.DECIMAL


# ---- the form state with the real catalog --------------------------------------------------

CITIZEN = Identity(
    name="张秀英",
    id_number="430821198503120023",
    source="id_card",
    gender="female",
    nation="汉",
    birth_date=date(1985, 3, 12),
    address="湖南省张家界市慈利县零阳镇",
)


def test_a_birth_registration_form_from_empty_to_complete(catalog: Catalog) -> None:
    state = FormState.start(catalog.form_for_item("hh-birth-registration"), TODAY, CITIZEN)
    assert state.prefilled == frozenset()  # every question is about the child
    assert not state.is_complete
    assert state.errors == {}  # nothing flagged before the citizen reaches it
    assert state.missing == ("child_name", "child_birth_date", "child_sex", "register_with")
    assert state.keypad("child_sex") == Keypad.CHOICE_BUTTONS
    flagged = state.check_all()
    assert flagged.errors["child_sex"].message.en == "Please choose one"
    assert flagged.errors["child_name"].message.zh == "请填写此项"
    state = (
        flagged.with_value("child_name", "王小明")
        .with_value("child_birth_date", "2025-06-09")
        .with_value("child_sex", "male")
        .with_value("register_with", "mother")
    )
    assert state.errors["child_birth_date"].code == "date_future"
    assert not state.is_complete
    state = state.with_value("child_birth_date", "2025/3/1")
    assert state.is_complete
    assert state.values["child_birth_date"] == "2025/3/1"  # shown as typed
    assert state.forms_by_item() == {
        "hh-birth-registration": {
            "child_name": "王小明",
            "child_birth_date": "2025-03-01",
            "child_sex": "male",
            "register_with": "mother",
        }
    }


def test_the_card_fills_what_it_knows_and_an_edit_clears_the_mark() -> None:
    fields = (
        make_field(FieldType.TEXT, "applicant_name", max_length=20),
        make_field(FieldType.ID_NUMBER, "id_number"),
        make_field(FieldType.CHOICE, "sex", choices=_choices("M", "男", "F", "女")),
        make_field(FieldType.DATE, "birth_date"),
        make_field(FieldType.TEXT, "address", max_length=5),  # the card's address is too long
        make_field(FieldType.CHOICE, "nation", choices=_choices("han", "汉族", "hui", "回族")),
        make_field(FieldType.TEXT, "child_name"),
    )
    catalog_form = _form(fields)
    state = FormState.start(catalog_form, TODAY, CITIZEN)
    assert state.prefilled == {"applicant_name", "id_number", "sex", "birth_date", "nation"}
    assert state.checked["sex"] == "F"
    assert state.checked["nation"] == "han"
    assert state.checked["birth_date"] == "1985-03-12"
    assert "address" not in state.values
    assert "address" not in state.errors
    assert state.is_prefilled("applicant_name")
    edited = state.with_value("applicant_name", "张秀")
    assert not edited.is_prefilled("applicant_name")
    same = state.with_value("id_number", CITIZEN.id_number)
    assert same.is_prefilled("id_number")


def test_a_topic_shares_answers_and_splits_different_questions(catalog: Catalog) -> None:
    state = FormState.start(catalog.form_for_topic("topic-travel-abroad"), TODAY, CITIZEN)
    state = (
        state.with_value("ee-passport.kind", "lost")
        .with_value("ee-hk-macao-permit.kind", "renewal")
        .with_value("travel_purpose", "tourism")
        .with_value("emergency_contact_phone", "13800138000")
    )
    assert state.is_complete
    assert state.forms_by_item() == {
        "ee-passport": {
            "kind": "lost",
            "travel_purpose": "tourism",
            "emergency_contact_phone": "13800138000",
        },
        "ee-hk-macao-permit": {"kind": "renewal", "emergency_contact_phone": "13800138000"},
    }
    refused = state.with_value("ee-hk-macao-permit.kind", "lost")
    assert refused.errors["ee-hk-macao-permit.kind"].code == "not_a_choice"


def test_an_optional_field_may_stay_empty_and_a_cleared_one_is_left_out(catalog: Catalog) -> None:
    state = FormState.start(catalog.form_for_item("hh-register-reissue"), TODAY)
    state = state.with_value("reason", "lost").with_value("lost_date", "2025-05-01")
    state = state.cleared("lost_date")
    assert state.is_complete
    assert state.forms_by_item() == {"hh-register-reissue": {"reason": "lost"}}


def test_the_form_refuses_unknown_fields_and_early_submission(catalog: Catalog) -> None:
    state = FormState.start(catalog.form_for_item("hh-move-in"), TODAY)
    with pytest.raises(FormError, match="no field 'colour'"):
        state.with_value("colour", "red")
    with pytest.raises(FormError, match="not complete"):
        state.forms_by_item()
    numbers = state.with_value("persons", "3")
    assert numbers.checked["persons"] == 3  # a number goes to the hall as a number


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_typing_on_any_sample_form_never_raises(catalog: Catalog, data: st.DataObject) -> None:
    item = data.draw(st.sampled_from(catalog.items))
    form = catalog.form_for_item(item.id)
    state = FormState.start(form, TODAY, CITIZEN)
    for _ in range(data.draw(st.integers(0, 6))):
        if not form.slots:
            break
        key = data.draw(st.sampled_from(form.keys))
        state = state.with_value(key, data.draw(st.text(max_size=30)))
        assert set(state.errors).isdisjoint(state.checked)
    if state.is_complete:
        state.forms_by_item()


def _choices(*pairs: str) -> tuple[Choice, ...]:
    values, labels = pairs[::2], pairs[1::2]
    return tuple(
        Choice(v, LocalizedText(label, label)) for v, label in zip(values, labels, strict=True)
    )


def _form(fields: tuple[FormField, ...]) -> FormSpec:
    return FormSpec(tuple(FormSlot(f.name, f, ("x",)) for f in fields))
