"""Checks of citizen data against the catalog's typed form fields; pure, so unit tests are cheap.

A kiosk pre-fills from the card, but the hall still re-checks everything: it is the last place a
typo in a phone number can be caught before an SMS with a pickup code goes nowhere.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .errors import InvalidInput

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    value = value.strip().upper()
    if not _ID_RE.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_char(value[:17]) == value[17]


def is_mobile_phone(value: str) -> bool:
    """A number that can receive an SMS (the pickup code goes to it)."""
    return bool(_MOBILE_RE.match(value))


def is_valid_phone(value: str) -> bool:
    return bool(_MOBILE_RE.match(value) or _LANDLINE_RE.match(value))


def check_form(fields: list[dict[str, Any]], form: dict[str, Any], item_name: str) -> None:
    """Raise InvalidInput naming the first field that is missing, unknown or malformed."""
    known = {field["name"] for field in fields}
    for name in form:
        if name not in known:
            raise InvalidInput(f"Form field '{name}' does not belong to '{item_name}'.")
    for field in fields:
        name = field["name"]
        value = form.get(name)
        if value is None or value == "":
            if field.get("required", False):
                raise InvalidInput(f"Form field '{name}' of '{item_name}' is required.")
            continue
        _check_value(field, value, item_name)


def _check_value(field: dict[str, Any], value: Any, item_name: str) -> None:
    name, kind = field["name"], field["type"]
    where = f"Form field '{name}' of '{item_name}'"
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{where} must be a number.")
        low, high = field.get("min"), field.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInput(f"{where} must be between {low} and {high}.")
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be text.")
    if kind == "choice":
        choices = [choice["value"] for choice in field.get("choices", [])]
        if value not in choices:
            raise InvalidInput(f"{where} must be one of: {', '.join(choices)}.")
    elif kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{where} must be a date written YYYY-MM-DD.") from None
    elif kind == "phone":
        if not is_valid_phone(value):
            raise InvalidInput(f"{where} must be a mainland mobile or landline number.")
    elif kind == "id_number":
        if not is_valid_id_number(value):
            raise InvalidInput(f"{where} is not a valid 18-digit resident ID number.")
    elif kind == "text":
        limit = int(field.get("max_length", 500))
        if len(value) > limit:
            raise InvalidInput(f"{where} must be at most {limit} characters.")
    else:
        raise InvalidInput(f"{where} has an unknown type '{kind}' in the catalog.")
