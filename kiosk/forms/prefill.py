"""What the card already says, put into the form so the citizen only checks it.

Mapping (exact field names; anything else stays empty). Only fields about the applicant are
filled — "child_name" or "elder_id_number" are about someone else and are left to the citizen:

* name ← name, applicant_name, full_name
* id_number ← id_number, applicant_id_number
* gender ← gender, sex, applicant_sex, applicant_gender; a choice field takes the choice whose
  value is male/female or whose label is 男/女 (Male/Female)
* birth_date ← birth_date, applicant_birth_date, date_of_birth
* address ← address, applicant_address, household_address, registered_address. The card holds
  the address of household registration; it is shown as pre-filled, so a citizen whose field
  means "where you live now" sees it needs correcting
* nation ← nation, ethnicity, ethnic_group: the card's GB 3304 name (汉); a choice field takes
  the choice whose value or label matches, with or without 族

A pre-filled value is still validated like a typed one: a value the field cannot take (e.g. an
address longer than the field's limit) is not filled, rather than filled with an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from kiosk.catalog import FieldType, FormField, FormSpec
from kiosk.ports.identity import Identity

from .validation import Checked, check_value

PREFILL_NAMES: Final[Mapping[str, str]] = {
    "name": "name",
    "applicant_name": "name",
    "full_name": "name",
    "id_number": "id_number",
    "applicant_id_number": "id_number",
    "gender": "gender",
    "sex": "gender",
    "applicant_sex": "gender",
    "applicant_gender": "gender",
    "birth_date": "birth_date",
    "applicant_birth_date": "birth_date",
    "date_of_birth": "birth_date",
    "address": "address",
    "applicant_address": "address",
    "household_address": "address",
    "registered_address": "address",
    "nation": "nation",
    "ethnicity": "nation",
    "ethnic_group": "nation",
}

_GENDER_LABELS: Final = {"male": ("男", "male"), "female": ("女", "female")}


def prefill_values(form: FormSpec, identity: Identity, today: date) -> dict[str, str]:
    """Slot key → the value from the card, for every slot the card can answer."""
    values: dict[str, str] = {}
    for slot in form.slots:
        source = PREFILL_NAMES.get(slot.field.name)
        if source is None:
            continue
        value = _card_value(slot.field, source, identity)
        if value is not None and isinstance(check_value(slot.field, value, today), Checked):
            values[slot.key] = value
    return values


def _card_value(form_field: FormField, source: str, identity: Identity) -> str | None:
    if source == "name":
        return identity.name or None
    if source == "id_number":
        return identity.id_number or None
    if source == "birth_date":
        return None if identity.birth_date is None else identity.birth_date.isoformat()
    if source == "address":
        return identity.address or None
    if source == "gender":
        if identity.gender is None:
            return None
        if form_field.type != FieldType.CHOICE:
            return _GENDER_LABELS[identity.gender][0]
        return _choice_matching(form_field, (identity.gender, *_GENDER_LABELS[identity.gender]))
    if source == "nation":
        if not identity.nation:
            return None
        if form_field.type != FieldType.CHOICE:
            return identity.nation
        bare = identity.nation.removesuffix("族")
        return _choice_matching(form_field, (identity.nation, bare, bare + "族"))
    return None


def _choice_matching(form_field: FormField, wanted: tuple[str, ...]) -> str | None:
    folded = {w.casefold() for w in wanted}
    for choice in form_field.choices:
        if {
            choice.value.casefold(),
            choice.label.zh.casefold(),
            choice.label.en.casefold(),
        } & folded:
            return choice.value
    return None
