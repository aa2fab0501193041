"""Which on-screen keypad suits each field, so nobody types a phone number on a full keyboard.

The screens map each `Keypad` to a widget; the core only decides which one, from the field's type
(and, for numbers, whether decimals are allowed).
"""

from __future__ import annotations

from enum import StrEnum

from kiosk.catalog import FieldType, FormField


class Keypad(StrEnum):
    DIGITS = "digits"  # 0–9 and delete: counts, whole amounts, years
    DECIMAL = "decimal"  # digits and one decimal point
    PHONE = "phone"  # digits and a hyphen for landline area codes
    ID_NUMBER = "id_number"  # digits and X
    DATE_PICKER = "date_picker"  # year / month / day wheels, no typing
    CHOICE_BUTTONS = "choice_buttons"  # one large button per choice
    TEXT = "text"  # full keyboard with handwriting / pinyin input


def keypad_for(form_field: FormField) -> Keypad:
    match form_field.type:
        case FieldType.NUMBER:
            return Keypad.DIGITS if form_field.whole_numbers_only else Keypad.DECIMAL
        case FieldType.PHONE:
            return Keypad.PHONE
        case FieldType.ID_NUMBER:
            return Keypad.ID_NUMBER
        case FieldType.DATE:
            return Keypad.DATE_PICKER
        case FieldType.CHOICE:
            return Keypad.CHOICE_BUTTONS
    return Keypad.TEXT
