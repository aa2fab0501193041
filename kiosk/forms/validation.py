"""Checks of what a citizen typed, with the sentence to show next to the field in both languages.

Pure and total: any string for any field gives either a normalised value or a `FieldProblem`,
never an exception, because a validation crash on a touchscreen strands the citizen mid-form.
The rules match the hall's own checks (service_hall/validation.py) and are stricter where the
terminal knows more (today's date), so the hall never refuses what the screen accepted.

Rules:

* id_number: 18 characters, the first 17 digits, the last a digit or X (a lower-case x is
  accepted and upper-cased); the embedded birth date real and not after today; the GB 11643
  check character (ISO 7064 MOD 11-2) right.
* phone: a mainland mobile (11 digits, 1[3-9]…) or a landline with its area code (0…, 10–12
  digits, one hyphen allowed after the area code). Spaces are ignored.
* date: YYYY-MM-DD (also YYYY/M/D, YYYY.M.D, YYYYMMDD, YYYY年M月D日), a real date, not before
  1900-01-01 and not after today — except fields that look ahead (a start date), which may be
  up to one year after today (see `date_window`).
* number: digits (a decimal point only where the field's bounds are fractional), within the
  catalog's min/max.
* choice: one of the catalog's values.
* text: trimmed, no control characters, at most `max_length` characters (500 if unstated).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from kiosk.catalog import FieldType, FormField
from kiosk.i18n import LocalizedText

EARLIEST_DATE: Final = date(1900, 1, 1)
LOOK_AHEAD: Final = timedelta(days=366)
# Field names that ask about something that may lie ahead ("start_month" of a pension).
_FORWARD_LOOKING: Final = re.compile(r"(^|_)(start|starts|begin|planned|expected|travel)(_|$)")

_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_ID_SHAPE: Final = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE: Final = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE: Final = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_DATE: Final = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))$")
_WHOLE: Final = re.compile(r"^-?\d{1,15}$")
_DECIMAL: Final = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")


@dataclass(frozen=True)
class FieldProblem:
    """Why a value is refused: `code` for tests and logs, `message` for the citizen."""

    code: str
    message: LocalizedText


@dataclass(frozen=True)
class Checked:
    """A value that passed: `value` is what goes to the hall (str, or int/float for numbers)."""

    value: str | int | float


def _problem(code: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(code, LocalizedText(zh=zh, en=en))


def _bound(value: float) -> str:
    return f"{value:g}"


def id_check_character(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def date_window(form_field: FormField, today: date) -> tuple[date, date]:
    """Earliest and latest date a date field accepts (see the module's rules)."""
    if _FORWARD_LOOKING.search(form_field.name):
        return EARLIEST_DATE, today + LOOK_AHEAD
    return EARLIEST_DATE, today


def is_blank(raw: str) -> bool:
    return not raw.strip()


def missing_problem(form_field: FormField) -> FieldProblem:
    if form_field.type == FieldType.CHOICE:
        return _problem("required", "请选择一项", "Please choose one")
    return _problem("required", "请填写此项", "Please fill in this field")


def check_value(form_field: FormField, raw: str, today: date) -> Checked | FieldProblem:
    """Check one non-blank answer; blank answers are the form's business (required or not)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    match form_field.type:
        case FieldType.ID_NUMBER:
            return _check_id_number(text, today)
        case FieldType.PHONE:
            return _check_phone(text)
        case FieldType.DATE:
            return _check_date(form_field, text, today)
        case FieldType.NUMBER:
            return _check_number(form_field, text)
        case FieldType.CHOICE:
            if text in form_field.choice_values:
                return Checked(text)
            return _problem(
                "not_a_choice", "请从列出的选项中选择", "Please choose one of the options"
            )
        case FieldType.TEXT:
            return _check_text(form_field, text)
    return _problem(
        "unknown_type", "此项无法填写，请联系工作人员", "This field cannot be filled in; ask staff"
    )


def _check_id_number(text: str, today: date) -> Checked | FieldProblem:
    value = text.replace(" ", "").upper()
    if not _ID_SHAPE.match(value):
        return _problem(
            "id_number_shape",
            "请输入18位身份证号码（最后一位可能是X）",
            "Enter the 18-character ID number (the last may be X)",
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        born = None
    if born is None or born > today or born < EARLIEST_DATE:
        return _problem(
            "id_number_birth_date",
            "身份证号码中的出生日期不正确，请核对",
            "The date of birth inside this ID number is wrong; please check it",
        )
    if id_check_character(value[:17]) != value[17]:
        return _problem(
            "id_number_check",
            "身份证号码有误，请逐位核对",
            "This ID number has a mistake; please check each digit",
        )
    return Checked(value)


def _check_phone(text: str) -> Checked | FieldProblem:
    value = text.replace(" ", "")
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return Checked(value)
    if value.startswith("1"):
        return _problem("phone_mobile", "请输入11位手机号码", "Enter an 11-digit mobile number")
    return _problem(
        "phone",
        "请输入11位手机号码，或带区号的固定电话",
        "Enter an 11-digit mobile number, or a landline number with its area code",
    )


def _check_date(form_field: FormField, text: str, today: date) -> Checked | FieldProblem:
    match = _DATE.match(text.replace(" ", ""))
    parsed: date | None = None
    if match is not None:
        year, month, day = match[1], match[2] or match[4], match[3] or match[5]
        try:
            parsed = date(int(year), int(month), int(day))
        except ValueError:
            parsed = None
    if parsed is None:
        return _problem(
            "date",
            "请选择一个有效的日期（年-月-日）",
            "Choose a real date (year-month-day)",
        )
    earliest, latest = date_window(form_field, today)
    if parsed > latest:
        if latest == today:
            return _problem(
                "date_future", "日期不能晚于今天", "The date cannot be later than today"
            )
        return _problem(
            "date_too_late",
            f"日期不能晚于{latest.isoformat()}",
            f"The date cannot be later than {latest.isoformat()}",
        )
    if parsed < earliest:
        return _problem(
            "date_too_early",
            f"日期不能早于{earliest.isoformat()}",
            f"The date cannot be earlier than {earliest.isoformat()}",
        )
    return Checked(parsed.isoformat())


def _check_number(form_field: FormField, text: str) -> Checked | FieldProblem:
    value_text = text.replace(" ", "").replace(",", "")
    whole = form_field.whole_numbers_only
    if not (_WHOLE if whole else _DECIMAL).match(value_text):
        if whole:
            return _problem("number_whole", "请输入整数", "Enter a whole number")
        return _problem("number", "请输入数字", "Enter a number")
    number: int | float = int(value_text) if whole else float(value_text)
    if whole is False and float(number).is_integer():
        number = int(number)
    low, high = form_field.minimum, form_field.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            return _problem(
                "number_range",
                f"请输入{_bound(low)}到{_bound(high)}之间的数",
                f"Enter a number from {_bound(low)} to {_bound(high)}",
            )
        if low is not None:
            return _problem(
                "number_range", f"请输入不小于{_bound(low)}的数", f"Enter {_bound(low)} or more"
            )
        assert high is not None
        return _problem(
            "number_range", f"请输入不大于{_bound(high)}的数", f"Enter {_bound(high)} or less"
        )
    return Checked(number)


def _check_text(form_field: FormField, text: str) -> Checked | FieldProblem:
    # Control characters and lone surrogates only: rare characters in names (生僻字) may come
    # from the card in the private-use area and must pass.
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        return _problem(
            "text_characters",
            "内容中有无法识别的字符，请删除后重新输入",
            "The text has characters that cannot be read; delete them and type again",
        )
    limit = form_field.text_limit
    if len(text) > limit:
        return _problem(
            "text_length",
            f"最多{limit}个字，当前{len(text)}个字",
            f"At most {limit} characters (now {len(text)})",
        )
    return Checked(text)
